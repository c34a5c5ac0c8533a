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

from .. import fonts
from ..styles import cover_ink, is_rtl
from ..model import Book
from ..styles import styles_dir

WIDTH, HEIGHT = 1400, 1980  # A5's proportions, enough pixels for any reader
ACCENT = "#7a2e1f"  # print.css's --accent
PAGE_MM = 148  # A5 width: lengths below are converted from print.css's millimetres


def _px(mm: float) -> int:
    return round(mm / PAGE_MM * WIDTH)


def _pt(points: float) -> int:
    return _px(points * 25.4 / 72)


def cover_png(book: Book) -> bytes:
    """A PNG cover: rule, title, subtitle, authors, logo; deterministic bytes.

    Colours are [style]'s (cover-background, else the accent; the ink light
    or dark to suit), the title's face [style] heading-font's. Each run of
    text is drawn with the font of its script (the book's Latin family, else
    the Noto face pipeline/fonts.py chooses), shaped by Raqm; a right-to-left
    book's cover is set from the right.
    """
    config = book.config
    background = config.cover_background or config.accent or ACCENT
    ink = _rgb(cover_ink(background))
    image = Image.new("RGB", (WIDTH, HEIGHT), _rgb(background))
    draw = ImageDraw.Draw(image)
    rtl = is_rtl(config.language)
    left, right = _px(18), WIDTH - _px(18)
    y = _px(38)
    rule = (right - _px(24), right) if rtl else (left, left + _px(24))
    draw.rectangle((rule[0], y, rule[1], y + max(2, _pt(1.2))), fill=ink)
    y += _px(10)
    title = _Type(_heading_face(book), 700, _pt(30), config.language)
    y = _paragraph(image, config.title, title, left, right, y, 1.1, rtl, ink) + _px(8)
    if config.subtitle:
        subtitle = _Type(styles_dir() / "fonts" / "SourceSerifPro-It.ttf", 400, _pt(13), config.language)
        y = _paragraph(image, config.subtitle, subtitle, left, right, y, 1.35, rtl, ink)
    if config.authors:
        authors = _Type(styles_dir() / "fonts" / "SourceSansPro-Regular.ttf", 400, _pt(12), config.language)
        _paragraph(image, " · ".join(config.authors), authors, left, right, y + _px(26), 1.3, rtl, ink)
    if book.logo is not None:
        _draw_logo(image, book.logo, rtl)
    if book.logo is None:
        # Two colours and their anti-aliased edges: a 64-colour palette (room
        # for a title's emoji) draws them alike at half the bytes, and the
        # cover is in every download's EPUB.
        image = image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=9)
    return out.getvalue()


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _heading_face(book: Book):
    """The title's font file: [style] heading-font's face nearest semibold, else ours."""
    family = fonts.font_choice(book).heading
    faces = [face for face in fonts.font_choice(book).faces if face.family == family and not face.italic]
    if faces:
        return min(faces, key=lambda face: abs(face.weight - 600)).path
    name = "SourceSerifPro-Semibold.ttf" if family == "Book Serif" else "SourceSansPro-Semibold.ttf"
    return styles_dir() / "fonts" / name


def _draw_logo(image: Image.Image, path, rtl: bool) -> None:
    """The logo where print.css puts it (.cover-logo): at most 40 × 16 mm, 18 mm from the foot."""
    with Image.open(path) as logo:  # checked by the loader: a PNG or JPEG within the caps
        logo = logo.convert("RGBA")
        logo.thumbnail((_px(40), _px(16)), Image.Resampling.LANCZOS)
        x = WIDTH - _px(18) - logo.width if rtl else _px(18)
        image.paste(logo, (x, HEIGHT - _px(18) - logo.height), logo)


EMOJI_SIZE = 109  # px: the one size Noto Color Emoji's bitmaps load at


class _Type:
    """A size and weight of type: the book's Latin face, and the script faces
    of pipeline/fonts.py for what it lacks, chosen per character."""

    def __init__(self, path, weight: int, size: int, language: str):
        self.size, self.weight, self.language = size, weight, language
        self.latin = ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)
        self.latin_cmap = fonts.cmap(path)
        self.index = fonts.cjk_face(language)
        self.faces: dict[str, ImageFont.FreeTypeFont] = {}

    def font_of(self, character: str) -> tuple[str, ImageFont.FreeTypeFont]:
        if character.isspace() or ord(character) in self.latin_cmap:
            return "latin", self.latin
        group = fonts.drawing_group(ord(character), self.index)
        if group is None:
            return "latin", self.latin
        if group.key not in self.faces:
            face = min(group.sans, key=lambda f: abs(f.weight - self.weight))
            # A colour emoji face holds bitmaps of one size only: loaded at it, drawn scaled (`draw_run`).
            size = EMOJI_SIZE if group.key == "emoji" else self.size
            self.faces[group.key] = ImageFont.truetype(str(face.path), size,
                                                       index=self.index if group.collection else 0,
                                                       layout_engine=ImageFont.Layout.RAQM)
        return group.key, self.faces[group.key]

    def width(self, chars: str, font: ImageFont.FreeTypeFont, direction: str) -> float:
        return font.getlength(chars, direction=direction) * self.size / font.size

    def draw_run(self, image: Image.Image, xy: tuple[float, int], chars: str, font: ImageFont.FreeTypeFont,
                 direction: str, ink: tuple[int, int, int]) -> None:
        """A run at `xy`; one in a face of another size (colour emoji) is drawn
        at its size and scaled to the text's."""
        if font.size == self.size:
            ImageDraw.Draw(image).text(xy, chars, font=font, fill=ink, direction=direction, language=self.language)
            return
        width = max(1, round(font.getlength(chars, direction=direction)))
        run = Image.new("RGBA", (width, round(font.size * 1.25)), (0, 0, 0, 0))
        ImageDraw.Draw(run).text((0, 0), chars, font=font, fill=ink, embedded_color=True, direction=direction)
        scale = self.size / font.size
        run = run.resize((max(1, round(run.width * scale)), max(1, round(run.height * scale))),
                         Image.Resampling.LANCZOS)
        image.paste(run, (round(xy[0]), xy[1]), run)

    def runs(self, text: str) -> list[tuple[str, ImageFont.FreeTypeFont, str]]:
        """(text, font, direction) runs; spaces join the run before them (not an
        emoji's: the emoji face's space is as wide as an emoji)."""
        runs: list[list] = []
        for character in text:
            key, font = self.font_of(character)
            if runs and (runs[-1][0] == key or (character.isspace() and runs[-1][0] != "emoji")):
                runs[-1][1] += character
            else:
                runs.append([key, character, font])
        return [(chars, font, "rtl" if is_rtl_text(chars) else "ltr") for _, chars, font in runs]

    def length(self, text: str) -> float:
        return sum(self.width(chars, font, direction) for chars, font, direction in self.runs(text))


def is_rtl_text(text: str) -> bool:
    from fontTools import unicodedata

    return any(unicodedata.script_horizontal_direction(unicodedata.script(c), "LTR") == "RTL" for c in text)


def _paragraph(image: Image.Image, text: str, type_: _Type, left: int, right: int, y: int,
               leading: float, rtl: bool, ink: tuple[int, int, int]) -> int:
    """Draw `text` wrapped to the measure; return the y below it."""
    line_height = round(type_.size * leading)
    for line in _wrap(text, type_, right - left):
        runs = type_.runs(line.strip())
        if rtl:
            runs.reverse()  # runs in visual order: a right-to-left line's first run is on the right
        widths = [type_.width(chars, font, direction) for chars, font, direction in runs]
        x = right - sum(widths) if rtl else left
        for (chars, font, direction), width in zip(runs, widths):
            type_.draw_run(image, (x, y), chars, font, direction, ink)
            x += width
        y += line_height
    return y


def _wrap(text: str, type_: _Type, measure: int) -> list[str]:
    """Lines of whole words; text without spaces (Chinese, Japanese) breaks between characters."""
    tokens = [t for word in text.split() for t in (clusters(word) if unspaced(word) else [word + " "])]
    lines: list[str] = []
    for token in tokens:
        if lines and type_.length((lines[-1] + token).strip()) <= measure:
            lines[-1] += token
        else:
            lines.append(token)
    return [line.strip() for line in lines]


# Scripts written without spaces between words: CJK and Hangul, Thai, Lao,
# Tibetan, Myanmar, Khmer. A title in them breaks between characters.
_SPACELESS = ((0x3040, 0x9FFF), (0xAC00, 0xD7AF), (0x0E00, 0x0EFF), (0x0F00, 0x0FFF), (0x1000, 0x109F),
              (0x1780, 0x17FF))
_JOINERS = ("\u1039", "\u17d2", "\u0f84", "\u0e3a", "\u200d")  # viramas, coeng, ZWJ: join the next letter


def unspaced(word: str) -> bool:
    """Whether `word` is of a script written without spaces between words (Thai, Khmer, Burmese…)."""
    return any(a <= ord(c) <= b for c in word for a, b in _SPACELESS)


def clusters(word: str) -> list[str]:
    """The word's clusters: a letter with the marks after it (and the letter
    a virama joins), never split, so a line breaks only between them."""
    import unicodedata

    clusters: list[str] = []
    for character in word:
        if clusters and (unicodedata.category(character).startswith("M") or clusters[-1].endswith(_JOINERS)):
            clusters[-1] += character
        else:
            clusters.append(character)
    clusters[-1] += " "
    return clusters
