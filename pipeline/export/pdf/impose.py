"""Print imposition: the booklet two-up on sheets, in saddle-stitch order.

A printer folds a stack of sheets printed on both sides and staples the fold.
For that, the page count is padded with blanks to a multiple of four, and
sheet k (from 0) carries, front: the pages N-1-2k (left) and 2k (right);
back: 2k+1 (left) and N-2-2k (right). Sheet 1's front thus holds the last
and the first page. The pages are placed as they are (pypdf copies their
content streams), never laid out a second time.
"""

from __future__ import annotations

from pathlib import Path

from pypdf import PageObject, PdfReader, PdfWriter, Transformation

from ...diagnostics import Diagnostic, error
from ...model import RenderedBook
from ...styles import is_rtl
from .. import ExportContext, Exported, output


def saddle_stitch_order(page_count: int) -> list[tuple[int | None, int | None]]:
    """(left, right) page indexes for each side of each sheet; None is a blank."""
    padded = -(-page_count // 4) * 4

    def page(index: int) -> int | None:
        return index if index < page_count else None

    sides = []
    for sheet in range(padded // 4):
        sides.append((page(padded - 1 - 2 * sheet), page(2 * sheet)))
        sides.append((page(2 * sheet + 1), page(padded - 2 - 2 * sheet)))
    return sides


def impose_booklet(source: Path, target: Path, rtl: bool = False) -> list[Diagnostic]:
    """Write `target`: the pages of `source` two-up on landscape sheets.

    A right-to-left book is bound on the right: each side's two pages
    change places (sheet 1's front: the first page left, the last right).
    """
    try:
        reader = PdfReader(source)
        width = float(reader.pages[0].mediabox.width)
        height = float(reader.pages[0].mediabox.height)
        writer = PdfWriter()
        for left, right in saddle_stitch_order(len(reader.pages)):
            if rtl:
                left, right = right, left
            sheet = PageObject.create_blank_page(width=2 * width, height=height)
            for index, x in ((left, 0.0), (right, width)):
                if index is not None:
                    sheet.merge_transformed_page(reader.pages[index], Transformation().translate(x, 0))
            writer.add_page(sheet)
        writer.add_metadata({key: value for key, value in (reader.metadata or {}).items()
                             if key in ("/Title", "/Author", "/Subject", "/Creator",
                                        "/CreationDate", "/ModDate", "/Keywords")})
        writer.add_metadata({"/Producer": "pipeline (imposition with pypdf)"})
        with open(target, "wb") as handle:
            writer.write(handle)
    except Exception as exc:  # pypdf raises many kinds; each means no imposed PDF
        return [error("X001", f"could not impose the booklet: {exc}")]
    return []


class ImposedExporter:
    """The imposed PDF (`formats`: a form of the PDF, made with it under
    [pdf] impose or --impose): the PDF's file, as this build wrote it,
    two-up. Nothing is laid out again, whichever engine made the PDF."""

    name = "imposed"
    suffix = "-imposed.pdf"
    provides: tuple[str, ...] = ()
    uses = (output("pdf"),)

    def export(self, rendered: RenderedBook, target: Path, context: ExportContext) -> Exported:
        source = context.facts.get(output("pdf"))
        if source is None:  # the PDF failed, and said why: the build writes nothing
            return Exported()
        return Exported(tuple(impose_booklet(source, target, is_rtl(rendered.book.config.language))))
