"""A stranger's attacks on today's features (issue #28, session 4): each
test is a hostile book that once got through, kept so it does not again."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import build
from pipeline.build import BuildOptions

from conftest import ROOT

TYPST = BuildOptions(formats=("pdf",), pdf_engine="typst", cache=False)
BOOKLET = ROOT / "styles" / "typst" / "booklet.typ"


def _typst_book(tmp_path: Path, template_tail: str) -> Path:
    """A one-article book whose styles/typst/booklet.typ is ours plus `template_tail`."""
    book = tmp_path / "book"
    (book / "styles" / "typst").mkdir(parents=True)
    (book / "book.toml").write_text('[book]\ntitle = "T"\nauthors = ["A"]\nlanguage = "en"\n')
    (book / "01-one.md").write_text("---\ntitle: One\n---\n\nHello.\n")
    (book / "styles" / "typst" / "booklet.typ").write_text(BOOKLET.read_text(encoding="utf-8") + template_tail)
    return book


@pytest.mark.parametrize("statement", [
    '#let m = ("@pre" + "view/example:0.1.0")\n#import m: *\n',  # a package named by an expression
    '#include ("@pre" + "view/example:0.1.0")\n',  # include resolves packages too
    '#import "\\u{40}preview/example:0.1.0": *\n',  # an escape the old pattern did not see
    '#import "@local/example:0.1.0": *\n',  # the user's local packages: outside the book
])
def test_typst_template_cannot_reach_a_package(statement, tmp_path):
    """A book's booklet.typ that names a package in any spelling is refused
    at its line before Typst runs: Typst would download it (or read it
    from the user's own package folders, outside the book)."""
    book = _typst_book(tmp_path, "\n" + statement)
    result = build(book, tmp_path / "out", TYPST)
    assert not result.ok and not list((tmp_path / "out").glob("*.pdf"))
    messages = [d.format() for d in result.diagnostics]
    assert not any("failed to download" in message or "package not found" in message for message in messages), messages
    refused = [d for d in result.diagnostics if d.code == "X009"]
    assert refused and refused[0].path.name == "booklet.typ", messages
    lines = BOOKLET.read_text(encoding="utf-8").count("\n") + 2
    assert refused[0].line >= lines


def test_typst_template_loop_stops_at_the_time_limit(tmp_path):
    """A template that computes for minutes is stopped at the layout's time
    limit (X003, no PDF), as WeasyPrint's layout is: the compile runs in a
    process of its own (one long call into Rust no signal interrupts)."""
    book = _typst_book(tmp_path, "\n#let _spin = { let n = 0; for i in range(20000) { for j in range(5000) "
                                 "{ n += 1 } }; n }\n#let booklet(book, body) = { [#_spin]; body }\n")
    result = build(book, tmp_path / "out", BuildOptions(**{**TYPST.__dict__, "time_limit": 5}))
    assert not result.ok and not list((tmp_path / "out").glob("*.pdf"))
    assert any(d.code == "X003" for d in result.diagnostics), [d.format() for d in result.diagnostics]


def test_typst_template_memory_stops_at_the_ceiling(tmp_path, monkeypatch):
    """A template that builds a huge array fails at the workers' memory
    ceiling (X008), instead of taking the machine's memory."""
    monkeypatch.setenv("PIPELINE_MEMORY_LIMIT", "1024")
    book = _typst_book(tmp_path, "\n#let _big = range(400000000).map(x => x * 2)\n"
                                 "#let booklet(book, body) = { [#_big.len()]; body }\n")
    result = build(book, tmp_path / "out", TYPST)
    assert not result.ok and not list((tmp_path / "out").glob("*.pdf"))
    assert any(d.code == "X008" for d in result.diagnostics), [d.format() for d in result.diagnostics]


def test_a_tampered_epub_is_not_handed_to_epubcheck_to_unpack(tmp_path):
    """`check --outputs` reads OUT_DIR, which anyone may have replaced: an
    EPUB with a member that unpacks 300 MB from a few hundred bytes (a zip
    bomb) ran EPUBCheck past 400 s and 2.8 GB. It is refused, located,
    before Java starts."""
    import time
    import zipfile

    from pipeline.targets.validators import epubcheck

    epub = tmp_path / "book.epub"
    with zipfile.ZipFile(epub, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr("EPUB/filler.xhtml", b" " * (300 << 20), compress_type=zipfile.ZIP_DEFLATED)
    started = time.monotonic()
    messages = epubcheck(epub)
    if messages is None:
        pytest.skip("EPUBCheck is not installed")
    assert time.monotonic() - started < 10
    [message] = messages
    assert message.level == "ERROR" and "EPUB/filler.xhtml unpacks" in message.text and "zip bomb" in message.text
