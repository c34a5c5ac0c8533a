"""Print page numbers shared by the PDF and the EPUB.

The PDF exporter records where each printed page begins as a position that
survives the trip to another document: the article, the ordinal of a block
element (paragraph, heading, list item, ...) within it, and how many letters
and digits of that block come before the page break. The EPUB exporter finds
the same position in its own XHTML of the article and puts a page-break
marker there, so "page 7" means the same place in both formats.

Counting only letters and digits makes the position independent of what
layout adds or changes: hyphens at line ends, collapsed white space, CSS case
transforms. Footnote text is left out on both sides (the PDF sets notes at
the foot of the page, the EPUB at the end of the article).

Works on ElementTree (WeasyPrint's tree) and lxml elements alike.

A marker never goes inside an element whose content model has no room for
an XHTML `<span>` (EPUBCheck's RSC-005): MathML and SVG (whose letters are
not counted either: the PDF draws a formula as a picture, with no text),
a form's `select`, `option` or `textarea`, ruby's `rp`. A break that falls
in one goes just before it. Table structure (`tr`, `tbody`) is never a
block: a break there is in its cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..model import PageBreak

BLOCK_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "td", "th",
                        "pre", "figcaption", "caption", "blockquote"})


# Elements a marker may not go into (nor its letters counted in): the marker goes before them.
OPAQUE_TAGS = frozenset({"math", "svg", "select", "option", "optgroup", "textarea", "rp"})


def local_name(element: Any) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def _classes(element: Any) -> set[str]:
    return set((element.get("class") or "").split())


def block_elements(container: Any, skip_class: str) -> list[Any]:
    """The container's block elements in document order, footnotes left out."""
    blocks: list[Any] = []

    def walk(element: Any) -> None:
        for child in element:
            if not isinstance(child.tag, str) or skip_class in _classes(child) or local_name(child) in OPAQUE_TAGS:
                continue
            if local_name(child) in BLOCK_TAGS:
                blocks.append(child)
            walk(child)

    walk(container)
    return blocks


def letters(text: str) -> int:
    return sum(character.isalnum() for character in text)


def insert_markers(block: Any, breaks: list[PageBreak], make_marker: Any) -> None:
    """Insert one marker per break into the lxml `block`, just before the
    (offset + 1)-th letter or digit of its text (at the end if there is none).

    Breaks are inserted in order; two at one position (a blank page, then the
    page after it) keep their order, because the second goes before the same
    letter, which by then follows the first marker.
    """
    for page_break in breaks:
        marker = make_marker(page_break)
        if not _insert_before_letter(block, page_break.offset, marker):
            _append(block, marker)


def _append(block: Any, marker: Any) -> None:
    """At the block's end; in a table's structure (`tr`, `tbody`: no text
    may stand there), at the end of its last cell, else before the table."""
    if local_name(block) in OPAQUE_TAGS:
        block.addprevious(marker)
        return
    if local_name(block) in _TABLE_PARTS:
        cells = [element for element in block.iter() if local_name(element) in ("td", "th")]
        if cells:
            cells[-1].append(marker)
        else:
            table = next((a for a in block.iterancestors() if local_name(a) == "table"), block)
            table.addprevious(marker)
        return
    block.append(marker)


_TABLE_PARTS = frozenset({"table", "thead", "tbody", "tfoot", "tr", "colgroup"})


def _insert_before_letter(block: Any, offset: int, marker: Any) -> bool:
    seen = 0
    for owner, attribute in list(_text_slots(block)):
        text = getattr(owner, attribute) or ""
        for index, character in enumerate(text):
            if not character.isalnum():
                continue
            if seen == offset:
                _place(owner, attribute, index, marker)
                return True
            seen += 1
    return False


def _text_slots(block: Any) -> Iterator[tuple[Any, str]]:
    yield block, "text"
    for child in block:
        yield from _descend(child)


def _descend(element: Any) -> Iterator[tuple[Any, str]]:
    """Text slots in document order; an opaque element's own text (MathML's
    letters) is passed over, so a marker never lands in it."""
    if local_name(element) not in OPAQUE_TAGS:
        yield element, "text"
        for child in element:
            yield from _descend(child)
    yield element, "tail"


def _place(owner: Any, attribute: str, index: int, marker: Any) -> None:
    text = getattr(owner, attribute) or ""
    setattr(owner, attribute, text[:index] or None)
    marker.tail = text[index:]
    if attribute == "text":
        owner.insert(0, marker)
    else:
        owner.addnext(marker)
