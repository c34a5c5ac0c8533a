"""Work where the user is (#28): `cd my-book && pipeline build` builds the
book in the current folder into its `_dist/`, which the build never reads
(not a manuscript, not the no-op fingerprint); an output folder that would
overlap what the build reads is refused (O001) with a hint that works."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from pipeline.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
TOML = '[book]\ntitle = "Tide Notes"\nauthors = ["Ann Example"]\nlanguage = "en"\n'
ARTICLE = "---\ntitle: {title}\nsummary: Short.\n---\n\nText of {title}.\n"


def _pipeline(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    """`pipeline ARGV` as a user runs it, in `cwd`."""
    return subprocess.run([sys.executable, "-m", "pipeline", *argv], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _book(folder: Path, *, nested: bool = False, image: bool = False) -> Path:
    """A small book: book.toml and two articles, side by side or (`nested`)
    in chapters/; with `image`, the first shows images/dot.png."""
    from PIL import Image

    folder.mkdir(parents=True)
    (folder / "book.toml").write_text(TOML, encoding="utf-8")
    where = folder / "chapters" if nested else folder
    where.mkdir(exist_ok=True)
    for number, title in ((1, "Ebb"), (2, "Flood")):
        text = ARTICLE.format(title=title)
        if image and number == 1:
            (folder / "images").mkdir()
            Image.new("RGB", (40, 30), "navy").save(folder / "images" / "dot.png")
            text += f"\n![A navy dot]({'../' if nested else ''}images/dot.png)\n"
        (where / f"0{number}-{title.lower()}.md").write_text(text, encoding="utf-8")
    return folder


def test_build_in_the_book_folder_writes_dist_and_a_second_build_is_a_no_op(tmp_path):
    book = _book(tmp_path / "tide-notes")
    done = _pipeline(book, "build", "--quiet")
    assert done.returncode == 0, done.stderr
    pdf, epub = book / "_dist" / "tide-notes.pdf", book / "_dist" / "tide-notes.epub"
    assert done.stdout.splitlines()[0].startswith("wrote _dist/tide-notes.pdf (")
    reader = PdfReader(pdf)
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Text of Ebb." in text and "Text of Flood." in text
    with zipfile.ZipFile(epub) as archive:
        assert archive.read("mimetype") == b"application/epub+zip"
        documents = [name for name in archive.namelist() if name.endswith(".xhtml")]
        assert sum(b"Text of Flood." in archive.read(name) for name in documents) == 1
    built = {path: path.read_bytes() for path in (pdf, epub)}
    # What a user leaves in _dist: a copied manuscript, a page of a website.
    (book / "_dist" / "03-copy.md").write_text(ARTICLE.format(title="Copy"), encoding="utf-8")
    (book / "_dist" / "index.html").write_text("<p>downloads</p>\n", encoding="utf-8")
    again = _pipeline(book, "build", "--quiet")
    assert again.returncode == 0, again.stderr
    assert re.fullmatch(r"up to date \([0-9.]+ s\): _dist\n", again.stdout), again.stdout
    assert {path: path.read_bytes() for path in built} == built
    assert sorted(p.name for p in book.iterdir()) == ["01-ebb.md", "02-flood.md", "_dist", "book.toml"]


def test_a_manuscript_in_an_output_folder_is_not_an_article(tmp_path):
    from pipeline.load.manuscripts import load_book

    book = _book(tmp_path / "book", nested=True)  # no manuscript of its own: its folders are walked
    for folder in ("_dist", "old", "notes"):
        (book / folder).mkdir()
        (book / folder / "stray.md").write_text(ARTICLE.format(title="Stray"), encoding="utf-8")
    (book / "old" / ".pipeline-cache").mkdir()  # an earlier build's --out old
    loaded, diagnostics = load_book(book)
    assert not [d for d in diagnostics if d.is_error], [d.format() for d in diagnostics]
    found = sorted(a.source_path.relative_to(book).as_posix() for a in loaded.articles)
    assert found == ["chapters/01-ebb.md", "chapters/02-flood.md", "notes/stray.md"]


def test_files_in_the_output_folder_do_not_change_the_fingerprint(tmp_path):
    from pipeline.cache import fingerprint

    book = _book(tmp_path / "book", image=True)
    out = book / "_dist"
    out.mkdir()
    key = fingerprint(book, {}, out)
    (out / "copy.md").write_text("# Copy\n", encoding="utf-8")
    (out / "index.html").write_text("<p>x</p>\n", encoding="utf-8")
    (out / "styles").mkdir()
    (out / "styles" / "print.css").write_text("p { color: red }\n", encoding="utf-8")
    assert fingerprint(book, {}, out) == key
    (book / "images" / "dot.png").write_bytes((book / "images" / "dot.png").read_bytes() + b"\0")
    assert fingerprint(book, {}, out) != key  # the book's own files still count


def _hinted(err: str) -> str:
    match = re.search(r"hint: write the outputs to a folder the build does not read, e\.g\. --out (\S+)", err)
    assert match, err
    return match.group(1)


@pytest.mark.parametrize("out", [".", "..", "styles", "styles/out"])
def test_an_output_folder_over_the_book_or_its_styles_is_refused_with_a_hint_that_works(tmp_path, out,
                                                                                        monkeypatch):
    book = _book(tmp_path / "book")
    (book / "styles").mkdir()
    (book / "styles" / "epub.css").write_text("p { margin: 0 }\n", encoding="utf-8")
    monkeypatch.chdir(book)
    code, _, err = _run("build", "--out", out, "--format", "epub", "--quiet")
    assert code == 1 and "error[O001]" in err, err
    hinted = _hinted(err)
    assert hinted != out and hinted == "_dist"
    code, _, err = _run("build", "--out", hinted, "--format", "epub", "--quiet")
    assert code == 0, err
    assert (book / "_dist" / "tide-notes.epub").is_file()


@pytest.mark.parametrize("out, read", [("chapters", "chapters/01-ebb.md"), ("images", "images/dot.png")])
def test_an_output_folder_holding_what_the_build_reads_is_refused(tmp_path, out, read, monkeypatch):
    book = _book(tmp_path / "book", nested=True, image=True)
    before = {p: p.read_bytes() for p in book.rglob("*") if p.is_file()}
    monkeypatch.chdir(book)
    code, _, err = _run("build", "--out", out, "--format", "epub", "--quiet")
    assert code == 1 and f"error[O001]: output folder '{out}' holds '{read}', which the build reads" in err, err
    assert {p: p.read_bytes() for p in book.rglob("*") if p.is_file()} == before  # nothing written
    hinted = _hinted(err)
    assert hinted == "_dist"
    assert _run("build", "--out", hinted, "--format", "epub", "--quiet")[0] == 0


def test_an_image_in_the_default_output_folder_is_refused_and_the_hint_names_a_sibling(tmp_path, monkeypatch):
    book = _book(tmp_path / "book")
    (book / "_dist").mkdir()
    (book / "images").mkdir()
    for folder in ("_dist", "images"):
        from PIL import Image

        Image.new("RGB", (20, 20), "teal").save(book / folder / "dot.png")
    (book / "01-ebb.md").write_text(ARTICLE.format(title="Ebb") + "\n![A dot](_dist/dot.png)\n", encoding="utf-8")
    monkeypatch.chdir(book)
    code, _, err = _run("build", "--format", "epub", "--quiet")
    assert code == 1 and "error[O001]: output folder '_dist' holds '_dist/dot.png', which the build reads" in err
    hinted = _hinted(err)
    assert hinted == "../book-dist"
    code, _, err = _run("build", "--out", hinted, "--format", "epub", "--quiet")
    assert code == 0, err
    assert (tmp_path / "book-dist" / "tide-notes.epub").is_file()


def test_an_output_folder_inside_the_book_that_it_never_reads_is_fine(tmp_path):
    book = _book(tmp_path / "book")
    code, _, err = _run("build", str(book), "--out", str(book / "dist"), "--format", "epub", "--quiet")
    assert code == 0, err
    assert (book / "dist" / "tide-notes.epub").is_file()


def test_a_named_out_still_works_from_the_project_folder(tmp_path):
    """The Makefile's `pipeline build manuscripts --out dist`, run beside the book."""
    _book(tmp_path / "manuscripts")
    done = _pipeline(tmp_path, "build", "manuscripts", "--out", "dist", "--format", "epub", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote dist/tide-notes.epub (")
    assert not (tmp_path / "manuscripts" / "_dist").exists()
    done = _pipeline(tmp_path, "build", "manuscripts", "--format", "epub", "--quiet")  # no --out: the book's _dist
    assert done.returncode == 0 and done.stdout.startswith("wrote manuscripts/_dist/tide-notes.epub ("), done


def test_a_folder_with_no_book_says_so_and_how_to_go_on(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    code, out, err = _run("build", "--quiet")
    assert code == 1 and out == ""
    assert "error[C006]: this folder (" in err and "is not a book folder: it has no book.toml and no manuscripts" in err
    assert "`pipeline init`" in err and "`pipeline build DIR`" in err
    assert "C004" not in err  # the missing book.toml is said once
    assert list(Path.cwd().iterdir()) == []  # no _dist left behind


def test_a_project_folder_above_the_book_names_it(tmp_path, monkeypatch):
    _book(tmp_path / "manuscripts")
    (tmp_path / "README.md").write_text("# A project\n\nIts book is in manuscripts/.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for command in ("build", "check"):
        code, _, err = _run(command)
        assert code == 1 and "has no book.toml; the book is in 'manuscripts' below it" in err, err
        assert "`pipeline build manuscripts`" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "manuscripts"]
    code, _, err = _run("build", "manuscripts", "--format", "epub", "--quiet")  # as the hint says
    assert code == 0, err


def test_check_outputs_alone_validates_the_book_s_dist(tmp_path, monkeypatch):
    book = _book(tmp_path / "book")
    monkeypatch.chdir(book)
    code, _, err = _run("check", "--outputs")  # nothing built yet: O002 names _dist
    assert code == 1 and "error[O002]" in err and "_dist" in err, err


def test_the_preview_ignores_changes_in_its_output_folder(tmp_path):
    from watchfiles import Change

    from pipeline.commands.serve import outside

    book = _book(tmp_path / "book")
    keep = outside(book / "_dist")
    assert keep(Change.modified, str(book / "01-ebb.md"))
    assert keep(Change.added, f"{book}/./images/new.png")
    assert not keep(Change.added, f"{book}/./_dist/tide-notes.pdf")
    assert not keep(Change.added, str(book / "_dist" / ".pipeline-cache" / "state.json"))
    assert keep(Change.added, str(book / "_dist-notes.md"))  # a name that only begins like it


def test_the_cli_defaults_are_the_current_folder_and_its_dist():
    from pipeline.commands.cli import argument_parser

    for command in ("build", "check", "serve"):
        args = argument_parser().parse_args([command])
        assert args.book_dir == Path(".")
    assert argument_parser().parse_args(["build"]).out is None  # BOOK_DIR/_dist, once BOOK_DIR is known
