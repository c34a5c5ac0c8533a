"""`pipeline new` and `pipeline check`, run as a user runs them."""

from __future__ import annotations

import io
import tomllib

from conftest import epubcheck_messages, write_book
from pipeline import build
from pipeline.commands.check import check_book
from pipeline.diagnostics import as_errors
from pipeline.commands.cli import main
from pipeline.load.config import SCHEMA


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def test_new_scaffolds_a_book_that_builds_cleanly(tmp_path):
    folder = tmp_path / "field-notes"
    code, out, _ = _run("new", str(folder))
    assert code == 0 and "book.toml" in out
    text = (folder / "book.toml").read_text(encoding="utf-8")
    tables = {o.table for o in SCHEMA} - {"book"}
    assert tomllib.loads(text) == {"book": {"title": "Field notes"}, **{table: {} for table in tables}}
    for option in SCHEMA:  # every key is there, commented, ready to use
        assert f"{option.key} = " in text, option.key
    uncommented = "\n".join(line.removeprefix("# ") for line in text.splitlines()
                            if not line.startswith("# ") or " = " in line)
    every = tomllib.loads(uncommented)  # every commented example is a valid value
    assert set(every["book"]) == {o.key for o in SCHEMA if o.table == "book"}
    assert set(every["style"]) == {o.key for o in SCHEMA if o.table == "style"}
    stub = (folder / "styles" / "print.css").read_text(encoding="utf-8")
    assert "--accent" in stub and "styles/" in stub  # a commented start of the book's own design
    code, _, err = _run("build", str(folder), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 0, err
    assert err == ""  # no warning at all for the example (and no progress: --quiet)
    assert epubcheck_messages(tmp_path / "out" / "field-notes.epub") == []


def test_new_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "keep.md").write_text("mine", encoding="utf-8")
    code, _, err = _run("new", str(tmp_path / "book"))
    assert code == 1 and "error[O004]" in err
    assert (tmp_path / "book" / "keep.md").read_text(encoding="utf-8") == "mine"


def test_check_finds_print_problems_with_locations(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "T"\n', {
        "01-a.md": "---\ntitle: Same\n---\n\n## One\n\n#### Too deep\n\nA 𐤀 character and [a link](#nowhere).\n",
        "02-b.md": "---\ntitle: same\nslug: other\n---\n\nText.\n"})
    found = {(d.code, d.path.name, d.line, d.column) for d in check_book(book)}
    assert ("R006", "01-a.md", 7, 1) in found
    assert ("R007", "01-a.md", 9, 3) in found
    assert ("R004", "01-a.md", 9, 0) in {(c, p, line, 0) for c, p, line, _ in found}
    assert ("M009", "02-b.md", 2, 8) in found  # its `title:` line
    code, _, err = _run("check", str(book), "--strict")
    assert code == 1 and "error[R006]" in err


def test_check_of_the_real_book_and_its_outputs_is_clean(built_book):
    out = built_book[0].parent
    assert check_book(built_book[0].parent.parent / "nowhere") != []  # a missing book is reported
    from conftest import MANUSCRIPTS

    assert check_book(MANUSCRIPTS, out) == []


def test_check_reports_missing_outputs(tmp_path):
    from conftest import MANUSCRIPTS

    codes = [d.code for d in check_book(MANUSCRIPTS, tmp_path)]
    assert codes == ["O002", "O002"]


def test_check_of_a_pdf_cut_short_is_a_located_error(built_book, tmp_path):
    """A PDF truncated by a copy or a download: O003 naming it, never pypdf's traceback."""
    from conftest import MANUSCRIPTS

    pdf, epub = built_book
    (tmp_path / epub.name).write_bytes(epub.read_bytes())
    (tmp_path / pdf.name).write_bytes(pdf.read_bytes()[:60000])
    [problem] = check_book(MANUSCRIPTS, tmp_path)
    assert problem.code == "O003" and problem.is_error and problem.path == tmp_path / pdf.name
    assert "not a readable PDF" in problem.message and "build it again" in problem.hint


def test_check_and_build_judge_a_book_alike(tmp_path):
    """One lint pass: check --strict and build --strict fail with the same codes."""
    book = write_book(tmp_path / "book", '[book]\ntitle = "Alike"\n', {
        "01-a.md": "---\ntitle: Same\n---\n\n## Part\n\n#### Skipped a level\n\nCuneiform 𒀀.\n",
        "02-b.md": "---\ntitle: Same\nslug: other\n---\n\nText.\n"})
    checked = check_book(book)
    built = build(book, tmp_path / "out", formats=("epub",), strict=True)
    assert not built.ok and built.outputs == ()
    codes = {"R006", "R007", "M009"}
    assert {d.code for d in checked} == {d.code for d in built.diagnostics} == codes
    assert [d.format() for d in as_errors(checked)] == [d.format() for d in built.diagnostics]


def test_a_footnote_call_without_its_note_and_a_note_never_called_are_located(tmp_path):
    """R022: `[^missing]` was printed with its brackets and an uncalled note dropped, with
    nothing said; a call in code or written `\\[^x]` is no call, and inline notes are fine."""
    book = write_book(tmp_path / "book", '[book]\ntitle = "Notes"\nlanguage = "en"\n', {
        "01-a.md": ("---\ntitle: A\n---\n\nA missing note[^missing] here, a real one[^a], `code [^x]`, \\[^kept], "
                    "and an inline one^[Inline.].\n\n[^a]: The note.\n\n[^unused]: Never called.\n")})
    found = [(d.code, d.line, d.column, d.message) for d in check_book(book) if d.code == "R022"]
    assert [(code, line, column) for code, line, column, _ in found] == [("R022", 5, 15), ("R022", 9, 1)]
    assert "[^missing] names no note" in found[0][3] and "[^unused] is never called" in found[1][3]
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok and [d.code for d in result.diagnostics] == ["R022", "R022"]
