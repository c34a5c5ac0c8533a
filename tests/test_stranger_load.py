"""A stranger's book at load time (#26): what book.toml and front matter may
ask for. The book names no network peer, its YAML expands nothing, its
strings hold no character XML forbids, its names fit the file system, and
a file with other hard links is not read unless the user trusts the folder.
Each case ends with a located diagnostic, never a traceback or a hang."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest

from pipeline.commands.cli import main

PNG = Path(__file__).parent / "fixtures"


def _book(tmp_path: Path, toml: str = '[book]\ntitle = "Stranger"\n', article: str = "---\ntitle: A\n---\n\nText.\n",
          name: str = "a.md") -> Path:
    book = tmp_path / "book"
    book.mkdir(exist_ok=True)
    (book / "book.toml").write_text(toml, encoding="utf-8")
    (book / name).write_text(article, encoding="utf-8")
    return book


def _run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _check(book: Path) -> tuple[int, str]:
    code, _, err = _run("check", str(book))
    return code, err


@pytest.fixture
def listener():
    """A loopback port that accepts connections and never answers (a peer
    that drops or ignores us); yields it and the count of connections made."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)

    def accepted() -> int:
        count = 0
        while True:
            try:
                connection, _ = server.accept()
            except BlockingIOError:
                return count
            connection.close()
            count += 1

    yield f"tcp://127.0.0.1:{server.getsockname()[1]}", accepted
    server.close()


# -- item 4: the book names no network peer ---------------------------------

def test_a_scheduler_in_book_toml_is_refused_located_and_never_contacted(tmp_path, listener):
    address, accepted = listener
    book = _book(tmp_path, f'[book]\ntitle = "Stranger"\n\n[build]\n  scheduler = "{address}"\n')
    code, err = _check(book)
    assert code == 1
    assert "book.toml:5:3: error[C010]: [build] scheduler" in err
    assert "--scheduler tcp://HOST:PORT" in err and "PIPELINE_SCHEDULER" in err
    code, _, err = _run("build", str(book), "--out", str(tmp_path / "out"), "--format", "epub", "--quiet")
    assert code == 1 and "error[C010]" in err and not (tmp_path / "out").exists()
    assert accepted() == 0  # the build never reached the address the book named


def test_a_dotted_scheduler_key_is_refused_too(tmp_path):
    book = _book(tmp_path, 'build.scheduler = "tcp://10.0.0.1:8786"\n[book]\ntitle = "Stranger"\n')
    code, err = _check(book)
    assert code == 1 and "book.toml:1:7: error[C010]" in err


def test_a_refused_port_is_x006_at_once(tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    book = _book(tmp_path)
    code, _, err = _run("build", str(book), "--out", str(tmp_path / "out"), "--format", "epub", "--quiet",
                        "--scheduler", f"tcp://127.0.0.1:{port}")
    assert code == 1 and "error[X006]" in err and "cannot be reached" in err and "Traceback" not in err


def test_a_silent_scheduler_named_in_the_environment_is_x006_not_a_hang(tmp_path, listener):
    """A peer that accepts and never answers (as an address that drops
    packets never answers): Dask alone would wait for ever. In a child
    process, so that a hang fails the test instead of stopping the suite."""
    address, accepted = listener
    book = _book(tmp_path)
    environment = {**os.environ, "PIPELINE_SCHEDULER": address}
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", str(book), "--out", str(tmp_path / "out"),
                           "--format", "epub", "--quiet"], capture_output=True, text=True, timeout=90,
                          env=environment)
    assert done.returncode == 1 and "error[X006]" in done.stderr and "no answer" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and accepted() == 1  # the variable was used, once


def test_another_server_at_the_address_is_x006(tmp_path):
    """A web server answers first with text, which Dask would read as the
    length of a frame to allocate (a MemoryError)."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer() -> None:
        connection, _ = server.accept()
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
        connection.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    code, _, err = _run("build", str(_book(tmp_path)), "--out", str(tmp_path / "out"), "--format", "epub",
                        "--quiet", "--scheduler", f"tcp://127.0.0.1:{server.getsockname()[1]}")
    thread.join(5)
    server.close()
    assert code == 1 and "error[X006]" in err and "not a Dask scheduler" in err


def test_scheduler_local_wins_over_the_environment(tmp_path, listener, monkeypatch):
    address, accepted = listener
    monkeypatch.setenv("PIPELINE_SCHEDULER", address)
    code, out, err = _run("build", str(_book(tmp_path)), "--out", str(tmp_path / "out"), "--format", "epub",
                          "--quiet", "--scheduler", "local")
    assert code == 0, err
    assert (tmp_path / "out" / "stranger.epub").is_file() and accepted() == 0


# -- item 5: YAML bombs ------------------------------------------------------

BILLION_LAUGHS = """---
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
title: *h
---

Text.
"""


def test_a_yaml_alias_bomb_is_m012_at_its_first_anchor_before_anything_expands(tmp_path):
    book = _book(tmp_path, article=BILLION_LAUGHS)
    code, err = _check(book)
    assert code == 1 and "a.md:2:4: error[M012]: front matter uses an anchor (&a)" in err
    assert "M002" not in err and len(err) < 2000  # nothing was expanded into a message


def test_an_alias_alone_is_m012_at_its_column(tmp_path):
    book = _book(tmp_path, article="---\ntitle: A\nsubtitle: *nothing\n---\n\nText.\n")
    code, err = _check(book)
    assert code == 1 and "a.md:3:11: error[M012]: front matter uses an alias (*nothing)" in err


def test_long_values_are_cut_in_messages(tmp_path):
    """A wrong value hundreds of kilobytes long is quoted by its first 200
    characters; a number too long to convert is M001 at its place."""
    long = "9" * 300_000
    book = _book(tmp_path, toml=f'[book]\ntitle = "T"\ndate = "{long}"\n[bok{"k" * 5000}]\nx = 1\n',
                 article=f"---\ntitle: [\"{long}\"]\nlanguage: {'x' * 5000}\n{'q' * 1000}: 1\n---\n\nText.\n")
    (book / "b.md").write_text(f"---\nslug: b\ntitle: {long}\n---\n\nText.\n", encoding="utf-8")
    code, err = _check(book)
    assert code == 1
    lines = err.splitlines()
    for code_ in ("C003", "C002", "M002", "M003"):
        assert any(f"[{code_}]" in line for line in lines), code_
    assert "b.md:3:8: error[M001]: invalid YAML front matter: a value cannot be read" in err
    assert max(len(line) for line in lines) < 700, max(lines, key=len)[:300]


# -- item 7: control characters in strings -----------------------------------

def test_a_control_character_in_book_toml_or_front_matter_is_located_by_check_and_build(tmp_path):
    book = _book(tmp_path, toml='[book]\ntitle = "Bell\\u0007book"\n[labels]\ncontents = "In\\u0000side"\n',
                 article='---\ntitle: "Ring \\a the bell"\nauthors: ["A", "B\\uFFFF"]\n---\n\nText.\n')
    expected = ["book.toml:2:1: error[C003]: [book] title: holds the control character U+0007",
                "book.toml:4:1: error[C003]: [labels] contents: holds the control character U+0000",
                "a.md:2:8: error[M002]: 'title' holds the control character U+0007",
                "a.md:3:10: error[M002]: 'authors' holds the character U+FFFF"]
    code, err = _check(book)
    assert code == 1 and all(line in err for line in expected), err
    assert "remove the character" in err and "is required" not in err
    code, _, err = _run("build", str(book), "--out", str(tmp_path / "out"), "--format", "epub", "--quiet")
    assert code == 1 and all(line in err for line in expected) and "Traceback" not in err, err


def test_a_control_character_in_a_heading_title_is_removed_with_r001(tmp_path):
    book = _book(tmp_path, article="# Ring \x07the bell\n\nText.\n")
    code, _, err = _run("build", str(book), "--out", str(tmp_path / "out"), "--format", "epub", "--quiet")
    assert code == 0, err
    assert "a.md:1:8: warning[R001]: removed character U+0007 from a title" in err
    import zipfile

    with zipfile.ZipFile(tmp_path / "out" / "stranger.epub") as epub:
        assert "Ring the bell" in epub.read("EPUB/text/a.xhtml").decode()


# -- item 7: names too long, NUL bytes: refused by the gate, located ----------

LONG = "x" * 300


def test_300_character_names_in_articles_cover_logo_and_an_image_are_located_errors(tmp_path):
    book = _book(tmp_path, toml=f'[book]\ntitle = "T"\narticles = ["a.md", "{LONG}.md"]\ncover = "{LONG}.png"\n'
                                f'[style]\nlogo = "images/{LONG}.png"\n',
                 article=f"---\ntitle: A\n---\n\n![A figure](images/{LONG}.png)\n")
    build = ("--out", str(tmp_path / "out"), "--format", "epub", "--quiet")
    for command, options in (("check", ()), ("build", build)):
        code, _, err = _run(command, str(book), *options)
        assert code == 1 and "Traceback" not in err, err
        assert "book.toml:3:21: error[C005]: article 'xxx" in err and "File name too long" in err
        assert "book.toml:4:1: error[R002]: cover image:" in err
        assert "book.toml:6:1: error[R002]: logo:" in err
    assert "a.md:5:13: error[R002]: image 'images/xxx" in _check(book)[1]  # (a build stops before the images)


def test_a_nul_byte_in_an_image_link_or_an_article_name_is_located(tmp_path):
    book = _book(tmp_path, toml='[book]\ntitle = "T"\narticles = ["a.md", "b\\u0000.md"]\n',
                 article="---\ntitle: A\n---\n\n![A figure](images/c%00.png)\n")
    code, err = _check(book)
    assert code == 1 and "Traceback" not in err
    assert "book.toml:3:1: error[C003]: [book] articles: holds the control character U+0000" in err
    assert "a.md:5:" in err and "error[R002]: image 'images/c%00.png'" in err


def test_the_gate_turns_every_os_and_value_error_into_a_refusal(tmp_path):
    from pipeline.resources import ResourceRefused, inside, read_bytes, resolve_path

    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for name in (LONG, "a\x00b", "loop", f"{LONG}/{LONG}"):
        for gate in (inside, resolve_path, read_bytes):
            if gate is inside and name == "loop":
                continue  # a link loop resolves (not strictly) to itself, inside the folder
            with pytest.raises(ResourceRefused):
                gate(tmp_path / name, (tmp_path,))


# -- hard links: refused unless trusted ------------------------------------------

@pytest.fixture
def linked_book(tmp_path):
    """A book whose second manuscript and whose image are other names of
    files outside it (a secret, and an image kept elsewhere)."""
    image = next((PNG / "rich" / "images").glob("*.png"))
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: Secret\n---\n\nSECRET-MARKER\n", encoding="utf-8")
    book = _book(tmp_path, article=f"---\ntitle: A\n---\n\n![A figure](images/{image.name})\n")
    (book / "images").mkdir()
    (tmp_path / image.name).write_bytes(image.read_bytes())
    os.link(tmp_path / image.name, book / "images" / image.name)
    os.link(secret, book / "b.md")
    return book


def test_hard_linked_manuscript_and_image_are_c011_and_not_read(linked_book, tmp_path):
    code, err = _check(linked_book)
    assert code == 1 and "Traceback" not in err
    assert "b.md:1:1: error[C011]:" in err and "has 2 hard links" in err and "--trust-hard-links" in err
    assert "a.md:5:13: error[C011]:" in err
    code, _, err = _run("build", str(linked_book), "--out", str(tmp_path / "out"), "--format", "epub", "--quiet")
    assert code == 1 and "b.md:1:1: error[C011]" in err and not (tmp_path / "out" / "stranger.epub").exists()


def test_a_hard_linked_listed_manuscript_and_cover_are_c011_where_book_toml_names_them(linked_book):
    image = next((linked_book / "images").glob("*.png")).name
    (linked_book / "book.toml").write_text(f'[book]\ntitle = "T"\narticles = ["a.md", "b.md"]\n'
                                           f'cover = "images/{image}"\n', encoding="utf-8")
    code, err = _check(linked_book)
    assert code == 1
    assert "book.toml:3:21: error[C011]:" in err and "book.toml:4:1: error[C011]:" in err


def test_trust_hard_links_reads_them(linked_book, tmp_path):
    code, _, err = _run("check", str(linked_book), "--trust-hard-links")
    assert code == 0, err
    code, _, err = _run("build", str(linked_book), "--out", str(tmp_path / "out"), "--format", "epub", "--quiet",
                        "--trust-hard-links")
    assert code == 0, err
    import zipfile

    with zipfile.ZipFile(tmp_path / "out" / "stranger.epub") as epub:
        assert "SECRET-MARKER" in epub.read("EPUB/text/b.xhtml").decode()
        image = next((linked_book / "images").glob("*.png"))
        assert epub.read(f"EPUB/text/images/{image.name}") == image.read_bytes()
    code, err = _check(linked_book)  # the next command without the option refuses them again
    assert code == 1 and "error[C011]" in err


def test_a_hard_linked_book_toml_and_style_file_are_refused(tmp_path):
    book = _book(tmp_path)
    (book / "styles").mkdir()
    (tmp_path / "print.css").write_text("h1 { color: teal; }\n", encoding="utf-8")
    os.link(tmp_path / "print.css", book / "styles" / "print.css")
    os.link(book / "book.toml", tmp_path / "book.toml")
    code, err = _check(book)
    assert code == 1
    assert "book.toml:1:1: error[C011]" in err and "styles/print.css:1:1: error[C011]" in err
    assert _run("check", str(book), "--trust-hard-links")[0] == 0


def test_a_raw_control_character_in_front_matter_is_located(tmp_path):
    """Not an escape in a quoted string: the byte itself, which YAML's reader refuses before parsing."""
    from pipeline.load.manuscripts import load_book

    book = tmp_path / "book"
    book.mkdir()
    (book / "01-a.md").write_text("---\nlanguage: en\ntitle: Bell\u0007title\n---\n\nText.\n", encoding="utf-8")
    _, diagnostics = load_book(book)
    [found] = [d for d in diagnostics if d.is_error]
    assert (found.code, found.line, found.column) == ("M002", 3, 12) and "U+0007" in found.message, found.format()


def test_a_site_config_nested_200000_deep_is_refused_at_once_not_parsed_for_minutes(tmp_path):
    """A stranger's _config.yml of 200,000 nested brackets: PyYAML's own scanner and parser took
    about 100 s over it (twice: the loader and the renderer's site syntax); the nesting is found by
    libyaml's scanner first, C013 says where, and the book builds without the config."""
    import time

    from pipeline.commands.check import check_book

    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_posts" / "2024-01-01-x.md").write_text("---\ntitle: X\n---\n\nText.\n", encoding="utf-8")
    (site / "_config.yml").write_text("title: " + "[" * 200_000 + "]" * 200_000 + "\n", encoding="utf-8")
    started = time.monotonic()
    found = check_book(site)
    assert [(d.code, d.line, d.column) for d in found] == [("C013", 1, 107)], [d.format() for d in found]
    assert "nested more than 100 levels deep" in found[0].message
    assert time.monotonic() - started < 60  # a guard against the old minutes, not a timing measurement
