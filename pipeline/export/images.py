"""Images sized for download: what each output embeds of a book's image.

An author drops in a 12-megapixel photo; a booklet printed on A5 needs
about 1,300 pixels across it, and Apple Books refuses images over four
million pixels. `fit` gives the bytes an output embeds:

- the file as it is (its bytes, untouched) when it is within the limit and
  in RGB or grey: nothing is re-encoded that need not be;
- else the image downsampled with Pillow (LANCZOS), never upscaled, in its
  own format (JPEG, PNG, WebP), with its colour profile (ICC) kept, its
  transparency kept, its EXIF orientation applied;
- a CMYK JPEG always converted to sRGB (e-readers draw CMYK wrongly or not
  at all; Adobe's inverted CMYK is read right by Pillow): through its
  embedded profile with LittleCMS (PIL.ImageCms) when it has one;
- for the PDF, an image whose profile is another RGB space (Display P3 from
  a phone, Adobe RGB, ProPhoto) converted to sRGB too: WeasyPrint draws
  every image as DeviceRGB, its profile ignored, so a wide-gamut photo
  would print dull and off-colour. The EPUB keeps the profile (readers
  honour it).

SVG, GIF (often animated) and animated images are served as they are.
A result is cached by content (`cache.Store`, OUT/.pipeline-cache/images):
the key is the image's sha256, the target size and the tool's version, so
a rebuild re-encodes nothing and an edited image is never served stale.

The limits come from book.toml: `[images] max-dpi` for the PDF (see
`print_widths` for how the printed width is bounded before layout) and
`[epub] max-image-pixels` for the EPUB.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ..cache import Store
from ..model import RenderedBook
from ..resources import EXTERNAL, ResourceRefused, image_bytes, inside, resource_name

IMAGE_FORMAT = "1"  # bump when what a fitted image holds changes
RESAMPLED = ("JPEG", "PNG", "WEBP")  # formats re-encoded when too large; others are served as they are
JPEG_QUALITY = 90  # of a downsampled JPEG or WebP: no visible loss at print size
ORIENTATION = 0x0112  # EXIF tag


@dataclass(frozen=True)
class Limit:
    """At most `width` pixels across (the PDF), or `pixels` in all (the EPUB);
    0: no limit. `srgb`: colours in sRGB whatever the image's profile."""

    width: int = 0
    pixels: int = 0
    srgb: bool = False


def fit(path: Path, limit: Limit, store: Store | None, version: str) -> bytes:
    """The bytes an output embeds for the image at `path` (read and checked
    by the render stage: `resources.inspect_image`)."""
    from PIL import Image, UnidentifiedImageError

    data = image_bytes(path)
    try:
        opened = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError):  # an SVG (which Pillow does not read)
        return data
    with opened as image:
        if image.format not in RESAMPLED or getattr(image, "is_animated", False):
            return data
        size = oriented_size(image)
        target = target_size(size, limit)
        foreign = limit.srgb and _foreign_profile(image.info.get("icc_profile"))
        if target == size and image.mode != "CMYK" and not foreign:
            return data
        source = hashlib.sha256(data).hexdigest()
        key = hashlib.sha256(f"{IMAGE_FORMAT}|{version}|{source}|{target[0]}x{target[1]}|{foreign}".encode()
                             ).hexdigest()
        found = store.get(key) if store is not None else None
        if found is not None:
            return found[0]
        try:
            result = _resample(image, target, to_srgb=foreign)
        except OSError:  # truncated or damaged pixel data: served as it is, WeasyPrint reports it
            return data
    if store is not None:
        store.put(key, result, {"source": source, "width": target[0], "height": target[1]})
    return result


def oriented_size(image) -> tuple[int, int]:
    """Width and height as the image is shown (EXIF orientations 5–8 turn it a quarter)."""
    width, height = image.size
    return (height, width) if image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8) else (width, height)


def target_size(size: tuple[int, int], limit: Limit) -> tuple[int, int]:
    """`size` scaled down (never up) to fit `limit`, keeping its proportions."""
    width, height = size
    across = limit.width / width if limit.width and width > limit.width else 1.0
    area = math.sqrt(limit.pixels / (width * height)) if limit.pixels and width * height > limit.pixels else 1.0
    if area < across:  # rounded down: within the pixel count
        return max(1, math.floor(width * area)), max(1, math.floor(height * area))
    if across < 1.0:  # exactly the cap across
        return limit.width, max(1, round(height * across))
    return size


def _resample(image, target: tuple[int, int], to_srgb: bool = False) -> bytes:
    """Decode, turn upright, to sRGB if CMYK (or `to_srgb`), downsample, encode in the same format."""
    from PIL import Image, ImageOps

    kind = image.format
    profile = image.info.get("icc_profile")
    image.load()
    image = ImageOps.exif_transpose(image)
    if image.mode == "CMYK":
        image, profile = _cmyk_to_srgb(image, profile)
    elif to_srgb and image.mode in ("RGB", "RGBA"):
        image, profile = _rgb_to_srgb(image, profile)
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    elif image.mode == "L" and image.has_transparency_data:
        image = image.convert("LA")
    if image.size != target:
        image = image.resize(target, Image.Resampling.LANCZOS)
    options: dict[str, object] = {"icc_profile": profile} if profile else {}
    if kind == "JPEG":
        options.update(quality=JPEG_QUALITY, optimize=True)
    elif kind == "WEBP":
        options.update(quality=JPEG_QUALITY)
    else:
        options.update(optimize=True)
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def _cmyk_to_srgb(image, profile: bytes | None):
    """A CMYK image in sRGB: through its embedded profile if it has one
    (perceptual intent, as for photos), else by Pillow's plain formula."""
    from PIL import ImageCms

    if not profile:
        return image.convert("RGB"), None
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        converted = ImageCms.profileToProfile(image, source, srgb, outputMode="RGB",
                                              renderingIntent=ImageCms.Intent.PERCEPTUAL)
    except (ImageCms.PyCMSError, OSError, ValueError):  # a damaged or non-CMYK profile
        return image.convert("RGB"), None
    return converted, srgb.tobytes()


def _rgb_to_srgb(image, profile: bytes):
    """An image in another RGB space (its profile) in sRGB, alpha kept."""
    from PIL import Image, ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    alpha = image.getchannel("A") if image.mode == "RGBA" else None
    try:
        converted = ImageCms.profileToProfile(image.convert("RGB"), ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                                              srgb, outputMode="RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL)
    except (ImageCms.PyCMSError, OSError, ValueError):  # a damaged profile: the pixels as they are
        return image, profile
    if alpha is not None:
        converted = Image.merge("RGBA", (*converted.split(), alpha))
    return converted, srgb.tobytes()


def _foreign_profile(profile: bytes | None) -> bool:
    """Does the image carry an RGB profile other than sRGB?"""
    if not profile:
        return False
    from PIL import ImageCms

    try:
        opened = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        space = opened.profile.xcolor_space.strip()
        description = ImageCms.getProfileDescription(opened).lower()
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False
    return space == "RGB" and "srgb" not in description and "iec61966" not in description


def prune(store: Store, rendered: RenderedBook) -> None:
    """Remove the cached images made from files the book no longer uses (an
    image edited, replaced or dropped), after a build: the cache holds the
    copies of the book's current images, in whatever sizes were asked."""
    paths = {path for item in rendered.articles for path in item.resources}
    if rendered.book.cover is not None:
        paths.add(rendered.book.cover.resolve())
    sources = set()
    for path in paths:
        try:
            sources.add(hashlib.sha256(image_bytes(path)).hexdigest())
        except OSError:
            continue
    store.keep_if(lambda value: isinstance(value, dict) and value.get("source") in sources)


# The PDF: how wide an image can print, known before layout.

MM_PER_INCH = 25.4
# Page sizes (mm) of [pdf] page-size, and the booklet's side margins (print.css
# @page: 15 mm outer + 21 mm inner) and its images' max-height (120 mm).
PAGE_MM = {"A5": (148.0, 210.0), "A4": (210.0, 297.0), "Letter": (215.9, 279.4), "6in 9in": (152.4, 228.6)}
SIDE_MARGINS_MM = 15.0 + 21.0
IMAGE_MAX_HEIGHT_MM = 120.0
_UNITS_MM = {"mm": 1.0, "cm": 10.0, "in": MM_PER_INCH, "pt": MM_PER_INCH / 72, "px": MM_PER_INCH / 96}
_IMG = re.compile(r'<img\b[^>]*>')
_ATTRIBUTE = re.compile(r'\s(src|style)="([^"]*)"')
_SIZE = re.compile(r"(width|height):\s*(\d+(?:\.\d+)?)(px|%|em|mm|cm|in|pt)")


def pdf_images(rendered: RenderedBook, store: Store | None, version: str) -> dict[Path, bytes]:
    """Each raster image of the booklet (its real path) -> the bytes the PDF
    embeds, at most `[images] max-dpi` at the widest it can print (any
    size when max-dpi is 0), in sRGB."""
    dpi = rendered.book.config.images_max_dpi
    return {path: fit(path, Limit(width=math.ceil(dpi * millimetres / MM_PER_INCH) if dpi else 0, srgb=True),
                      store, version)
            for path, millimetres in print_widths(rendered).items()}


def epub_images(paths: list[Path], max_pixels: int, store: Store | None, version: str) -> dict[Path, bytes]:
    """Each image -> the bytes the EPUB embeds, at most `max_pixels` (0: as they are)."""
    return {path: fit(path, Limit(pixels=max_pixels), store, version) for path in paths}


def print_widths(rendered: RenderedBook) -> dict[Path, float]:
    """The widest (mm) each image can print at: an upper bound known before
    layout, so that the image has at least max-dpi wherever it lands.

    An article's image is at most the text block wide (print.css: max-width
    100%) and 120 mm high (so a tall one is narrower); a width written with
    it (`{width=50%}`, `{width=6cm}`) narrows it further; a height alone
    sets the width through the proportions. In a table or a list it prints
    narrower still, and has more dots per inch. The cover fills the page
    (object-fit: cover), so it is as wide as the page or, if it is wider
    than the page's proportions, the page's height times its own.
    """
    page_width, page_height = PAGE_MM[rendered.book.config.pdf_page_size]
    text_width = page_width - SIDE_MARGINS_MM
    root = rendered.book.root.resolve()
    widths: dict[Path, float] = {}
    for item in rendered.articles:
        for tag in _IMG.findall(item.body_html):
            attributes = dict(_ATTRIBUTE.findall(tag))
            path = _image_path(root, attributes.get("src", ""), item.resources)
            if path is None or path not in item.resources:
                continue
            ratio = _aspect(path)
            width = min(text_width, IMAGE_MAX_HEIGHT_MM * ratio,
                        _written_width(attributes.get("style", ""), text_width, ratio))
            widths[path] = max(widths.get(path, 0.0), width)
    cover = rendered.book.cover
    if cover is not None and cover.suffix.lower() != ".svg":
        path = cover.resolve()
        widths[path] = max(widths.get(path, 0.0), page_width, page_height * _aspect(path))
    return widths


def _image_path(root: Path, src: str, resources: tuple[Path, ...] = ()) -> Path | None:
    """The real path of an <img src> (relative to the book folder, as render
    writes it; an image from outside it by its name in `resources`)."""
    if not src:
        return None
    if unquote(src).startswith(EXTERNAL + "/"):
        return next((path for path in resources if resource_name(path, root) == unquote(src)), None)
    try:
        return inside(root / unquote(src), (root,))
    except ResourceRefused:
        return None


def _aspect(path: Path) -> float:
    """Width over height as shown (1 for an SVG, which is never resampled)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = oriented_size(image)
    except (UnidentifiedImageError, OSError):
        return 1.0
    return width / height if height else 1.0


def _written_width(style: str, text_width: float, ratio: float) -> float:
    """The width (mm) a style written with the image gives it; the text
    block's when it gives none that can be known before layout (em)."""
    sizes = {name: (float(number), unit) for name, number, unit in _SIZE.findall(style)}
    name = "width" if "width" in sizes else "height" if "height" in sizes else None
    if name is None:
        return text_width
    number, unit = sizes[name]
    if unit == "%":
        # A percentage height depends on a containing block's height, unknown here.
        return text_width * number / 100 if name == "width" else text_width
    if unit not in _UNITS_MM:
        return text_width
    millimetres = number * _UNITS_MM[unit]
    return millimetres if name == "width" else millimetres * ratio
