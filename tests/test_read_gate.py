"""The read gate: no file outside the book folder is opened, whichever way a
book names it (book.toml's `articles`, `..`, absolute paths, links to files
or folders), and every refusal is located. The preview answers only to its
own names.

"Opened" is observed, not assumed: a Python audit hook records every file
the process opens while a build runs, so a read that never reaches an output
still fails these tests.
"""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline import build
from pipeline.commands.serve import host_allowed, start

MARKER = "OUTSIDE-SECRET-7f3a9c"


class _Opens:
    """Paths opened by this process while `watching` holds a folder."""

    def __init__(self) -> None:
        self.watching: str | None = None
        self.seen: list[str] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if event == "open" and self.watching and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            if os.path.realpath(path).startswith(self.watching):
                self.seen.append(path)

    def during(self, folder: Path, action):
        self.watching, self.seen = str(folder.resolve()) + os.sep, []
        try:
            return action()
        finally:
            self.watching = None


OPENS = _Opens()  # audit hooks cannot be removed: one for the whole test session


def _secret(folder: Path, name: str = "secret.md") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"---\ntitle: Secret {name}\n---\n\n{MARKER} root:x:0:0\n", encoding="utf-8")
    return path


def _article(path: Path, title: str, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {title}\n---\n\n{text}\n", encoding="utf-8")
    return path


def _output_text(out: Path) -> str:
    """Everything the build left in `out`, zip members and PDF text unpacked,
    so that compressed text is searched too."""
    from pypdf import PdfReader

    chunks = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()) if out.exists() else ():
        data = path.read_bytes()
        chunks.append(data.decode("latin-1"))
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                chunks += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
        if data.startswith(b"%PDF"):
            chunks += [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    return "\n".join(chunks)


def _toml_list(names: list[str]) -> str:
    return "articles = [\n" + "".join(f"    {json.dumps(n)},\n" for n in names) + "]\n"


# --- the four ways in of the issue ------------------------------------------------------------


def _case(tmp_path: Path, case: str) -> tuple[Path, Path, str | None]:
    """A book that reaches the secret one way; returns (book, the file the
    error names, the book.toml entry or None)."""
    book, outside = tmp_path / "book", tmp_path / "outside"
    secret = _secret(outside)
    _article(book / "01-intro.md", "Intro", "Inside text.")
    entry = None
    if case == "dotdot":
        entry = os.path.relpath(secret, book)
        assert entry.startswith("../")
    elif case == "absolute":
        entry = str(secret)
    elif case == "file-link":
        (book / "02-link.md").symlink_to(secret)
    elif case == "folder-link":
        (book / "part").symlink_to(outside, target_is_directory=True)
        entry = "part/secret.md"
    listed = ["01-intro.md", entry] if entry else None
    (book / "book.toml").write_text('[book]\ntitle = "Gate"\n' + (_toml_list(listed) if listed else ""),
                                    encoding="utf-8")
    located = book / "book.toml" if entry else book / "02-link.md"
    return book, located, entry


@pytest.mark.parametrize("case", ["dotdot", "absolute", "file-link", "folder-link"])
def test_the_four_ways_out_are_located_errors_and_leave_no_trace(tmp_path, case):
    book, located, entry = _case(tmp_path, case)
    out = tmp_path / "out"
    result = OPENS.during(tmp_path / "outside", lambda: build(book, out, per_article=True))
    assert OPENS.seen == [], f"opened outside the book: {OPENS.seen}"
    assert not result.ok
    [refusal] = [d for d in result.diagnostics if d.is_error]
    assert refusal.code == ("C007" if entry else "M010")
    assert refusal.path == located
    assert str((tmp_path / "outside" / "secret.md").resolve()) in refusal.message
    if entry:
        line = (book / "book.toml").read_text(encoding="utf-8").split("\n")[refusal.line - 1]
        assert line[refusal.column - 1:].startswith(json.dumps(entry)), (line, refusal.column)
    assert MARKER not in _output_text(out)


def test_the_command_line_prints_the_location_and_target(tmp_path, capsys):
    from pipeline.commands.cli import main

    book, _, entry = _case(tmp_path, "dotdot")
    code = main(["build", str(book), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code != 0
    assert f"book.toml:5:5: error[C007]: article '{entry}'" in err
    assert MARKER not in err


def test_a_linked_manuscript_is_named_by_its_link_not_its_target(tmp_path, capsys, monkeypatch):
    from pipeline.commands.cli import main

    book, _, _ = _case(tmp_path, "file-link")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "book", "--out", "out"]) != 0
    err = capsys.readouterr().err
    assert "book/02-link.md:1:1: error[M010]: manuscript is a link to " in err
    assert str(tmp_path / "outside" / "secret.md") in err and MARKER not in err


def test_links_that_stay_inside_the_book_are_fine(tmp_path):
    book = tmp_path / "book"
    one = _article(book / "chapters" / "one.md", "One", "INSIDE-ONE")
    _article(book / "chapters" / "two.md", "Two", "INSIDE-TWO")
    (book / "01-one.md").symlink_to(one)
    (book / "alias").symlink_to(book / "chapters", target_is_directory=True)
    (book / "book.toml").write_text('[book]\ntitle = "Links"\n' + _toml_list(["01-one.md", "alias/../alias/two.md"]),
                                    encoding="utf-8")
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok, [d.format() for d in result.diagnostics]
    text = _output_text(tmp_path / "out")
    assert "INSIDE-ONE" in text and "INSIDE-TWO" in text


def test_a_linked_book_toml_is_not_read(tmp_path):
    book = tmp_path / "book"
    _article(book / "01-a.md", "A", "Text.")
    secret = tmp_path / "outside" / "config.toml"
    secret.parent.mkdir()
    secret.write_text(f'[book]\ntitle = "{MARKER}"\n', encoding="utf-8")
    (book / "book.toml").symlink_to(secret)
    result = OPENS.during(secret.parent, lambda: build(book, tmp_path / "out"))
    assert OPENS.seen == []
    assert [(d.code, d.path) for d in result.diagnostics if d.is_error] == [("C007", book / "book.toml")]
    assert str(secret) in result.diagnostics[0].message and MARKER not in _output_text(tmp_path / "out")


# --- generated books --------------------------------------------------------------------------

HOW = ("plain", "dotdot", "absolute", "file-link", "folder-link", "link-chain")
ENTRY = st.tuples(st.sampled_from(HOW), st.booleans(), st.integers(0, 2))  # how, outside?, depth


def _realize(book: Path, outside: Path, index: int, how: str, is_outside: bool, depth: int,
             listed: bool) -> tuple[str, Path]:
    """Create entry `index`; return its name (for book.toml or the folder) and the real target."""
    nest = Path(*[f"n{index}{level}" for level in range(depth)]) if depth else Path()
    base = outside if is_outside else book / "inside"
    target = (_secret(base / nest, f"t{index}.md") if is_outside
              else _article(base / nest / f"t{index}.md", f"Inside {index}", f"INSIDE-MARKER-{index}"))
    if not listed or how in ("file-link", "link-chain"):
        link = book / (f"{index:02d}-link.md" if not listed else f"links/{nest.as_posix()}/l{index}.md")
        link.parent.mkdir(parents=True, exist_ok=True)
        if how == "link-chain":
            hop = book / "hops" / f"h{index}.md"
            hop.parent.mkdir(parents=True, exist_ok=True)
            hop.symlink_to(target)
            link.symlink_to(hop)
        else:
            link.symlink_to(target)
        return link.relative_to(book).as_posix(), target
    if how == "folder-link":
        (book / f"d{index}").symlink_to(target.parent, target_is_directory=True)
        return f"d{index}/t{index}.md", target
    if how == "absolute":
        return str(target), target
    if how == "dotdot" or is_outside:
        return os.path.relpath(target, book) if is_outside else f"inside/../inside/{(nest / target.name).as_posix()}", target
    return target.relative_to(book).as_posix(), target


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(ENTRY, min_size=1, max_size=4), listed=st.booleans())
def test_generated_books_never_leak_and_every_refusal_is_located(entries, listed):
    with tempfile.TemporaryDirectory() as temporary:
        here = Path(temporary).resolve()
        book, outside, out = here / "book", here / "outside", here / "out"
        book.mkdir()
        names, refused = [], {}
        for index, (how, is_outside, depth) in enumerate(entries):
            name, target = _realize(book, outside, index, how, is_outside, depth, listed)
            names.append(name)
            if is_outside:
                refused[name] = target
        toml = '[book]\ntitle = "Generated"\n' + (_toml_list(names) if listed else "")
        (book / "book.toml").write_text(toml, encoding="utf-8")

        result = OPENS.during(outside, lambda: build(book, out, formats=("epub",)))

        assert OPENS.seen == [], f"opened outside the book: {OPENS.seen}"
        text = _output_text(out)
        assert MARKER not in text
        refusals = [d for d in result.diagnostics if d.code in ("C007", "M010")]
        assert len(refusals) == len(refused)
        for diagnostic in refusals:
            assert diagnostic.is_error and diagnostic.path is not None
            assert any(str(target) in diagnostic.message for target in refused.values())
            if listed:
                assert diagnostic.code == "C007" and diagnostic.path == book / "book.toml"
                line = toml.split("\n")[diagnostic.line - 1]
                assert any(line[diagnostic.column - 1:].startswith(json.dumps(n)) for n in refused)
            else:
                assert diagnostic.code == "M010" and diagnostic.path.name in refused
        if not refused:
            assert result.ok, [d.format() for d in result.diagnostics]
            assert all(f"INSIDE-MARKER-{i}" in text for i in range(len(entries)))


# --- the preview's Host check -----------------------------------------------------------------


@pytest.mark.parametrize("header, allowed", [
    ("127.0.0.1:8000", True), ("localhost:8000", True), ("LOCALHOST:8000", True), ("[::1]:8000", True),
    ("localhost", True), ("book.test:8000", True),
    ("attacker.example:8000", False), ("attacker.example", False), ("localhost:9999", False),
    ("127.0.0.1.attacker.example:8000", False), ("[::1]x", False), ("", False), (None, False),
])
def test_host_names_the_preview_answers_to(header, allowed):
    assert host_allowed(header, 8000, ("book.test",)) is allowed


def _get(url: str, host: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(200)
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_the_preview_refuses_a_foreign_host(tmp_path):
    book, _, _ = _case(tmp_path, "file-link")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server, stop = start(book, tmp_path / "out", port, names=("book.test",))
    try:
        base = f"http://127.0.0.1:{port}"
        status, page = _get(base + "/", f"127.0.0.1:{port}")
        assert status == 200 and b"<html" in page.lower()
        assert _get(base + "/", f"book.test:{port}")[0] == 200
        for path in ("/", "/events", "/01-intro.md", "/style/book.css"):
            status, body = _get(base + path, f"attacker.example:{port}")
            assert status == 421 and b"Inside text" not in body, path
        page = urllib.request.urlopen(base + "/", timeout=10).read().decode()
        assert "Inside text" in page and MARKER not in page
    finally:
        stop.set()
        server.shutdown()


@pytest.mark.parametrize("name", ["print.css", "epub.css", "labels.toml", "templates/booklet.html",
                                  "fonts/Secret.ttf", "(the folder)"])
def test_the_books_own_styles_never_lead_out(tmp_path, name):
    """Every file of the book's styles/ folder goes through the gate: a link
    out is a located C009, and nothing outside is opened."""
    outside = tmp_path / "outside"
    secret = _secret(outside, "secret.txt")
    book = tmp_path / "book"
    _article(book / "01-intro.md", "Intro", "Inside the book.")
    (book / "book.toml").write_text('[book]\ntitle = "Gate"\n', encoding="utf-8")
    if name == "(the folder)":
        (book / "styles").symlink_to(outside, target_is_directory=True)
        located = book / "styles"
    else:
        located = book / "styles" / name
        located.parent.mkdir(parents=True)
        located.symlink_to(secret)
    out = tmp_path / "out"
    result = OPENS.during(outside, lambda: build(book, out, per_article=True))
    assert OPENS.seen == [], f"opened outside the book: {OPENS.seen}"
    [refusal] = [d for d in result.diagnostics if d.is_error]
    assert (refusal.code, refusal.path) == ("C009", located) and str(outside.resolve()) in refusal.message
    assert not out.exists() or MARKER not in _output_text(out)
