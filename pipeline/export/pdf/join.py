"""Join a booklet laid out in parts (front matter, chunks of articles,
furniture) into one PDF.

pikepdf (qpdf) does the copying: pages with their annotations, bookmarks
and the fonts they use, without holding the documents as Python objects.
The furniture's pages (folios, the openers' page numbers: `furniture.py`)
are laid over the body's as form XObjects. What a merge cannot know is
added here: every part's named destinations (links and bookmarks jump to
them), the contents' links turned from placeholder URLs into links to those
names, the page labels of the whole book, its language, and a stable file
identifier.
"""

from __future__ import annotations

import io
from contextlib import ExitStack
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, NameTree, String

from ...styles import is_rtl


def join(parts: list[bytes], blank_after: list[bool], furniture: list[bytes], front_count: int, language: str,
         link_base: str, identifier: bytes, target: Path) -> None:
    """Write `parts` in order to `target`, a blank page after each part so marked,
    and over the pages of each part after the first, its furniture's pages
    (`furniture[i]` is that of `parts[i + 1]`).

    The first part is the front matter: its document information is the
    book's; its links to `link_base#name` become links to the name.
    """
    with ExitStack() as opened:  # every part stays open until saved: qpdf copies lazily
        # The front matter is the base document (copying it would duplicate
        # what its pages share); the other parts are copied in after it.
        sources = [opened.enter_context(pikepdf.open(io.BytesIO(data))) for data in parts]
        overlays = [opened.enter_context(pikepdf.open(io.BytesIO(data))) for data in furniture]
        _join(sources, blank_after, overlays, front_count, language, link_base, identifier, target)


def _join(sources: list[pikepdf.Pdf], blank_after: list[bool], furniture: list[pikepdf.Pdf], front_count: int,
          language: str, link_base: str, identifier: bytes, target: Path) -> None:
    pdf = sources[0]
    if len(furniture) != len(sources) - 1:
        raise ValueError(f"{len(furniture)} furniture documents for {len(sources) - 1} parts")
    destinations: dict[str, Array] = {}
    for index, (source, blank) in enumerate(zip(sources, blank_after)):
        first = len(pdf.pages)
        if source is not pdf:
            pdf.add_pages_from(source)  # pages, annotations, bookmarks
            _lay_over(pdf, first, len(source.pages), furniture[index - 1])
        else:
            first = 0
        destinations.update(_destinations(pdf, source, first))
        if blank:
            box = source.pages[0].mediabox
            pdf.add_blank_page(page_size=(float(box[2]), float(box[3])))
    names = NameTree.new(pdf)
    for name in sorted(destinations):
        names[name] = destinations[name]
    pdf.Root.Names = Dictionary(Dests=names.obj)
    _link_contents(pdf.pages, (link_base + "#", BODY_LINK))  # the contents; links between two chunks
    pdf.Root.Lang = String(language)
    if is_rtl(language):  # spreads bound on the right, as engine.PageLabels writes it
        pdf.Root.ViewerPreferences = Dictionary(Direction=Name.R2L)
    pdf.Root.PageLabels = Dictionary(Nums=Array([0, Dictionary(S=Name.r), front_count,
                                                 Dictionary(S=Name.D, St=1)]))
    pdf.trailer.ID = Array([String(identifier), String(identifier)])
    # /ID[0] stays the book's identifier; qpdf makes /ID[1] a hash of the content.
    save(pdf, target, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def save(pdf: pikepdf.Pdf, target: Path, **options) -> None:
    """Save `pdf` to `target` (deterministically), failing as Python does.

    qpdf writing to a file that fills the disk throws QPDFSystemError from
    a place pikepdf cannot turn into a Python exception: the process aborts
    (rc 134) before the build can remove its temporary files. So qpdf
    writes to memory (it holds the parts there already; the bytes are the
    same), and Python writes the file: a full disk is an OSError naming
    `target`, which the build reports as X002."""
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True, **options)
    try:
        with open(target, "wb") as stream:
            stream.write(buffer.getbuffer())
    except OSError as exc:
        exc.filename = exc.filename or str(target)  # a failed write names no file
        raise


def _lay_over(pdf: pikepdf.Pdf, first: int, count: int, furniture: pikepdf.Pdf) -> None:
    """Each furniture page drawn over its body page (from page `first` on).

    The furniture's drawing is appended to the page's own content stream,
    its resources renamed with a prefix so that they never meet the body's:
    one stream per page, and no form XObject per page (which cost about 1 %
    of a booklet's size). Empty furniture pages (blank pages, openers
    without numbers) are left out.
    """
    pages = pdf.pages[first:first + count]
    if len(furniture.pages) != len(pages):
        raise ValueError(f"the furniture has {len(furniture.pages)} pages for {len(pages)} body pages")
    copied: dict[tuple[str, str], pikepdf.Object] = {}  # each resource copied once
    for page, over in zip(pages, furniture.pages):
        if "/Font" not in over.obj.get("/Resources", {}):
            continue
        renamed = _merge_resources(pdf, page, furniture, over.obj.Resources, copied)
        drawing = pikepdf.unparse_content_stream(
            [(_renamed(operands, renamed) if str(operator) in _NAMED else operands, operator)
             for operands, operator in pikepdf.parse_content_stream(over)])
        page.contents_coalesce()
        body = page.obj.Contents.read_bytes()
        # The body leaves its own transformation in place: both in q/Q.
        page.obj.Contents = pikepdf.Stream(pdf, b"q\n" + body + b"\nQ\nq\n" + drawing + b"\nQ\n")


# Operators whose operands name resources.
_NAMED = {"Tf", "gs", "cs", "CS", "scn", "SCN", "sh", "Do"}
PREFIX = "Fu"  # of the furniture's resource names


def _merge_resources(pdf: pikepdf.Pdf, page, source: pikepdf.Pdf, furniture: Dictionary,
                     copied: dict[tuple[str, str], pikepdf.Object]) -> dict[str, Name]:
    """The furniture's resources added to a copy of the page's, under new names.

    WeasyPrint names a resource once per document, so (category, name) is
    enough to copy each one once.
    """
    # A copy: WeasyPrint's pages share one resource dictionary.
    resources = Dictionary(dict(page.obj.get(Name.Resources, Dictionary()).items()))
    renamed: dict[str, Name] = {}
    for category, entries in furniture.items():
        merged = Dictionary(dict(resources.get(category, Dictionary()).items()))
        for name, value in entries.items():
            renamed[name] = Name(f"/{PREFIX}{name[1:]}")
            if (category, name) not in copied:  # (qpdf copies only indirect objects)
                copied[category, name] = pdf.copy_foreign(value if value.is_indirect else source.make_indirect(value))
            merged[renamed[name]] = copied[category, name]
        resources[category] = merged
    page.obj[Name.Resources] = resources
    return renamed


def _renamed(operands, renamed: dict[str, Name]) -> list:
    return [renamed.get(str(operand), operand) if isinstance(operand, Name) else operand for operand in operands]


def _destinations(pdf: pikepdf.Pdf, source: pikepdf.Pdf, first: int) -> dict[str, Array]:
    """`source`'s named destinations, pointing at its pages' copies (from `first` on)."""
    if "/Names" not in source.Root or "/Dests" not in source.Root.Names:
        return {}
    index_of = {page.obj.objgen: index for index, page in enumerate(source.pages)}
    found = {}
    for name, target in NameTree(source.Root.Names.Dests).items():
        if isinstance(target, Dictionary):
            target = target.D
        page = index_of.get(target[0].objgen)
        if page is not None:
            found[name] = Array([pdf.pages[first + page].obj, *target[1:]])
    return found


# Placeholder for a link from one chunk's article to another chunk's: not an
# http URL, which print.css would set as a web link.
BODY_LINK = "pipeline-chunk:#"


def _link_contents(pages, prefixes: tuple[str, ...]) -> None:
    """Links to another part (placeholder URLs) become links to named destinations."""
    for page in pages:
        for annotation in page.obj.get("/Annots", []):
            action = annotation.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            prefix = next((p for p in prefixes if uri.startswith(p)), None)
            if prefix is not None:
                del annotation["/A"]
                annotation.Dest = String(uri[len(prefix):])
