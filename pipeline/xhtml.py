"""Sanitize rendered HTML and serialize it as well-formed XHTML.

The parser (markdown-it-py) passes raw HTML through untouched, so its output is neither
safe nor well-formed. We clean it with an allowlist (nh3), then let an HTML
parser build a tree and serialize that tree as XML: unclosed tags get closed,
named entities become characters, void elements self-close. EPUB has no DTD,
so `&nbsp;` must not survive, and WeasyPrint reads the same XHTML.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

import lxml.html
import nh3
from lxml import etree
from markupsafe import Markup

if TYPE_CHECKING:
    from .model import RenderedArticle

# What manuscripts may contain. Obsolete tags (center, tt, strike, acronym)
# are left out: EPUBCheck rejects them; their text is kept.
TAGS = {
    "a", "abbr", "article", "aside", "b", "bdi", "bdo", "blockquote", "br", "caption",
    "cite", "code", "col", "colgroup", "data", "dd", "del", "details", "dfn", "div", "dl",
    "dt", "em", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "i", "img", "input", "ins", "kbd", "li", "mark", "nav", "ol", "p", "pre", "q",
    "rp", "rt", "ruby", "s", "samp", "section", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u",
    "ul", "var", "wbr",
}
ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "style"},  # a size; render/articles.py keeps only that
    "input": {"checked"},  # task lists; always a disabled checkbox (below)
    "td": {"style", "colspan", "rowspan"},
    "th": {"style", "colspan", "rowspan", "scope"},
    "ol": {"start", "reversed"},
    "abbr": {"title"},
    "time": {"datetime"},
    "data": {"value"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
# MathML 3 presentation elements and attributes that EPUB 3 accepts and
# latex2mathml writes (render/math.py). Anything else is dropped (element with
# its content); a book's template may hold them too (sandbox.py).
MATH_ELEMENTS = {
    "math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "ms", "mfrac", "msqrt", "mroot", "mstyle",
    "merror", "mpadded", "mphantom", "mfenced", "menclose", "msub", "msup", "msubsup", "munder",
    "mover", "munderover", "mmultiscripts", "mprescripts", "none", "mtable", "mtr", "mlabeledtr", "mtd",
    "semantics", "annotation",
}
MATH_ATTRIBUTES = {
    "display", "alttext", "mathvariant", "mathsize", "displaystyle", "scriptlevel", "fence",
    "separator", "stretchy", "symmetric", "largeop", "movablelimits", "accent", "accentunder", "lspace",
    "rspace", "minsize", "maxsize", "form", "linethickness", "bevelled", "numalign", "denomalign",
    "width", "height", "depth", "notation", "columnalign", "rowalign", "columnspacing", "rowspacing",
    "columnlines", "rowlines", "frame", "framespacing", "equalrows", "equalcolumns", "align",
    "columnspan", "rowspan", "open", "close", "separators", "voffset", "encoding", "mathcolor",
    "mathbackground",
}
URL_SCHEMES = {"http", "https", "mailto"}

# Characters XML 1.0 forbids (C0 controls other than tab/newline/CR, lone
# surrogates, U+FFFE/U+FFFF).
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def sanitize(html: str) -> str:
    """Allowlist-clean an HTML fragment; scripts, handlers and unsafe URLs go."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
        clean_content_tags={"script", "style", "noscript", "template", "iframe", "object",
                            "embed", "form", "textarea", "select", "svg", "math"},
        filter_style_properties={"text-align", "width", "height"},
        set_tag_attribute_values={"input": {"type": "checkbox", "disabled": "disabled"}},
    )


def to_xhtml(html: str) -> str:
    """Parse an HTML fragment and serialize it as an XHTML fragment."""
    if not html.strip():
        return ""
    return serialize_children(parse_html(html))


def parse_html(html: str) -> etree._Element:
    """Parse an HTML fragment into a <div> element, void elements empty."""
    container = lxml.html.fragment_fromstring(html, create_parent="div")
    _empty_void_elements(container)
    return container


def _empty_void_elements(root: etree._Element) -> None:
    """libxml2's HTML parser predates HTML5: it reads `<wbr>` as an open tag
    holding everything after it, which XHTML then writes as `<wbr>…</wbr>`
    (EPUBCheck: RSC-005). A void element holds nothing: what it was given
    goes right after it, in order."""
    for element in list(root.iter(*VOID)):
        children = list(element)
        if element.text is None and not children:
            continue
        text, tail = element.text, element.tail
        element.text, element.tail = None, text
        parent = element.getparent()
        for offset, child in enumerate(children, start=1):
            parent.insert(parent.index(element) + offset, child)  # with its tail
        last = children[-1] if children else element
        last.tail = (last.tail or "") + (tail or "") or None


def serialize_children(element: etree._Element) -> str:
    """The XML serialization of an element's content (text and children)."""
    parts = [_escape(element.text or "")]
    for child in element:
        parts.append(etree.tostring(child, method="xml", encoding="unicode", with_tail=True))
    return "".join(parts)


def serialize_content(element: etree._Element) -> str:
    """Like `serialize_children`, but namespace prefixes (epub:type) are
    declared once, on `element`, and leave with its tags: the serializer
    writes them, never a text replacement that could touch the author's words."""
    whole = etree.tostring(element, method="xml", encoding="unicode", with_tail=False)
    if whole.endswith("/>"):
        return ""
    return whole[whole.index(">") + 1: whole.rindex("</")]


# Elements HTML writes without an end tag.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def for_html_parser(xhtml: str) -> str:
    """The same fragment serialized for a consumer with an HTML5 parser
    (WeasyPrint, a browser): the tree it builds is the tree we built.

    XML's `<h2 id="x"/>` is an open tag to an HTML parser: everything after
    it would land inside the heading. So every empty non-void element gets an
    end tag (`<h2 id="x"></h2>`); void ones keep `<br/>`, which HTML reads as
    `<br>`. An HTML parser drops a newline right after `<pre>`, so one more is
    written where the text starts with one. A word of more than LONG_WORD
    characters gets break opportunities (`_breakable`). The rest of XML's serialization
    (escaped `&<>"`) reads the same in HTML.
    """
    if not xhtml.strip():
        return xhtml
    root = parse_fragment(xhtml)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        element.text, element.tail = _breakable(element.text), _breakable(element.tail)
        if element.tag in ("pre", "textarea", "listing") and (element.text or "").startswith("\n"):
            element.text = "\n" + element.text
        elif element.tag not in VOID and not len(element) and not element.text:
            element.text = ""  # lxml then writes <tag></tag>
    return serialize_children(root)


LONG_WORD = 200  # characters without a space, from which a word gets break opportunities
WORD_PIECE = 10  # characters between them: a line fills to within as many
ZERO_WIDTH_SPACE = "\u200b"
# Scripts written without spaces between words, whose line breaker (Pango's
# dictionaries, CJK's break-anywhere) finds the breaks itself: never split.
_UNSPACED = ("\u0e00-\u0fff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff\u1a20-\u1aaf\u1100-\u11ff"
             "\u2e80-\u2fdf\u3000-\u9fff\ua000-\ua4cf\ua980-\ua9df\uaa60-\uaa7f\uac00-\ud7af"
             "\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff")
_LONG_WORD = re.compile(r"[^\s\u200b%s]{%d,}" % (_UNSPACED, LONG_WORD))


def _breakable(text: str | None) -> str | None:
    """`text` with a zero-width space every WORD_PIECE characters of a word
    longer than LONG_WORD. No language that spaces its words has such
    words (a pasted hash, a base64 blob, a stranger's bomb); Thai, Chinese
    and the other unspaced scripts are left to their line breaker. And a line breaker that may break a
    word anywhere (`overflow-wrap`) lays the rest of a spaceless word out
    again for every line it sets: 50,000 letters took WeasyPrint past
    two minutes, with the breaks a few seconds. For the PDF and the preview
    (`for_html_parser`); the EPUB keeps the word as written."""
    if not text or len(text) < LONG_WORD or not _LONG_WORD.search(text):
        return text
    return _LONG_WORD.sub(lambda match: ZERO_WIDTH_SPACE.join(
        match.group()[start:start + WORD_PIECE] for start in range(0, len(match.group()), WORD_PIECE)), text)


def parse_fragment(xhtml: str) -> etree._Element:
    """Parse an XHTML fragment (as made by `to_xhtml`) into a <div> element."""
    return etree.fromstring(f"<div>{xhtml}</div>")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# The footnote markup the renderer writes (pipeline/text/markdown.py) and each
# exporter reshapes for its format: a call <sup id="fnref-N"><a class=
# "footnote-ref" href="#fn-N">N</a></sup>, and at the end one <div class=
# "footnote"><ol><li id="fn-N">… <a class="footnote-backref">↩</a></li></ol></div>.
NOTE_CALL, NOTE_BLOCK, NOTE_BACKLINK = "footnote-ref", "footnote", "footnote-backref"


def has_footnotes(body_html: str) -> bool:
    return NOTE_CALL in body_html


def footnote_calls(root: etree._Element) -> list[tuple[etree._Element, etree._Element]]:
    """Each call as (its <sup>, its link), in reading order."""
    return [(link.getparent(), link) for link in root.iter("a")
            if link.get("class") == NOTE_CALL and link.getparent() is not None
            and link.getparent().tag == "sup"]


def footnote_blocks(root: etree._Element) -> list[tuple[etree._Element, list[etree._Element]]]:
    """Each block of notes as (its <div>, its notes' <li>s)."""
    return [(div, div.findall("ol/li")) for div in root.iter("div") if div.get("class") == NOTE_BLOCK]


def footnote_backlinks(element: etree._Element) -> list[etree._Element]:
    return [link for link in element.iter("a") if link.get("class") == NOTE_BACKLINK]


def article_for_html_parser(item: RenderedArticle) -> RenderedArticle:
    """The article with its fragments serialized as HTML5, for a consumer that
    parses HTML (WeasyPrint, a browser); see `for_html_parser`."""
    return replace(item, body_html=Markup(for_html_parser(item.body_html)),
                   summary_html=Markup(for_html_parser(item.summary_html)),
                   blurb_html=Markup(for_html_parser(item.blurb_html)))
