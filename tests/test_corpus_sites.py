"""Real website content folders build as they are (#27): each slice of
../shared/corpus-sites/ (Hugo, Jekyll, Docusaurus, MkDocs, mdBook, GitHub
Markdown, a Next.js blog), with no book.toml of ours, gives a PDF and an
EPUB: exit 0, EPUBCheck without errors, no character left undrawn (R007),
and none of the sites' own syntax printed outside code. Skipped where
../shared is absent (a user's clone)."""

from __future__ import annotations

import re
import zipfile

import pytest
from lxml import etree
from pypdf import PdfReader

from conftest import SHARED, epubcheck_messages
from pipeline import build

SITES = SHARED / "corpus-sites"
NAMES = ("hugo-site", "jekyll-site", "docusaurus-site", "mkdocs-site", "mdbook-site", "github-alerts",
         "astro-or-next-blog")
# What a site generator reads and a book must never print (outside code).
SYNTAX = ("+++", "{{<", "{{%", "{%", "{{ site.", ":::", "!!!", "[!NOTE]", "[!TIP]", "[!WARNING]")
IMPORT = re.compile(r"^\s*import .* from ", re.MULTILINE)
XHTML = "{http://www.w3.org/1999/xhtml}"


def _prose(xhtml: bytes) -> str:
    """The text of a document outside code (pre, code, kbd, samp)."""
    root = etree.fromstring(xhtml)
    for code in list(root.iter(f"{XHTML}pre", f"{XHTML}code", f"{XHTML}kbd", f"{XHTML}samp")):
        for inner in code.iter():
            inner.text = ""
            if inner is not code:
                inner.tail = ""
    return "".join(root.itertext())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not SITES.is_dir():
        pytest.skip("../shared/corpus-sites is not here (a user's clone)")
    results = {}
    for name in NAMES:
        out = tmp_path_factory.mktemp(name)
        results[name] = build(SITES / name, out)
    return results


@pytest.mark.parametrize("name", NAMES)
def test_a_sites_content_folder_builds_as_it_is(built, name):
    result = built[name]
    errors = [d.format() for d in result.diagnostics if d.is_error]
    assert result.ok, errors
    assert not [d for d in result.diagnostics if d.code == "R007"], "a character no font draws"
    pdf, epub = sorted(result.outputs, key=lambda p: p.suffix != ".pdf")
    assert [m for m in epubcheck_messages(epub) if "ERROR" in m or "FATAL" in m] == []
    with zipfile.ZipFile(epub) as archive:
        prose = "\n".join(_prose(archive.read(n)) for n in archive.namelist() if n.endswith(".xhtml"))
    printed = [token for token in SYNTAX if token in prose] + IMPORT.findall(prose)
    assert printed == [], f"site syntax printed: {printed}"
    assert len(PdfReader(pdf).pages) > 4


@pytest.mark.parametrize("name, expected", [
    ("hugo-site", "Bootstrap"),
    ("mkdocs-site", "Hatch"),
    ("docusaurus-site", "Jest"),
    ("mdbook-site", "Rust"),
])
def test_the_title_comes_from_the_sites_config(built, name, expected):
    result = built[name]
    epub = next(p for p in result.outputs if p.suffix == ".epub")
    with zipfile.ZipFile(epub) as archive:
        opf = archive.read("EPUB/content.opf").decode("utf-8")
    title = re.search(r"<dc:title[^>]*>([^<]*)</dc:title>", opf).group(1)
    assert expected.lower() in title.lower(), title
