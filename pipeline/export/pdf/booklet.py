"""The booklet's HTML: the rendered book in `styles/templates/booklet.html`,
with each footnote moved to its call (CSS `float: footnote` then sets it at
the foot of the page where it is called). No layout here (see `engine`).
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree
from markupsafe import Markup

from ...fonts import book_text, font_choice, own_font_files, pdf_css, plan_fonts
from ...styles import direction
from ...model import BookConfig, RenderedArticle, RenderedBook
from ...styles import book_labels, render_template
from ...xhtml import (footnote_backlinks, footnote_blocks, footnote_calls, has_footnotes, parse_fragment,
                     serialize_children)
from .. import ExportContext


def booklet_html(book: RenderedBook, context: ExportContext, pages: dict[str, str], part: str = "all",
          articles: tuple[RenderedArticle, ...] | None = None, link_base: str = "",
          interior: bool = False) -> str:
    """The booklet's HTML; `interior`: for the printer, without the cover
    page (the cover is a file of its own: printing.py)."""
    config = book.book.config
    root = book.book.root.resolve()
    words = book_labels(config)
    return render_template(
        "booklet.html",
        design=book.book,
        book=config,
        part=part,
        link_base=link_base,
        articles=book.articles if articles is None else articles,  # notes already at their calls
        numbered=len(book.articles) > 1,  # the book's count, not the chunk's
        meta=meta(config, context),
        labels=words,
        direction=direction(config.language),
        font_css=Markup(pdf_css(plan_fonts(book_text(book.book, words), config.language,
                                           own_font_files(book.book)), font_choice(book.book))),
        cover_src=book.book.cover.relative_to(root).as_posix() if book.book.cover else "",
        logo_src=book.book.logo.relative_to(root).as_posix() if book.book.logo else "",
        compact=book.book.compact,
        interior=interior,
        pages=pages,
    )


def meta(config: BookConfig, context: ExportContext) -> dict[str, str]:
    return {
        "generator": f"pipeline {context.version}",
        "timestamp": context.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "identifier": config.identifier,
    }


SHORT_TABLE_ROWS = 8  # a table of up to this many rows is kept on one page


def with_short_tables_kept(item: RenderedArticle) -> RenderedArticle:
    """Mark tables of up to SHORT_TABLE_ROWS rows `keep-together` (print.css:
    never split across pages); a longer one may break, its head repeated."""
    if "<table" not in item.body_html:
        return item
    root = parse_fragment(item.body_html)
    changed = False
    for table in root.iter("table"):
        if len(table.xpath(".//tr")) <= SHORT_TABLE_ROWS:
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


def with_spaces_apart(item: RenderedArticle) -> RenderedArticle:
    """The article with each space before an inline element set in a span of its own.

    WeasyPrint (70) measures a run of text with its trailing space when it
    decides whether the run fits its line; a run that fits only without
    that space, before an inline element (`an <code>if</code>`), is then
    broken after its first word, leaving that word alone on a line. A run
    that ends without a space is measured right, and a space of its own is
    measured as the space it is, so the line breaks where it should. The
    text does not change.
    """
    return replace(item, body_html=Markup(_spaces_apart(item.body_html)),
                   summary_html=Markup(_spaces_apart(item.summary_html)),
                   blurb_html=Markup(_spaces_apart(item.blurb_html)))


def _spaces_apart(fragment: str) -> str:
    if not fragment or "<" not in fragment:
        return fragment
    root = parse_fragment(fragment)
    for element in list(root.iter()):
        if element is root or not isinstance(element.tag, str) or element.tag in _NOT_INLINE:
            continue
        previous = element.getprevious()
        before = (previous.tail if previous is not None else element.getparent().text) or ""
        stripped = before.rstrip(" \n")
        if stripped == before or not stripped:  # no space before it, or nothing but spaces
            continue
        if previous is not None:
            previous.tail = stripped
        else:
            element.getparent().text = stripped
        space = etree.Element("span", {"class": "space"})
        space.text = " "
        element.addprevious(space)
    return serialize_children(root)


# Elements that are not inline runs of text (a break, blocks, the pre of code).
_NOT_INLINE = {"br", "wbr", "p", "div", "ul", "ol", "li", "dl", "dt", "dd", "pre", "blockquote", "table",
               "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "figure", "figcaption", "hr", "h1", "h2",
               "h3", "h4", "h5", "h6", "section", "aside", "header", "footer", "nav", "article", "details",
               "summary"}


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
