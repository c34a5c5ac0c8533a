"""The command line as a user runs it: exit codes, messages, and outputs that
are never lost or half-written."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import previous_outputs
from pipeline.commands.cli import main


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_usage_error_exits_2():
    assert _run("build", "--format", "docx")[0] == 2
    assert _run("nonsense")[0] == 2


def test_a_number_out_of_its_range_is_a_usage_error_that_says_the_range(capsys):
    """A port past 65535 reached the socket (a traceback); 0 jobs or a negative time limit built as if fine.
    (argparse writes its usage errors to sys.stderr itself.)"""
    for argv, said in ((("serve", "--port", "99999"), "0 to 65535"), (("serve", "--port", "-1"), "0 to 65535"),
                       (("build", "--jobs", "0"), "at least 1"), (("build", "--time-limit", "-5"), "0 or more"),
                       (("build", "--jobs", "two"), "'two' is not a number")):
        code = _run(*argv)[0]
        err = capsys.readouterr().err
        assert code == 2 and said in err and "Traceback" not in err, (argv, err)


def test_pipeline_alone_lists_the_commands():
    code, out, err = _run()
    assert code == 0 and err == "" and out.startswith("usage: pipeline")
    for command in ("build", "check", "serve", "new", "import"):
        assert f"\n    {command} " in out, command
    assert "'pipeline new DIR'" in out


def test_a_no_op_build_says_up_to_date_with_its_time(tmp_path):
    book = tmp_path / "notes"
    book.mkdir()
    (book / "a.md").write_text("# A title\n\nText.\n", encoding="utf-8")
    argv = ("build", str(book), "--out", str(tmp_path / "out"), "--format", "epub", "--quiet")
    code, out, _ = _run(*argv)
    epub = tmp_path / 'out' / 'notes.epub'
    assert code == 0 and out == f"wrote {epub} ({epub.stat().st_size / 1000:.1f} kB)\n"
    code, out, err = _run(*argv)
    assert code == 0 and "warning[C004]" in err  # the warnings are still told
    assert re.fullmatch(rf"up to date \([0-9]+\.[0-9]{{2}} s\): {re.escape(str(tmp_path / 'out'))}\n", out), out


def test_bad_book_exits_1_with_every_problem_located(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "T"\ncolour = "red"\n', encoding="utf-8")
    (book / "a.md").write_text("---\ntitle: no\n---\nText\n", encoding="utf-8")
    code, _, err = _run("build", str(book), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "book.toml:3:1: error[C002]" in err
    assert "a.md:2:8: error[M002]" in err and 'hint: quote the value: title: "no"' in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_failed_build_leaves_previous_outputs_byte_for_byte(book_dir, tmp_path, built_book):
    out = tmp_path / "out"
    previous = previous_outputs(out, built_book)
    (book_dir / "01-kratom-prolactin-and-muscle-soreness.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    code, _, err = _run("build", str(book_dir), "--out", str(out))
    assert code == 1 and "error[M001]" in err and "previous outputs left unchanged" in err
    assert {path.name: path.read_bytes() for path in out.iterdir()} == previous


def test_strict_turns_warnings_into_errors(tmp_path):
    book = tmp_path / "notes"
    book.mkdir()
    (book / "a.md").write_text("# A title\n\nText.\n", encoding="utf-8")
    code, _, err = _run("build", str(book), "--out", str(tmp_path / "out"), "--format", "epub", "--strict")
    assert code == 1 and "error[C004]" in err and "error[M004]" in err
    assert not (tmp_path / "out" / "notes.epub").exists()


def test_without_strict_warnings_still_build(tmp_path):
    book = tmp_path / "notes"
    book.mkdir()
    (book / "a.md").write_text("# A title\n\nText.\n", encoding="utf-8")
    code, out, err = _run("build", str(book), "--out", str(tmp_path / "out"), "--format", "epub")
    assert code == 0 and "warning[M004]" in err and (tmp_path / "out" / "notes.epub").is_file()
    assert "wrote" in out


def test_the_book_folder_as_output_is_refused_with_a_hint_that_works(book_dir):
    before = sorted(book_dir.rglob("*"))
    code, _, err = _run("build", str(book_dir), "--out", str(book_dir))
    assert code == 1 and "error[O001]" in err and f"e.g. --out {book_dir / '_dist'}" in err
    assert sorted(book_dir.rglob("*")) == before  # (an output folder inside the book: tests/test_workdir.py)


def test_missing_book_folder_is_reported(tmp_path):
    code, _, err = _run("build", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert code == 1 and "error[C006]" in err


def test_sources_are_never_modified(book_dir, tmp_path):
    before = {p.name: p.read_bytes() for p in book_dir.iterdir()}
    assert _run("build", str(book_dir), "--out", str(tmp_path / "out"), "--format", "epub")[0] == 0
    assert {p.name: p.read_bytes() for p in book_dir.iterdir()} == before


def test_epub_only_build_never_imports_weasyprint(tmp_path):
    script = ("import sys; from pipeline.commands.cli import main; code = main(['build', 'manuscripts', '--out', "
              f"{str(tmp_path)!r}, '--format', 'epub']); "
              "assert 'weasyprint' not in sys.modules, 'weasyprint imported'; sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent.parent,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["kratom-and-muscle-soreness.epub"]


def test_python_dash_m_runs_the_cli(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pipeline", "--version"], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 0 and done.stdout.startswith("pipeline ")


def test_two_builds_give_identical_bytes(tmp_path, built_book):
    from pipeline import build

    result = build(Path(__file__).parent.parent / "manuscripts", tmp_path)
    assert result.ok
    assert [p.read_bytes() for p in result.outputs] == [p.read_bytes() for p in built_book]


def test_source_date_epoch_sets_the_dates(tmp_path, monkeypatch):
    from pypdf import PdfReader

    from pipeline import build

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14
    result = build(Path(__file__).parent.parent / "manuscripts", tmp_path)
    pdf, epub = result.outputs
    assert PdfReader(pdf).metadata.creation_date.year == 2023
    import zipfile

    with zipfile.ZipFile(epub) as archive:
        assert "2023-11-14T22:13:20Z" in archive.read("EPUB/content.opf").decode()
        assert {info.date_time[:3] for info in archive.infolist()} == {(2023, 11, 14)}
    assert os.environ["SOURCE_DATE_EPOCH"] == "1700000000"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_shown_as_lines_in_a_log_as_bars_on_a_terminal_and_not_when_quiet(book_dir, tmp_path):
    code, _, err = _run("build", str(book_dir), "--out", str(tmp_path / "log"), "--format", "epub")
    assert code == 0
    lines = err.splitlines()
    assert any(line.endswith("rendering articles (2/2)") for line in lines), err
    assert any(line.endswith("writing the EPUB") for line in lines), err

    terminal = _Terminal()
    assert main(["build", str(book_dir), "--out", str(tmp_path / "tty"), "--format", "epub"],
                stdout=io.StringIO(), stderr=terminal) == 0
    shown = terminal.getvalue()
    assert "writing the EPUB" in shown and "━" in shown  # a rich bar, not log lines
    assert "rendering articles (2/2)" not in shown
    again = _Terminal()  # a no-op rebuild: no stage, so no display (nor a hidden cursor) at all
    assert main(["build", str(book_dir), "--out", str(tmp_path / "tty"), "--format", "epub"],
                stdout=io.StringIO(), stderr=again) == 0
    assert again.getvalue() == ""

    code, _, err = _run("build", str(book_dir), "--out", str(tmp_path / "quiet"), "--format", "epub", "--quiet")
    assert code == 0 and err == ""


def test_identical_warnings_are_folded_into_one_line_with_count_and_first_locations(tmp_path):
    book = tmp_path / "notes"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Notes"\n', encoding="utf-8")
    listing = "```rust\n{{#include ../listings/main.rs}}\n```\n\n"
    (book / "a.md").write_text("# A\n\n" + listing * 5, encoding="utf-8")
    code, _, err = _run("build", str(book), "--out", str(tmp_path / "out"), "--format", "epub", "--quiet")
    lines = [line for line in err.splitlines() if "R010" in line]
    assert code == 0 and len(lines) == 1, err
    places = ", ".join(f"{book / 'a.md'}:{line}:1" for line in (4, 8, 12))
    assert lines[0] == ("warning[R010]: the mdBook directive '{{#include …}}' is not expanded; it is printed "
                        f"as it is (5 times: {places}, …)")


def test_identical_diagnostics_fold_into_one_line_naming_each_place_once():
    from pipeline.diagnostics import format_all, warning

    def at(name: str, line: int):
        return warning("R008", "link to 'x.html', which is not part of the book", hint="fix it",
                       path=Path(name), line=line, column=1)

    lines = format_all([at("a.md", 3), at("a.md", 3), at("b.md", 7), at("c.md", 1), at("d.md", 2),
                        warning("R009", "empty level-2 heading", path=Path("a.md"), line=9)])
    assert lines == [
        "warning[R008]: link to 'x.html', which is not part of the book "
        "(5 times: a.md:3:1, b.md:7:1, c.md:1:1, …)\n  hint: fix it",
        "a.md:9:1: warning[R009]: empty level-2 heading",
    ]


def test_outputs_have_the_mode_the_umask_gives(tmp_path):
    book = tmp_path / "notes"
    book.mkdir()
    (book / "a.md").write_text("# A title\n\nText.\n", encoding="utf-8")
    script = (f"import os, sys; os.umask(0o027); from pipeline.commands.cli import main; "
              f"sys.exit(main(['build', {str(book)!r}, '--out', {str(tmp_path / 'out')!r}, '--format', 'epub', "
              f"'-q', '--per-article']))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    written = [line.removeprefix("wrote ").rpartition(" (")[0] for line in done.stdout.splitlines()
               if line.startswith("wrote ")]
    assert len(written) == 3 and {os.stat(path).st_mode & 0o777 for path in written} == {0o640}


def test_a_folder_without_manuscripts_is_named_as_the_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = _run("check", str(tmp_path / "empty"))
    [line] = [line for line in err.splitlines() if "C006" in line]
    assert code == 1 and line.startswith(f"error[C006]: '{tmp_path / 'empty'}' is not a book folder")
    assert "C004" not in err  # its missing book.toml is said once, in that line


def test_an_output_folder_that_is_a_file_is_said_so(tmp_path):
    """`--out notes.txt` (a file): O006 names it, where X002 said "File exists" and advised freeing disk space."""
    from conftest import MANUSCRIPTS

    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n", encoding="utf-8")
    for out in (taken, taken / "sub"):
        code, _, err = _run("build", str(MANUSCRIPTS), "--out", str(out), "--quiet")
        assert code == 1 and "error[O006]" in err and f"'{taken}' is a file, not a folder" in err, err
    assert taken.read_text(encoding="utf-8") == "mine\n"
