"""Remote images, fetched only when the user asks (`--fetch-remote`, or
`[images] remote = "fetch"` in book.toml); by default nothing is fetched
and a remote image is left out (render/articles.py: its alt text links to
its address, R018).

A manuscript is untrusted, and an image address in it is a request the
build would make on the user's machine and network (SSRF). So:
- https only; the host is resolved once, and every address it resolves to
  must be public: loopback, private, link-local, multicast, reserved and
  unspecified ones are refused (`ipaddress`). The connection goes to the
  address that was checked (no second lookup that a rebinding DNS could
  answer differently); the certificate is checked against the host name;
- at most MAX_REDIRECTS redirects, each checked as the first address;
- at most resources.MAX_BYTES (the image cap), PER_IMAGE seconds an image
  and BUDGET seconds a build;
- the content must be an image by its bytes (`resources.inspect_image`:
  PNG, JPEG, GIF, WebP, or an SVG that passes the SVG checks).

A fetched image is a file of the build's cache folder
(`OUT_DIR/.pipeline-cache/remote/`), named by the sha256 of its content,
and the URL's sha256 names a small record of which: a rebuild reads the
record and fetches nothing. The rest of the build reads the file through
the read gate with that folder as the only allowed root.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .resources import MAX_BYTES, ImageRejected, inspect_image

MODES = ("omit", "fetch")
MAX_REDIRECTS = 3
PER_IMAGE = 10.0  # seconds for one image, its redirects included
BUDGET = 60.0  # seconds of fetching for a whole build
CHUNK = 64 * 1024
SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
            "image/svg+xml": ".svg"}

# TEST ONLY: when True, http:// and loopback addresses (127.0.0.0/8, ::1)
# are allowed, so that tests can serve images from a local server. Never
# set by the command line, book.toml or the environment.
ALLOW_LOCAL_FOR_TESTS = False


class FetchRefused(Exception):
    """A remote image that was not fetched; the message says why."""


@dataclass
class _Settings:
    mode: str = "omit"  # the command line's: "fetch" (--fetch-remote) downloads remote images
    build_mode: str = "omit"  # the running build's (BuildOptions.fetch_remote)
    cache: Path | None = None  # the build's cache folder for them
    spent: float = 0.0  # seconds spent fetching in this build


_SETTINGS = _Settings()


def configure(mode: str | None = None, cache: Path | None = None, build_mode: str | None = None) -> None:
    """Set for this process, as `resources.trust_hard_links` is: the command
    line's --fetch-remote (`mode` "fetch"), a build's own choice
    (`build_mode`) and its cache folder. Resets the time budget."""
    if mode is not None:
        _SETTINGS.mode = mode
    if build_mode is not None:
        _SETTINGS.build_mode = build_mode
    if cache is not None:
        _SETTINGS.cache = cache
    _SETTINGS.spent = 0.0


def fetching() -> bool:
    """Whether remote images are fetched: asked by the command line or the
    build's caller. Never by book.toml alone: a book is untrusted, and a
    fetch tells a server who builds it when (its `[images] remote = "fetch"`
    only changes R018's hint to say so)."""
    return "fetch" in (_SETTINGS.mode, _SETTINGS.build_mode)


def cache_folder() -> Path:
    """Where fetched images are kept: the build's cache folder, or (a
    library caller that named none) one in the user's cache."""
    if _SETTINGS.cache is not None:
        return _SETTINGS.cache
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pipeline" / "remote"


def fetch(url: str) -> Path:
    """The cached file of the image at `url`, fetched if not cached yet, or
    raise FetchRefused with the reason."""
    folder = cache_folder()
    cached = _cached(folder, url)
    if cached is not None:
        return cached
    if _SETTINGS.spent >= BUDGET:
        raise FetchRefused(f"the build's {BUDGET:.0f} s for fetching images are spent")
    started = time.monotonic()
    try:
        data = _download(url, started + min(PER_IMAGE, BUDGET - _SETTINGS.spent))
    finally:
        _SETTINGS.spent += time.monotonic() - started
    return _store(folder, url, data)


def _record(folder: Path, url: str) -> Path:
    return folder / "urls" / f"{hashlib.sha256(url.encode('utf-8', 'surrogatepass')).hexdigest()}.json"


def _cached(folder: Path, url: str) -> Path | None:
    """The file a previous build fetched for `url`, if it is still whole."""
    try:
        name = json.loads(_record(folder, url).read_text(encoding="utf-8"))["file"]
        path = folder / Path(str(name)).name
        if hashlib.sha256(path.read_bytes()).hexdigest() != path.stem:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return path


def _store(folder: Path, url: str, data: bytes) -> Path:
    """Check `data` is an image and keep it as `<sha256>.<suffix>`."""
    from .output import write_atomically

    digest = hashlib.sha256(data).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    trial = folder / f"{digest}.part"
    trial.write_bytes(data)
    try:
        info = inspect_image(trial)
    except ImageRejected as exc:
        trial.unlink(missing_ok=True)
        raise FetchRefused(f"what it sent is not an image we accept: {exc}") from None
    path = folder / f"{digest}{SUFFIXES[info.media_type]}"
    os.replace(trial, path)
    write_atomically(_record(folder, url), json.dumps({"url": url, "file": path.name}).encode())
    return path


def _download(url: str, deadline: float) -> bytes:
    """The body of `url` after at most MAX_REDIRECTS checked redirects."""
    for _ in range(MAX_REDIRECTS + 1):
        status, location, body = _get(url, deadline)
        if status in (301, 302, 303, 307, 308):
            if not location:
                raise FetchRefused(f"the server redirected (HTTP {status}) without saying where")
            url = urljoin(url, location)
            continue
        if status != 200:
            raise FetchRefused(f"the server answered HTTP {status}")
        return body
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


def _get(url: str, deadline: float) -> tuple[int, str, bytes]:
    """One GET, to an address checked to be public: (status, Location, body)."""
    import http.client
    import ssl

    parts = urlsplit(url)
    allowed = ("https", "http") if ALLOW_LOCAL_FOR_TESTS else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        raise FetchRefused(f"only https:// images are fetched, not '{parts.scheme}:'")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchRefused("its port is not a number") from None
    address = public_address(parts.hostname, port)
    connection = _connection(parts.scheme, parts.hostname, port, address, _left(deadline))
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target, headers={"Accept": "image/*", "Accept-Encoding": "identity",
                                                   "User-Agent": "pipeline (book builder)"})
        response = connection.getresponse()
        if response.status != 200:
            return response.status, response.getheader("Location") or "", b""
        return 200, "", _body(response, connection, deadline)
    except (OSError, http.client.HTTPException) as exc:  # ssl.SSLError is an OSError
        raise FetchRefused(f"the download failed ({exc.__class__.__name__}: {exc})") from None
    finally:
        connection.close()


def _body(response, connection, deadline: float) -> bytes:
    """The response's bytes, within MAX_BYTES and the deadline."""
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > MAX_BYTES:
        raise FetchRefused(f"the image is {int(length) / 1048576:.1f} MiB; the limit is {MAX_BYTES // 1048576} MiB")
    chunks, size = [], 0
    while True:
        if connection.sock is not None:
            connection.sock.settimeout(_left(deadline))
        chunk = response.read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BYTES:
            raise FetchRefused(f"the image is larger than the limit of {MAX_BYTES // 1048576} MiB")
        chunks.append(chunk)


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchRefused(f"it took longer than {PER_IMAGE:.0f} s")
    return left


def public_address(host: str, port: int) -> str:
    """The first address `host` resolves to, if every one of them is public
    (a name that also resolves to a private address is refused whole)."""
    import socket

    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchRefused(f"its host '{host}' cannot be resolved ({exc.__class__.__name__})") from None
    addresses = list(dict.fromkeys(entry[4][0] for entry in found))
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise FetchRefused(f"its host '{host}' is {address}, {problem}; only public addresses are fetched")
    if not addresses:
        raise FetchRefused(f"its host '{host}' has no address")
    return addresses[0]


def address_problem(address: str) -> str:
    """Why an address may not be fetched from ('' if public)."""
    import ipaddress

    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "" if ALLOW_LOCAL_FOR_TESTS else "a loopback address"
    for test, words in ((ip.is_private, "a private address"), (ip.is_link_local, "a link-local address"),
                        (ip.is_multicast, "a multicast address"), (ip.is_reserved, "a reserved address"),
                        (ip.is_unspecified, "an unspecified address"), (not ip.is_global, "not a public address")):
        if test:
            return words
    return ""


def _connection(scheme: str, host: str, port: int, address: str, timeout: float):
    """A connection to `address` (checked), speaking to `host` (its Host
    header, and for https its SNI and the name its certificate must have):
    no second lookup, which a rebinding DNS could answer otherwise."""
    import http.client
    import socket
    import ssl

    class Pinned(http.client.HTTPConnection):  # http: tests only (ALLOW_LOCAL_FOR_TESTS)
        def connect(self) -> None:
            self.sock = socket.create_connection((address, self.port), self.timeout)

    class PinnedTLS(http.client.HTTPSConnection):
        def connect(self) -> None:
            raw = socket.create_connection((address, self.port), self.timeout)
            self.sock = self._context.wrap_socket(raw, server_hostname=self.host)

    if scheme == "https":
        return PinnedTLS(host, port, timeout=timeout, context=ssl.create_default_context())
    return Pinned(host, port, timeout=timeout)
