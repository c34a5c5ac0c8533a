"""Parallel layout of a long booklet: chunks of articles in worker processes.

WeasyPrint lays a document out in one thread, at a cost that grows with the
document. A long booklet is therefore cut at article boundaries into one
chunk per worker, and each chunk is laid out as a document of its own:

- every article opens on a right-hand page, so each chunk starts on one;
  a chunk with an odd page count gets a blank verso, as in one document;
- a chunk's folios start at its first article's page number, and its
  openers print the page numbers of its sections: both come from the pages
  dict (the previous build's numbers, else a first pass without numbers),
  and the chunks are laid out again until the numbers hold, as in pdf.py;
- the front matter (cover, title, notice, contents) is laid out last, with
  the final numbers; its contents links point at a placeholder URL that the
  merge turns into links to the articles' named destinations;
- pypdf joins the parts, keeping each part's bookmarks and destinations, and
  the page labels are written for the whole; pikepdf packs the result.
"""

from __future__ import annotations

import io
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject, NameObject, TextStringObject

from ..model import PageBreak, RenderedArticle, RenderedBook
from . import ExportContext

LINK_BASE = "https://pipeline.invalid/chunk"
MAX_PASSES = 4


@dataclass(frozen=True)
class ChunkResult:
    pdf: bytes
    page_count: int
    local_pages: dict[str, int]  # anchor -> page index within the chunk
    breaks: tuple[PageBreak, ...]  # labels relative to the chunk's first page (1, 2, ...)
    warnings: tuple[str, ...]


def partition(articles: tuple[RenderedArticle, ...], parts: int) -> list[tuple[RenderedArticle, ...]]:
    """Contiguous chunks of about equal text length."""
    sizes = [len(item.body_html) + 2000 for item in articles]
    total, chunks, current, filled = sum(sizes), [], [], 0
    for item, size in zip(articles, sizes):
        current.append(item)
        filled += size
        if filled >= total * (len(chunks) + 1) / parts and len(chunks) < parts - 1:
            chunks.append(tuple(current))
            current = []
    if current:
        chunks.append(tuple(current))
    return chunks


def layout_chunk(book: RenderedBook, chunk: tuple[RenderedArticle, ...], first_page: int,
                 pages: dict[str, str], context: ExportContext, variant: dict[str, str]) -> ChunkResult:
    """Lay out one chunk (in a worker process) and report what the merge needs."""
    from .pdf import _captured_warnings, _html, _layout, anchor_pages, page_breaks

    with _captured_warnings() as messages:
        html = _html(book, context, pages, part="body", articles=chunk)
        source, document = _layout(html, book, variant, first_page=first_page)
        out = io.BytesIO()
        document.write_pdf(out, **variant)
    local = anchor_pages(document, chunk)
    sub_book = replace(book, articles=chunk)
    return ChunkResult(out.getvalue(), len(document.pages), local,
                       page_breaks(document, source.etree_element, sub_book, 0), tuple(messages))


def _numbers(chunks, results: list[ChunkResult]) -> tuple[dict[str, str], list[int]]:
    """Printed page numbers from the chunks' own pages, and each chunk's first page."""
    pages, starts, next_page = {}, [], 1
    for index, result in enumerate(results):
        starts.append(next_page)
        for anchor, local in result.local_pages.items():
            pages[anchor] = str(next_page + local)
        count = result.page_count
        if index < len(results) - 1 and count % 2:
            count += 1  # the blank verso before the next chunk's first opener
        next_page += count
    return pages, starts


def export_chunked(book: RenderedBook, target, context: ExportContext, variant: dict[str, str], jobs: int):
    """Lay out `book` in parallel chunks and write the joined PDF to `target`.

    Returns (front page count, page numbers, page breaks, warnings).
    """
    chunks = partition(book.articles, jobs)
    pages = dict(context.page_guess)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for _ in range(MAX_PASSES):
            starts = [int(pages.get(chunk[0].anchor, "1") or 1) for chunk in chunks]
            results = list(pool.map(layout_chunk, [book] * len(chunks), chunks, starts,
                                    [pages] * len(chunks), [context] * len(chunks), [variant] * len(chunks)))
            actual, real_starts = _numbers(chunks, results)
            if actual == pages and real_starts == starts:
                break
            pages = actual
    front_pdf, front_count, warnings = _layout_front(book, context, pages, variant)
    breaks = _global_breaks(chunks, results, real_starts, book)
    _merge(front_pdf, results, target, front_count, book, context)
    warnings += [message for result in results for message in result.warnings]
    return front_count, pages, breaks, warnings


def _layout_front(book: RenderedBook, context: ExportContext, pages: dict[str, str], variant):
    from .pdf import _captured_warnings, _html, _layout

    with _captured_warnings() as messages:
        source, document = _layout(_html(book, context, pages, part="front", link_base=LINK_BASE), book, variant)
        out = io.BytesIO()
        document.write_pdf(out, **variant)
    count = len(document.pages)
    return out.getvalue(), count + count % 2, list(messages)


def _global_breaks(chunks, results: list[ChunkResult], starts: list[int], book: RenderedBook):
    """The chunks' page breaks in the book's numbering and article indexes."""
    index_of = {item.anchor: number for number, item in enumerate(book.articles)}
    breaks: list[PageBreak] = []
    for chunk, result, start in zip(chunks, results, starts):
        offset = index_of[chunk[0].anchor]
        if breaks and int(breaks[-1].label) < start - 1:  # the blank verso before this chunk
            breaks.append(PageBreak(str(start - 1), offset, 0, 0))
        breaks += [replace(b, label=str(int(b.label) + start - 1), article=b.article + offset)
                   for b in result.breaks]
    return tuple(breaks)


def _merge(front_pdf: bytes, results: list[ChunkResult], target, front_count: int,
           book: RenderedBook, context: ExportContext) -> None:
    from .pdf import _identifier

    writer = PdfWriter()
    front = PdfReader(io.BytesIO(front_pdf))
    writer.append(front, import_outline=True)
    width, height = front.pages[0].mediabox.width, front.pages[0].mediabox.height
    if len(front.pages) % 2:
        writer.add_blank_page(width, height)
    for index, result in enumerate(results):
        writer.append(PdfReader(io.BytesIO(result.pdf)), import_outline=True)
        if index < len(results) - 1 and result.page_count % 2:
            writer.add_blank_page(width, height)
    _resolve_contents_links(writer, front_count)
    writer.add_metadata({k: v for k, v in (front.metadata or {}).items()})
    _page_labels(writer, front_count)
    writer._root_object[NameObject("/Lang")] = TextStringObject(book.book.config.language)
    identifier = ByteStringObject(_identifier(book.book.config, context))
    writer._ID = ArrayObject([identifier, identifier])  # as the one-piece PDF: stable, not random
    merged = io.BytesIO()
    writer.write(merged)
    _pack(merged, target)


def _pack(merged: io.BytesIO, target) -> None:
    """Save with object streams, as WeasyPrint does: pypdf writes thousands of
    links, bookmarks and destinations as separate objects (+60 % in size)."""
    import pikepdf

    with pikepdf.open(merged) as pdf:
        pdf.save(target, object_stream_mode=pikepdf.ObjectStreamMode.generate, deterministic_id=True)


def _resolve_contents_links(writer: PdfWriter, front_count: int) -> None:
    """Contents links (placeholder URLs) become links to the named destinations."""
    for page in writer.pages[:front_count]:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            action = annotation.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if uri.startswith(LINK_BASE + "#"):
                del annotation["/A"]
                annotation[NameObject("/Dest")] = TextStringObject(uri.split("#", 1)[1])


def _page_labels(writer: PdfWriter, front_count: int) -> None:
    writer.set_page_label(0, front_count - 1, style="/r")
    writer.set_page_label(front_count, len(writer.pages) - 1, style="/D", start=1)
