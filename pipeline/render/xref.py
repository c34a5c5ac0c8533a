"""Numbered figures, tables, equations and sections, and references to them,
in Quarto's syntax.

An element is numbered when its id starts with its kind's prefix:
- a figure, `![Caption](a.png){#fig-id}` (articles.py makes the <figure> and
  gives it the image's id);
- a table, `: Caption {#tbl-id}` (text/markdown.py makes the <caption>);
- a display equation, `$$…$$ {#eq-id}`: `<div class="math display" id="eq-…">`;
- a section, `## Title {#sec-id}`: then every heading of its article is
  numbered (2, 2.1…), so that "Section 2.1" can be found by its number.

`@fig-id`, `@tbl-id`, `@eq-id` and `@sec-id` in the text refer to them; any
other `@` (an address, "@someone") is text. A reference may point forward or
into another article, so the work is done in two passes: `number_article`,
per article in reading order and before ids get the article's prefix,
numbers the elements, writes the number into captions and headings, and
marks each reference; `resolve`, once every article is numbered, gives each
reference its words ("Figure 2", in the article's language) and its link, or
reports an id no element has. The PDF adds the target's page to each
reference (pipeline/export/pdf/booklet.py); the EPUB keeps the link.

Numbering is per article (1, 2… again in each article; a reference to
another article's element names that article) or, with `[book] numbering =
"book"`, through the book (sections then start with their article's number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..diagnostics import Diagnostic, did_you_mean, error, with_suggestion

# id prefix -> the labels.toml word ("Figure {n}")
KINDS = {"fig": "figure", "tbl": "table", "eq": "equation", "sec": "section"}
XREF_CLASS = "xref"  # the class of a reference's link (print.css, the PDF exporter)
PENDING = "data-xref"  # a reference before `resolve`: its id as written

# `@fig-id`, not after a letter, digit, `@` or `.` (an e-mail address); the id
# ends with a letter or digit (the full stop of a sentence is not part of it).
REFERENCE = re.compile(r"(?<![\w@.])@((?:fig|tbl|eq|sec)-(?:[\w.:-]*\w)?)")
# Where `@` is never a reference: code, links (an address), math.
_VERBATIM = {"code", "pre", "kbd", "samp", "a", "math", "script", "style"}
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@dataclass(frozen=True)
class Target:
    """A numbered element."""

    key: str  # its id as the author wrote it: "fig-tides"
    kind: str  # "fig", "tbl", "eq" or "sec"
    number: str  # "2", "2.1"
    article: int  # the number of its article (1, 2…)


@dataclass(frozen=True)
class Reference:
    """`@fig-id` in an article, where the author wrote it."""

    key: str
    line: int
    column: int


@dataclass
class Numbering:
    """The running counts; per article (reset at each article) or through the book."""

    per_book: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def start_article(self) -> None:
        if not self.per_book:
            self.counts.clear()

    def next(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return str(self.counts[kind])


def label(words: dict[str, str], kind: str, number: str) -> str:
    """"Figure 2" in the article's words; the number never leaves its word
    at the end of a line (a no-break space joins them)."""
    return glued(words[KINDS[kind]]).replace("{n}", number)


def glued(template: str) -> str:
    """`{n}` joined to the word before or after it by a no-break space."""
    return template.replace(" {n}", "\u00a0{n}").replace("{n} ", "{n}\u00a0")


def number_article(root: etree._Element, article: int, numbering: Numbering,
                   words: dict[str, str]) -> list[Target]:
    """Number the article's elements (ids not yet prefixed), captions and
    headings showing their numbers; returns them in reading order."""
    numbering.start_article()
    targets = []
    for element in root.iter():
        key = element.get("id") or "" if isinstance(element.tag, str) else ""
        kind = key.partition("-")[0]
        if kind == "fig" and element.tag == "figure":
            number = numbering.next(kind)
            _caption(element, "figcaption", words, kind, number, first=False)
        elif kind == "tbl" and element.tag == "table":
            number = numbering.next(kind)
            _caption(element, "caption", words, kind, number, first=True)
        elif kind == "eq" and element.tag == "div" and {"math", "display"} <= set(
                (element.get("class") or "").split()):
            number = numbering.next(kind)
            # First, so that a float (the EPUB) sits beside the formula, not under it.
            mark = etree.Element("span", {"class": "equation-number"})
            mark.text, mark.tail, element.text = f"({number})", element.text, None
            element.insert(0, mark)
        else:
            continue
        targets.append(Target(key, kind, number, article))
    return targets + _number_sections(root, article, numbering.per_book)


def _caption(element: etree._Element, tag: str, words: dict[str, str], kind: str, number: str,
             first: bool) -> None:
    """"Figure 2: " before the caption's text (a caption of its own if it had none)."""
    caption = element.find(tag)
    if caption is None:
        caption = etree.Element(tag)
        if first:
            element.insert(0, caption)
        else:
            element.append(caption)
    has_text = bool("".join(caption.itertext()).strip())
    mark = etree.Element("span", {"class": "caption-number"})
    mark.text = glued(words["caption_label"]).replace("{label}", label(words, kind, number)) if has_text \
        else label(words, kind, number)
    mark.tail = caption.text
    caption.text = None
    caption.insert(0, mark)


def _number_sections(root: etree._Element, article: int, per_book: bool) -> list[Target]:
    """If a heading's id starts with `sec-`, every heading of the article gets
    its number (2, 2.1; 3.2.1 through the book: its article's number first)."""
    headings = list(root.iter(*_HEADINGS))
    if not any((h.get("id") or "").startswith("sec-") for h in headings):
        return []
    top = min(int(h.tag[1]) for h in headings)
    counts: list[int] = []
    targets = []
    for heading in headings:
        depth = int(heading.tag[1]) - top
        counts = (counts + [0] * (depth + 1))[: depth + 1]
        counts[depth] += 1
        number = ".".join(map(str, ([article] if per_book else []) + counts))
        mark = etree.Element("span", {"class": "section-number"})
        mark.text = number
        mark.tail = " " + (heading.text or "")
        heading.text = None
        heading.insert(0, mark)
        if (heading.get("id") or "").startswith("sec-"):
            targets.append(Target(heading.get("id"), "sec", number, article))
    return targets


def mark_references(root: etree._Element, body: str, first_line: int) -> list[Reference]:
    """Each `@fig-id` of the text becomes `<a class="xref" data-xref="fig-id">`,
    resolved later; returned with where it was written (`body` is the
    manuscript's text, starting on `first_line`)."""
    slots = []  # (element, is its tail) holding a reference, in reading order
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        inside = _verbatim(element)
        if not inside and REFERENCE.search(element.text or ""):
            slots.append((element, False))
        if element is not root and not _verbatim(element.getparent()) and REFERENCE.search(element.tail or ""):
            slots.append((element, True))
    keys = []
    for element, is_tail in slots:
        keys += _split(element, is_tail)
    return _located(keys, body, first_line)


def _verbatim(element: etree._Element | None) -> bool:
    while element is not None:
        if element.tag in _VERBATIM or "math" in (element.get("class") or "").split():
            return True
        element = element.getparent()
    return False


def _split(element: etree._Element, is_tail: bool) -> list[str]:
    """Cut the text (or tail) of `element` at its references, each in a link."""
    text = element.tail if is_tail else element.text
    pieces = REFERENCE.split(text or "")  # text, key, text, key, …, text
    if is_tail:
        element.tail = pieces[0]
        parent, position = element.getparent(), element.getparent().index(element) + 1
    else:
        element.text = pieces[0]
        parent, position = element, 0
    for offset, index in enumerate(range(1, len(pieces), 2)):
        link = etree.Element("a", {"class": XREF_CLASS, PENDING: pieces[index]})
        link.text = "@" + pieces[index]
        link.tail = pieces[index + 1]
        parent.insert(position + offset, link)
    return pieces[1::2]


def _located(keys: list[str], body: str, first_line: int) -> list[Reference]:
    """Each key with the line and column of its own `@key` in the manuscript:
    the nth reference to an id is the nth `@id` written."""
    lines = body.split("\n")
    seen: dict[str, int] = {}
    found = []
    for key in keys:
        nth = seen[key] = seen.get(key, 0) + 1
        line, column = first_line, 1
        pattern = re.compile(r"(?<![\w@.])@" + re.escape(key) + r"(?![\w-])")
        for number, text in enumerate(lines):
            for match in pattern.finditer(text):
                nth -= 1
                if nth == 0:
                    line, column = first_line + number, match.start() + 1
                    break
            if nth == 0:
                break
        found.append(Reference(key, line, column))
    return found


def _to_text(link: etree._Element) -> None:
    """Replace a (text-only) link by its text."""
    text = (link.text or "") + (link.tail or "")
    parent, previous = link.getparent(), link.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    parent.remove(link)


_HINTS = {
    "fig": "give a figure that id: ![Caption](image.png){{#{key}}}",
    "tbl": "give a table that id in its caption line, before or after it: ': Caption {{#{key}}}'",
    "eq": "give a display equation that id: $$ … $$ {{#{key}}}",
    "sec": "give a heading that id: ## Title {{#{key}}}",
}
_NAMES = {"fig": "figure", "tbl": "table", "eq": "equation", "sec": "section"}


def resolve(root: etree._Element, references: list[Reference], targets: dict[str, list[Target]],
            article: int, prefixes: dict[int, str], words: dict[str, str], per_book: bool,
            several: bool, path: Path) -> list[Diagnostic]:
    """Give each marked reference of an article (in `root`, ids prefixed) its
    words and link. `targets` holds every numbered element of the book by id,
    `prefixes` each article's id prefix by its number. A reference to
    another article's element names that article when numbers restart in
    each (`several`: the book has more than one)."""
    diagnostics = []
    links = [link for link in root.iter("a") if link.get(PENDING) is not None]
    for link, reference in zip(links, references):
        key = link.attrib.pop(PENDING)
        found = targets.get(key, [])
        target = next((t for t in found if t.article == article), found[0] if found else None)
        if target is None:
            kind = key.partition("-")[0]
            same = [k for k in targets if k.startswith(kind + "-")]
            diagnostics.append(error(
                "R014", f"reference to '@{key}', which no {_NAMES[kind]} of the book has",
                hint=with_suggestion(did_you_mean(key, same, lambda k: f"'@{k}'"), _HINTS[kind].format(key=key)),
                path=path, line=reference.line, column=reference.column))
            _to_text(link)  # the text the author wrote stays
            continue
        text = label(words, target.kind, target.number)
        if target.article != article and several and not per_book:
            text += f"\u00a0({glued(words['article']).replace('{n}', str(target.article))})"
        link.text = text
        link.set("href", f"#{prefixes[target.article]}{key}")
    return diagnostics
