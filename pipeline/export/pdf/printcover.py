"""The full-wrap cover of the printed book (`OUT/<slug>-cover.pdf`): back,
spine and front on one page, as wide as two trims, the spine (pages × the
paper's thickness) and the bleed; laid out by WeasyPrint from
`styles/templates/print-cover.html`, which designers restyle. And its PNG
preview with the trim, the bleed and the spine's folds drawn.
"""

from __future__ import annotations

from pathlib import Path

from ...diagnostics import Diagnostic, error, warning
from ...model import RenderedBook
from ...styles import is_rtl, render_template
from .join import save
from .. import PRINT_COVER, PRINT_PAGES, ExportContext, Exported
from .printing import MIN_DPI, POINTS, VARIANT, stable_metadata
from .printspec import PrintSpec, print_spec


class CoverExporter:
    """`OUT/<slug>-cover.pdf`: back, spine and front on one page, for the
    page count of the interior (laid out first: it provides the count)."""

    name = "cover"
    suffix = "-cover.pdf"
    provides = (PRINT_COVER,)
    uses = (PRINT_PAGES,)

    def export(self, rendered: RenderedBook, target: Path, context: ExportContext) -> Exported:
        from .engine import identifier, layout, layout_session, renderer_warnings

        pages = context.facts.get(PRINT_PAGES)
        if not pages:
            return Exported((error("P007", "the cover needs the print interior's page count",
                                   hint="build both: pipeline build --print PROFILE"),))
        spec, found = print_spec(rendered.book.config)
        if spec is None:
            return Exported(tuple(found))
        html = cover_html(rendered, spec, pages, context)
        with layout_session(context.timestamp, context.layout.time_limit, "the print cover", rendered) as session:
            _, document = layout(html, rendered, VARIANT, session.fonts, cover_css(spec, pages))
            document.write_pdf(target, pdf_identifier=identifier(rendered.book.config, context), custom_metadata=True,
                               **VARIANT)
        if session.failure is not None:
            return Exported((session.failure,))
        messages = session.messages
        from .preflight import preflight_cover

        _cover_boxes(target, spec)
        return Exported(tuple(renderer_warnings(messages, rendered.book.root) + cover_resolution(rendered, spec)
                              + preflight_cover(target, spec, pages, Path(f"{rendered.book.slug}{self.suffix}"))),
                        {PRINT_COVER: target.read_bytes()})


def cover_resolution(rendered: RenderedBook, spec: PrintSpec) -> list[Diagnostic]:
    """P008 for a [book] cover image with fewer than MIN_DPI pixels an inch
    over the front and its bleed (it is scaled to cover them), at its line
    of book.toml."""
    from PIL import Image, UnidentifiedImageError

    if rendered.book.cover is None:
        return []
    try:
        with Image.open(rendered.book.cover) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError):  # an SVG: drawn at any size
        return []
    dpi = min(width / (spec.trim[0] + spec.bleed), height / (spec.trim[1] + 2 * spec.bleed))
    if dpi >= MIN_DPI - 0.5:
        return []
    path, source = rendered.book.config_path, rendered.book.config_source
    line = source.line_of("book", "cover")[0] if source is not None else 0
    return [warning("P008", f"the cover image ({width} × {height} pixels) prints at {dpi:.0f} dpi on the "
                            f"{spec.trim[0] + spec.bleed:g} × {spec.trim[1] + 2 * spec.bleed:g} in front with its bleed; "
                            f"printers ask for {MIN_DPI}",
                    hint=f"use an image of at least {round((spec.trim[0] + spec.bleed) * MIN_DPI)} × "
                         f"{round((spec.trim[1] + 2 * spec.bleed) * MIN_DPI)} pixels", path=path, line=line)]


def cover_css(spec: PrintSpec, pages: int) -> str:
    width, height = spec.cover_size(pages)
    return f"@page {{ size: {width:.4f}in {height:.4f}in; margin: 0; }}\n"


def cover_html(rendered: RenderedBook, spec: PrintSpec, pages: int, context: ExportContext | None = None) -> str:
    """The cover template (styles/templates/print-cover.html) filled in."""
    from ...fonts import book_fonts, font_choice, pdf_css
    from ...styles import book_labels, direction
    from markupsafe import Markup

    from .booklet import meta

    config = rendered.book.config
    root = rendered.book.root.resolve()
    words = book_labels(config)
    width, height = spec.trim
    return render_template(
        "print-cover.html", book=rendered.book, config=config, labels=words,
        meta=meta(config, context) if context else {"timestamp": "", "generator": ""}, direction=direction(config.language),
        font_css=Markup(pdf_css(book_fonts(rendered.book, words), font_choice(rendered.book), rendered.book.root)),
        cover_src=rendered.book.cover.relative_to(root).as_posix() if rendered.book.cover else "",
        logo_src=rendered.book.logo.relative_to(root).as_posix() if rendered.book.logo else "",
        trim_width=width, trim_height=height, bleed=spec.bleed, spine=spec.spine(pages),
        spine_text=pages > spec.profile.spine_text_pages, rtl=is_rtl(config.language),
        barcode=(2.0, 1.2))  # KDP's barcode area, inches, at the foot of the back


def _cover_boxes(target: Path, spec: PrintSpec) -> None:
    """TrimBox: the cover without its bleed; BleedBox: the whole page; no bookmarks."""
    import pikepdf

    cut = spec.bleed * POINTS
    with pikepdf.open(target, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        page.obj["/TrimBox"] = pikepdf.Array([x0 + cut, y0 + cut, x1 - cut, y1 - cut])
        page.obj["/BleedBox"] = pikepdf.Array([x0, y0, x1, y1])
        for key in ("/Outlines", "/PageMode"):
            if key in pdf.Root:
                del pdf.Root[key]
        if "/Annots" in page.obj:
            del page.obj["/Annots"]
        stable_metadata(pdf, "cover")
        save(pdf, target)  # join.save: a full disk is an OSError (X002), not qpdf's abort


PREVIEW_DPI = 100
TRIM_LINE, BLEED_LINE, SPINE_LINE = "#e6007e", "#00a0e6", "#2fb344"  # magenta, cyan, green


class CoverPreviewExporter:
    """`OUT/<slug>-cover-preview.png`: the cover with its trim (magenta),
    the edge of the bleed (cyan) and the folds of the spine (green) drawn,
    to see at a glance what the printer will cut and fold."""

    name = "cover-preview"
    suffix = "-cover-preview.png"
    provides = ()
    uses = (PRINT_COVER, PRINT_PAGES)

    def export(self, rendered: RenderedBook, target: Path, context: ExportContext) -> Exported:
        cover, pages = context.facts.get(PRINT_COVER), context.facts.get(PRINT_PAGES)
        spec, found = print_spec(rendered.book.config)
        if not cover or not pages or spec is None:
            return Exported(tuple(found) or (error("P007", "the cover preview needs the cover",
                                                   hint="build it with pipeline build --print PROFILE"),))
        target.write_bytes(cover_preview(cover, spec, pages))
        return Exported()


def cover_preview(cover: bytes, spec: PrintSpec, pages: int) -> bytes:
    """The cover rendered at PREVIEW_DPI with its trim, bleed and spine lines."""
    import io

    import pypdfium2
    from PIL import ImageDraw

    document = pypdfium2.PdfDocument(cover)
    try:
        image = document[0].render(scale=PREVIEW_DPI / POINTS).to_pil().convert("RGB")
    finally:
        document.close()
    draw = ImageDraw.Draw(image)
    px = lambda inches: round(inches * PREVIEW_DPI)  # noqa: E731
    width, height = image.size
    bleed, trim_width = px(spec.bleed), spec.trim[0]
    draw.rectangle((0, 0, width - 1, height - 1), outline=BLEED_LINE, width=2)
    draw.rectangle((bleed, bleed, width - 1 - bleed, height - 1 - bleed), outline=TRIM_LINE, width=2)
    first_fold = spec.bleed + trim_width  # the back's width (the front's, for a book bound on the right)
    for fold in (first_fold, first_fold + spec.spine(pages)):
        draw.line((px(fold), 0, px(fold), height), fill=SPINE_LINE, width=2)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
