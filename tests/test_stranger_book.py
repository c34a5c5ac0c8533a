"""A stranger's book (#26), end to end: each probe is a book an attacker
could upload to a web back end that builds it. Every probe is built by the
`pipeline` command in a child process, in a temporary folder with a secret
file beside the book and a loopback listener that every URL in the probes
names. For each: an exit code of 0 or 1 (a located diagnostic), never a
traceback; the secret in no output (EPUB entries unpacked, PDF text
extracted); no file written outside the book and the output folder; no
connection to the listener; and the build's peak memory under 600 MiB.
The child's run is bounded by a timeout (a hang guard, not a timing test)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

SECRET = "SECRET-MARKER-b41d"
PIPELINE = [sys.executable, "-m", "pipeline"]
MIB = 2**20
PEAK_LIMIT = 600 * MIB
ARTICLE = "---\ntitle: {title}\n---\n\n## One\n\nBody text.\n\n{body}\n\nEND-OF-ARTICLE\n"


@pytest.fixture
def listener():
    """A loopback port that counts who connects (nobody should)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)
    yield server
    server.close()


def _connections(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            connection, _ = server.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


def _probes(port: int) -> dict[str, dict[str, str | bytes]]:
    """Probe name -> files of its book (relative path -> text). `book.toml`
    and 01-a.md default to a plain book and article."""
    url = f"http://127.0.0.1:{port}"
    opener = ("{% macro opener(item, labels, numbered, pages=none) %}<header class=\"opener\">"
              "<h1 class=\"article-title\" id=\"{{ item.anchor }}--title\">{{ item.title_html | safe }}</h1>"
              "ATTACK</header>{% endmacro %}\n")
    bomb = "\n".join(["---", "title: Bomb", "a: &a [x, x, x, x, x, x, x, x, x]"]
                     + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
                        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
                        f"*{chr(97 + i)}]" for i in range(8)] + ["---", "", "Text.", ""])
    long = "x" * 300
    return {
        "template reads a file": {"styles/templates/_opener.html": opener.replace(
            "ATTACK", '{{ item.article.source_path.parent.parent.joinpath("SECRET.txt").read_text() }}')},
        "template writes a file": {"styles/templates/_opener.html": opener.replace(
            "ATTACK", '{{ item.article.source_path.parent.parent.joinpath("WRITTEN").write_text("x") }}')},
        "template writes script": {"styles/templates/_opener.html": opener.replace(
            "ATTACK", f"<scr{{{{''}}}}ipt>fetch('{url}')</scr{{{{''}}}}ipt><img src=\"{url}/i.png\" alt=\"\"/>")},
        "template loops": {"styles/templates/_opener.html": opener.replace(
            "ATTACK", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")},
        "template allocates": {"styles/templates/_opener.html": opener.replace(
            "ATTACK", "{{ ('x' * 3000000000) | length }}{{ range(10**9) | length }}")},
        "template extends itself": {"styles/templates/booklet.html": '{% extends "booklet.html" %}\n'},
        "epub.css escapes": {"styles/epub.css": f"p {{ background: URL({url}/a.png); }}\n"
                                                f"h1 {{ background: \\75 rl({url}/b.png); }}\n"},
        "print.css imports": {"styles/print.css": f"@IMPORT \"{url}/c.css\";\nbody {{ color: red; }}\n"},
        "svg loads": {"01-a.md": ARTICLE.format(title="A", body="![pic](pic.svg)"),
                      "pic.svg": f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                                 f'<style>@import "{url}/s.css";</style><rect width="10" height="10"/>'
                                 f'<set attributeName="href" to="javascript:alert(1)"/></svg>'},
        "scheduler": {"book.toml": f'[book]\ntitle = "T"\n\n[build]\nscheduler = "tcp://127.0.0.1:{port}"\n'},
        "yaml bomb": {"01-a.md": bomb},
        "control character": {"01-a.md": ARTICLE.format(title="Bell\u0007title", body="")},
        "long names": {"book.toml": f'[book]\ntitle = "T"\ncover = "{long}.png"\n',
                       "01-a.md": ARTICLE.format(title="A", body=f"![p]({long}.png) [l](a%00b.md) ![z](a%00b.png)")},
        "deep nesting": {"01-a.md": ARTICLE.format(title="A", body="> " * 300 + "deep\n\nAFTER-THE-NEST")},
        "long word": {"01-a.md": ARTICLE.format(title="A", body="w" * 50_000)},
        "wide table": {"01-a.md": ARTICLE.format(title="A", body="|" + "h|" * 2000 + "\n|" + "-|" * 2000
                                                  + "\n|" + "c|" * 2000)},
        "linked secret": {"links": "symlink 02-b.md -> ../SECRET.txt"},
        "hard-linked secret": {"links": "hardlink 02-b.md -> ../SECRET.txt"},
        "sparse file": {"links": "sparse big.bin 3G"},
    }


def _make(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "SECRET.txt").write_text(f"---\ntitle: {SECRET}\n---\n\n{SECRET}\n", encoding="utf-8")
    book = tmp_path / "book"
    book.mkdir()
    contents = {"book.toml": '[book]\ntitle = "T"\n', "01-a.md": ARTICLE.format(title="A", body=""), **files}
    for name, text in contents.items():
        if name == "links":
            kind, rest = text.split(" ", 1)
            if kind == "sparse":
                name, size = rest.split()
                os.truncate(book / name, 0) if (book / name).exists() else (book / name).touch()
                os.truncate(book / name, 3 * 2**30)
            else:
                link, target = rest.split(" -> ")
                (os.symlink if kind == "symlink" else os.link)(book / target if kind == "hardlink" else target,
                                                               book / link)
            continue
        path = book / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return book


# Runs the build and prints its peak RSS (KiB, the largest of it and its
# children) as the last line of stderr: measured apart from this test process's other children.
MEASURED = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)")


def _run(args: list[str], cwd: Path) -> tuple[int, str, int]:
    """Exit code, stderr and peak RSS (bytes) of the command and its children."""
    try:
        done = subprocess.run([sys.executable, "-c", MEASURED, *args], cwd=cwd, capture_output=True, text=True,
                              timeout=240, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(args)} did not end within 240 s")
    stderr, _, peak = done.stderr.rstrip().rpartition("\n")
    return done.returncode, stderr, int(peak) * 1024


def _texts(out: Path) -> list[bytes]:
    """What a reader of the outputs sees: every file's bytes, every EPUB
    entry unpacked, every PDF's text."""
    found = []
    for path in out.rglob("*") if out.exists() else ():
        if not path.is_file():
            continue
        found.append(path.read_bytes())
        if path.suffix == ".epub":
            with zipfile.ZipFile(path) as archive:
                found += [archive.read(name) for name in archive.namelist()]
        if path.suffix == ".pdf":
            reader = PdfReader(path)
            found.append("".join(page.extract_text() or "" for page in reader.pages).encode("utf-8"))
    return found


@pytest.mark.parametrize("probe", list(_probes(0)))
def test_a_strangers_book(tmp_path, listener, probe):
    files = _probes(listener.getsockname()[1])[probe]
    book = _make(tmp_path, files)
    outside = {p for p in tmp_path.rglob("*") if "book" not in p.relative_to(tmp_path).parts[:1]}
    code, stderr, peak = _run([*PIPELINE, "build", str(book), "--out", str(tmp_path / "out")], tmp_path)
    assert code in (0, 1), (code, stderr[-3000:])
    assert "Traceback" not in stderr, stderr[-3000:]
    if code == 1:
        assert any(part in stderr for part in ("error[",)), stderr[-2000:]
    for text in _texts(tmp_path / "out"):
        assert SECRET.encode() not in text
    now = {p for p in tmp_path.rglob("*") if "book" not in p.relative_to(tmp_path).parts[:1]
           and "out" not in p.relative_to(tmp_path).parts[:1]}
    assert now <= outside, now - outside  # nothing written outside the book and its output folder
    assert _connections(listener) == 0
    assert peak < PEAK_LIMIT, f"peak RSS {peak / MIB:.0f} MiB"
    if probe == "deep nesting" and code == 0:
        epub = next((tmp_path / "out").glob("*.epub"))
        with zipfile.ZipFile(epub) as archive:
            assert any(b"AFTER-THE-NEST" in archive.read(n) for n in archive.namelist())
