"""Print-on-demand files: the interior (PDF/X-4, trim and bleed boxes,
gutter by page count); what a printer's profile asks is `printspec`'s, the
full-wrap cover `printcover`'s, the preflight `preflight`'s.

The interior is the booklet laid out as one document (like the tagged and
archival variants: the output intent belongs to the whole file), its page
size the trim, with CSS `bleed` around it. WeasyPrint writes the TrimBox
and a BleedBox; `_finish` then takes the bleed off the inner (bound) edge,
where a printer wants none, pads the page count to the profile's minimum
and an even count, and, for a profile that refuses them (KDP), removes the
bookmarks and link annotations. The output intent is WeasyPrint's own
sRGB2014.icc (ICC, free to copy and embed): no free CMYK characterization
ships as an ICC file in a Debian or PyPI package (docs/guide, "Printing a
paperback").
"""

from __future__ import annotations

from pathlib import Path

from ...cache import Store
from ...diagnostics import Diagnostic, warning
from ...model import POINTS, RenderedBook
from ...styles import is_rtl
from .. import PAGE_NUMBERS, PRINT_PAGES, ExportContext, Exported
from ..images import pdf_images
from .join import save
from .preflight import MIN_DPI
from .printspec import PrintSpec, print_spec

# WeasyPrint's PDF/X-4, with its sRGB profile as the output intent.
VARIANT = {"pdf_variant": "pdf/x-4", "output_intent": "srgb"}
READING_MARGIN = 0.25  # inches of inner margin beyond the profile's gutter (which the binding takes)
MAX_GUTTER_PASSES = 3


def interior_css(spec: PrintSpec, gutter: float) -> str:
    """The booklet's pages at the trim size, with bleed, the inner margin
    the gutter table asks for. A right-hand page is bound on its left, a
    left-hand one on its right, whichever way the book reads (a right-to-left
    book's first page is a left-hand page: WeasyPrint follows the root's
    direction, and so does `_finish`)."""
    width, height = spec.trim
    inner = f"{gutter + READING_MARGIN:.4f}in"
    return (f"@page {{ size: {width}in {height}in; bleed: {spec.media_bleed}in; "
            f"marks: {'crop' if spec.marks else 'none'}; }}\n"
            f"@page :right {{ margin-left: {inner}; }}\n"
            f"@page :left {{ margin-right: {inner}; }}\n")


class InteriorExporter:
    """`OUT/<slug>-print.pdf`: the interior for the printer."""

    name = "print"
    suffix = "-print.pdf"
    provides = (PRINT_PAGES,)
    uses = (PAGE_NUMBERS,)

    def export(self, rendered: RenderedBook, target: Path, context: ExportContext) -> Exported:
        from . import layout_with_page_numbers, prepared
        from .engine import PageLabels, identifier, layout_session, renderer_warnings

        spec, found = print_spec(rendered.book.config)
        if spec is None:
            return Exported(tuple(found))
        rtl = is_rtl(rendered.book.config.language)
        rendered = prepared(rendered)
        sized = pdf_images(rendered, Store(context.image_cache) if context.image_cache else None, context.version)
        with layout_session(context.timestamp, context.layout.time_limit, "the print interior", rendered) as session:
            gutter = spec.gutter(spec.padded(0))
            for _ in range(MAX_GUTTER_PASSES):  # the gutter follows the page count it changes
                _, document, front, _ = layout_with_page_numbers(
                    rendered, context, VARIANT, session.messages, session.fonts, sized,
                    extra_css=interior_css(spec, gutter), interior=True)
                wanted = spec.gutter(spec.padded(len(document.pages)))
                if wanted == gutter:
                    break
                gutter = wanted
            document.write_pdf(target, finisher=PageLabels(front, rtl),
                               pdf_identifier=identifier(rendered.book.config, context), custom_metadata=True, **VARIANT)
        if session.failure is not None:
            return Exported((session.failure,))
        messages = session.messages
        from .preflight import preflight_interior

        laid = len(document.pages)
        images = low_resolution(document, rendered)
        pages = _finish(target, spec, rtl)
        notes = renderer_warnings(messages, rendered.book.root) + images
        notes += preflight_interior(target, spec, Path(f"{rendered.book.slug}{self.suffix}"), resolution=False)
        if pages > laid:
            rule = f"at least {spec.profile.min_pages} pages, " if spec.profile.min_pages else ""
            notes.append(warning("P001", f"the print interior has {laid} pages; {pages - laid} blank page(s) "
                                         f"were added at the end ({spec.profile.name}: {rule}an even count)",
                                 hint="nothing to do; or add text to fill them", path=rendered.book.config_path))
        return Exported(tuple(notes), {PRINT_PAGES: pages})




def low_resolution(document, rendered: RenderedBook) -> list[Diagnostic]:
    """A warning for each image printed at fewer than MIN_DPI pixels an
    inch, located at the manuscript line that places it."""
    from .engine import page_owners, placed_images

    owners = page_owners(document, rendered.articles)  # the article of each page, by its anchors
    found = []
    for index, element, dpi in placed_images(document):
        if dpi >= MIN_DPI - 0.5 or element is None:
            continue
        src = element.get("src", "")
        item = rendered.articles[owners[index]] if owners[index] is not None else None
        path, line = (item.article.source_path, _line_of(item, src)) if item else (rendered.book.config_path, 0)
        found.append(warning("P008", f"image '{src}' prints at {dpi:.0f} dpi on interior page {index + 1}; "
                                     f"printers ask for {MIN_DPI}",
                             hint=f"use an image of at least {MIN_DPI} pixels an inch at its printed width, "
                                  "or print it smaller", path=path, line=line))
    return found


def _line_of(item, src: str) -> int:
    """The manuscript line that names the image (its file name), else the body's first."""
    from urllib.parse import unquote

    name = unquote(src).rsplit("/", 1)[-1]
    for offset, text in enumerate(item.article.body.split("\n")):
        if name and name in text:
            return item.article.body_line + offset
    return item.article.body_line


def _finish(target: Path, spec: PrintSpec, rtl: bool) -> int:
    """No bleed at the bound edge, padding pages, and what the profile
    refuses removed; returns the page count."""
    import pikepdf

    cut = spec.bleed * POINTS
    with pikepdf.open(target, allow_overwriting_input=True) as pdf:
        for _ in range(spec.padded(len(pdf.pages)) - len(pdf.pages)):
            pdf.add_blank_page(page_size=(float(pdf.pages[-1].mediabox[2]), float(pdf.pages[-1].mediabox[3])))
            last, model = pdf.pages[-1], pdf.pages[-2]
            for box in ("/MediaBox", "/TrimBox", "/BleedBox"):  # WeasyPrint's boxes do not start at 0
                last.obj[box] = pikepdf.Array(list(model.obj[box]))
        for index, page in enumerate(pdf.pages):
            inner_left = (index % 2 == 0) != rtl  # a recto of a left-bound book is bound on its left
            if not spec.marks:
                for box in ("/MediaBox", "/BleedBox"):
                    x0, y0, x1, y1 = (float(v) for v in page.obj[box])
                    page.obj[box] = pikepdf.Array([x0 + cut, y0, x1, y1] if inner_left else [x0, y0, x1 - cut, y1])
            else:  # the media keeps the marks around the bleed; the BleedBox is the bleed alone
                x0, y0, x1, y1 = (float(v) for v in page.obj["/TrimBox"])
                page.obj["/BleedBox"] = pikepdf.Array([x0 - cut, y0 - cut, x1 + cut, y1 + cut])
            if spec.profile.no_links and "/Annots" in page.obj:
                del page.obj["/Annots"]
        if spec.profile.no_links:
            for key in ("/Outlines", "/PageMode"):
                if key in pdf.Root:
                    del pdf.Root[key]
        stable_metadata(pdf, "print")
        count = len(pdf.pages)
        save(pdf, target)  # join.save: a full disk is an OSError (X002), not qpdf's abort
    return count


def stable_metadata(pdf, kind: str) -> None:
    """The version key in the Info too (the XMP has it; some preflights read
    the Info), and the XMP's DocumentID, random in WeasyPrint's PDF/X, made
    from the file's content: the same book gives the same bytes."""
    import hashlib
    import uuid

    import pikepdf

    pdf.docinfo["/GTS_PDFXVersion"] = "PDF/X-4"
    seed = hashlib.sha256(kind.encode() + b"".join(page.Contents.read_bytes() if "/Contents" in page.obj
                                                    and isinstance(page.obj.Contents, pikepdf.Stream) else b""
                                                    for page in pdf.pages)).hexdigest()
    metadata = pdf.Root.Metadata.read_bytes().decode("utf-8")
    start = metadata.find("xmp.did:")
    if start >= 0:
        stable = f"xmp.did:{uuid.UUID(seed[:32])}"
        metadata = metadata[:start] + stable + metadata[start + len(stable):]
        pdf.Root.Metadata = pdf.make_stream(metadata.encode("utf-8"), Type=pikepdf.Name.Metadata,
                                            Subtype=pikepdf.Name.XML)
