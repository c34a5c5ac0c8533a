"""The one gate every file read of a build goes through.

Manuscripts and book.toml are untrusted: a file is readable only if its real
path (symlinks, '..' and absolute names resolved first) lies inside one of the
allowed folders, the book folder and the styles folder. A refusal names the
resolved target but never opens it. Nothing is ever fetched from the network.

Where the build reads (README, "Security"): book.toml and the manuscripts
(`load`), images and the cover (`render`, `load`, the PDF fetcher, the EPUB),
the fingerprint of the book folder (`cache`), and the preview's files
(`serve`). All go through `inside` or the functions built on it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname


class ResourceRefused(Exception):
    """A resource outside the allowed folders, remote, or missing."""


class OutsideBook(ResourceRefused):
    """A path whose real location is outside every allowed folder."""

    def __init__(self, path: Path, target: Path):
        super().__init__(f"'{path}' resolves to '{target}', which is outside the book folder")
        self.path, self.target = path, target


def inside(path: Path, allowed: tuple[Path, ...]) -> Path:
    """The real path of `path` if it lies inside one of `allowed`, else raise
    OutsideBook. Nothing is opened: this is safe on any name."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a link loop, a NUL byte, a name too long
        raise ResourceRefused(f"'{path}' cannot be resolved ({exc.__class__.__name__})") from None
    if not any(resolved.is_relative_to(root.resolve()) for root in allowed):
        raise OutsideBook(path, resolved)
    return resolved


def resolve_url(url: str, allowed: tuple[Path, ...]) -> Path:
    """Map a `file:` URL to a path inside `allowed`, or raise ResourceRefused."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise ResourceRefused(f"'{url}' is not a local file; nothing is fetched from the network")
    return resolve_path(Path(url2pathname(unquote(parts.path))), allowed)


def resolve_path(path: Path, allowed: tuple[Path, ...]) -> Path:
    """The real path of an existing regular file inside `allowed`, or raise."""
    resolved = inside(path, allowed)
    if not resolved.is_file():
        raise ResourceRefused(f"'{path}' does not exist")
    return resolved


def read_bytes(path: Path, allowed: tuple[Path, ...]) -> bytes:
    """The content of `path`, read through the gate (by its real path, so a
    link swapped after the check is not followed out again by name)."""
    return resolve_path(path, allowed).read_bytes()


# Media type by file suffix, for files served from the book or the styles.
MEDIA_TYPES = {".css": "text/css", ".ttf": "font/ttf", ".otf": "font/otf", ".png": "image/png",
               ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml",
               ".webp": "image/webp", ".pdf": "application/pdf", ".epub": "application/epub+zip"}


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
