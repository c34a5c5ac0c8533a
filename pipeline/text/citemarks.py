"""Citations in pandoc's syntax, as the parser finds them: `[@key, p. 33]`,
`[see @a; @b]`, `@key` and `[-@key]` become marks (`citations_plugin`, a
markdown-it inline rule) in an element no manuscript can forge (a class
with a nonce of the run), and `Marks` keeps each citation in reading order.
Formatting them by a CSL style is the renderer's (render/citations.py).
"""

from __future__ import annotations

import functools
import html
import re
import secrets
from dataclasses import dataclass, field, replace

from ..diagnostics import did_you_mean
from ..model import Article, Book

# A key, as pandoc reads it: internal punctuation only (the full stop after `@smith2020.` ends a sentence).
KEY = r"\w(?:[\w:.#$%&\-+?<>~/]*\w)?"
_XREF = re.compile(r"(?:fig|tbl|eq|sec)-")  # xref.py's: `@fig-x` is a cross-reference
_ITEM = re.compile(r"(?P<prefix>(?:.*?\s)?)(?P<minus>-?)@(?P<key>" + KEY + r")(?P<rest>.*)", re.DOTALL)
_NARRATIVE_KEY = re.compile(KEY)
MAX_BRACKET = 1000  # characters a bracketed citation may span (a stranger's `[[[[…` is text, fast)

# Locator labels as written (pandoc's, and German "S."), -> the CSL locator.
LOCATORS = {
    "p": "page", "pp": "page", "page": "page", "pages": "page", "s": "page", "seite": "page", "seiten": "page",
    "chap": "chapter", "ch": "chapter", "chapter": "chapter", "chapters": "chapter", "kap": "chapter",
    "sec": "section", "section": "section", "sections": "section", "§": "section", "§§": "section",
    "fig": "figure", "figure": "figure", "figures": "figure", "abb": "figure",
    "para": "paragraph", "paragraph": "paragraph", "¶": "paragraph", "¶¶": "paragraph",
    "vol": "volume", "vols": "volume", "volume": "volume", "bd": "volume",
    "l": "line", "ll": "line", "line": "line", "lines": "line",
    "n": "note", "nn": "note", "note": "note", "notes": "note",
    "col": "column", "cols": "column", "column": "column",
    "no": "issue", "nos": "issue", "nr": "issue",
    "v": "verse", "vv": "verse", "verse": "verse",
    "pt": "part", "part": "part", "bk": "book", "book": "book", "fol": "folio", "fols": "folio",
}
_NUMBER = r"[\dA-Za-z]*\d[\dA-Za-z]*|[ivxlcdm]+|[IVXLCDM]+"
_LOCATOR = re.compile(r"\s*(?:(?P<label>[^\W\d]+\.?|§§?|¶¶?)\s*)?(?P<value>(?:" + _NUMBER + r")"
                      r"(?:\s*[-–—]\s*(?:" + _NUMBER + r"))?(?:\s*,\s*(?:" + _NUMBER + r")(?:\s*[-–—]\s*(?:"
                      + _NUMBER + r"))?)*)(?![\w])(?P<suffix>.*)", re.DOTALL)


@dataclass(frozen=True)
class CiteItem:
    """One source in a citation, as written: `see @key, p. 33, emphasis added`."""

    key: str
    prefix: str = ""
    label: str = ""  # the CSL locator: "page", "chapter"…
    locator: str = ""
    suffix: str = ""
    suppress_author: bool = False


@dataclass(frozen=True)
class Citation:
    """A citation of one or more sources; `narrative` for `@key` in the text."""

    items: tuple[CiteItem, ...]
    narrative: bool = False
    written: str = ""


@dataclass
class Marks:
    """What the parser found in one article: its citations in reading order,
    and `@words` of the text near a key (likely typos). `keys` are those in
    reach (the article's and the book's); `nonce` makes the marks unforgeable."""

    keys: frozenset[str]
    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    citations: list[Citation] = field(default_factory=list)
    near_misses: list[str] = field(default_factory=list)

    @property
    def mark_class(self) -> str:
        return f"citation-mark-{self.nonce}"


def marks_for(book: Book | None, article: Article) -> Marks | None:
    """The article's marks, or None when no bibliography is in its reach (then `@` is never a citation)."""
    keys = frozenset(reference.key for reference in (*article.references, *(book.references if book else ())))
    return Marks(keys) if keys else None


def citations_plugin(md, marks: Marks) -> None:
    """Register the inline rules: `[…@key…]` before links, `@key` in text before e-mail autolinks."""
    md.inline.ruler.before("link", "citation_bracket", functools.partial(_bracket_rule, marks=marks))
    md.inline.ruler.before("link", "citation_narrative", functools.partial(_narrative_rule, marks=marks))

    def render_mark(self, tokens, index, options, env) -> str:
        """A mark: the citation's text as written, in a span `cite_book` replaces."""
        return f'<span class="{marks.mark_class}">{html.escape(tokens[index].content)}</span>'

    md.add_render_rule("citation", render_mark)


def _push(state, marks: Marks, citation: Citation, silent: bool) -> None:
    if not silent:
        token = state.push("citation", "", 0)
        token.content = citation.written
        token.meta = {"index": len(marks.citations)}
        marks.citations.append(citation)


def _bracket_rule(state, silent: bool, marks: Marks) -> bool:
    """`[see @a, p. 3; @b]`: every `;`-separated part names a key; not a link (`](` or `][`)."""
    start = state.pos
    if state.src[start] != "[" or state.linkLevel > 0 or "@" not in state.src[start:start + MAX_BRACKET]:
        return False
    end = _closing(state.src, start, min(state.posMax, start + MAX_BRACKET))
    if end is None or state.src[end + 1:end + 2] in ("(", "["):
        return False
    items = _parse_items(state.src[start + 1:end])
    if items is None or any(_XREF.match(item.key) and item.key not in marks.keys for item in items):
        return False
    _push(state, marks, Citation(tuple(items), written=state.src[start:end + 1]), silent)
    state.pos = end + 1
    return True


def _closing(src: str, start: int, limit: int) -> int | None:
    """The `]` closing the `[` at `start`, before `limit` (nested brackets counted, `\\]` skipped)."""
    depth, position = 0, start
    while position < limit:
        character = src[position]
        if character == "\\":
            position += 2
            continue
        if character == "[":
            depth += 1
        elif character == "]":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return None


def _parse_items(text: str) -> list[CiteItem] | None:
    """The parts of a bracketed citation, or None when one names no key (then it is text)."""
    items = []
    for part in text.split(";"):
        match = _ITEM.fullmatch(part.strip())
        if match is None:
            return None
        prefix = " ".join(match.group("prefix").split())
        items.append(replace(_locator_and_suffix(match.group("rest")), key=match.group("key"),
                             prefix=prefix + " " if prefix else "", suppress_author=bool(match.group("minus"))))
    return items or None


def _locator_and_suffix(rest: str) -> CiteItem:
    """`, p. 33, emphasis added` -> page 33 and the suffix ", emphasis added"; no label means a page."""
    text = " ".join(rest.split())
    if not text:
        return CiteItem("")
    if not text.startswith(","):
        return CiteItem("", suffix=" " + text if text[0].isalnum() else text)
    match = _LOCATOR.fullmatch(text[1:])
    label = (match.group("label") or "").lower().rstrip(".") if match else ""
    if match is None or (label and label not in LOCATORS):
        return CiteItem("", suffix=text)
    return CiteItem("", label=LOCATORS.get(label, "page"), locator=match.group("value").strip(),
                    suffix=match.group("suffix").rstrip())


def _narrative_rule(state, silent: bool, marks: Marks) -> bool:
    """`@key` in the text, a known key not after a letter, digit, `@`, `.` or `/`
    (an address); `@key [p. 33]` takes the bracket as its locator."""
    start = state.pos
    if state.src[start] != "@" or state.linkLevel > 0 or (start > 0 and (state.src[start - 1].isalnum()
                                                   or state.src[start - 1] in "@./:_-+")):
        return False
    match = _NARRATIVE_KEY.match(state.src, start + 1, state.posMax)
    if match is None:
        return False
    key = match.group()
    if key not in marks.keys:
        if not silent and not _XREF.match(key) and did_you_mean(key, marks.keys):
            marks.near_misses.append(key)
        return False
    end, item = match.end(), CiteItem(key)
    after = re.match(r"[ \t]\[", state.src[end:end + 2])
    close = _closing(state.src, end + 1, min(state.posMax, end + MAX_BRACKET)) if after else None
    if close is not None and "@" not in state.src[end:close] and state.src[close + 1:close + 2] not in ("(", "["):
        item = replace(_locator_and_suffix(", " + state.src[end + 2:close]), key=key)
        end = close + 1
    _push(state, marks, Citation((item,), narrative=True, written=state.src[start:end]), silent)
    state.pos = end
    return True
