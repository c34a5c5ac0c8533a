"""Remote images (#27): left out by default, their alt text a link to them,
one warning (R018) per host; fetched on request (pipeline/fetch.py) from
public addresses only, within size and redirect caps, checked to be images,
cached. The fetching tests use a local HTTP server on 127.0.0.1 with the
test-only allowance `fetch.ALLOW_LOCAL_FOR_TESTS`. Site-root paths
(`/img/x.png`) resolve against the book folder or the site's static folders."""

from __future__ import annotations

import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lxml import etree

from pipeline import fetch
from pipeline.build import BuildOptions, build
from pipeline.fetch import FetchRefused, address_problem

from conftest import epub_documents, png_bytes, write_book

XHTML = "{http://www.w3.org/1999/xhtml}"
TOML = '[book]\ntitle = "Remote"\nauthors = ["A. Tester"]\nlanguage = "en"\n'


def _png(colour: str = "red") -> bytes:
    return png_bytes((60, 40), colour)


class _Server:
    """A local image server that counts its requests per path."""

    def __init__(self) -> None:
        self.requests: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.requests[self.path] = server.requests.get(self.path, 0) + 1
                if self.path.startswith("/hop"):
                    hops = int(self.path[4:] or 0)
                    self.send_response(302)
                    self.send_header("Location", f"/hop{hops - 1}" if hops > 1 else "/pic.png")
                    self.end_headers()
                    return
                body, kind = {"/pic.png": (_png(), "image/png"), "/page": (b"<html>hi</html>", "text/html"),
                              "/big.png": (b"\x89PNG" + b"\0" * 5000, "image/png")}.get(self.path, (b"", ""))
                if not kind:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = _Server()
    yield running
    running.close()


@pytest.fixture
def allowed(monkeypatch):
    """The test-only allowance: http and loopback addresses may be fetched."""
    monkeypatch.setattr(fetch, "ALLOW_LOCAL_FOR_TESTS", True)


@pytest.fixture(autouse=True)
def _settings():
    """Each test starts from the defaults (the settings are process-wide)."""
    fetch.configure(mode="omit", build_mode="omit")
    yield
    fetch.configure(mode="omit", build_mode="omit")


def _body(epub: Path) -> etree._Element:
    return next(root for name, root in epub_documents(epub).items() if name.endswith("text/a.xhtml"))


def test_remote_images_are_left_out_with_a_link_and_one_warning_per_host(tmp_path: Path) -> None:
    text = ("---\ntitle: Badges\n---\n\n[![build](https://ci.example.org/b.svg)](https://ci.example.org/)\n"
            "![Tides](https://cdn.example.com/tides.png)\n\n"
            '<picture><source srcset="https://cdn.example.com/m.webp"><img src="https://cdn.example.com/m.png" '
            'alt="Moon"></picture>\n\n![](https://cdn.example.com/x.png)\n')
    book = write_book(tmp_path / "book", TOML, {"a.md": text})
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok, [d.format() for d in result.diagnostics]
    remote = [d for d in result.diagnostics if d.code == "R018"]
    assert len(remote) == 2  # one per host
    cdn = next(d for d in remote if "cdn.example.com" in d.message)
    assert "3 remote images" in cdn.message and "a.md:6" in cdn.message and cdn.line == 6
    body = _body(result.outputs[0])
    assert not list(body.iter(f"{XHTML}img"))
    links = {a.text: a.get("href") for a in body.iter(f"{XHTML}a") if "remote-image" in (a.get("class") or "")}
    assert links["Tides"] == "https://cdn.example.com/tides.png"
    assert links["Moon"] == "https://cdn.example.com/m.png"
    assert links["cdn.example.com"] == "https://cdn.example.com/x.png"  # no alt text: the host
    badge = next(a for a in body.iter(f"{XHTML}a") if a.get("href") == "https://ci.example.org/")
    assert "".join(badge.itertext()) == "build" and not list(badge.iter(f"{XHTML}a"))[1:]  # no link in a link


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254",
                                     "100.64.0.1", "224.0.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1",
                                     "::ffff:127.0.0.1", "240.0.0.1"])
def test_non_public_addresses_are_refused(address: str) -> None:
    assert address_problem(address)


def test_public_addresses_are_allowed() -> None:
    assert address_problem("93.184.216.34") == "" and address_problem("2606:2800:220:1::1") == ""


def test_without_the_allowance_a_loopback_host_is_refused_before_any_request(tmp_path: Path, server) -> None:
    fetch.configure(cache=tmp_path / "cache")
    for url in (server.url("/pic.png").replace("http:", "https:", 1),
                server.url("/pic.png", host="localhost").replace("http:", "https:", 1)):
        with pytest.raises(FetchRefused, match="loopback"):
            fetch.fetch(url)
    with pytest.raises(FetchRefused, match="only https"):
        fetch.fetch(server.url("/pic.png"))
    assert server.requests == {}


def test_a_refused_fetch_leaves_the_image_out_with_the_reason(tmp_path: Path, server) -> None:
    url = server.url("/pic.png").replace("http:", "https:", 1)
    book = write_book(tmp_path / "book", TOML, {"a.md": f"---\ntitle: A\n---\n\n![Dot]({url})\n"})
    result = build(book, tmp_path / "out", formats=("epub",), fetch_remote=True)
    assert result.ok
    [remote] = [d for d in result.diagnostics if d.code == "R018"]
    assert "could not be fetched" in remote.message and "loopback" in remote.message
    assert server.requests == {}


def test_a_book_cannot_turn_fetching_on_by_itself(tmp_path: Path, server, allowed) -> None:
    """[images] remote = "fetch" in an untrusted book.toml only asks: nothing
    is fetched without --fetch-remote, and R018 says how to allow it."""
    book = write_book(tmp_path / "book", TOML + '\n[images]\nremote = "fetch"\n',
                      {"a.md": f"---\ntitle: A\n---\n\n![Dot]({server.url('/pic.png')})\n\nText.\n"})
    result = build(book, tmp_path / "out", BuildOptions(formats=("epub",), cache=False))
    assert result.ok
    [remote] = [d for d in result.diagnostics if d.code == "R018"]
    assert "cannot fetch on its own" in remote.hint and "--fetch-remote" in remote.hint
    assert server.requests == {}


def test_fetched_images_are_embedded_and_cached_across_builds(tmp_path: Path, server, allowed) -> None:
    book = write_book(tmp_path / "book", TOML + '\n[images]\nremote = "fetch"\n',
                      {"a.md": f"---\ntitle: A\n---\n\n![Dot]({server.url('/hop1')})\n\nText.\n"})
    out = tmp_path / "out"
    for formats in (("epub",), ("pdf", "epub")):
        result = build(book, out, BuildOptions(formats=formats, cache=False, fetch_remote=True))
        assert result.ok, [d.format() for d in result.diagnostics]
        assert not [d for d in result.diagnostics if d.code == "R018"]
    assert server.requests == {"/hop1": 1, "/pic.png": 1}  # the second build fetched nothing
    epub = next(path for path in result.outputs if path.suffix == ".epub")
    [image] = _body(epub).iter(f"{XHTML}img")
    assert image.get("src").startswith("_external/")
    with zipfile.ZipFile(epub) as archive:
        assert archive.read(f"EPUB/text/{image.get('src')}") == _png()
    from pypdf import PdfReader

    pdf = next(path for path in result.outputs if path.suffix == ".pdf")
    assert any(page.images for page in PdfReader(pdf).pages)  # the fetched image is drawn


def test_oversize_non_image_and_too_many_redirects_are_refused(tmp_path: Path, server, allowed,
                                                               monkeypatch) -> None:
    fetch.configure(cache=tmp_path / "cache")
    with pytest.raises(FetchRefused, match="not an image"):
        fetch.fetch(server.url("/page"))
    monkeypatch.setattr(fetch, "MAX_BYTES", 1000)
    with pytest.raises(FetchRefused, match="limit"):
        fetch.fetch(server.url("/big.png"))
    monkeypatch.undo()
    monkeypatch.setattr(fetch, "ALLOW_LOCAL_FOR_TESTS", True)
    with pytest.raises(FetchRefused, match="redirects"):
        fetch.fetch(server.url("/hop4"))
    assert fetch.fetch(server.url("/hop3")).read_bytes() == _png()
    assert not list((tmp_path / "cache").glob("*.part"))  # nothing half-kept


def test_site_root_paths_resolve_in_the_book_folder(tmp_path: Path) -> None:
    book = write_book(tmp_path / "book", TOML, {"a.md": "---\ntitle: A\n---\n\n![Dot](/img/dot.png)\n"})
    (book / "img").mkdir()
    (book / "img" / "dot.png").write_bytes(_png())
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok, [d.format() for d in result.diagnostics]
    with zipfile.ZipFile(result.outputs[0]) as archive:
        assert archive.read("EPUB/text/img/dot.png") == _png()


def test_a_site_root_path_never_leaves_the_book(tmp_path: Path) -> None:
    book = write_book(tmp_path / "book", TOML, {"a.md": "---\ntitle: A\n---\n\n![Out](/../../secret.png)\n"})
    (tmp_path / "secret.png").write_bytes(_png("blue"))
    result = build(book, tmp_path / "out", formats=("epub",))
    [missing] = [d for d in result.diagnostics if d.code == "R002"]  # looked up as /secret.png, in the book
    assert not result.ok and "/../../secret.png" in missing.message and result.outputs == ()


def test_a_site_root_path_resolves_in_a_hugo_sites_static_folder(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_book(site / "content" / "posts", TOML, {})
    (site / "content" / "posts" / "book.toml").unlink()
    (site / "hugo.toml").write_text('baseURL = "https://example.org/"\ntitle = "Site"\n', encoding="utf-8")
    (site / "content" / "posts" / "one.md").write_text(
        "---\ntitle: One\ndate: 2024-01-02\n---\n\nText.\n\n![A dot](/img/dot.png)\n", encoding="utf-8")
    (site / "static" / "img").mkdir(parents=True)
    (site / "static" / "img" / "dot.png").write_bytes(_png("green"))
    result = build(site / "content" / "posts", tmp_path / "out", formats=("epub", "pdf"))
    assert result.ok, [d.format() for d in result.diagnostics]
    epub = next(path for path in result.outputs if path.suffix == ".epub")
    [image] = _body_named(epub, "one").iter(f"{XHTML}img")
    with zipfile.ZipFile(epub) as archive:  # outside the book folder: by its name under _external/
        assert image.get("src").startswith("_external/") and archive.read(f"EPUB/text/{image.get('src')}") == _png("green")
    from pypdf import PdfReader

    pdf = next(path for path in result.outputs if path.suffix == ".pdf")
    assert any(page.images for page in PdfReader(pdf).pages)


def _body_named(epub: Path, stem: str) -> etree._Element:
    return next(root for name, root in epub_documents(epub).items() if name.endswith(f"text/{stem}.xhtml"))
