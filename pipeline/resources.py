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
