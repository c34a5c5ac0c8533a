"""The one gate every file read of a build goes through.

Manuscripts and book.toml are untrusted: a file is readable only if its real
path (symlinks, '..' and absolute names resolved first) lies inside one of the
allowed folders, the book folder and the styles folder. A refusal names the
resolved target but never opens it. Nothing is ever fetched from the network.

Where the build reads (docs/guide, "Security"): book.toml and the manuscripts
(`load`), images and the cover (`render`, `load`, the PDF fetcher, the EPUB),
the fingerprint of the book folder (`cache`), the book's own styles folder
(`load`, `styles`, `fonts`), and the preview's files (`serve`). All go through `inside` or the functions built on it.

Images get their own checks here too, since an image's name says nothing
about what it holds and a small file can decompress to gigabytes of
pixels: type by content, size caps, safe SVG, before any renderer sees it.
And a cap on time (`deadline`): a manuscript can nest a formula or a table
so that drawing it would never end.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit


class ResourceRefused(Exception):
    """A resource outside the allowed folders, remote, or missing."""


class OutsideBook(ResourceRefused):
    """A path whose real location is outside every allowed folder."""

    def __init__(self, path: Path, target: Path):
        super().__init__(f"'{_named(path)}' resolves to '{_named(target)}', which is outside the book folder")
        self.path, self.target = path, target


class NotFound(ResourceRefused):
    """No regular file at the path (missing, or a folder)."""


class HardLinked(ResourceRefused):
    """A file of the book with other hard links (`st_nlink` > 1): one of its
    names may be a file outside the book (`ln /home/me/.ssh/id_rsa notes.md`),
    which no path check can see. Refused unless `trust_hard_links` (C011)."""

    def __init__(self, path: Path, links: int):
        super().__init__(f"'{_named(path)}' has {links} hard links, so it may be a file outside the book "
                         "under another name; it was not read")
        self.path, self.links = path, links


# Whether files of the book with other hard links are read (`HardLinked`).
# Process-wide, as the gate's callers pass no options: set once at start by
# the command line's --trust-hard-links (`trust_hard_links`), before any
# read; worker processes forked after that inherit it. Default: refused.
_TRUST_HARD_LINKS = False


def trust_hard_links(trusted: bool) -> None:
    """Read (True) or refuse (False, the default) the book's files that have
    other hard links. For a folder the user trusts (a `cp -al` snapshot)."""
    global _TRUST_HARD_LINKS
    _TRUST_HARD_LINKS = trusted


def _named(path: Path) -> str:
    """A path as a refusal names it: a name of thousands of characters cut."""
    from .diagnostics import shorten

    return shorten(str(path))


def _failure(exc: BaseException) -> str:
    """Why a path could not be resolved or read, in words: 'File name too
    long', 'embedded null byte', 'Too many levels of symbolic links'."""
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) or exc.__class__.__name__


def inside(path: Path, allowed: tuple[Path, ...]) -> Path:
    """The real path of `path` if it lies inside one of `allowed`, else raise
    OutsideBook. Nothing is opened: this is safe on any name. A name the
    system refuses (too long, a NUL byte, a link loop) is ResourceRefused; so
    is a regular file of the book (`allowed[0]`) with other hard links
    (HardLinked), unless they are trusted."""
    try:
        resolved = path.resolve()
        roots = [root.resolve() for root in allowed]
        if not any(resolved.is_relative_to(root) for root in roots):
            raise OutsideBook(path, resolved)
        _check_links(path, resolved, roots[0])
    except (OSError, RuntimeError, ValueError) as exc:  # a link loop, a NUL byte, a name too long
        raise ResourceRefused(f"'{_named(path)}' cannot be resolved ({_failure(exc)})") from None
    return resolved


def _check_links(path: Path, resolved: Path, book: Path) -> None:
    """Raise HardLinked for a regular file inside `book` with other hard
    links, unless trusted. Only the book's files: the package's styles and the
    system's fonts may be hard-linked by an installer, and are ours to trust."""
    if _TRUST_HARD_LINKS or not resolved.is_relative_to(book):
        return
    try:
        status = resolved.stat()
    except (FileNotFoundError, NotADirectoryError):
        return  # missing: the caller says so
    if stat.S_ISREG(status.st_mode) and status.st_nlink > 1:
        raise HardLinked(path, status.st_nlink)


# The URLs the PDF's files are known by as it is laid out: the same wherever
# the book and the package lie (WeasyPrint names an image in the PDF by its
# URL's hash, so a real path would make other bytes in another folder, or on
# a cluster's worker). `real_url` maps them back to the folders they stand for.
BOOK_URL = "file:///pipeline/book/"
STYLES_URL = "file:///pipeline/styles/"
PORTABLE_ROOT = Path("/pipeline/book")  # the book's folder as BOOK_URL names it (export/tasks.py)


def book_url(path: Path, root: Path) -> str:
    """The BOOK_URL of `path`, a file or folder inside the book `root`."""
    from urllib.parse import quote

    relative = path.resolve().relative_to(root.resolve()).as_posix()
    return BOOK_URL + ("" if relative == "." else quote(relative))


# An image outside the book folder (a site's static folder, a fetched
# remote image in the build's cache: render/articles.py) is known in the
# outputs by a name in this folder, which no book file has: the EPUB stores
# it there, and the PDF's fetcher serves its bytes by that name.
EXTERNAL = "_external"


def resource_name(path: Path, root: Path) -> str:
    """The name an image has in the outputs, relative to the book folder:
    its own path for a file of the book, else `_external/<hash>/<name>`,
    the hash of its real path (names from two folders never meet)."""
    import hashlib

    real, book = path.resolve(), root.resolve()
    if real.is_relative_to(book):
        return real.relative_to(book).as_posix()
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:16]
    return f"{EXTERNAL}/{digest}/{real.name}"


def real_url(url: str, root: Path, styles: Path) -> str:
    """`url` with BOOK_URL and STYLES_URL mapped to the folders `root` and
    `styles` (the gate then checks the path as for any other file: URL)."""
    for prefix, folder in ((BOOK_URL, root), (STYLES_URL, styles)):
        if url.startswith(prefix):
            return folder.resolve().as_uri() + "/" + url[len(prefix):]
    return url


def resolve_url(url: str, allowed: tuple[Path, ...]) -> Path:
    """Map a `file:` URL to a path inside `allowed`, or raise ResourceRefused."""
    from urllib.request import url2pathname  # here: urllib.request costs a no-op rebuild 25 ms

    parts = urlsplit(url)
    if parts.scheme != "file":
        raise ResourceRefused(f"'{url}' is not a local file; nothing is fetched from the network")
    return resolve_path(Path(url2pathname(unquote(parts.path))), allowed)


def resolve_path(path: Path, allowed: tuple[Path, ...]) -> Path:
    """The real path of an existing regular file inside `allowed`, or raise
    ResourceRefused (OutsideBook, HardLinked): never OSError or ValueError."""
    resolved = inside(path, allowed)
    try:
        regular = stat.S_ISREG(resolved.stat().st_mode)
    except (FileNotFoundError, NotADirectoryError):
        regular = False
    except (OSError, ValueError) as exc:
        raise ResourceRefused(f"'{_named(path)}' cannot be read ({_failure(exc)})") from None
    if not regular:
        raise NotFound(f"'{_named(path)}' does not exist")
    return resolved


def read_bytes(path: Path, allowed: tuple[Path, ...]) -> bytes:
    """The content of `path`, read through the gate (by its real path, so a
    link swapped after the check is not followed out again by name; its links
    counted again on the open file, so one made after the check is seen)."""
    resolved = resolve_path(path, allowed)
    try:
        with open(resolved, "rb") as stream:
            links = os.fstat(stream.fileno()).st_nlink
            if links > 1 and not _TRUST_HARD_LINKS and resolved.is_relative_to(allowed[0].resolve()):
                raise HardLinked(path, links)
            return stream.read()
    except (OSError, ValueError) as exc:
        raise ResourceRefused(f"'{_named(path)}' cannot be read ({_failure(exc)})") from None


# Media type by file suffix, for files served from the book or the styles.
MEDIA_TYPES = {".css": "text/css", ".ttf": "font/ttf", ".otf": "font/otf", ".png": "image/png",
               ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml",
               ".webp": "image/webp", ".pdf": "application/pdf", ".epub": "application/epub+zip"}


IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"})
MAX_LISTED = 10_000  # files looked at when listing a book's images


def book_images(root: Path) -> list[str]:
    """The image files of the book folder, as paths relative to it ('images/tides.png'):
    the names a missing image's message can suggest. Hidden folders (caches,
    .git) and output folders (`output.is_output_folder`: an image there is
    no name to suggest, a build writing there refuses it) are skipped, links
    are not followed out of the book, nothing is opened."""
    from .output import is_output_folder

    found: list[str] = []
    seen = 0
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(name for name in folders
                            if not name.startswith(".") and not is_output_folder(Path(folder) / name))
        for name in sorted(files):
            seen += 1
            if seen > MAX_LISTED:
                return found
            path = Path(folder) / name
            if path.suffix.lower() in IMAGE_SUFFIXES and not name.startswith("."):
                try:
                    inside(path, (root,))
                except ResourceRefused:
                    continue
                found.append(path.relative_to(root).as_posix())
    return found


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


MAX_BYTES = 20 * 1024 * 1024  # 20 MiB per image file
MAX_PIXELS = 40_000_000  # e.g. 8000 × 5000; beyond this a booklet gains nothing

# Media type by the format Pillow detects from the content.
RASTER_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


@dataclass(frozen=True)
class ImageInfo:
    media_type: str
    width: int
    height: int


class ImageRejected(Exception):
    """The file is not an image we accept; the message says why and what to do."""


def inspect_image(path: Path) -> ImageInfo:
    """Identify `path` by its content and check it against the caps."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ImageRejected(f"image is {size / 1048576:.1f} MiB; the limit is {MAX_BYTES // 1048576} MiB")
    with open(path, "rb") as stream:
        head = stream.read(512)
    if _looks_like_svg(head):
        return _inspect_svg(path)
    return _inspect_raster(path)


def _looks_like_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<?xml") or text.startswith(b"<svg") or text.startswith(b"<!doctype svg")


def _inspect_raster(path: Path) -> ImageInfo:
    from PIL import Image, UnidentifiedImageError

    try:
        # Image.open reads only the header: the pixel count is known, and
        # checked against our limit below, before anything is decompressed.
        # (Pillow's own guard, Image.MAX_IMAGE_PIXELS, is process-wide: a
        # library leaves it as it is; it raises only far above our limit.)
        with Image.open(path) as image:
            kind, (width, height) = image.format, image.size
    except Image.DecompressionBombError:
        raise ImageRejected(f"image has more pixels than the limit of {MAX_PIXELS:,}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageRejected(f"not a PNG, JPEG, GIF, WebP or SVG image ({exc.__class__.__name__})") from None
    if kind not in RASTER_TYPES:
        raise ImageRejected(f"{kind} images are not supported; use PNG, JPEG, GIF, WebP or SVG")
    if width * height > MAX_PIXELS:
        raise ImageRejected(f"image is {width}×{height} pixels; the limit is {MAX_PIXELS:,} pixels")
    return ImageInfo(RASTER_TYPES[kind], width, height)


# A DOCTYPE, with its internal subset (declarations in [...]) if any.
_DOCTYPE = re.compile(r"<!DOCTYPE\s[^\[>]*(?P<subset>\[.*?\]\s*)?>", re.DOTALL | re.IGNORECASE)


def image_bytes(path: Path) -> bytes:
    """The bytes every output gets: an SVG's DOCTYPE (an external DTD that
    nothing ever loads, which EPUB reading systems need not accept) dropped;
    other images as they are. Call after `inspect_image` accepted the file."""
    data = path.read_bytes()
    if not _looks_like_svg(data[:512]):
        return data
    text = data.decode("utf-8", "replace")
    return _DOCTYPE.sub("", text, count=1).encode("utf-8")


def _inspect_svg(path: Path) -> ImageInfo:
    return check_svg(path.read_bytes())  # at most MAX_BYTES, checked by the caller


def svg_data_uri(url: str) -> bytes:
    """The SVG of a `data:image/svg+xml;base64,` URI (the renderer's formulas,
    drawn in the PDF), checked as an SVG file is; anything else is refused."""
    import base64
    import binascii

    head, _, payload = url.partition(",")
    if head != "data:image/svg+xml;base64" or len(payload) > MAX_BYTES * 4 // 3 + 4:
        raise ImageRejected("only base64 SVG data: URIs of the renderer are accepted")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageRejected("the data: URI is not valid base64") from None
    check_svg(data)
    return data


def check_svg(data: bytes) -> ImageInfo:
    """Parse without entities, DTDs or network; refuse external references."""
    from lxml import etree

    from .csscheck import SvgCss, animation_problem

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, dtd_validation=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ImageRejected(f"SVG is not well-formed XML: {exc}") from None
    text = data.decode("utf-8", "replace")
    doctype = _DOCTYPE.search(text)
    if "<!ENTITY" in text or (doctype and doctype.group("subset")):
        raise ImageRejected("SVG declares entities or other declarations in its DOCTYPE; remove the DOCTYPE")
    instructions = [*root.itersiblings(preceding=True), *root.iter(etree.ProcessingInstruction)]
    if any(isinstance(node, etree._ProcessingInstruction) for node in instructions):  # <?xml-stylesheet href?>
        raise ImageRejected("SVG holds a processing instruction (<?xml-stylesheet …?>); remove it")
    if etree.QName(root).localname != "svg":
        raise ImageRejected("XML file is not an SVG image")
    css = SvgCss()  # CSS read as CSS (escapes, @import), in attributes and <style>
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name in ("script", "foreignObject"):
            raise ImageRejected(f"SVG contains <{name}>; remove it")
        for attribute, value in element.attrib.items():
            local = etree.QName(attribute).localname
            if local.startswith("on"):
                raise ImageRejected(f"SVG has an event handler ({local}); remove it")
            if local == "href" and not value.startswith("#"):
                raise ImageRejected(f"SVG refers to '{value}'; SVG images must be self-contained")
            if problem := css.problem(value):
                raise ImageRejected(problem)
        # A <style>'s text as a reader sees it: CDATA, and the text around comments or elements.
        style = element.xpath("string()") if name == "style" else ""
        if problem := css.problem(style) or animation_problem(name, element):
            raise ImageRejected(problem)
    return ImageInfo("image/svg+xml", 0, 0)


@contextmanager
def deadline(seconds: float, raised: type[BaseException]):
    """Raise `raised` in the code under it once `seconds` have passed (0: never).

    Fired again every 50 ms until it gets out: an exception raised inside a
    library's catch-all is lost, the next one is not (`raised` should be a
    BaseException for that reason). Never inside a finalizer, which cannot
    pass an exception on.

    On the main thread, by SIGALRM (which also cuts short a wait on a lock
    or a sleep). On any other thread (the preview's background build, a
    library caller's), by a watchdog thread (`_Watchdog`) that raises it in
    the thread asynchronously, as CPython lets one thread do to another:
    like a signal's handler, it lands between two steps of Python code, so
    one long call into C (a regular expression, a single Pango layout)
    ends before it does, on either path.

    Deadlines nest: inside another (a formula's 3 s inside its article's
    60 s), the nearer one fires first, and the outer one runs on afterwards
    with the time it had left.
    """
    if seconds <= 0:
        yield
    elif hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        with _alarm(seconds, raised):
            yield
    else:
        with _watched(seconds, raised):
            yield


@contextmanager
def _alarm(seconds: float, raised: type[BaseException]):
    """`deadline` on the main thread: SIGALRM, re-armed every 50 ms."""
    outer = signal.getitimer(signal.ITIMER_REAL)[0]
    if 0 < outer <= seconds:  # (an outer deadline that comes first bounds this one)
        yield
        return
    started = time.monotonic()

    def expire(signum, frame):
        if not _in_finalizer(frame):  # else the next tick raises it where it can stop the work
            raise raised()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.05)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # the outer deadline goes on with what it had left
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001), 0.05)


def _in_finalizer(frame) -> bool:
    """Whether `frame` runs inside a finalizer (`__del__`) or a garbage
    collector's callback (`gc.callbacks`: a library's, such as Hypothesis's):
    an exception raised there is dropped by Python with "Exception ignored"
    on stderr, so the deadline waits for the next tick."""
    import gc

    callbacks = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    while frame is not None:
        if frame.f_code.co_name == "__del__" or frame.f_code in callbacks:
            return True
        frame = frame.f_back
    return False


_ends = threading.local()  # a thread's watched deadlines (time.monotonic()), the nearest last


@contextmanager
def _watched(seconds: float, raised: type[BaseException]):
    """`deadline` off the main thread: a `_Watchdog` for this deadline,
    unless an outer deadline of this thread comes first."""
    ends = _ends.__dict__.setdefault("ends", [])
    end = time.monotonic() + seconds
    if ends and ends[-1] <= end:  # (an outer deadline that comes first bounds this one)
        yield
        return
    watchdog = _Watchdog(threading.get_ident(), raised, end)
    ends.append(end)
    watchdog.start()
    try:
        yield
    finally:
        while True:  # a tick may land here too, even inside stop(): stop again until it held
            try:
                watchdog.stop()
                break
            except raised:
                continue
        ends.pop()


class _Watchdog(threading.Thread):
    """Raises `raised` in the thread `target` from `end` on, every 50 ms,
    until stopped. Stopping withdraws a tick raised but not landed yet, under
    the lock the ticks are raised under: none lands after `stop()`."""

    def __init__(self, target: int, raised: type[BaseException], end: float):
        super().__init__(name="deadline", daemon=True)
        self.target, self.raised, self.end = target, raised, end
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def run(self) -> None:
        import sys

        if self.stopped.wait(max(self.end - time.monotonic(), 0)):
            return
        while True:
            with self.lock:
                if self.stopped.is_set():
                    return
                if not _in_finalizer(sys._current_frames().get(self.target)):
                    _raise_in(self.target, self.raised)
            if self.stopped.wait(0.05):
                return

    def stop(self) -> None:
        with self.lock:
            self.stopped.set()
            _raise_in(self.target, None)


def _raise_in(thread: int, raised: type[BaseException] | None) -> None:
    """Raise `raised` in `thread` at its next step of Python code (None:
    withdraw one raised there that has not landed yet)."""
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread),
                                               ctypes.py_object(raised) if raised is not None else None)
