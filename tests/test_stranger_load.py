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
    assert f"book.toml:5:3: error[C010]: [build] scheduler" in err
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
