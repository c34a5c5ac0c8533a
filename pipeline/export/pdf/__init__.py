"""PDF booklet exporter: the rendered book in one HTML document, laid out by
WeasyPrint with `styles/print.css`.

Three modules share the work: `booklet` makes the HTML (the template, and
each footnote moved to its call so CSS `float: footnote` can set it at the
foot of the page); `engine` is the one module that talks to WeasyPrint
(fetching, fonts, layout, page labels, reading laid-out pages back); this one
decides how to lay the book out: in one piece until the contents' page
numbers hold, or in chunks (`chunks`) for a long book.
"""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

from ...diagnostics import error, warning
from ...model import RenderedBook
from ...styles import is_rtl
from ...xhtml import article_for_html_parser
from .. import PAGE_NUMBERS, PAGINATION, ExportContext, Exported, holding_source_date
from .booklet import booklet_html, with_footnotes_at_calls, with_short_tables_kept
from .engine import (
    FetchRefused,
    PageLabels,
    TimeLimit,
    anchor_pages,
    captured_warnings,
    front_page_count,
    identifier,
    layout,
    page_breaks,
    time_limit,
)
from .chunks import export_chunked


class PdfExporter:
    name = "pdf"
    suffix = ".pdf"
    provides = (PAGINATION, PAGE_NUMBERS)
    uses = (PAGE_NUMBERS,)  # the last build's numbers: the first guess for the contents

    def export(self, book: RenderedBook, target: Path, context: ExportContext) -> Exported:
        config = book.book.config
        # Once per export, not per layout pass: every pass and chunk reuses it.
        book = replace(book, articles=tuple(article_for_html_parser(with_short_tables_kept(
            with_footnotes_at_calls(item))) for item in book.articles))
        variant = {} if config.pdf_variant == "none" else {"pdf_variant": config.pdf_variant}
        with captured_warnings() as messages, holding_source_date(context.timestamp):
            try:
                with time_limit(context.layout.time_limit):
                    if _chunked(book, variant):
                        front, pages, breaks, found = export_chunked(book, target, context, variant)
                        messages += found
                        return Exported(tuple(warning("X001", f"WeasyPrint: {m}") for m in messages),
                                        {PAGINATION: breaks, PAGE_NUMBERS: pages})
                    source, document, front, pages = _layout_with_page_numbers(book, context, variant, messages)
                    document.write_pdf(target, finisher=PageLabels(front, is_rtl(config.language)),
                                       pdf_identifier=identifier(config, context), **variant)
            except TimeLimit:
                return Exported((error("X003", f"laying out the PDF took more than {context.layout.time_limit:g} s",
                                       hint="look for very long tables or lines; or raise --time-limit"),))
            except FetchRefused as exc:
                return Exported((error("R002", f"resource refused: {exc}", path=book.book.config_path),))
            except BrokenProcessPool:
                return Exported((error("X005", "a layout worker process died (out of memory?)",
                                       hint="try --jobs 1, or free memory"),))
        return Exported(tuple(warning("X001", f"WeasyPrint: {message}") for message in messages),
                        {PAGINATION: page_breaks(document, source.etree_element, book, front), PAGE_NUMBERS: pages})


MAX_LAYOUTS = 4
MIN_ARTICLES_FOR_CHUNKS = 16  # below this, one document is as quick, and one layout pass cheap


def _chunked(book: RenderedBook, variant: dict[str, str]) -> bool:
    """Lay out in chunks (chunks.py)? Not tagged or archival PDFs, whose
    structure a join would break, nor short books."""
    return not variant and len(book.articles) >= MIN_ARTICLES_FOR_CHUNKS


def _layout_with_page_numbers(book: RenderedBook, context: ExportContext, variant: dict[str, str],
                              messages: list[str]):
    """Lay out with the printed page numbers of the contents filled in as text.

    The numbers start from a guess (the previous build's, else none), are
    read back from the laid-out pages, and the book is laid out again until
    they hold: usually once on a rebuild, twice on a first build.
    """
    pages = dict(context.facts.get(PAGE_NUMBERS, {}))
    for _ in range(MAX_LAYOUTS):
        source, document = layout(booklet_html(book, context, pages), book, variant)
        front = front_page_count(document, book)
        actual = _target_pages(document, book, front)
        if actual == pages:
            break
        pages = actual
    else:
        messages.append("contents page numbers did not settle; some may be off by a page")
    return source, document, front, pages


def _target_pages(document, book: RenderedBook, front: int) -> dict[str, str]:
    """Printed page number of each article and section start."""
    return {anchor: str(index - front + 1)
            for anchor, index in anchor_pages(document, book.articles, front).items()}


