"""The booklet's HTML: the rendered book in `styles/templates/booklet.html`,
with each footnote moved to its call (CSS `float: footnote` then sets it at
the foot of the page where it is called), and each formula's MathML, which
WeasyPrint does not draw, swapped for the SVG the renderer made of it. No
layout here (see `engine`).
"""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from urllib.parse import unquote

from lxml import etree
from markupsafe import Markup, escape

from ...fonts import book_fonts, font_choice, pdf_css
from ...styles import direction
from ...model import BookConfig, Formula, RenderedArticle, RenderedBook
from ...styles import book_labels, render_template
from ...xhtml import (footnote_backlinks, footnote_blocks, footnote_calls, has_footnotes, parse_fragment,
                     serialize_children)
from .. import ExportContext
from ..embeds import embed_address, qr_svg


def booklet_html(rendered: RenderedBook, context: ExportContext, pages: dict[str, str], part: str = "all",
          articles: tuple[RenderedArticle, ...] | None = None, link_base: str = "",
          interior: bool = False) -> str:
    """The booklet's HTML; `interior`: for the printer, without the cover
    page (the cover is a file of its own: printing.py)."""
    config = rendered.book.config
    root = rendered.book.root.resolve()
    words = book_labels(config)
    articles = rendered.articles if articles is None else articles  # notes already at their calls
    if part != "front":
        digits, targets = page_digits(rendered), {target for item in rendered.articles for target in item.targets}
        articles = tuple(with_reference_pages(item, pages, words["page_reference"], digits, targets)
                         for item in articles)
    return render_template(
        "booklet.html",
        book=rendered.book,
        config=config,
        part=part,
        link_base=link_base,
        articles=articles,
        numbered=len(rendered.articles) > 1,  # the book's count, not the chunk's
        meta=meta(config, context),
        labels=words,
        direction=direction(config.language),
        font_css=Markup(pdf_css(book_fonts(rendered.book, words), font_choice(rendered.book), rendered.book.root)),
        cover_src=rendered.book.cover.relative_to(root).as_posix() if rendered.book.cover else "",
        logo_src=rendered.book.logo.relative_to(root).as_posix() if rendered.book.logo else "",
        compact=rendered.book.compact,
        download=download_page(rendered) if rendered.book.download else "",
        interior=interior,
        pages=pages,
    )


WIDE_PAGES = ("A4", "Letter")  # a download on these is set with wider margins and larger type (print.css)


def download_page(rendered: RenderedBook) -> str:
    """The page a download is set on (print.css, "Download layout"): the
    measure of a narrow page (A5, 6in 9in), or of a wide one (A4, Letter)."""
    return "download-wide" if rendered.book.config.pdf_page_size in WIDE_PAGES else "download"


# A reference's link, as render/xref.py writes it (`href` may then name another chunk),
# or a link to another article (class "xref article-link", then data-article: render/articles.py).
_REFERENCE = re.compile(r'<a class="xref(?: [^"]*)?" href="([^"]*)"[^>]*>')


def page_digits(rendered: RenderedBook) -> int:
    """The digits a reference's page is given room for: 2 where the book
    cannot reach page 100, else 3. Read from the content, not from a layout
    (the body's layout must not depend on page numbers), and generously:
    a page for every 600 characters of markup (an A5 page of text holds
    three times as many), every image, every 8 table rows and 20 code lines,
    and 3 per article (opener, last page, a blank verso). A number longer
    than its room is set tighter by the furniture (print.css)."""
    pages = 0.0
    for item in rendered.articles:
        body = item.body_html
        pages += 3 + len(body) / 600 + body.count("<img") + body.count("<tr") / 8 + body.count("\n") / 20
    return 2 if pages < 100 else 3


def with_reference_pages(item: RenderedArticle, pages: dict[str, str], words: str,
                         digits: int = 3, targets: set[str] | None = None) -> RenderedArticle:
    """Each reference gets the page of its target: `data-page` (the number,
    empty while unknown) and `data-page-text` (", page 14"), which print.css
    sets after the reference. The body is laid out with the numbers unknown:
    then the text holds the widest number of `digits` ("88") and is hidden,
    a slot of fixed width that the page furniture prints into (furniture.py),
    so the body's layout never depends on a page number. A reference to an
    element outside the booklet (`targets`: a per-article booklet's other
    articles) gets no page."""
    if 'class="xref' not in item.body_html:
        return item

    def slot(match: re.Match) -> str:
        target = unquote(match.group(1).partition("#")[2])  # a heading's id may be percent-encoded in its link
        if targets is not None and target not in targets:
            return match.group(0)
        number = pages.get(target, "")
        text = words.replace("{n}", number or "8" * digits).replace(" ", "\u00a0")
        return f'{match.group(0)[:-1]} data-page="{number}" data-page-text="{escape(text)}">'

    return replace(item, body_html=Markup(_REFERENCE.sub(slot, item.body_html)))


def meta(config: BookConfig, context: ExportContext) -> dict[str, str]:
    return {
        "generator": f"pipeline {context.version}",
        "timestamp": context.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "identifier": config.identifier,
    }


SHORT_TABLE_ROWS = 8  # a table of up to this many rows is kept on one page
SHORT_TABLE_TEXT = 1200  # characters: about half an A5 page of table text


def with_short_tables_kept(item: RenderedArticle) -> RenderedArticle:
    """Mark tables of up to SHORT_TABLE_ROWS rows and SHORT_TABLE_TEXT
    characters `keep-together` (print.css: never split across pages); a
    longer one may break, its head repeated. (A few rows of long cells can
    be taller than a page: kept together, they would move to the next page,
    break there all the same, and leave their caption alone behind.)"""
    if "<table" not in item.body_html:
        return item
    root = parse_fragment(item.body_html)
    changed = False
    for table in root.iter("table"):
        if len(table.xpath(".//tr")) <= SHORT_TABLE_ROWS and len("".join(table.itertext())) <= SHORT_TABLE_TEXT:
            table.set("class", " ".join(filter(None, [table.get("class"), "keep-together"])))
            changed = True
    return replace(item, body_html=Markup(serialize_children(root))) if changed else item


def with_footnotes_at_calls(item: RenderedArticle) -> RenderedArticle:
    """Move each footnote next to its call, as a `float: footnote` span.

    The call keeps its link to the note, and the note's number links back to
    the call (the screen's "↩" back-link means nothing on paper).
    """
    if not has_footnotes(item.body_html):
        return item
    root = parse_fragment(item.body_html)
    blocks = footnote_blocks(root)
    notes = {li.get("id"): li for _, items in blocks for li in items}
    # A note called twice is set at its first call; the later calls link to it.
    for call, link in footnote_calls(root):
        note = notes.pop((link.get("href") or "")[1:], None)
        if note is None:
            continue
        for back in footnote_backlinks(note):
            _remove_keeping_tail(back)
        span = etree.Element("span", {"class": "footnote-note", "id": note.get("id")})
        number = etree.SubElement(span, "a", {"class": "footnote-number", "href": f"#{call.get('id')}"})
        number.text = link.text
        _move_inline(note, span)
        call.addnext(span)
        span.tail, call.tail = call.tail, None
    for block, _ in blocks:
        block.getparent().remove(block)
    return replace(item, body_html=Markup(serialize_children(root)))


MATH = "{http://www.w3.org/1998/Math/MathML}math"


def with_math_images(item: RenderedArticle) -> RenderedArticle:
    """Each <math> becomes an <img> of its SVG (a data: URI: one self-contained
    image per formula, whose glyph ids cannot clash with another's, served
    only after the image checks; see engine.BookFetcher), sized in em so that
    it follows the text's size, its baseline on the text's, its TeX the alt
    text (PDF/UA) and never the PDF's text."""
    if not item.formulas:
        return item
    drawn = {(formula.tex, formula.display): formula for formula in item.formulas}
    root = parse_fragment(item.body_html)
    for heading in root.iter("h2", "h3", "h4", "h5", "h6"):
        if next(heading.iter(MATH), None) is not None:  # its bookmark: the formula's TeX, not nothing
            heading.set("data-bookmark", " ".join(_text_with_tex(heading).split()))
    for math in list(root.iter(MATH)):
        formula = drawn.get((math.get("alttext") or "", math.get("display") == "block"))
        if formula is None:
            continue
        image = etree.Element("img", {"class": "math-display" if formula.display else "math-inline",
                                      "src": _data_uri(formula), "alt": formula.tex,
                                      "style": _math_style(formula)})
        image.tail = math.tail
        math.getparent().replace(math, image)
    return replace(item, body_html=Markup(serialize_children(root)))


def with_embed_codes(item: RenderedArticle) -> RenderedArticle:
    """An embedded video, post or gist of a website (`<p class="embed">`,
    render/dialects.py) cannot play on paper: the booklet prints a QR code of
    its address beside the link, so that a reader of paper can open it with
    a phone (export/embeds.py; an SVG data: URI, served as formulas are)."""
    if 'class="embed"' not in item.body_html:
        return item
    root = parse_fragment(item.body_html)
    for card in root.iter("p"):
        address = embed_address(card)
        if address:
            etree.SubElement(card, "img", {"class": "embed-code", "src": _svg_uri(qr_svg(address)),
                                            "alt": f"QR code: {address}"})
    return replace(item, body_html=Markup(serialize_children(root)))


def _svg_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _text_with_tex(element: etree._Element) -> str:
    """The text inside `element`, each formula as its TeX (a bookmark holds text only)."""
    if element.tag == MATH:
        return element.get("alttext") or ""
    return (element.text or "") + "".join(_text_with_tex(child) + (child.tail or "") for child in element)


def _data_uri(formula: Formula) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(formula.svg.encode("utf-8")).decode("ascii")


def _math_style(formula: Formula) -> str:
    """Its width in em (its height follows from the SVG's proportions, so
    print.css can shrink a formula wider than the measure); an inline
    formula's depth below the baseline."""
    if formula.display:
        return f"width: {formula.width:g}em"
    # A formula that sits above the baseline ('=', '∞') has no depth, or a negative one: then
    # `-{depth}` would write '--0.1em', which CSS ignores; `{-depth}` writes '0.1em'.
    # No height: the SVG's own proportions give it, so that print.css may shrink a formula too wide for the line.
    return f"width: {formula.width:g}em; vertical-align: {-formula.depth + 0:g}em"


def _remove_keeping_tail(element: etree._Element) -> None:
    """Remove `element` (and the space before it); its tail text stays."""
    parent, previous = element.getparent(), element.getprevious()
    tail = element.tail or ""
    if previous is not None:
        previous.tail = (previous.tail or "").rstrip() + tail
    else:
        parent.text = (parent.text or "").rstrip() + tail
    parent.remove(element)


def _move_inline(note: etree._Element, span: etree._Element) -> None:
    """Move a note's paragraphs into `span` as inline content (a span holds no <p>).

    Other blocks (lists, code, quotes, tables) become spans too, classed
    `note-<tag>` and set as blocks by print.css: a block element inside a
    <span> would make the HTML parser close the paragraph of the call.
    """
    for index, block in enumerate(list(note)):
        if index:
            _append_text(span, " ")
        if block.tag == "p":
            _append_text(span, block.text or "")
            for child in list(block):
                span.append(child)
        else:
            span.append(block)
    for element in span.iter():
        if element.tag in NOTE_BLOCKS:
            element.set("class", " ".join(filter(None, [f"note-{element.tag}", element.get("class")])))
            element.tag = "span"


# Block elements a footnote may hold, set as spans inside the note (see print.css).
NOTE_BLOCKS = {"p", "ul", "ol", "li", "dl", "dt", "dd", "pre", "blockquote", "div", "figure", "figcaption",
               "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "hr", "h1", "h2", "h3",
               "h4", "h5", "h6", "section", "aside", "header", "footer", "nav", "article", "details",
               "summary"}


def _append_text(parent: etree._Element, text: str) -> None:
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text
