"""Preflight of the print files: what a printer's upload checks, read back
from the PDFs themselves with pikepdf (boxes, fonts, outline, annotations,
page count, output intent), each problem a diagnostic naming the file and
the page. The build runs it on what it wrote; `pipeline check --print`
on files built before.
"""

from __future__ import annotations

from pathlib import Path

from ...diagnostics import Diagnostic, error, warning
from ...model import POINTS
from .printspec import PrintSpec

TOLERANCE = 0.01  # inches


def preflight_interior(pdf_path: Path, spec: PrintSpec, shown: Path | None = None,
                       resolution: bool = True) -> list[Diagnostic]:
    """The interior's boxes, fonts, page count and what KDP refuses; what is
    drawn where the printer trims; with `resolution`, images under MIN_DPI
    (the build says that itself, at the manuscript's line)."""
    import pikepdf

    shown = shown or pdf_path
    found: list[Diagnostic] = _placed(pdf_path, shown, resolution)
    with pikepdf.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            found += _boxes(page, spec.trim, number, shown)
        found += _common(pdf, spec, shown)
        if len(pdf.pages) < spec.profile.min_pages:
            found.append(error("P005", f"{len(pdf.pages)} pages; {spec.profile.name} prints at least "
                                       f"{spec.profile.min_pages}",
                               hint="build with pipeline build --print, which pads the interior", path=shown))
    return found


def preflight_cover(pdf_path: Path, spec: PrintSpec, pages: int, shown: Path | None = None) -> list[Diagnostic]:
    """The cover: one page whose trim is back + spine + front for `pages`."""
    import pikepdf

    shown = shown or pdf_path
    width, height = spec.cover_size(pages)
    trim = (width - 2 * spec.bleed, height - 2 * spec.bleed)
    with pikepdf.open(pdf_path) as pdf:
        found = _common(pdf, spec, shown)
        if len(pdf.pages) != 1:
            found.append(error("P002", f"the cover has {len(pdf.pages)} pages, not one",
                               hint="rebuild it with pipeline build --print", path=shown))
        return found + _boxes(pdf.pages[0], trim, 1, shown, f"for {pages} interior pages")


MIN_DPI = 300  # what printers ask of an image at its printed size
SAFE = 0.25  # inches inside the trim that text keeps clear of (KDP, IngramSpark and Lulu ask at least this)


def _placed(pdf_path: Path, shown: Path, resolution: bool) -> list[Diagnostic]:
    """What the pages draw, against their trim: text closer to the edge than
    SAFE (the cut wanders by up to 1/8 in), an image that runs past the trim
    but stops short of the bleed's edge (a white sliver after the cut), and
    with `resolution` images printed at fewer than MIN_DPI pixels an inch."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    found = []
    document = pdfium.PdfDocument(pdf_path)
    try:
        for index in range(len(document)):
            page = document[index]
            trim, bleed = page.get_trimbox(), page.get_bleedbox()
            closest, short, dpi = SAFE, None, float(MIN_DPI)
            for item in page.get_objects(filter=(raw.FPDF_PAGEOBJ_TEXT, raw.FPDF_PAGEOBJ_IMAGE)):
                bounds = item.get_bounds()
                if item.type == raw.FPDF_PAGEOBJ_TEXT:
                    closest = min(closest, _inside(bounds, trim))
                    continue
                short = short if short is not None else _short_of_bleed(bounds, trim, bleed)
                if resolution:
                    meta = item.get_metadata()
                    dpi = min(dpi, meta.horizontal_dpi or dpi, meta.vertical_dpi or dpi)
            found += _page_problems(index + 1, closest, short, dpi, shown)
    finally:
        document.close()
    return found


def _inside(bounds, trim) -> float:
    """How far (inches) a box stays inside the trim, at its closest edge."""
    left, bottom, right, top = bounds
    return min(left - trim[0], bottom - trim[1], trim[2] - right, trim[3] - top) / POINTS


def _short_of_bleed(bounds, trim, bleed) -> float | None:
    """For an image that crosses the trim on some side, how far (inches) it
    stops short of the bleed's edge there; None if it crosses nowhere or
    reaches the edge everywhere it crosses."""
    gaps = [(bounds[i] - bleed[i]) if i < 2 else (bleed[i] - bounds[i])
            for i in range(4) if (bounds[i] < trim[i] if i < 2 else bounds[i] > trim[i])]
    worst = max(gaps, default=0.0) / POINTS
    return worst if worst > 0.01 else None


def _page_problems(number: int, closest: float, short: float | None, dpi: float, shown: Path) -> list[Diagnostic]:
    found = []
    if closest < SAFE - 0.01:
        found.append(warning("P009", f"interior page {number}: text stands {max(closest, 0):.2f} in from the "
                                     f"trim edge; printers ask {SAFE} in (the cut may wander)",
                             hint="widen the page margins in print.css, or move the margin boxes inwards",
                             path=shown))
    if short is not None:
        found.append(warning("P010", f"interior page {number}: an image runs past the trim but stops "
                                     f"{short:.2f} in short of the bleed's edge: a white sliver may show",
                             hint="let a full-bleed image reach the page edge, or keep it inside the trim",
                             path=shown))
    if dpi < MIN_DPI - 0.5:
        found.append(warning("P008", f"interior page {number}: an image prints at {dpi:.0f} dpi; printers ask "
                                     f"for {MIN_DPI}",
                             hint=f"use an image of at least {MIN_DPI} pixels an inch at its printed width, "
                                  "or print it smaller", path=shown))
    return found


def _boxes(page, trim: tuple[float, float], number: int, shown: Path, why: str = "") -> list[Diagnostic]:
    missing = [box for box in ("/TrimBox", "/BleedBox") if box not in page.obj]
    if missing:
        return [error("P002", f"page {number} has no {' or '.join(b[1:] for b in missing)}",
                      hint="rebuild with pipeline build --print: the printer trims by these boxes", path=shown)]
    x0, y0, x1, y1 = (float(v) / POINTS for v in page.obj["/TrimBox"])
    size = (abs(x1 - x0), abs(y1 - y0))
    if any(abs(a - b) > TOLERANCE for a, b in zip(size, trim)):
        return [error("P002", f"page {number} is trimmed to {size[0]:.3f} × {size[1]:.3f} in, not "
                              f"{trim[0]:.3f} × {trim[1]:.3f} in {why}".rstrip(),
                      hint="rebuild with pipeline build --print after changing the book", path=shown)]
    return []


def _common(pdf, spec: PrintSpec, shown: Path) -> list[Diagnostic]:
    """Output intent and version key, embedded fonts, and what KDP refuses."""
    found = []
    intents = [i for i in pdf.Root.get("/OutputIntents", []) if i.get("/S") == "/GTS_PDFX"
               and "/DestOutputProfile" in i]
    with pdf.open_metadata() as xmp:
        version = xmp.get("pdfxid:GTS_PDFXVersion") or str(pdf.docinfo.get("/GTS_PDFXVersion", ""))
    if not intents or not version:
        found.append(error("P006", "no PDF/X output intent" if not intents else "no GTS_PDFXVersion",
                           hint="rebuild with pipeline build --print (PDF/X-4)", path=shown))
    for number, page in enumerate(pdf.pages, 1):
        for name in sorted(_unembedded(page.obj.get("/Resources"), set())):
            found.append(error("P003", f"page {number}: the font {name} is not embedded",
                               hint="printers refuse PDFs with fonts not embedded", path=shown))
        if spec.profile.no_links and "/Annots" in page.obj:
            found.append(error("P004", f"page {number} has {len(page.obj['/Annots'])} annotation(s) (links)",
                               hint=f"{spec.profile.name} refuses annotations; rebuild with pipeline build --print",
                               path=shown))
    if spec.profile.no_links and "/Outlines" in pdf.Root:
        found.append(error("P004", "the PDF has bookmarks (an outline)",
                           hint=f"{spec.profile.name} refuses bookmarks; rebuild with pipeline build --print",
                           path=shown))
    return found


def _unembedded(resources, seen: set) -> set[str]:
    """Base names of the fonts under `resources` (and its forms') without a font file."""
    if resources is None:
        return set()
    names = set()
    for font in (resources.get("/Font") or {}).values():
        if font.objgen in seen:
            continue
        seen.add(font.objgen)
        described = font["/DescendantFonts"][0] if "/DescendantFonts" in font else font
        if font.get("/Subtype") == "/Type3":
            names |= _unembedded(font.get("/Resources"), seen)
            continue
        descriptor = described.get("/FontDescriptor")
        if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            names.add(str(font.get("/BaseFont", "?"))[1:])
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
            seen.add(xobject.objgen)
            names |= _unembedded(xobject.get("/Resources"), seen)
    return names
