"""The read gate: no file outside the book folder is opened, whichever way a
book names it (book.toml's `articles`, `..`, absolute paths, links to files
or folders), and every refusal is located. The preview answers only to its
own names.

"Opened" is observed, not assumed, two ways. A Python audit hook records
every file this process opens with Python's `open()` while a build runs. And
inotify (Linux) watches the outside folder and each file in it: an open, a
read or a listing there by any process (the build's layout workers) and any
library (fontconfig, libxml2, pdfium, WeasyPrint's C dependencies) is an
event. So a read that never reaches an output still fails these tests.
`test_a_whole_build_process_opens_nothing_outside` runs the command itself,
in a process with a temporary HOME.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import socket
import struct
import subprocess
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

IN_ACCESS, IN_OPEN, IN_Q_OVERFLOW = 0x1, 0x20, 0x4000
_LIBC = ctypes.CDLL(None, use_errno=True)
HAS_INOTIFY = hasattr(_LIBC, "inotify_init1") and sys.platform == "linux"
needs_inotify = pytest.mark.skipif(not HAS_INOTIFY, reason="inotify (Linux) watches what every process opens")


class _Watch:
    """inotify on a folder, each folder under it and each file in them:
    the opens, reads and listings any process makes there, whatever the
    path it came by (a link's target is watched as itself). Not seen:
    files outside `folder`, and a file created in it after the watch began."""

    def __init__(self, folder: Path) -> None:
        self.fd = _LIBC.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        self.names: dict[int, str] = {}
        for path in (folder, *sorted(folder.rglob("*"))):
            if path.is_symlink():
                continue
            wd = _LIBC.inotify_add_watch(self.fd, os.fsencode(path), IN_OPEN | IN_ACCESS)
            assert wd >= 0, (path, os.strerror(ctypes.get_errno()))
            self.names[wd] = str(path)

    def events(self) -> list[str]:
        """'path' (or 'folder/name') for each event since the watch began."""
        found, data = [], b""
        while True:
            try:
                data += os.read(self.fd, 65536)
            except BlockingIOError:
                break
        offset = 0
        while offset < len(data):
            wd, mask, _cookie, size = struct.unpack_from("iIII", data, offset)
            name = data[offset + 16:offset + 16 + size].rstrip(b"\0").decode()
            offset += 16 + size
            assert not mask & IN_Q_OVERFLOW, "inotify lost events"
            found.append(os.path.join(self.names.get(wd, "?"), name) if name else self.names.get(wd, "?"))
        return found

    def close(self) -> None:
        os.close(self.fd)


@contextlib.contextmanager
def _watching(folder: Path):
    """The events list of a `_Watch` on `folder` (filled when the block
    ends); an empty list where inotify is missing."""
    seen: list[str] = []
    watch = _Watch(folder) if HAS_INOTIFY and folder.exists() else None
    try:
        yield seen
    finally:
        if watch is not None:
            seen += watch.events()
            watch.close()


def _opened_outside(folder: Path, action):
    """Run `action` (a build); return its result and what it opened in
    `folder`: by Python's open() in this process, and by any process or
    library (inotify)."""
    with _watching(folder) as events:
        result = OPENS.during(folder, action)
    return result, OPENS.seen + events


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
    result, opened = _opened_outside(tmp_path / "outside", lambda: build(book, out, per_article=True))
    assert opened == [], f"opened outside the book: {opened}"
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
    result, opened = _opened_outside(secret.parent, lambda: build(book, tmp_path / "out"))
    assert opened == []
    assert [(d.code, d.path) for d in result.diagnostics if d.is_error] == [("C007", book / "book.toml")]
    assert str(secret) in result.diagnostics[0].message and MARKER not in _output_text(tmp_path / "out")


# --- a whole build process ------------------------------------------------------------------


def _outside_files(outside: Path) -> Path:
    """What a book could name outside itself: a manuscript, an image, a
    stylesheet, a font, a bibliography; each holding MARKER where it can."""
    from PIL import Image

    secret = _secret(outside)
    Image.new("RGB", (60, 90), "#c03030").save(outside / "pic.png")
    (outside / "x.css").write_text(f"p {{ color: red }} /* {MARKER} */\n", encoding="utf-8")
    (outside / "refs.bib").write_text(f"@book{{k, title={{{MARKER}}}, author={{Doe, Jane}}, year=2000}}\n",
                                      encoding="utf-8")
    fonts = Path(__file__).resolve().parent.parent / "styles" / "fonts"
    (outside / "font.ttf").write_bytes(next(iter(sorted(fonts.glob("*.ttf")))).read_bytes())
    return secret


def _books_pointing_out(root: Path, outside: Path) -> dict[str, Path]:
    """Three books whose every reference leads to `outside`: from book.toml,
    styles/ and a linked manuscript (refused while loading), from the
    manuscript's images (refused while rendering), and one that builds (its links out are only warnings) with
    links, a linked images folder it does not use, and a CSS comment."""
    o = outside.resolve()
    up = os.path.relpath(o, root / "x" / "styles")
    config = root / "config"
    _article(config / "01-a.md", "A", "Inside text.")
    (config / "book.toml").write_text(
        f'[book]\ntitle = "Gate"\ncover = "{o}/pic.png"\nbibliography = "{os.path.relpath(o, config)}/refs.bib"\n'
        f'articles = ["01-a.md", "{o}/secret.md"]\n\n[style]\nlogo = "../{o.name}/pic.png"\n', encoding="utf-8")
    (config / "styles" / "fonts").mkdir(parents=True)
    css = (f'@import url("{o}/x.css");\n@font-face {{ font-family: X; src: url({up}/font.ttf); }}\n'
           f"body {{ background: url(file://{o}/pic.png); }}\n")
    for name in ("print.css", "epub.css"):
        (config / "styles" / name).write_text(css, encoding="utf-8")
    (config / "styles" / "fonts" / "Outside.ttf").symlink_to(o / "font.ttf")
    (config / "02-link.md").symlink_to(o / "secret.md")
    manuscript = root / "manuscript"
    (manuscript / "images").mkdir(parents=True)
    (manuscript / "images" / "pic.png").symlink_to(o / "pic.png")
    _article(manuscript / "01-a.md", "A", f"Inside. ![rel]({os.path.relpath(o, manuscript)}/pic.png) "
             f"![abs]({o}/pic.png) ![linked](images/pic.png)\n\n<img src=\"file://{o}/pic.png\" alt=\"f\">\n\n"
             f'<iframe src="file://{o}/secret.md"></iframe>')
    (manuscript / "book.toml").write_text('[book]\ntitle = "Gate"\n', encoding="utf-8")
    builds = root / "builds"
    (builds / "assets").mkdir(parents=True)
    (builds / "assets" / "elsewhere").symlink_to(o, target_is_directory=True)  # a link out, never named
    _article(builds / "01-a.md", "A", f"INSIDE-TEXT. [a link]({os.path.relpath(o, builds)}/secret.md), "
             f"[another]({o}/secret.md), [a file URL](file://{o}/secret.md).")
    (builds / "book.toml").write_text('[book]\ntitle = "Gate"\n', encoding="utf-8")
    return {"config": config, "manuscript": manuscript, "builds": builds}


@needs_inotify
def test_a_whole_build_process_opens_nothing_outside(tmp_path):
    """`pipeline build` run as a user runs it, in a process of its own with
    an empty temporary HOME (so nothing of the user's is there to read),
    on three books whose every reference leads to one outside folder.
    inotify on that folder and each file in it sees every open, read and
    listing there by the command, its layout workers and every library
    they load (fontconfig, libxml2, pdfium, HarfBuzz...): there must be
    none. The first two books are refused with located errors; the third
    builds its PDF and EPUB, and nothing of the outside folder is in them.
    A control (another process reading the secret) shows the watch sees.

    What it cannot prove: reads of files elsewhere than the watched folder
    (a system file, a path the test did not think of), or of a file created
    in it during the build; and only for the references tried here (the
    generated books below vary them)."""
    outside = tmp_path / "outside"
    secret = _outside_files(outside)
    books = _books_pointing_out(tmp_path, outside)
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env.update(HOME=str(home), PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    runs = {}
    with _watching(outside) as events:
        for name, book in books.items():
            runs[name] = subprocess.run([sys.executable, "-m", "pipeline", "build", str(book), "--out",
                                         str(tmp_path / f"out-{name}")], cwd=home, env=env, capture_output=True,
                                        text=True, timeout=600)
    assert events == [], f"opened outside the book: {events}"
    for name in ("config", "manuscript"):
        run = runs[name]
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
        errors = [line for line in run.stderr.splitlines() if "error[" in line]
        assert errors and all(line.startswith(str(books[name])) for line in errors), run.stderr
        assert MARKER not in run.stderr and not (tmp_path / f"out-{name}").exists()
    assert sum("error[" in line for line in runs["config"].stderr.splitlines()) >= 7, runs["config"].stderr
    assert sum("error[" in line for line in runs["manuscript"].stderr.splitlines()) >= 4, runs["manuscript"].stderr
    built = runs["builds"]
    assert built.returncode == 0, built.stderr
    assert sorted(p.suffix for p in (tmp_path / "out-builds").iterdir() if p.is_file()) == [".epub", ".pdf"]
    text = _output_text(tmp_path / "out-builds")
    assert "INSIDE-TEXT" in text and MARKER not in text and str(outside.resolve()) not in text
    with _watching(outside) as control:
        subprocess.run([sys.executable, "-c", f"open({str(secret)!r}).read()"], check=True)
    assert str(secret) in control


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

        result, opened = _opened_outside(outside, lambda: build(book, out))  # the PDF and the EPUB

        assert opened == [], f"opened outside the book: {opened}"
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
    result, opened = _opened_outside(outside, lambda: build(book, out, per_article=True))
    assert opened == [], f"opened outside the book: {opened}"
    [refusal] = [d for d in result.diagnostics if d.is_error]
    assert (refusal.code, refusal.path) == ("C009", located) and str(outside.resolve()) in refusal.message
    assert not out.exists() or MARKER not in _output_text(out)
