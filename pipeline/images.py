"""Image checks for untrusted manuscripts: type by content, size caps, safe SVG.

An image's name says nothing about what it holds, and a small file can
decompress to gigabytes of pixels. Every image a book uses (article images
and the cover) is checked here before any renderer sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 20 * 1024 * 1024  # 20 MiB per image file
MAX_PIXELS = 40_000_000  # e.g. 8000 × 5000; beyond this a booklet gains nothing

# Media type by the format Pillow detects from the content.
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.IGNORECASE)

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
    """Parse without entities, DTDs or network; refuse external references."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, dtd_validation=False)
    data = path.read_bytes()  # at most MAX_BYTES, checked by the caller
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ImageRejected(f"SVG is not well-formed XML: {exc}") from None
    text = data.decode("utf-8", "replace")
    doctype = _DOCTYPE.search(text)
    if "<!ENTITY" in text or (doctype and doctype.group("subset")):
        raise ImageRejected("SVG declares entities or other declarations in its DOCTYPE; remove the DOCTYPE")
    if etree.QName(root).localname != "svg":
        raise ImageRejected("XML file is not an SVG image")
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
            if _EXTERNAL_URL.search(value):
                raise ImageRejected("SVG style refers to an external url(); SVG images must be self-contained")
        if name == "style" and _EXTERNAL_URL.search(element.text or ""):
            raise ImageRejected("SVG <style> refers to an external url(); SVG images must be self-contained")
    return ImageInfo("image/svg+xml", 0, 0)
