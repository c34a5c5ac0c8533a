"""A layout checker for the PDF booklet: what a reader's eye catches.

It reads a built PDF as a reader's tools do (pypdfium2 draws each page,
pypdf gives the page labels and the outline) and reports, page by page:

- `underfull`: a body page whose ink covers less than `MIN_FILL` of the
  text block's height (its largest blank band, a page's foot included, is
  what it misses), unless it is an article's last page;
- `blank`: a page with no ink that the book form does not ask for. The
  form (print.css) opens every article and front-matter section on a
  right-hand page: a blank verso before such a page is required, any other
  blank page is not;
- `overflow`: text whose box runs past the text block's side.

Everything it judges comes from the PDF itself: an article starts at a
level-1 bookmark on an arabic-numbered page; its last page is the last page
with ink before the next one; page index 0 is a recto (the cover or the
first page of an interior), so even indexes are rectos.

Run it on a file: `python tests/layoutcheck.py BOOK.pdf` prints the findings
and a one-line summary.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

MM = 72 / 25.4  # PDF points per millimetre
MIN_FILL = 0.60
INK = 250  # a grey darker than this is ink (a tint behind code or "In brief" counts)
SLACK = 1.5  # points a glyph may pass the text block's side: its side bearing, or a line-end
# hyphen that WeasyPrint lets hang by up to ~0.5 mm (the synthetic book has three)


@dataclass(frozen=True)
class Margins:
    """The text block of a right-hand page, in points; a left-hand page mirrors it.
    The defaults are styles/print.css's (`@page { margin: 19mm 15mm 21mm 21mm }`)."""

    top: float = 19 * MM
    outer: float = 15 * MM
    bottom: float = 21 * MM
    inner: float = 21 * MM

    def sides(self, index: int, width: float) -> tuple[float, float]:
        """Left and right edges of the text block on page `index`."""
        if index % 2 == 0:
            return self.inner, width - self.outer
        return self.outer, width - self.inner


@dataclass(frozen=True)
class Finding:
    index: int  # 0-based page index in the PDF
    folio: str  # its page label: what the reader sees ("3", "iv")
    kind: str  # "underfull", "blank" or "overflow"
    why: str

    def __str__(self) -> str:
        return f"page {self.folio} (#{self.index + 1}): {self.kind}: {self.why}"


@dataclass(frozen=True)
class Page:
    index: int
    folio: str
    blank: bool
    fill: float  # 1 - (largest blank band in the text block / its height)
    gap_at: float  # where that band starts, as a fraction of the block's height


@dataclass(frozen=True)
class Book:
    """What the checker reads from the PDF."""

    pages: tuple[Page, ...]
    openers: tuple[int, ...]  # page indexes where articles start
    last_pages: frozenset[int]  # each article's last page with ink

    def is_body(self, index: int) -> bool:
        return self.pages[index].folio.isdigit()


def read(pdf: Path, margins: Margins = Margins()) -> Book:
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    labels = list(reader.page_labels)
    document = pdfium.PdfDocument(pdf)
    try:
        pages = tuple(_page(document[index], index, labels[index], margins) for index in range(len(document)))
    finally:
        document.close()
    openers = tuple(sorted({page for page in _level_one(reader) if labels[page].isdigit()}))
    ends = [*openers[1:], len(pages)]
    last = frozenset(max((i for i in range(start, end) if not pages[i].blank), default=start)
                     for start, end in zip(openers, ends))
    return Book(pages, openers, last)


def _level_one(reader) -> list[int]:
    return [reader.get_destination_page_number(item) for item in reader.outline if not isinstance(item, list)]


def _page(page, index: int, folio: str, margins: Margins) -> Page:
    """Draw the page at 1 px a point and measure its ink in the text block."""
    import numpy

    import pypdfium2.raw as raw

    width, height = page.get_size()
    pixels = page.render(scale=1, grayscale=True).to_numpy()
    if pixels.ndim == 3:
        pixels = pixels.min(axis=2)
    if not (pixels < INK).any():
        return Page(index, folio, True, 0.0, 0.0)
    left, right = margins.sides(index, width)
    top, bottom = round(margins.top), round(height - margins.bottom)
    rows = (pixels[top:bottom, round(left):round(right)] < INK).any(axis=1)
    # A picture is content all over: its white parts are not a gap (one as
    # large as the page is its background, not a picture in the text).
    for item in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE, raw.FPDF_PAGEOBJ_FORM], max_depth=0):
        x0, y0, x1, y1 = item.get_bounds()
        if (x1 - x0) * (y1 - y0) > 0.9 * width * height:
            continue
        rows[max(0, round(height - y1) - top):max(0, round(height - y0) - top)] = True
    gap, gap_at = _largest_gap(numpy.asarray(rows))
    return Page(index, folio, False, 1 - gap / len(rows), gap_at / len(rows))


def _largest_gap(rows) -> tuple[int, int]:
    """(length, start) of the longest run of rows without ink."""
    best, best_at, run = 0, 0, 0
    for row, inked in enumerate(rows):
        run = 0 if inked else run + 1
        if run > best:
            best, best_at = run, row - run + 1
    return best, best_at


def required_blank(book: Book, index: int) -> bool:
    """A blank verso before a page that must be a recto: an article's opener,
    or a front-matter page (title page, contents: each begins on a recto)."""
    following = index + 1
    if index % 2 == 0 or following >= len(book.pages) or book.pages[following].blank:
        return False
    return following in book.openers or not book.is_body(following)


def findings(pdf: Path, margins: Margins = Margins(), min_fill: float = MIN_FILL) -> list[Finding]:
    """Every blemish of `pdf`, in page order."""
    book = read(pdf, margins)
    found = []
    for page in book.pages:
        if page.blank:
            if not required_blank(book, page.index):
                side = "recto" if page.index % 2 == 0 else "verso"
                found.append(Finding(page.index, page.folio, "blank",
                                     f"a blank {side} that no recto opener asks for"))
        elif book.is_body(page.index) and page.index not in book.last_pages and page.fill < min_fill:
            found.append(Finding(page.index, page.folio, "underfull",
                                 f"filled {page.fill:.0%} (< {min_fill:.0%}): a blank band of "
                                 f"{1 - page.fill:.0%} from {page.gap_at:.0%} of the text block, "
                                 "and the article goes on"))
    found += overflows(pdf, margins)
    return sorted(found, key=lambda finding: (finding.index, finding.kind))


def overflows(pdf: Path, margins: Margins = Margins()) -> list[Finding]:
    """Lines of the text block whose glyphs run past its sides (the cover,
    page 1, and the page after it bleed by design: skipped; running heads
    and folios stand in the margins)."""
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    labels = list(PdfReader(pdf).page_labels)
    document = pdfium.PdfDocument(pdf)
    found = []
    try:
        for index in range(2, len(document)):
            page = document[index]
            width, height = page.get_size()
            left, right = margins.sides(index, width)
            text = page.get_textpage()
            outside = []
            for char in range(text.count_chars()):
                if text.get_text_range(char, 1).strip():
                    x0, y0, x1, y1 = text.get_charbox(char)
                    in_block = margins.bottom <= (y0 + y1) / 2 <= height - margins.top  # not a head or folio
                    if in_block and (x0 < left - SLACK or x1 > right + SLACK):
                        outside.append((char, max(left - x0, x1 - right)))
            if outside:
                start = outside[0][0]
                sample = text.get_text_range(max(0, start - 30), 40).replace("\n", " ").replace("\r", "")
                found.append(Finding(index, labels[index], "overflow",
                                     f"{len(outside)} glyphs past the text block, by up to "
                                     f"{max(by for _, by in outside) / MM:.1f} mm: …{sample}…"))
    finally:
        document.close()
    return found


def summary(found: list[Finding]) -> dict[str, int]:
    counts = {"underfull": 0, "blank": 0, "overflow": 0}
    for finding in found:
        counts[finding.kind] += 1
    return counts


def main(argv: list[str]) -> int:
    status = 0
    for name in argv:
        found = findings(Path(name))
        for finding in found:
            print(f"{name}: {finding}")
        print(f"{name}: {summary(found)}")
        status |= bool(found)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
