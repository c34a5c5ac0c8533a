"""The live preview in a real browser: Debian's chromium, driven by Playwright."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
import socket
import urllib.request
from pathlib import Path

import pytest

from pipeline.commands.serve import start

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _preview_page(playwright, url: str):
    """Debian's chromium, one page open on the preview."""
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
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
        assert "data-own-template" in urllib.request.urlopen(url).read().decode()
    finally:
        stop.set()
        httpd.shutdown()
