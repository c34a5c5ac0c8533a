"""PDF booklet exporter: the rendered book laid out by WeasyPrint with
`styles/print.css`, each page once.

The modules share the work: `booklet` makes the HTML (the template, and
each footnote moved to its call so CSS `float: footnote` can set it at the
foot of the page); `parts` cuts the booklet into documents (the body in
chunks, the front matter, the furniture: `furniture`); `runner` lays them
out, from the cache or in worker processes; `engine` is the one module that
talks to WeasyPrint; `join` puts the laid-out parts together with pikepdf.
This one runs them in order: the body (with the front matter beside it when
the last build's page numbers are a guess), then what prints the numbers.

Tagged (PDF/UA) and archival (PDF/A) variants are laid out as one document
instead: their structure tree and output intent would have to be joined
across parts, which pikepdf cannot do for a structure tree (its marked-
content ids and parent tree are per document). That document prints its
numbers from a guess and is laid out again until they hold.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ...cache import Store
from ...model import RenderedBook
from ...styles import is_rtl
from ...xhtml import article_for_html_parser
from .. import PAGE_NUMBERS, PAGINATION, ExportContext, Exported
from ..images import pdf_images
from .booklet import (booklet_html, with_embed_codes, with_footnotes_at_calls, with_math_images,
                      with_short_tables_kept)
from .engine import (
    PageLabels,
    ProjectFonts,
    anchor_pages,
    articles_named,
    front_page_count,
    identifier,
    layout,
    layout_session,
    page_breaks,
    renderer_warnings,
    stylesheets,
)
from .furniture import needs_whole_document
from .parts import LINK_BASE, Laid, body_parts, front_part, furniture_parts, global_breaks, numbers
from .runner import Keys, Runner


class PdfExporter:
    name = "pdf"
    suffix = ".pdf"
    provides = (PAGINATION, PAGE_NUMBERS)
    uses = (PAGE_NUMBERS,)  # the last build's numbers: the first guess for the contents

    def export(self, rendered: RenderedBook, target: Path, context: ExportContext) -> Exported:
        config = rendered.book.config
        rendered = prepared(rendered)
        variant = {} if config.pdf_variant == "none" else {"pdf_variant": config.pdf_variant}
        context.progress.start("sizing images for print")
        images = pdf_images(rendered, Store(context.image_cache) if context.image_cache else None, context.version)
        with layout_session(context.timestamp, context.layout.time_limit, "the PDF", rendered) as session:
            if not one_document(variant, rendered):
                pages, breaks, found = _in_parts(rendered, target, context, variant, images)
                session.messages += found
                facts = {PAGINATION: breaks, PAGE_NUMBERS: pages}
            else:
                source, document, front, pages = layout_with_page_numbers(rendered, context, variant, session.messages,
                                                                           session.fonts, images)
                address = rendered.articles[0].article.url if rendered.book.download else ""
                document.write_pdf(target, finisher=PageLabels(front, is_rtl(config.language), address),
                                   pdf_identifier=identifier(config, context), custom_metadata=True, **variant)
                facts = {PAGINATION: page_breaks(document, source.etree_element, rendered, front), PAGE_NUMBERS: pages}
        if session.failure is not None:
            return Exported((session.failure,))
        return Exported(tuple(renderer_warnings(session.messages, rendered.book.root)), facts)


MAX_LAYOUTS = 4


def prepared(rendered: RenderedBook) -> RenderedBook:
    """The articles as the booklet sets them (footnotes at their calls...):
    once per export, not per layout pass: every pass and chunk reuses it."""
    return replace(rendered, articles=tuple(article_for_html_parser(with_short_tables_kept(
        with_footnotes_at_calls(with_embed_codes(with_math_images(item))))) for item in rendered.articles))


def one_document(variant: dict[str, str], rendered: RenderedBook) -> bool:
    """Lay the booklet out as one document? For the tagged and archival
    variants (see above), and for a design whose folios need the whole
    document at once (`furniture.needs_whole_document`): slower, but right.
    And for a per-article download: one article, and no page of front
    matter or blank verso between the parts to join."""
    return bool(variant) or rendered.book.download or needs_whole_document([text for text, _ in stylesheets(rendered)])


def _in_parts(rendered: RenderedBook, target: Path, context: ExportContext, variant: dict[str, str],
              images: dict[Path, bytes]):
    """Lay `book` out in parts, each page once, and join them into `target`.
    `images`: the print-sized bytes of its images (export/images.py).

    Returns (page numbers, page breaks, warnings).
    """
    store = Store(context.layout.cache_dir) if context.layout.cache_dir else None
    guess = dict(context.facts.get(PAGE_NUMBERS, {}))
    with Runner(context, variant, store, Keys(rendered, context, variant), images=images) as run:
        bodies = body_parts(rendered, context)
        guessed = [front_part(rendered, guess, context)] if guess else []
        laid = run(bodies + guessed, "laying out the PDF")
        bodies_laid = laid[:len(bodies)]
        pages, starts = numbers(bodies_laid)
        late = furniture_parts(rendered, bodies_laid, pages, starts)
        if guess != pages:  # the front matter printed a wrong guess (or none): again, with the numbers
            late.append(front_part(rendered, pages, context))
        late_laid = run(late, "numbering the pages")
        furniture = late_laid[:len(bodies)]
        front = late_laid[len(bodies)] if len(late_laid) > len(bodies) else laid[-1]
        context.progress.start("joining the PDF")
        _join(rendered, context, front, bodies_laid, furniture, target)
        if store is not None:
            store.keep_only(run.used)
    warnings = [m for part in (front, *bodies_laid, *furniture) for m in part.warnings]
    return pages, global_breaks(rendered, bodies_laid, starts), warnings


def _join(rendered: RenderedBook, context: ExportContext, front: Laid, bodies: list[Laid], furniture: list[Laid],
          target: Path) -> None:
    from .join import join

    front_count = front.page_count + front.page_count % 2
    parts = [front.pdf, *(laid.pdf for laid in bodies)]
    blank_after = [front.page_count % 2 == 1] + [i < len(bodies) - 1 and laid.page_count % 2 == 1
                                                 for i, laid in enumerate(bodies)]
    join(parts, blank_after, [laid.pdf for laid in furniture], front_count, rendered.book.config.language, LINK_BASE,
         identifier(rendered.book.config, context), target)


def layout_with_page_numbers(rendered: RenderedBook, context: ExportContext, variant: dict[str, str],
                              messages: list[str], fonts: ProjectFonts, images: dict[Path, bytes] | None = None,
                              extra_css: str = "", interior: bool = False):
    """Lay out as one document with the printed page numbers filled in as text.

    The numbers start from a guess (the previous build's, else none), are
    read back from the laid-out pages, and the book is laid out again until
    they hold: usually once on a rebuild, twice on a first build.
    """
    pages = dict(context.facts.get(PAGE_NUMBERS, {}))
    for _ in range(MAX_LAYOUTS):
        source, document = layout(booklet_html(rendered, context, pages, interior=interior), rendered, variant, fonts,
                                  extra_css, images=images)
        front = front_page_count(document, rendered)
        actual = _target_pages(document, rendered, front)
        if actual == pages:
            break
        pages = actual
    else:
        messages.append("contents page numbers did not settle; some may be off by a page")
    return source, document, front, pages


def _target_pages(document, rendered: RenderedBook, front: int) -> dict[str, str]:
    """Printed page number of each article and section start."""
    return {anchor: str(index - front + 1)
            for anchor, index in anchor_pages(document, rendered.articles, front).items()}


