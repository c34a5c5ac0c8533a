"""Page furniture: what a page prints that depends on where it lands.

A folio (`counter(page)` in a margin box) and the page numbers of an
opener's "In this article" list are known only once every page before them
is laid out. Laying the body out again to print them would double the work
of a long book, so the body is laid out once without them, and they are
drawn afterwards on a second, almost empty document of the same pages (the
furniture), whose pages the join lays over the body's (`join.py`).

Both documents use the designer's stylesheets unchanged, each with a small
override derived from them here:

- for the body, every margin box whose `content` counts pages (`counter(`)
  prints nothing; running heads (`string(...)`) stay, they depend on the
  text only;
- for the furniture, every other margin box prints nothing, and the page
  numbers of the openers are set in the slots the body left for them:
  `.article-contents a::after` is a fixed-width box (print.css), so the
  number's digits never move the text around it; so are references' pages
  (", page 14" after `a.xref`: a box as wide as ", page 88", set in the
  reference's own font and justified across the box, so that a shorter
  number leaves no hole before the next word or stop).

The furniture repeats the body's page structure (one `<article>` per
article, with as many pages as the article took), so the designer's page
rules (left and right pages, opener pages without a folio, blank pages)
select the same pages in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import tinycss2

# Added to the furniture's stylesheets: a page per div, and the slots.
FURNITURE_CSS = """
.furniture-page { height: 1px; }
.furniture-page + .furniture-page { break-before: page; }
.furniture-slot { position: absolute; margin: 0; padding: 0; text-indent: 0; list-style: none; }
/* An opener's number: print.css positions it at its static place on its entry's last
   line; here the slot's top is that place (a zero-height block), and it stands there alike. */
.furniture-slot > a { display: block; position: relative; padding: 0; height: 0; }
.xref-slot a.xref[data-page]::after { width: 100%; text-align: justify; text-align-last: justify; }
.xref-slot-tight a.xref[data-page]::after { letter-spacing: -0.06em; word-spacing: -0.12em; }
"""


@dataclass(frozen=True)
class Slot:
    """Where the body left room for a page number (an opener's list).

    `x` and `y` are CSS px from the top left of the page's content box: `x`
    of the slot's box, `y` of the top of its line (a reference's) or of
    the box itself (an opener's number), `width` the slot's width.
    """

    page: int  # index of the page in its part
    target: str  # the id whose page number goes here
    x: float
    y: float
    width: float
    kind: str = "contents"  # an opener's list, or "xref": a reference's page in the text
    font: str = ""  # for a reference: the CSS of its font and line (engine.number_slots)


@dataclass(frozen=True)
class Overrides:
    body: str  # margin boxes that count pages print nothing
    furniture: str  # the other margin boxes print nothing


def overrides(stylesheets: list[str]) -> Overrides:
    """The two overrides, from the CSS text of the stylesheets in cascade order."""
    counting, other = [], []
    for css in stylesheets:
        for prelude, margin, content in _margin_boxes(css):
            if content is None or content == "none":
                continue
            rule = f"@page {prelude} {{ @{margin} {{ content: none; }} }}"
            (counting if "counter(" in content.replace(" ", "") else other).append(rule)
    return Overrides("\n".join(counting), "\n".join(other) + FURNITURE_CSS)


# What a margin box that counts pages may not also print, when the furniture
# prints it: the running strings and elements of the text (the furniture has
# no text) and the document's page total (the furniture is one chunk's).
_WHOLE_DOCUMENT = ("string(", "element(", "counter(pages", "counters(pages")


def needs_whole_document(stylesheets: list[str]) -> bool:
    """Does a margin box print a page number together with something only the
    whole booklet knows (`counter(page) " of " counter(pages)`, or a running
    head and a folio in one box)? Then the booklet is laid out in one piece."""
    for css in stylesheets:
        for _, _, content in _margin_boxes(css):
            flat = (content or "").replace(" ", "")
            if "counter(" in flat and any(token in flat for token in _WHOLE_DOCUMENT):
                return True
    return False


def _margin_boxes(css: str):
    """(page selector, margin box name, its content or None) of every @page rule."""
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "at-rule" or rule.lower_at_keyword != "page" or rule.content is None:
            continue
        prelude = tinycss2.serialize(rule.prelude).strip()
        for item in tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True):
            if item.type != "at-rule" or item.content is None:
                continue
            declarations = tinycss2.parse_blocks_contents(item.content, skip_comments=True, skip_whitespace=True)
            contents = [tinycss2.serialize(d.value).strip() for d in declarations
                        if d.type == "declaration" and d.lower_name == "content"]
            yield prelude, item.lower_at_keyword, contents[-1].lower() if contents else None


@dataclass(frozen=True)
class FurniturePage:
    """One page of the furniture: blank, or of an article, with its slots."""

    slots: tuple[tuple[Slot, str], ...] = ()  # each slot with the number it prints


def furniture_articles(owners: list[int | None], slots: list[Slot], pages: dict[str, str],
                       count: int) -> list[list[FurniturePage]]:
    """The pages of each of `count` articles, in order, from the body's pages.

    `owners` gives, for each page of the body, the index of its article (None
    for a blank page, which the furniture's own page breaks make again).
    """
    by_page: dict[int, list[tuple[Slot, str]]] = {}
    for slot in slots:
        by_page.setdefault(slot.page, []).append((slot, pages.get(slot.target, "")))
    articles: list[list[FurniturePage]] = [[] for _ in range(count)]
    for index, owner in enumerate(owners):
        if owner is not None:
            articles[owner].append(FurniturePage(tuple(by_page.get(index, ()))))
    return articles
