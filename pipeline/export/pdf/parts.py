"""The booklet cut into documents to lay out, and what each one's layout tells.

Every booklet is laid out in parts, one path whatever its length:

- the body, in chunks of about six articles (one chunk for a short book):
  each chunk starts on a right-hand page, so its layout depends on its own
  articles only; it prints no page number (see `furniture.py`), so nothing
  in it waits for the chunks before it, and all chunks lay out at once;
- the front matter (cover, title, notice, contents), whose contents print
  the articles' page numbers: laid out beside the body when the previous
  build's numbers are a guess, else after it;
- the furniture, one document per chunk: the folios and the page numbers
  of openers and references, laid over the chunk's pages once its numbers
  are known.

Chunk boundaries depend on the number of articles only, so editing one
article lays out its chunk again and no other.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from markupsafe import Markup

from ...fonts import book_fonts, font_choice, pdf_css
from ...model import PageBreak, RenderedArticle, RenderedBook
from ...styles import book_labels, direction, render_template
from .. import ExportContext
from .booklet import booklet_html, page_digits
from .furniture import FurniturePage, Slot, furniture_articles

LINK_BASE = "https://pipeline.invalid/chunk"  # the front's links to the body, resolved by the join
ARTICLES_PER_CHUNK = 6  # small enough that one edit re-lays out little
MAX_CHUNKS = 24  # each chunk embeds its own font subsets: more would grow the PDF (1.2 × at 300 articles)


@dataclass(frozen=True)
class Part:
    """One document to lay out."""

    kind: str  # "front", "body" or "furniture"
    rendered: RenderedBook  # for a chunk, only its own articles
    html: str
    key: str = ""  # cache key (runner.Keys)
    css: str = ""  # after the stylesheets and the kind's override (a chunk's furniture: its first folio)
    # The bytes served for its images, downsampled for print (export/images.py),
    # by real path; an image not here is served as it is.
    images: dict[Path, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Laid:
    """A laid-out part and what the others need to know of it."""

    pdf: bytes
    page_count: int
    local_pages: dict[str, int]  # anchor -> page index within the part (body)
    breaks: tuple[PageBreak, ...]  # labels relative to the part's first page (1, 2, ...)
    owners: tuple[int | None, ...]  # each page's article (index in the part), None if blank (body)
    slots: tuple[Slot, ...]  # room left for page numbers (body)
    warnings: tuple[str, ...]


def partition(articles: tuple[RenderedArticle, ...]) -> list[tuple[RenderedArticle, ...]]:
    """Contiguous chunks of about ARTICLES_PER_CHUNK articles (at most
    MAX_CHUNKS chunks), their sizes differing by one at most.

    The boundaries depend on the number of articles only, not on their
    length: editing an article never moves them, so the other chunks stay
    in the cache.
    """
    count = max(1, min(math.ceil(len(articles) / ARTICLES_PER_CHUNK), MAX_CHUNKS))
    size, larger = divmod(len(articles), count)
    chunks, start = [], 0
    for index in range(count):
        end = start + size + (index < larger)
        chunks.append(articles[start:end])
        start = end
    return chunks


def body_parts(rendered: RenderedBook, context: ExportContext) -> list[Part]:
    """The body's chunks, each as a document without page numbers."""
    parts = []
    for chunk in partition(rendered.articles):
        chunk = _links_out_of(chunk) if len(chunk) < len(rendered.articles) else chunk
        html = booklet_html(rendered, context, {}, part="body", articles=chunk)
        parts.append(Part("body", replace(rendered, articles=chunk), html))
    return parts


def front_part(rendered: RenderedBook, pages: dict[str, str], context: ExportContext) -> Part:
    """Cover, title, notice and contents, the contents printing `pages`."""
    return Part("front", rendered, booklet_html(rendered, context, pages, part="front", link_base=LINK_BASE))


def furniture_parts(rendered: RenderedBook, bodies: list[Laid], pages: dict[str, str], starts: list[int]) -> list[Part]:
    """The furniture of each chunk: its pages again, with their folios (from
    the chunk's first folio on) and openers' numbers only. One per chunk, so
    they lay out side by side, and an edit that moves no page number lays
    out none of them again."""
    config = rendered.book.config
    words = book_labels(config)
    plan = book_fonts(rendered.book, words)
    common = {"book": rendered.book, "config": config, "direction": direction(config.language),
              "page_reference": words["page_reference"].replace(" ", "\u00a0"), "digits": page_digits(rendered),
              "font_css": Markup(pdf_css(plan, font_choice(rendered.book), rendered.book.root))}
    parts, items = [], iter(rendered.articles)
    for laid, start in zip(bodies, starts):
        count = max((owner for owner in laid.owners if owner is not None), default=-1) + 1
        articles = [{"item": next(items), "pages": furniture or [FurniturePage()]}
                    for furniture in furniture_articles(list(laid.owners), list(laid.slots), pages, count)]
        html = render_template("furniture.html", articles=articles, **common)
        # The chunk's first opener is its document's first article (print.css
        # restarts the folios there): from this chunk's first folio instead.
        css = f"@page chapter-one:nth(1 of chapter-one) {{ counter-reset: page {start}; }}"
        parts.append(Part("furniture", rendered, html, css=css))
    return parts


def numbers(bodies: list[Laid]) -> tuple[dict[str, str], list[int]]:
    """Printed page numbers from the chunks' own pages, and each chunk's first page."""
    pages, starts, next_page = {}, [], 1
    for index, laid in enumerate(bodies):
        starts.append(next_page)
        for anchor, local in laid.local_pages.items():
            pages[anchor] = str(next_page + local)
        count = laid.page_count
        if index < len(bodies) - 1 and count % 2:
            count += 1  # the blank verso before the next chunk's first opener
        next_page += count
    return pages, starts


def global_breaks(rendered: RenderedBook, bodies: list[Laid], starts: list[int]) -> tuple[PageBreak, ...]:
    """The chunks' page breaks in the book's numbering and article indexes."""
    breaks: list[PageBreak] = []
    offset = 0
    for chunk, laid, start in zip(partition(rendered.articles), bodies, starts):
        if breaks and int(breaks[-1].label) < start - 1:  # the blank verso before this chunk
            breaks.append(PageBreak(str(start - 1), offset, 0, 0))
        breaks += [replace(b, label=str(int(b.label) + start - 1), article=b.article + offset)
                   for b in laid.breaks]
        offset += len(chunk)
    return tuple(breaks)


def _links_out_of(chunk: tuple[RenderedArticle, ...]) -> tuple[RenderedArticle, ...]:
    """Links to another chunk's article (`#other--id`) would be dead in this
    chunk's own layout: they get the placeholder URL that the join turns into
    a link to the named destination, as the contents' links do."""
    from .join import BODY_LINK

    ids = {value for item in chunk for value in [item.anchor, *_ID.findall(item.body_html)]}

    def outward(match: re.Match) -> str:
        target = match.group(1)
        return match.group(0) if target in ids else f'href="{BODY_LINK}{target}"'

    return tuple(replace(item, body_html=Markup(_FRAGMENT_LINK.sub(outward, item.body_html))) for item in chunk)


_ID = re.compile(r'\sid="([^"]+)"')
_FRAGMENT_LINK = re.compile(r'href="#([^"]+)"')
