"""Code blocks: one span per source line, one span per token, with Pygments.

Highlighting runs on the sanitized tree (after nh3), and builds elements with
lxml: the code arrives as the text node markdown-it escaped and the sanitizer
kept, and leaves as text nodes again, so nothing a manuscript writes in a
fence can turn into markup. The token spans carry Pygments' short class names
(`k` keyword, `s2` string, `c1` comment...), which `styles/code-print.css`
and `styles/code-epub.css` colour.

Every line of a block, highlighted or not, is a `<span class="line">` that
keeps its newline: a reader without CSS still shows the lines, copy and
paste gives the code back, and the stylesheets can set each line as a block
(a hanging indent and a continuation mark where it wraps, no page break that
leaves one line alone).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from lxml import etree
from pygments.lexer import Lexer
from pygments.lexers import get_all_lexers, get_lexer_by_name
from pygments.token import STANDARD_TYPES, Token, _TokenType
from pygments.util import ClassNotFound

LINE = "line"  # the class of a source line's span
LANGUAGE_PREFIX = "language-"  # markdown-it's class on a fence's <code>
PLAIN = {Token.Text, Token.Whitespace, Token.Text.Whitespace}  # no span for them


def highlight_code(root: etree._Element) -> None:
    """Split every `<pre><code>` holding only text into line spans, with token
    spans where its language (`class="language-…"`) is one Pygments knows."""
    for code in list(root.iter("code")):
        parent = code.getparent()
        if parent is None or parent.tag != "pre" or len(code) or not code.text:
            continue
        text = code.text
        lexer = find_lexer(code_language(code))
        code.text = None
        for line in _line_spans(_tokens(lexer, text) if lexer else [(None, text)]):
            code.append(line)


def code_language(code: etree._Element) -> str:
    """The language a `<code>` names in its `language-…` class, or ''."""
    for name in (code.get("class") or "").split():
        if name.startswith(LANGUAGE_PREFIX):
            return name[len(LANGUAGE_PREFIX):]
    return ""


@lru_cache(maxsize=256)
def find_lexer(language: str) -> Lexer | None:
    """Pygments' lexer for a fence's language name (any of its aliases, any
    case), or None: no name, or one Pygments does not know."""
    if not language:
        return None
    try:
        # Code exactly as written: no stripped or added newlines, tabs kept.
        return get_lexer_by_name(language, stripnl=False, ensurenl=False, stripall=False)
    except ClassNotFound:
        return None


@lru_cache(maxsize=1)
def language_names() -> tuple[str, ...]:
    """Every alias Pygments accepts in a fence (for did-you-mean hints)."""
    return tuple(sorted({alias for _, aliases, _, _ in get_all_lexers() for alias in aliases}))


def _tokens(lexer: Lexer, text: str) -> list[tuple[_TokenType | None, str]]:
    """The tokens of `text`; all of it plain if the lexer would change a
    character (the text printed is always the text written)."""
    tokens = list(lexer.get_tokens(text))
    if "".join(value for _, value in tokens) != text:
        return [(None, text)]
    return tokens


def token_class(kind: _TokenType | None) -> str:
    """The short class of a token type, or of its nearest ancestor that has
    one ('' for plain text)."""
    while kind is not None:
        if kind in STANDARD_TYPES:
            return "" if kind in PLAIN else STANDARD_TYPES[kind]
        kind = kind.parent
    return ""


def _line_spans(tokens: Iterable[tuple[_TokenType | None, str]]) -> list[etree._Element]:
    """One `<span class="line">` per source line, its newline inside it; a
    token over several lines (a docstring) is cut at each newline."""
    lines: list[etree._Element] = []
    current = None
    for kind, value in tokens:
        name = token_class(kind)
        for index, piece in enumerate(value.split("\n")):
            if index:  # a newline ends the line
                current = _append(current, lines, "\n", "")
                current = None
            if piece:
                current = _append(current, lines, piece, name)
    return lines


def _append(line: etree._Element | None, lines: list[etree._Element], text: str, name: str) -> etree._Element:
    """Add `text` to `line` (started if None), in a token span if `name`."""
    if line is None:
        line = etree.Element("span", {"class": LINE})
        lines.append(line)
    if name and len(line) and line[-1].get("class") == name and not line[-1].tail:
        line[-1].text += text  # one span for a run of one class (a string's quotes and body)
    elif name:
        token = etree.SubElement(line, "span", {"class": name})
        token.text = text
    elif len(line):
        line[-1].tail = (line[-1].tail or "") + text
    else:
        line.text = (line.text or "") + text
    return line
