"""The parser step: Markdown source -> HTML, with markdown-it-py.

The dialect is CommonMark (markdown-it-py passes its spec) plus what authors
of real books write, each from a maintained plugin rather than a rule of our
own: GFM tables, strikethrough, autolinks (`www.…` too) and task lists;
footnotes, inline `^[…]` notes included; definition lists; `{#id .class}`
attributes on headings, images, links, inline code and blocks (tables);
callouts of every site dialect and `:::` fenced divs (callouts.py);
TeX math between dollars, by pandoc's rules (`$x$` inline, `$$x$$` display,
`$$x$$ {#eq-id}` an equation with an id), left as TeX for render/math.py;
pandoc's citations, `[@key]` and `@key` (citemarks.py).

`to_html` is only the parser: its HTML is neither sanitized nor processed for
the book (render/articles.py does both). A parse keeps its state (footnote
numbers, nesting) in the `env` of its call, never in the parser, so one
parser serves every text; an article with citations gets one of its own,
made with its citation marks.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.attrs import attrs_block_plugin, attrs_plugin
from mdit_py_plugins.attrs.parse import ParseError, parse as parse_attrs
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.gfm_autolink import gfm_autolink_plugin

from ..xhtml import NOTE_BACKLINK, NOTE_BLOCK, NOTE_CALL
from .callouts import callouts_plugin
from .citemarks import Marks, citations_plugin

BACKLINK = "\u21a9"  # ↩ after a note, back to its call


def to_html(source: str, captions: bool = False, too_deep: list[tuple[int, int]] | None = None,
            citations: Marks | None = None) -> str:
    """The HTML markdown-it-py makes of `source` (not sanitized).

    Quotes and lists nested past the parser's limit are kept as flat
    paragraphs (`_flatten`); `too_deep`, if given, receives the 0-based line
    and 1-based column where each such nest passes the limit.

    With `captions` (the book's rendering, not the parser's own), an image
    whose description has more than text (`![The *big* $\\beta$](x.png)`) is
    followed by a `span.figure-caption` holding the description as rendered:
    an `alt` attribute can hold only text, and the figure's caption is made
    from this (render/articles.py).

    With `citations` (the article has a bibliography in reach), pandoc's
    `[@key]` and `@key` become marks that render/citations.py formats."""
    if citations is not None:  # a parser of the article's own: its marks are part of the parse
        env: dict = {"captions": captions}
        html = make_parser(citations).render(source, env)
    else:  # the text's parse, shared with the loader's reading of it (`parse`)
        tokens, parsed = _parsed_text(source)
        env = {**parsed, "captions": captions}
        reader = _reader()
        html = reader.renderer.render(tokens, reader.options, env)
    if too_deep is not None:
        too_deep.extend(env.get(TOO_DEEP, []))
    return html


CAPTION = "figure-caption"


def _image(self, tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType) -> str:
    """The image, its `alt` keeping a formula's TeX (`renderInlineAsText`
    would drop it), and the rendered description when `to_html` asks."""
    token = tokens[index]
    children = token.children or []
    shown = [Token("text", "", 0, content=f"${c.content}$") if c.type.startswith("math_inline") else c
             for c in children]
    # A copy: markdown-it's rule sets the alt attribute on the token it is given, and the tokens are shared.
    html = self.image([token.copy(children=shown, attrs=dict(token.attrs))], 0, options, env)
    if env.get("captions") and any(child.type not in ("text", "softbreak") for child in children):
        html += f'<span class="{CAPTION}">{self.renderInline(children, options, env)}</span>'
    return html


def to_inline_html(source: str) -> str:
    """A one-paragraph text (a title, a summary) as inline HTML, without its <p>."""
    html = to_html(source).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html


# What `parse` keeps, counted in characters of source. Its tokens take some
# 6 to 12 times that (a book of 15 MB of Markdown kept whole: 95 MB more at
# the peak), so a few hundred MB at most, whatever a book holds: a stranger's
# book of 500 manuscripts of 2 MiB would otherwise keep gigabytes.
PARSE_CACHE_CHARACTERS = 16_000_000
_parsed: OrderedDict[str, tuple[tuple[Token, ...], dict]] = OrderedDict()
_parsed_lock = threading.Lock()
_held = [0]  # characters of the texts in _parsed


def parse(source: str) -> tuple[Token, ...]:
    """The tokens of `source`, for readers that only look (where headings,
    fences and code blocks are). A build reads each text several times
    (article splitting when loading, dialect rewrites when rendering, the
    rendering itself, lint after), a whole book at each step: the cache
    holds the texts last parsed, up to PARSE_CACHE_CHARACTERS (a book of
    about 2,600 articles of 6 kB), so one parse serves them all. The tokens
    are shared, between steps and between a process's threads: nothing may
    change them (the renderer's rules do not: `_image` works on a copy)."""
    return _parsed_text(source)[0]


def _parsed_text(source: str) -> tuple[tuple[Token, ...], dict]:
    """`source`'s tokens and the env its parse left (references, footnotes,
    TOO_DEEP), which its rendering reads: from the cache, else parsed now."""
    with _parsed_lock:
        if source in _parsed:
            _parsed.move_to_end(source)
            return _parsed[source]
    env: dict = {}
    parsed = (tuple(_reader().parse(source, env)), env)
    if len(source) <= PARSE_CACHE_CHARACTERS:
        with _parsed_lock:
            if source not in _parsed:
                _parsed[source] = parsed
                _held[0] += len(source)
            while _held[0] > PARSE_CACHE_CHARACTERS:
                _held[0] -= len(_parsed.popitem(last=False)[0])
    return parsed


@dataclass(frozen=True)
class NoteMismatch:
    """A footnote call that names no note (`[^missing]`, which the parser
    prints as written), or a note no call names (which it leaves out)."""

    line: int  # 0-based, in the source
    column: int  # 1-based
    label: str
    called: bool  # True: a call without its note; False: a note without a call


_CALL = re.compile(r"\[\^([^\]\s^]+)\]")
_NOTE = re.compile(r" {0,3}\[\^([^\]\s^]+)\]:")


def note_mismatches(source: str) -> list[NoteMismatch]:
    """Calls without a note and notes without a call in `source`, from its
    parse (code spans and blocks are not calls): in source order."""
    tokens, env = _parsed_text(source)
    lines = source.split("\n")
    found = []
    for token in tokens:
        if token.type != "inline" or not token.children or token.map is None:
            continue
        for child in token.children:
            for match in _CALL.finditer(child.content) if child.type == "text" else ():
                place = _located(lines, token.map, match.group(0))
                if place is not None:  # (else every one is written \[^…]: brackets meant as text)
                    found.append(NoteMismatch(*place, match.group(1), True))
    for key, index in (env.get("footnotes") or {}).get("refs", {}).items():
        if index == -1:  # defined, never called (markdown-it's mark)
            label = key[1:]
            line = next((n for n, text in enumerate(lines) if (m := _NOTE.match(text)) and m.group(1) == label), 0)
            found.append(NoteMismatch(line, lines[line].find("[^") + 1 if line < len(lines) else 1, label, False))
    return sorted(found, key=lambda item: (item.line, item.column))


def _located(lines: list[str], span: list[int], needle: str) -> tuple[int, int] | None:
    """0-based line and 1-based column of `needle`, not escaped by a
    backslash, within the lines of `span`; None if there is none."""
    for number in range(span[0], min(span[1], len(lines))):
        column = lines[number].find(needle)
        while column >= 0:
            if column == 0 or lines[number][column - 1] != "\\":
                return number, column + 1
            column = lines[number].find(needle, column + 1)
    return None


@functools.lru_cache(maxsize=1)
def _reader() -> MarkdownIt:
    """The parser without citations, made once (about 0.6 ms each time)."""
    return make_parser()


def make_parser(citations: Marks | None = None) -> MarkdownIt:
    """CommonMark + the extensions listed in the module doc (and citations, when given their marks)."""
    md = MarkdownIt("commonmark", {"html": True, "tasklists": True, "tasklists_editable": False})
    md.enable(["table", "strikethrough"])
    # markdown-it leaves links to file:, data: or javascript: as literal text;
    # we let them through so that the sanitizer removes the URL and render/articles.py
    # reports the image or link where the author can see it (R002).
    md.validateLink = lambda url: True
    md.use(gfm_autolink_plugin)
    md.use(footnote_plugin, inline=True)
    md.use(deflist_plugin)
    if citations is not None:
        md.use(citations_plugin, citations)  # `[@key, p. 3]`, `@key` (citations.py)
    md.use(callouts_plugin)  # `!!! note`, `:::tip`, `::: {.callout-tip}`, `> [!NOTE]` (callouts.py)
    md.use(attrs_plugin)  # after images, links, inline code
    md.use(attrs_block_plugin)  # a `{#id .class}` line before a block (a table)
    # Pandoc's rules: `$` opens before a non-space, closes after one and not
    # before a digit, so "$5 and $10" stays text; `$$…$$` in a paragraph is
    # display math too; no blank line inside a display.
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False,
           allow_blank_lines=False, double_inline=True)
    md.block.ruler.before("math_block", "math_block_attrs", _display_with_attrs)
    md.core.ruler.push("heading_attrs", _heading_attrs)
    md.core.ruler.push("percent_attrs", _percent_attrs)
    md.core.ruler.push("table_captions", _table_captions)
    md.core.ruler.push("fence_language", _fence_language)
    for name, rule in {**_FOOTNOTE_RULES, **_MATH_RULES, "image": _image}.items():
        md.add_render_rule(name, rule)
    nested = md.block.tokenize
    md.block.tokenize = lambda state, start, end: (_flatten(state, start, end) if state.level >= md.options.maxNesting
                                                   else nested(state, start, end))
    return md


TOO_DEEP = "too_deep"  # env key: where nesting passed the parser's limit (0-based line, 1-based column)

# The container markers at a line's start: quote marks, bullets, ordered-list numbers.
_MARKERS = re.compile(r"(?:[ \t]*(?:>|[-*+](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)))+[ \t]*")


def _flatten(state: StateBlock, start_line: int, end_line: int) -> None:
    """The content of a quote or list item nested past `maxNesting`, as flat
    paragraphs. markdown-it itself skips to the end of the range there, and
    a list item's range runs to the end of the document: every paragraph
    after the nest was lost without a word. Here the lines that belong to
    the container (as markdown-it's own loop would end it: a line indented
    less than the container's content) become paragraphs, their deeper
    markers (`>`, `-`, `1.`) dropped; a line that had a marker starts a new
    paragraph, as it started a new item. The place is put in the env, so
    the renderer reports it (R005)."""
    line = state.skipEmptyLines(start_line)
    if line >= end_line or state.sCount[line] < state.blkIndent:
        state.line = line
        return
    place = state.bMarks[line] + state.tShift[line]
    state.env.setdefault(TOO_DEEP, []).append((line, place - state.src.rfind("\n", 0, place)))
    # In a div: a tight list would hide paragraphs at its items' level and run their texts together.
    wrapper = state.push("too_deep_open", "div", 1)
    wrapper.attrSet("class", "too-deep")
    wrapper.block = True
    paragraph: list[str] = []
    first = line

    def close(upto: int) -> None:
        if not paragraph:
            return
        opening = state.push("paragraph_open", "p", 1)
        opening.map, opening.block = [first, upto], True
        token = state.push("inline", "", 0)
        token.content, token.map, token.children = "\n".join(paragraph), [first, upto], []
        state.push("paragraph_close", "p", -1).block = True
        paragraph.clear()

    while line < end_line:
        if state.isEmpty(line):
            close(line)
            line += 1
            continue
        if state.sCount[line] < state.blkIndent:
            break
        text = state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]
        marker = _MARKERS.match(text)
        if marker and marker.end():
            close(line)
            text = text[marker.end():]
        if not paragraph:
            first = line
        if text.strip():
            paragraph.append(text.strip())
        line += 1
    close(line)
    state.push("too_deep_close", "div", -1).block = True
    state.line = line


_CLOSING_ATTRS = re.compile(r"\$\$[ \t]*(\{[^{}]*\})[ \t]*")


def _display_with_attrs(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """`$$…$$ {#eq-id}` (Quarto): a display whose closing `$$` is followed by
    attributes, on one line or several. dollarmath reads only MyST's `$$…$$ (label)`;
    every other display is left to it."""
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False  # an indented code block
    start = state.bMarks[start_line] + state.tShift[start_line]
    if not state.src.startswith("$$", start):
        return False
    parts = []
    for line in range(start_line, end_line):
        begin = start + 2 if line == start_line else state.bMarks[line] + state.tShift[line]
        text = state.src[begin:state.eMarks[line]]
        if line > start_line and not text.strip():
            return False  # a blank line: no display
        close = text.find("$$")
        if close < 0:
            parts.append(text)
            continue
        match = _CLOSING_ATTRS.fullmatch(text, close)
        if not match:
            return False
        try:
            _, attrs = parse_attrs(match.group(1))
        except ParseError:
            return False
        if not silent:
            token = state.push("math_block_label", "math", 0)
            token.block = True
            token.content = "\n".join([*parts, text[:close]])
            token.markup = "$$"
            token.info = attrs.get("id", "")
            token.map = [start_line, line + 1]
        state.line = line + 1
        return True
    return False


# Math as its TeX, in the elements math.py typesets (pandoc's classes).


def _math_inline(self, tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType) -> str:
    return f'<span class="math inline">{escapeHtml(tokens[index].content.strip())}</span>'


def _math_inline_display(self, tokens, index, options, env) -> str:
    return f'<span class="math display">{escapeHtml(tokens[index].content.strip())}</span>'


def _math_block(self, tokens, index, options, env) -> str:
    token = tokens[index]
    ident = f' id="{escapeHtml(token.info)}"' if token.info else ""
    return f'<div class="math display"{ident}>{escapeHtml(token.content.strip())}</div>\n'


_MATH_RULES = {
    "math_inline": _math_inline,
    "math_inline_double": _math_inline_display,
    "math_block": _math_block,
    "math_block_label": _math_block,
}


_TRAILING_ATTRS = re.compile(r"\s+(\{[^{}]*\})\s*$")


def _heading_attrs(state: StateCore) -> None:
    """`## Title {#id .class}` (pandoc, Quarto): the attributes go to the heading."""
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open":
            continue
        inline = state.tokens[index + 1]
        last = inline.children[-1] if inline.children else None
        if last is None or last.type != "text":
            continue
        match = _TRAILING_ATTRS.search(" " + last.content)
        if not match:
            continue
        try:
            _, attrs = parse_attrs(match.group(1))
        except ParseError:
            continue
        for key, value in attrs.items():
            if key == "class" and token.attrGet("class"):
                value = f"{token.attrGet('class')} {value}"
            token.attrSet(key, value)
        last.content = last.content[: len(last.content) - len(match.group(0)) + 1].rstrip()
        inline.content = inline.content[: inline.content.rfind("{")].rstrip()


_PERCENT = re.compile(r"""=(\d+(?:\.\d+)?%)(?=[\s}])""")


def _percent_attrs(state: StateCore) -> None:
    """`![…](a.png){width=50%}`, as pandoc and Quarto write it: the attrs
    plugin (djot's grammar) takes no `%` in an unquoted value and leaves the
    braces as text; read them again with the percentages quoted."""
    for token in state.tokens:
        children = token.children or []
        for image, text in zip(children, children[1:]):
            if image.type != "image" or text.type != "text" or not text.content.startswith("{"):
                continue
            end = text.content.find("}")
            written = text.content[: end + 1]
            if end < 0 or not _PERCENT.search(written):
                continue
            try:
                _, attrs = parse_attrs(_PERCENT.sub(r'="\1"', written))
            except ParseError:
                continue
            for key, value in attrs.items():
                image.attrSet(key, value)
            text.content = text.content[end + 1:]


# A table's caption, as pandoc writes it: a paragraph `: Caption {#tbl-id}`
# (or `Table: …`) right before or after the table.
_CAPTION = re.compile(r"^(?:[Tt]able)?:\s")


def _table_captions(state: StateCore) -> None:
    """Move a caption paragraph into its table as `<caption>`, its trailing
    `{#tbl-id .class}` onto the table. The paragraph after the table is
    preferred (Quarto's habit); a caption line written right under the last
    row, without a blank line, was read as a row (GFM) and is taken back."""
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        if tokens[index].type != "table_open":
            index += 1
            continue
        close = next(i for i in range(index, len(tokens)) if tokens[i].type == "table_close"
                     and tokens[i].level == tokens[index].level)
        inline = _caption_row(state, tokens, index, close)
        if inline is None and _is_caption(tokens, close + 1):
            inline = tokens[close + 2]
            del tokens[close + 1: close + 4]
        elif inline is None and _is_caption(tokens, index - 3):
            inline = tokens[index - 2]
            del tokens[index - 3: index]
            index -= 3
        if inline is not None:
            _caption_into(tokens, index, inline)
        index += 1


def _is_caption(tokens: list[Token], start: int) -> bool:
    """A paragraph (open, inline, close) at `start` reading `: …`, at the table's level."""
    return (0 <= start and start + 2 < len(tokens) and tokens[start].type == "paragraph_open"
            and tokens[start + 2].type == "paragraph_close" and bool(_CAPTION.match(tokens[start + 1].content)))


def _caption_row(state: StateCore, tokens: list[Token], start: int, close: int) -> Token | None:
    """The last row, if its source line is `: Caption` (no pipe): its first cell's inline."""
    opens = [i for i in range(start, close) if tokens[i].type == "tr_open"]
    row = opens[-1] if opens else None
    if row is None or tokens[row].map is None:
        return None
    line = state.src.split("\n")[tokens[row].map[0]].strip()
    if "|" in line or not _CAPTION.match(line):
        return None
    end = next(i for i in range(row, close) if tokens[i].type == "tr_close")
    inline = next(t for t in tokens[row:end] if t.type == "inline")
    del tokens[row: end + 1]
    body = tokens[row - 1]
    if body.type == "tbody_open" and tokens[row].type == "tbody_close":
        del tokens[row - 1: row + 1]  # the caption was the body's only row
    return inline


def _caption_into(tokens: list[Token], table: int, inline: Token) -> None:
    """`: Caption {#tbl-id}` -> <caption>Caption</caption>, the attributes on the table."""
    children = inline.children or []
    first, last = (children[0], children[-1]) if children else (None, None)
    if first is not None and first.type == "text":
        first.content = _CAPTION.sub("", first.content, count=1)
    if last is not None and last.type == "text":
        match = _TRAILING_ATTRS.search(" " + last.content)
        if match:
            try:
                _, attrs = parse_attrs(match.group(1))
            except ParseError:
                attrs = {}
            for key, value in attrs.items():
                tokens[table].attrSet(key, value)
            if attrs:
                last.content = last.content[: len(last.content) - len(match.group(0)) + 1].rstrip()
    opening, closing = Token("caption_open", "caption", 1), Token("caption_close", "caption", -1)
    opening.block = closing.block = True
    tokens[table + 1: table + 1] = [opening, inline, closing]


def _fence_language(state: StateCore) -> None:
    """The language of a fence is the info's first word, as mdBook and pandoc read it:
    ```` ```rust,ignore ```` is Rust, ```` ```{.python .numberLines} ```` is Python."""
    for token in state.tokens:
        if token.type != "fence" or not token.info.strip():
            continue
        info = token.info.strip()
        if info.startswith("{"):
            try:
                _, attrs = parse_attrs(info)
            except ParseError:
                attrs = {}
            classes = attrs.get("class", "").split()
            token.info = classes[0] if classes else ""
        else:
            first, _, rest = info.partition(" ")
            token.info = " ".join(filter(None, [first.split(",")[0], rest]))


# Footnotes in the shape the exporters read (see pipeline/xhtml.py, NOTE_CALL).


def _note_id(tokens: Sequence[Token], index: int) -> str:
    return str(tokens[index].meta["id"] + 1)


def _ref(self, tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType) -> str:
    number = _note_id(tokens, index)
    sub = tokens[index].meta.get("subId", -1)
    ref_id = f"fnref-{number}" + (f"-{sub}" if sub > 0 else "")
    return f'<sup id="{ref_id}"><a class="{NOTE_CALL}" href="#fn-{number}">{number}</a></sup>'


def _block_open(self, tokens, index, options, env) -> str:
    return f'<div class="{NOTE_BLOCK}">\n<hr />\n<ol>\n'


def _block_close(self, tokens, index, options, env) -> str:
    return "</ol>\n</div>\n"


def _item_open(self, tokens, index, options, env) -> str:
    return f'<li id="fn-{_note_id(tokens, index)}">'


def _item_close(self, tokens, index, options, env) -> str:
    return "</li>\n"


def _anchor(self, tokens, index, options, env) -> str:
    sub = tokens[index].meta.get("subId", -1)
    ref_id = f"fnref-{_note_id(tokens, index)}" + (f"-{sub}" if sub > 0 else "")
    return f' <a class="{NOTE_BACKLINK}" href="#{ref_id}">{BACKLINK}</a>'


_FOOTNOTE_RULES = {
    "footnote_ref": _ref,
    "footnote_block_open": _block_open,
    "footnote_block_close": _block_close,
    "footnote_open": _item_open,
    "footnote_close": _item_close,
    "footnote_anchor": _anchor,
}
