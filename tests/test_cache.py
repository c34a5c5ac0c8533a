"""The no-op rebuild: skipped when nothing changed, never trusted otherwise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline import build
from pipeline.cache import STATE
from pipeline.progress import Progress


def _epub_only(book: Path, out: Path, **options):
    return build(book, out, formats=("epub",), **options)


def test_unchanged_book_is_not_rebuilt_and_weasyprint_not_imported(book_dir, tmp_path):
    out = tmp_path / "out"
    assert build(book_dir, out).ok
    script = (f"import sys; from pipeline import build; r = build({str(book_dir)!r}, {str(out)!r}); "
              "assert r.ok; assert 'weasyprint' not in sys.modules; assert 'markdown_it' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # The command line too: its options come from load.config, which must not bring the parser in.
    script = (f"import sys; from pipeline.commands.cli import main; code = main(['build', {str(book_dir)!r}, "
              f"'--out', {str(out)!r}, '--quiet']); "
              "assert not {'weasyprint', 'markdown_it', 'lxml', 'urllib.request'} & set(sys.modules), "
              "sorted({'weasyprint', 'markdown_it', 'lxml', 'urllib.request'} & set(sys.modules)); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_any_change_rebuilds(book_dir, tmp_path):
    out = tmp_path / "out"
    first = _epub_only(book_dir, out)
    [epub] = first.outputs
    before = epub.read_bytes()
    manuscript = book_dir / "02-kratom-dosage-and-safety-for-muscle-soreness.md"
    manuscript.write_text(manuscript.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")
    _epub_only(book_dir, out)
    assert epub.read_bytes() != before
    assert b"One more sentence." in __import__("zipfile").ZipFile(epub).read(
        "EPUB/text/kratom-dosage-and-safety-for-muscle-soreness.xhtml")


def test_changed_output_or_corrupt_state_rebuilds(book_dir, tmp_path):
    out = tmp_path / "out"
    [epub] = _epub_only(book_dir, out).outputs
    good = epub.read_bytes()
    epub.write_bytes(b"tampered")
    _epub_only(book_dir, out)
    assert epub.read_bytes() == good
    (out / STATE).write_text("{not json", encoding="utf-8")
    epub.write_bytes(b"tampered")
    result = _epub_only(book_dir, out)
    assert result.ok and epub.read_bytes() == good


class _Stages(Progress):
    """Records the stages a build goes through (a skipped build starts none)."""

    def __init__(self) -> None:
        self.stages: list[str] = []

    def start(self, stage: str, total: int | None = None) -> None:
        self.stages.append(stage)


def test_no_cache_forces_a_build(book_dir, tmp_path):
    out = tmp_path / "out"
    _epub_only(book_dir, out)
    for options, built in (({}, False), ({"cache": False}, True), ({"strict": True}, True)):
        seen = _Stages()  # strict: other options, another fingerprint
        build(book_dir, out, formats=("epub",), progress=seen, **options)
        assert ("loading the book" in seen.stages) is built, (options, seen.stages)


def test_warnings_of_the_skipped_build_are_reported_again(tmp_path):
    book = tmp_path / "notes"
    book.mkdir()
    (book / "a.md").write_text("# Title\n\nText.\n", encoding="utf-8")
    first = _epub_only(book, tmp_path / "out")
    second = _epub_only(book, tmp_path / "out")
    assert [d.code for d in first.diagnostics] == ["C004", "M004"]
    assert second.diagnostics == first.diagnostics and second.outputs == first.outputs


def test_a_wrong_page_number_guess_is_corrected(tmp_path):
    """The previous build's page numbers are only a first guess: a stale or
    absurd guess still gives the same booklet as a cold build."""
    import json

    from conftest import MANUSCRIPTS

    cold = build(MANUSCRIPTS, tmp_path / "cold", formats=("pdf",))
    guessed = tmp_path / "guessed"
    pages_file = guessed / ".pipeline-cache" / "pages-kratom-and-muscle-soreness.json"
    pages_file.parent.mkdir(parents=True)
    pages_file.write_text(json.dumps({"kratom-prolactin-and-muscle-soreness": "99",
                                      "kratom-dosage-and-safety-for-muscle-soreness": "1"}),
                          encoding="utf-8")
    warm = build(MANUSCRIPTS, guessed, formats=("pdf",))
    assert warm.diagnostics == ()
    assert warm.outputs[0].read_bytes() == cold.outputs[0].read_bytes()
    assert json.loads(pages_file.read_text(encoding="utf-8"))[
        "kratom-dosage-and-safety-for-muscle-soreness"] == "5"


def test_only_outputs_inside_the_output_folder_are_ever_candidates_for_removal(tmp_path):
    import hashlib
    import json

    from pipeline.cache import written_before
    from pipeline.output import StagedOutputs

    out = tmp_path / "out"
    (out / ".pipeline-cache").mkdir(parents=True)
    (tmp_path / "outside.pdf").write_bytes(b"not ours")
    digest = hashlib.sha256(b"not ours").hexdigest()
    names = ["../outside.pdf", str(tmp_path / "outside.pdf"), ".pipeline-cache/state.json", "notes.txt",
             "articles\\..\\..\\outside.pdf", "", "settings.json", "articles/manifest.json", "book.pdf", "articles/a.epub", "manifest.json"]
    (out / STATE).write_text(json.dumps({"written": {name: digest for name in names} | {"x.pdf": 3}}),
                             encoding="utf-8")
    assert set(written_before(out)) == {out / "book.pdf", out / "articles" / "a.epub", out / "manifest.json"}
    (out / STATE).write_text("[1, 2]", encoding="utf-8")  # damaged: nothing is a candidate
    assert written_before(out) == {}

    # A retired file goes only if it still holds what the pipeline wrote.
    (out / "ours.pdf").write_bytes(b"ours")
    (out / "replaced.pdf").write_bytes(b"the user's")
    (out / "link.pdf").symlink_to(tmp_path / "outside.pdf")
    with StagedOutputs() as staged:
        (staged.stage(out / "new.pdf")).write_bytes(b"new")
        staged.retire(out / "ours.pdf", hashlib.sha256(b"ours").hexdigest())
        staged.retire(out / "replaced.pdf", hashlib.sha256(b"ours before").hexdigest())
        staged.retire(out / "link.pdf", digest)
        staged.retire(out / "missing.pdf", digest)
        assert (out / "ours.pdf").exists()  # nothing goes before the commit
        staged.commit()
    assert staged.removed == (out / "ours.pdf",)
    assert sorted(p.name for p in out.iterdir() if p.is_file() or p.is_symlink()) == \
        ["link.pdf", "new.pdf", "replaced.pdf"]
    assert (tmp_path / "outside.pdf").read_bytes() == b"not ours"


def test_a_retitled_books_print_files_and_cover_preview_are_retired(tmp_path):
    """Every format's file is an output a later build may retire (formats.py):
    the PNG cover preview too, which the list of output suffixes once lacked."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "01-a.md").write_text("---\ntitle: A\n---\n\nSome text.\n", encoding="utf-8")
    for title in ("Old Title", "New Title"):
        (book / "book.toml").write_text(f'[book]\ntitle = "{title}"\n', encoding="utf-8")
        result = build(book, tmp_path / "out", formats=("epub",), print_profile="generic", jobs=1)
        assert result.ok, [d.format() for d in result.diagnostics]
        if title == "Old Title":
            first = {path.name for path in result.outputs}
            assert "old-title-cover-preview.png" in first and "old-title-print.pdf" in first
    assert {path.name for path in result.removed} == first
    assert sorted(path.name for path in (tmp_path / "out").iterdir() if not path.name.startswith(".")) == \
        sorted(path.name for path in result.outputs)
