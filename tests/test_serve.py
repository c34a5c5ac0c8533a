"""The live preview in a real browser: Debian's chromium, driven by Playwright."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.commands.serve import start

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# As this machine's own probe starts it (the library's entry on the machine):
# no GPU process, which a headless test of a page does not need.
LAUNCH_FLAGS = ["--no-sandbox", "--disable-gpu"]
# The later launches: browser and renderer in one process, no zygote to fork
# (a different start, in case what dies is one of the processes it starts).
ONE_PROCESS = [*LAUNCH_FLAGS, "--no-zygote", "--single-process"]


def _launched(driver, error: type[Exception], attempts: int = 8):
    """Chromium, started again if it dies while starting.

    On a loaded CI machine Debian's chromium has died at launch (SIGTRAP,
    before any page: a CHECK of a release build, which prints nothing), which
    says nothing of the preview; a browser that starts and then misbehaves
    still fails the test. Five launches in a row over 20 s have died so in CI
    (chromium 156, with a second test worker busy) while the same file's next
    test started it at once: eight, up to a minute apart in all, the last four
    in one process (`ONE_PROCESS`). When all die,
    the failure says what the machine had then, for the next one to read.
    """
    for attempt in range(1, attempts + 1):
        try:
            flags = LAUNCH_FLAGS if attempt <= attempts // 2 else ONE_PROCESS
            return driver.chromium.launch(executable_path=CHROMIUM, args=flags)
        except error as exc:
            if attempt == attempts:
                raise AssertionError(f"chromium died at each of {attempts} launches; "
                                     f"the machine then: {_machine_state()}") from exc
            time.sleep(min(2 * attempt, 10))


def _machine_state() -> str:
    """Memory, /tmp's free space, load and processes, in one line."""
    import os

    available = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemAvailable:")), "?") if Path("/proc/meminfo").exists() else "?"
    free = shutil.disk_usage("/tmp").free // 1048576
    processes = sum(1 for entry in Path("/proc").iterdir() if entry.name.isdigit()) if Path("/proc").exists() else -1
    return (f"MemAvailable {available} kB, /tmp {free} MiB free, load {os.getloadavg()[0]:.1f}, "
            f"{processes} processes")


@contextmanager
def _preview_page(playwright, url: str):
    """Debian's chromium, one page open on the preview."""
    with playwright.sync_playwright() as driver:
        browser = _launched(driver, playwright.Error)
        page = browser.new_page()
        page.goto(url)
        yield browser, page


TERMINAL: list[str] = []  # what the running preview printed


@pytest.fixture
def server(book_dir, tmp_path):
    port = _free_port()
    TERMINAL.clear()
    httpd, stop = start(book_dir, tmp_path / "out", port, report=TERMINAL.append)
    yield f"http://127.0.0.1:{port}/", book_dir
    stop.set()
    httpd.shutdown()


def test_preview_serves_the_book_and_nothing_outside_it(server):
    url, _ = server
    page = urllib.request.urlopen(url).read().decode()
    assert "How Kratom May Ease Muscle Soreness" in page and "In brief" in page and "In this article" in page
    assert TERMINAL == [] and "preview-warnings" not in page  # nothing to say of a clean book
    for probe in ("%2e%2e/%2e%2e/etc/passwd", "../book.toml/../../etc/hostname", "fonts/../../pyproject.toml"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + probe)
        assert refused.value.code == 404


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt install chromium)")
def test_page_reloads_on_edit_and_shows_errors_as_an_overlay(server):
    playwright = pytest.importorskip("playwright.sync_api")
    url, book = server
    manuscript = book / "01-kratom-prolactin-and-muscle-soreness.md"
    original = manuscript.read_text(encoding="utf-8")
    with _preview_page(playwright, url) as (browser, page):
        assert page.locator("h1.article-title").first.inner_text().startswith("How Kratom May Ease")
        manuscript.write_text(original + "\nA sentence added while the preview is open.\n", encoding="utf-8")
        page.get_by_text("A sentence added while the preview is open.").wait_for(timeout=15000)
        manuscript.write_text(original.replace('title: "How', 'title: [How', 1), encoding="utf-8")
        overlay = page.locator(".preview-errors")
        overlay.wait_for(timeout=15000)
        assert "01-kratom-prolactin-and-muscle-soreness.md:2:" in overlay.inner_text()
        assert "error[M001]" in overlay.inner_text()
        manuscript.write_text(original, encoding="utf-8")
        overlay.wait_for(state="detached", timeout=15000)
        # The PDF and EPUB are built in the background; the page reloads to link them.
        # `expect` retries across those reloads.
        playwright.expect(page.locator(".downloads a")).to_have_text(
            ["kratom-and-muscle-soreness.pdf", "kratom-and-muscle-soreness.epub"], timeout=120000)
        browser.close()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt install chromium)")
def test_warnings_show_in_a_panel_and_in_the_terminal(server):
    playwright = pytest.importorskip("playwright.sync_api")
    url, book = server
    manuscript = book / "02-kratom-dosage-and-safety-for-muscle-soreness.md"
    original = manuscript.read_text(encoding="utf-8")
    with _preview_page(playwright, url) as (browser, page):
        # A link to a heading renamed since: a warning, the book still builds.
        manuscript.write_text(original + "\nSee [the old section](#a-renamed-heading).\n", encoding="utf-8")
        panel = page.locator("details.preview-warnings")
        panel.wait_for(timeout=15000)
        assert panel.locator("summary").inner_text() == "1 warning(s)"
        assert not panel.locator("pre").is_visible()  # closed until asked
        panel.locator("summary").click()
        # The text as the page holds it: the watcher may build (and the page
        # reload, closing the panel) once more for the same save on a busy machine.
        text = panel.locator("pre").text_content()
        assert "02-kratom-dosage-and-safety-for-muscle-soreness.md:" in text and "warning[R004]" in text
        assert page.locator(".preview-errors").count() == 0
        page.screenshot(path=str(book.parent / "preview-warning.png"))
        browser.close()
    located = [line for line in TERMINAL if "warning[R004]" in line]
    assert located and located[0].startswith(text.split(":")[0])  # the same place as on the page


def test_the_preview_shows_the_books_own_design(tmp_path):
    """The preview reads the book's epub.css, [style] accent, own fonts and
    templates, as its EPUB does; a font link out of the book is not served."""
    book = tmp_path / "book"
    (book / "styles" / "fonts").mkdir(parents=True)
    (book / "styles" / "templates").mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Designed"\nlanguage = "en"\n\n[style]\naccent = "#2a6f97"\n',
                                    encoding="utf-8")
    (book / "01-a.md").write_text("---\ntitle: A\n---\n\n> A quote.\n", encoding="utf-8")
    (book / "styles" / "epub.css").write_text("h1 { letter-spacing: 0.31em; }\n", encoding="utf-8")
    shutil.copy(Path(__file__).parent.parent / "styles" / "fonts" / "SourceSansPro-Regular.ttf",
                book / "styles" / "fonts" / "Own.ttf")
    (tmp_path / "secret.ttf").write_bytes(b"secret")
    (book / "styles" / "fonts" / "Linked.ttf").symlink_to(tmp_path / "secret.ttf")
    ours = (Path(__file__).parent.parent / "styles" / "templates" / "preview.html").read_text(encoding="utf-8")
    (book / "styles" / "templates" / "preview.html").write_text(ours.replace("<body", "<body data-own-template"),
                                                               encoding="utf-8")
    port = _free_port()
    httpd, stop = start(book, tmp_path / "out", port)
    try:
        url = f"http://127.0.0.1:{port}/"
        css = urllib.request.urlopen(url + "style/book.css").read().decode()
        assert "letter-spacing: 0.31em" in css and "#2a6f97" in css
        assert urllib.request.urlopen(url + "fonts/Own.ttf").read()[:4] == b"\x00\x01\x00\x00"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "fonts/Linked.ttf")
        assert refused.value.code == 404
        page = urllib.request.urlopen(url).read().decode()
        assert "data-own-template" in page and page.count("/style/preview.js") == 1  # our reload script, added
        assert "EventSource" in urllib.request.urlopen(url + "style/preview.js").read().decode()
        # A book's preview page that writes script is refused, not served: ours says why.
        (book / "styles" / "templates" / "preview.html").write_text(
            ours.replace("<body", "<body data-own-template").replace("</main>", "<script>alert(1)</script></main>"),
            encoding="utf-8")
        deadline = time.monotonic() + 30  # the watcher sees the save and renders again
        while "preview.html" not in page and time.monotonic() < deadline:
            time.sleep(0.2)
            page = urllib.request.urlopen(url).read().decode()
        assert "alert(1)" not in page and "data-own-template" not in page
        assert "error[C009]" in page and "preview.html" in page and "&lt;script&gt;" in page
    finally:
        stop.set()
        httpd.shutdown()


# The preview survives what reaches it (#26): a rebuild that raises, bad
# requests, idle and slow sockets. A small book, and no PDF built behind.

@pytest.fixture
def small_preview(tmp_path, monkeypatch):
    from pipeline.commands import serve

    monkeypatch.setattr(serve.Preview, "build_outputs", lambda self: None)  # the page only, not the PDF
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Small"\nlanguage = "en"\n', encoding="utf-8")
    (book / "01-a.md").write_text("---\ntitle: A\n---\n\nThe first text.\n", encoding="utf-8")
    port = _free_port()
    TERMINAL.clear()
    httpd, stop = start(book, tmp_path / "out", port, report=TERMINAL.append)
    yield httpd, port, book
    stop.set()
    httpd.shutdown()
    httpd.server_close()


def _page(port: int) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()


def _save_until(port: int, manuscript: Path, text: str, holds, what: str, seconds: float = 60) -> str:
    """Save `text`; return the page once `holds(page)`. The save is repeated
    every 2 s: the watcher may not be watching yet when a test starts."""
    import time

    deadline = time.monotonic() + seconds
    saved = 0.0
    while True:
        if time.monotonic() - saved > 2:
            manuscript.write_text(text, encoding="utf-8")
            saved = time.monotonic()
        page = _page(port)
        if holds(page):
            return page
        assert time.monotonic() < deadline, f"the page never {what}: {TERMINAL}"
        time.sleep(0.2)


def test_a_rebuild_that_raises_is_a_problem_on_the_page_and_the_next_save_rebuilds(small_preview,
                                                                                   monkeypatch):
    import errno

    from pipeline.render import articles

    httpd, port, book = small_preview
    render_book = articles.render_book

    def breaks_on_a_marker(loaded, *args, **kwargs):
        if any("BREAK-HERE" in a.source_path.read_text(encoding="utf-8") for a in loaded.articles):
            raise OSError(errno.ENAMETOOLONG, "File name too long", "b" * 300 + ".png")
        return render_book(loaded, *args, **kwargs)

    monkeypatch.setattr(articles, "render_book", breaks_on_a_marker)
    manuscript = book / "01-a.md"
    page = _save_until(port, manuscript, "---\ntitle: A\n---\n\nThe first text. BREAK-HERE\n",
                       lambda p: "could not rebuild the book" in p, "showed the failed rebuild")
    assert "OSError: [Errno 36] File name too long" in page
    assert "The first text." in page  # the last good text stays
    assert "Traceback" not in page and "b" * 300 not in page  # one shortened line, no internals
    crashed = [line for line in TERMINAL if "could not rebuild the book" in line]
    assert crashed and "\n" not in crashed[0] and len(crashed[0]) < 300

    page = _save_until(port, manuscript, "---\ntitle: A\n---\n\nThe text after the fix.\n",
                       lambda p: "The text after the fix." in p, "updated after the fix")
    assert "could not rebuild the book" not in page


def test_the_watcher_survives_a_300_character_image_name(small_preview):
    """The repro of #26 without patching: whatever the build makes of the
    name (a located problem or a failed rebuild), the watcher keeps going."""
    httpd, port, book = small_preview
    manuscript = book / "01-a.md"
    reported = len(TERMINAL)
    _save_until(port, manuscript, f"---\ntitle: A\n---\n\n![A picture]({'c' * 300}.png)\n",
                lambda p: len(TERMINAL) > reported, "reported the long name")
    _save_until(port, manuscript, "---\ntitle: A\n---\n\nThe text after the fix.\n",
                lambda p: "The text after the fix." in p, "updated after the fix")


def _exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes; return everything the server answers before it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(request)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
        return answer


def test_bad_request_lines_get_400_and_414_not_a_traceback(small_preview, capfd):
    httpd, port, book = small_preview
    host = f"Host: 127.0.0.1:{port}\r\n\r\n".encode()
    assert _exchange(port, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n" + host).startswith(b"HTTP/1.0 414 ")
    assert _exchange(port, b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n" + host).startswith(b"HTTP/1.0 414 ")
    for malformed in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1 extra\r\n" + host, b"GET / HTTP/9.x\r\n" + host,
                      b"GET http://[::1/ HTTP/1.1\r\n" + host,  # not a URL
                      b"GET / HTTP/1.1\r\nNo colon on this line\r\n" + host):
        assert _exchange(port, malformed).startswith(b"HTTP/1.0 400 "), malformed
    assert _exchange(port, b"GET / HTTP/1.1\r\n" + b"X-Big: " + b"d" * 70_000 + b"\r\n" + host).startswith(
        b"HTTP/1.0 431 ")
    # A name too long for the file system, a NUL: not found, not a dropped connection.
    for path in (b"/" + b"e" * 1500, b"/%00.png"):
        assert _exchange(port, b"GET " + path + b" HTTP/1.1\r\n" + host).startswith(b"HTTP/1.0 404 "), path
    assert _exchange(port, b"GET / HTTP/1.1\r\n" + host).startswith(b"HTTP/1.0 200 ")  # still serving
    assert "Traceback" not in capfd.readouterr().err


def test_idle_and_slow_sockets_are_closed_and_connections_are_capped(small_preview, capfd):
    import time

    httpd, port, book = small_preview
    httpd.head_timeout = 1.0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as idle:
        assert idle.recv(100) == b""  # closed by the server, not by our 10 s timeout
    # A byte every 0.2 s: each arrives in time, the whole head does not.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        with pytest.raises(OSError):
            for byte in b"GET / HTTP/1.1\r\n" + b"X-Slow: " + b"f" * 200:
                slow.send(bytes([byte]))
                time.sleep(0.2)
            slow.recv(100)  # whole head sent (not expected): the server should have closed by now
    httpd.head_timeout = 30.0
    httpd.max_connections = 2
    held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as excess:
            assert excess.recv(100).startswith(b"HTTP/1.0 503 ")
    finally:
        for client in held:
            client.close()
    host = f"Host: 127.0.0.1:{port}\r\n\r\n".encode()
    deadline = time.monotonic() + 30
    while not (answer := _exchange(port, b"GET / HTTP/1.1\r\n" + host)).startswith(b"HTTP/1.0 200 "):
        assert answer.startswith(b"HTTP/1.0 503 ") and time.monotonic() < deadline  # the held ones ending
        time.sleep(0.1)
    assert "Traceback" not in capfd.readouterr().err


def test_the_event_stream_ends_when_its_client_has_gone(small_preview):
    import time

    httpd, port, book = small_preview
    host = f"Host: 127.0.0.1:{port}\r\n\r\n".encode()
    streams = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(3)]
    for stream in streams:
        stream.sendall(b"GET /events HTTP/1.1\r\n" + host)
        answer = b""
        while b"data: " not in answer:
            answer += stream.recv(1000)
        assert answer.startswith(b"HTTP/1.0 200 ")
    assert httpd._active == 3
    _save_until(port, book / "01-a.md", "---\ntitle: A\n---\n\nA change.\n", lambda p: "A change." in p,
                "showed the change")
    assert b"data: " in streams[0].recv(1000)  # the change is told
    for stream in streams:
        stream.close()
    deadline = time.monotonic() + 30  # the heartbeat alone would take 15 s or more
    while httpd._active:
        assert time.monotonic() < deadline, "an /events thread outlived its client"
        time.sleep(0.1)


def test_the_watcher_follows_a_book_folder_that_is_removed_and_put_back(small_preview, tmp_path):
    import time

    httpd, port, book = small_preview
    _save_until(port, book / "01-a.md", "---\ntitle: A\n---\n\nWatched.\n", lambda p: "Watched." in p,
                "showed the save")
    shutil.copytree(book, tmp_path / "away")
    shutil.rmtree(book)  # a new folder will come back (a rename would keep the old one's watch)
    deadline = time.monotonic() + 60
    while "C006" not in _page(port):
        assert time.monotonic() < deadline, f"the page never said the folder is gone: {TERMINAL}"
        time.sleep(0.2)
    shutil.copytree(tmp_path / "away", book)  # back, with no save after it
    deadline = time.monotonic() + 60
    while "C006" in (page := _page(port)) or "Watched." not in page:
        assert time.monotonic() < deadline, f"the page never showed the book again: {TERMINAL}"
        time.sleep(0.2)
    _save_until(port, book / "01-a.md", "---\ntitle: A\n---\n\nWatched again.\n",
                lambda p: "Watched again." in p, "showed a save after the folder came back")
