"""The one gate every exporter's resource reads go through.

Manuscripts are untrusted: a resource is readable only if it resolves
(symlinks and '..' included) to a file inside one of the allowed folders, the
book folder and the styles folder. Nothing is ever fetched from the network.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname


class ResourceRefused(Exception):
    """A resource outside the allowed folders, remote, or missing."""


def resolve_url(url: str, allowed: tuple[Path, ...]) -> Path:
    """Map a `file:` URL to a path inside `allowed`, or raise ResourceRefused."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise ResourceRefused(f"'{url}' is not a local file; nothing is fetched from the network")
    return resolve_path(Path(url2pathname(unquote(parts.path))), allowed)


def resolve_path(path: Path, allowed: tuple[Path, ...]) -> Path:
    resolved = path.resolve()
    if not any(resolved.is_relative_to(root.resolve()) for root in allowed):
        raise ResourceRefused(f"'{path}' is outside the book folder")
    if not resolved.is_file():
        raise ResourceRefused(f"'{path}' does not exist")
    return resolved


# Media type by file suffix, for files served from the book or the styles.
MEDIA_TYPES = {".css": "text/css", ".ttf": "font/ttf", ".otf": "font/otf", ".png": "image/png",
               ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml",
               ".webp": "image/webp", ".pdf": "application/pdf", ".epub": "application/epub+zip"}


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
