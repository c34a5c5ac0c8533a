"""The EPUB's cover image, drawn in the design of the PDF's typographic cover.

Drawn with Pillow and the book's own fonts rather than rendered from the PDF,
so that an EPUB-only build never imports WeasyPrint and the cover is the same
whichever formats a build makes. Proportions follow `styles/print.css`
(`.cover`): measurements there are in millimetres on an A5 page, here in
fractions of the image.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from ..model import BookConfig
from ..styles import styles_dir

WIDTH, HEIGHT = 1400, 1980  # A5's proportions, enough pixels for any reader
BACKGROUND, INK = (0x7A, 0x2E, 0x1F), (0xFB, 0xF7, 0xF2)
PAGE_MM = 148  # A5 width: lengths below are converted from print.css's millimetres


def _px(mm: float) -> int:
    return round(mm / PAGE_MM * WIDTH)


def _pt(points: float) -> int:
    return _px(points * 25.4 / 72)


def cover_png(config: BookConfig) -> bytes:
    """A PNG cover: rule, title, subtitle, authors; deterministic bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    fonts = styles_dir() / "fonts"
    left, right = _px(18), WIDTH - _px(18)
    y = _px(38)
    draw.rectangle((left, y, left + _px(24), y + max(2, _pt(1.2))), fill=INK)
    y += _px(10)
    title = ImageFont.truetype(str(fonts / "SourceSansPro-Semibold.ttf"), _pt(30))
    y = _paragraph(draw, config.title, title, left, right, y, 1.1) + _px(8)
    if config.subtitle:
        subtitle = ImageFont.truetype(str(fonts / "SourceSerifPro-It.ttf"), _pt(13))
        y = _paragraph(draw, config.subtitle, subtitle, left, right, y, 1.35)
    if config.authors:
        authors = ImageFont.truetype(str(fonts / "SourceSansPro-Regular.ttf"), _pt(12))
        _paragraph(draw, " · ".join(config.authors), authors, left, right, y + _px(26), 1.3)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _paragraph(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont,
               left: int, right: int, y: int, leading: float) -> int:
    """Draw `text` wrapped to the measure; return the y below it."""
    line_height = round(font.size * leading)
    for line in _wrap(text, font, right - left):
        draw.text((left, y), line, font=font, fill=INK)
        y += line_height
    return y


def _wrap(text: str, font: ImageFont.FreeTypeFont, measure: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= measure:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines
