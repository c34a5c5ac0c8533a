"""Hostile and broken manuscripts: a clean book or located errors; nothing
read outside the book, nothing fetched, nothing lost."""

from __future__ import annotations

import re
import shutil
import socket
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from conftest import SHARED, epubcheck_messages, previous_outputs
from pipeline import build
from pipeline.commands.cli import main


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _book(tmp_path: Path, body: str, extra: dict[str, bytes] | None = None) -> Path:
    book = tmp_path / "book"
    book.mkdir(exist_ok=True)
    (book / "book.toml").write_text('[book]\ntitle = "Hostile"\n', encoding="utf-8")
    (book / "a.md").write_text(f"---\ntitle: A\n---\n{body}", encoding="utf-8")
    for name, data in (extra or {}).items():
        (book / name).parent.mkdir(parents=True, exist_ok=True)
        (book / name).write_bytes(data)
    return book


def _texts(epub: Path) -> str:
    with zipfile.ZipFile(epub) as archive:
        return "".join(archive.read(n).decode() for n in archive.namelist() if n.endswith(".xhtml"))


def test_scripts_handlers_and_unsafe_urls_never_reach_the_outputs(tmp_path):
    body = """
<script>alert("x")</script>
<p onclick="steal()">Click <a href="javascript:steal()">here</a> or
<a href="vbscript:msgbox">there</a>.</p>
<iframe src="https://evil.example/"></iframe>
<form action="https://evil.example/"><input name="q"></form>
<object data="x.swf"></object>
<style>body { background: url(https://evil.example/track.png) }</style>
<link rel="stylesheet" href="https://evil.example/x.css">
<p style="background: url(https://evil.example/t.png)">Styled &nbsp;text &copy; 2026 <b>unclosed
<!-- a comment -- with double hyphens -->
<svg><script>alert(1)</script></svg>

Plain *Markdown* after the HTML.
"""
    result = build(_book(tmp_path, body), tmp_path / "out")
    assert result.ok, [d.format() for d in result.diagnostics]
    pdf, epub = result.outputs
    text = _texts(epub)
    for needle in ("<script", "onclick", "javascript:", "vbscript:", "<iframe", "<form", "<object",
                   "evil.example", "<style>body", "<svg", "&nbsp;", "<!--"):
        assert needle not in text, needle
    assert "Styled \u00a0text © 2026" in text and "Plain" in text
    assert epubcheck_messages(epub) == []
    assert b"evil.example" not in pdf.read_bytes()


@pytest.mark.parametrize("markdown, expected", [
    ("![secret](/etc/hostname)", "not in the site's static folder"),  # a site-root path: looked up in the book
    ("![secret](../outside.png)", "outside the book folder"),
    ("![file](file:///etc/hostname)", "empty or unsafe"),
    ('<img src="../outside.png" alt="raw">', "outside the book folder"),
    ("![missing](images/nothing.png)", "does not exist"),
])
def test_images_outside_the_book_are_located_errors(tmp_path, markdown, expected):
    (tmp_path / "outside.png").write_bytes(_png(4, 4))
    book = _book(tmp_path, f"\nIntro.\n\n{markdown}\n")
    result = build(book, tmp_path / "out")
    errors = [d for d in result.diagnostics if d.is_error]
    assert not result.ok and len(errors) == 1
    assert errors[0].code == "R002" and expected in errors[0].message
    assert (errors[0].path.name, errors[0].line) == ("a.md", 7)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_symlink_out_of_the_book_is_refused(tmp_path):
    (tmp_path / "secret.png").write_bytes(_png(4, 4))
    book = _book(tmp_path, "\n![x](images/link.png)\n")
    (book / "images").mkdir()
    (book / "images" / "link.png").symlink_to(tmp_path / "secret.png")
    result = build(book, tmp_path / "out")
    assert [d.code for d in result.diagnostics if d.is_error] == ["R002"]


def _png(width: int, height: int) -> bytes:
    """A PNG header claiming `width` × `height` (no need for the pixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\0" + b"\0\0\0" * width for _ in range(min(height, 4))))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.mark.parametrize("name, data, expected", [
    ("images/bomb.png", _png(30000, 30000), "pixels"),
    ("images/big.png", _png(8000, 6000), "pixels"),  # over our limit, under Pillow's own
    ("images/fake.png", b"this is text, not an image", "not a PNG"),
    ("images/laughs.svg", b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
                          b'<svg xmlns="http://www.w3.org/2000/svg">&b;</svg>', "entities"),
    ("images/remote.svg", b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                          b'<image xlink:href="https://example.org/x.png"/></svg>', "self-contained"),
    ("images/local.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>',
     "self-contained"),
    ("images/script.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "script"),
    ("images/style.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><style>rect{fill:url(http://x/y)}</style></svg>',
     "external url"),
])
def test_hostile_images_are_refused_by_content(tmp_path, name, data, expected):
    book = _book(tmp_path, f"\n![picture]({name})\n", {name: data})
    result = build(book, tmp_path / "out", formats=("epub",))
    [problem] = [d for d in result.diagnostics if d.is_error]
    assert problem.code == "R002" and expected in problem.message and problem.line == 5


def test_a_safe_svg_is_accepted(tmp_path):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'
    result = build(_book(tmp_path, "\n![a black box](images/box.svg)\n", {"images/box.svg": svg}), tmp_path / "out")
    assert result.diagnostics == (), [d.format() for d in result.diagnostics]
    assert epubcheck_messages(result.outputs[1]) == []


def test_a_build_leaves_pillows_process_wide_limit_as_it_found_it(tmp_path):
    from PIL import Image

    before = Image.MAX_IMAGE_PIXELS
    book = _book(tmp_path, "\n![a pixel](images/p.png)\n", {"images/p.png": _png(4, 4)})
    assert build(book, tmp_path / "out", formats=("epub",)).ok
    assert Image.MAX_IMAGE_PIXELS == before


def test_forbidden_characters_are_dropped_with_a_located_warning(tmp_path):
    result = build(_book(tmp_path, "\nBell\x07 and form\x0cfeed.\n"), tmp_path / "out", formats=("epub",))
    assert [(d.code, d.line, d.column) for d in result.diagnostics] == [("R001", 5, 5), ("R001", 5, 15)]
    assert epubcheck_messages(result.outputs[0]) == []


def test_link_to_a_missing_anchor_is_located(tmp_path):
    result = build(_book(tmp_path, "\n## Real\n\nSee [below](#real) and [nowhere](#gone).\n"), tmp_path / "out",
                   formats=("epub",))
    [d] = result.diagnostics
    assert (d.code, d.line, d.column) == ("R004", 7, 34) and "#gone" in d.message
    assert epubcheck_messages(result.outputs[0]) == []  # the text stays, without its dead link


@pytest.mark.parametrize("body, line, column, kept", [
    ("\n" + ">" * 3000 + " deep\n", 5, 21, ("deep", 1)),  # the 21st '>' passes markdown-it's limit of 20
    ("\n" + "".join("    " * level + "- item\n" for level in range(200)), 14, 39, ("item", 200)),  # the 10th list
])
def test_absurd_nesting_is_a_located_warning_not_a_crash(tmp_path, body, line, column, kept):
    """Nesting far past the parser's limits: one R005 warning at the first
    line it cannot nest, the book built, every word kept, the EPUB valid."""
    result = build(_book(tmp_path, body), tmp_path / "out", formats=("epub",))
    assert [(d.code, d.path.name, d.line, d.column, d.is_error) for d in result.diagnostics] == [
        ("R005", "a.md", line, column, False)]
    assert result.ok and epubcheck_messages(result.outputs[0]) == []
    word, count = kept
    assert re.sub(r"<[^>]+>", "", _texts(result.outputs[0])).count(word) == count


def test_oversized_manuscript_is_refused(tmp_path):
    book = _book(tmp_path, "\n" + ("word " * 20 + "\n") * 25000)
    result = build(book, tmp_path / "out", formats=("epub",))
    assert [d.code for d in result.diagnostics] == ["M008"]


def test_layout_time_limit(tmp_path):
    book = _book(tmp_path, "\n" + "\n\n".join(f"Paragraph {n} " + "text " * 80 for n in range(400)) + "\n")
    result = build(book, tmp_path / "out", formats=("pdf",), time_limit=0.5)
    assert [d.code for d in result.diagnostics] == ["X003"]


def test_interrupted_build_leaves_previous_outputs_and_no_temporary_files(tmp_path, built_book):
    """The library API (`pipeline.build`) in a process of its own, sent a
    real SIGINT while it writes its staged outputs: KeyboardInterrupt goes
    through to the caller, after every temporary file is removed, and the
    previous outputs are as they were. (The CLI's exit 130 and X007 line:
    test_stranger_process.py.)"""
    import os
    import signal
    import time

    from pipeline.output import TEMPORARY

    out = tmp_path / "out"
    previous = previous_outputs(out, built_book)
    # Python's own Ctrl-C handler first: a suite started in the background by a shell
    # without job control (`make test &`) hands its processes SIGINT ignored.
    script = ("import signal, sys\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
              "from pipeline import build\n"
              "build(sys.argv[1], sys.argv[2], cache=False, jobs=1)\nprint('finished')\n")
    run = subprocess.Popen([sys.executable, "-c", script, str(Path(__file__).parent.parent / "manuscripts"),
                            str(out)], cwd=Path(__file__).parent.parent, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not [p for p in out.glob(".*.tmp") if TEMPORARY.fullmatch(p.name)] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run.poll() is None, "the build ended before it staged an output"
    os.kill(run.pid, signal.SIGINT)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == -signal.SIGINT and stderr.rstrip().endswith("KeyboardInterrupt"), stderr
    assert "finished" not in stdout
    # Every file is as it was, and no temporary file is left (the cache folder
    # may hold the page-number guess of the PDF laid out before the interrupt).
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == previous
    assert not [p for p in out.rglob("*.tmp")]


def test_two_concurrent_builds_into_one_folder_both_succeed(tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "pipeline", "build", "manuscripts", "--out", str(out)]
    root = Path(__file__).parent.parent
    runs = [subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    assert [run.wait(timeout=300) for run in runs] == [0, 0]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["kratom-and-muscle-soreness.epub",
                                                     "kratom-and-muscle-soreness.pdf"]
    assert epubcheck_messages(out / "kratom-and-muscle-soreness.epub") == []
    assert (out / "kratom-and-muscle-soreness.pdf").read_bytes().startswith(b"%PDF")


CORPUS = SHARED / "corpus"
CORPUS_BOOKS = SHARED / "corpus-books"


def _corpus_folders() -> list[Path]:
    """Each folder of public Markdown, built as one book: the corpus by origin
    (its files link to their neighbours and images), the mdBook books whole."""
    folders = [CORPUS / name for name in ("gruber", "pandoc", "pymd", "pymd-docs")]
    folders += [CORPUS_BOOKS / name for name in ("embedded-book", "rust-book")]
    return [folder for folder in folders if folder.is_dir()]


# Each folder: how many Markdown files it holds, and the files that fail,
# with their error codes. Pinned, so that neither a file lost from the corpus
# nor a file that starts (or stops) failing goes unnoticed.
CORPUS_EXPECTED = {
    "gruber": (15, {"images.md": {"R002"}}),  # an image outside the book
    "pandoc": (5, {"pandoc-markdown-reader-more.md": {"R011"}}),
    "pymd": (17, {"misc_uche.md": {"R002"}}),
    "pymd-docs": (4, {}),
    "embedded-book": (6, {}),
    "rust-book": (4, {}),
}


@pytest.mark.skipif(not _corpus_folders(), reason="../shared/corpus and corpus-books are not available")
@pytest.mark.parametrize("folder", _corpus_folders(), ids=lambda folder: folder.name)
def test_public_markdown_builds_a_silent_epub_or_fails_with_located_errors(tmp_path, capsys, folder):
    """Every file: in an EPUB EPUBCheck has nothing to say about, or failing
    with errors that name it and a line. The folder is built as one book:
    exactly the files pinned in CORPUS_EXPECTED fail, with their codes; they
    are then left out and the rest must build. Never a traceback. EPUB only:
    the PDF of the same books is looked at elsewhere."""
    count, failing = CORPUS_EXPECTED[folder.name]
    book = tmp_path / folder.name
    shutil.copytree(folder, book)
    (book / "book.toml").write_text(f'[book]\ntitle = "{folder.name}"\n', encoding="utf-8")
    assert len(list(book.glob("*.md"))) == count
    code = main(["build", str(book), "--out", str(tmp_path / "out0"), "--format", "epub", "--quiet"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and (code == 0) == (not failing), err
    errors = [line for line in err.splitlines() if "error[" in line]
    found: dict[str, set[str]] = {}
    for line in errors:  # "a.md:3:1: error[R002]: ..." or "error[R002]: ... (2 times: a.md:1:13, a.md:3:13)"
        places = re.findall(r"([^\s,(]+\.md):\d+:\d+", line)
        assert places and all(Path(name).parent == book for name in places), line  # a file of the book, a line
        for name in places:
            found.setdefault(Path(name).name, set()).add(line.split("error[")[1][:4])
    assert found == failing, errors
    for name in failing:
        (book / name).unlink()
    code = main(["build", str(book), "--out", str(tmp_path / "out1"), "--format", "epub", "--quiet"])
    assert code == 0 and "Traceback" not in capsys.readouterr().err
    assert epubcheck_messages(tmp_path / "out1" / f"{folder.name}.epub") == []


def test_image_sizes_are_kept_as_a_sanitized_style(tmp_path):
    body = ('\n<img src="images/a.png" width="120" height="40" alt="raw" onerror="x()">\n\n'
            '![attributes](images/a.png){width="50%"}\n\n'
            '<img src="images/a.png" style="width: 30%; position: fixed; background: url(x)" alt="styled">\n')
    book = _book(tmp_path, body, {"images/a.png": _png(8, 8)})
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok and not [d for d in result.diagnostics if d.code != "R003"]
    with zipfile.ZipFile(result.outputs[0]) as archive:
        text = archive.read("EPUB/text/a.xhtml").decode()
    styles = re.findall(r'<img [^>]*style="([^"]*)"', text)
    assert styles == ["width: 120px; height: auto", "width: 50%", "width: 30%"]
    assert "onerror" not in text and "position" not in text and 'width="' not in text
    assert epubcheck_messages(result.outputs[0]) == []


def test_an_svg_with_an_external_dtd_doctype_is_accepted_without_it(tmp_path):
    svg = (b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
           b' "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
           b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>\n')
    book = _book(tmp_path, "\n![A square](images/square.svg)\n", {"images/square.svg": svg})
    result = build(book, tmp_path / "out")
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    pdf, epub = result.outputs
    with zipfile.ZipFile(epub) as archive:
        kept = archive.read("EPUB/text/images/square.svg")
    assert b"<!DOCTYPE" not in kept and b"<rect" in kept
    assert epubcheck_messages(epub) == []
