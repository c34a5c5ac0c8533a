"""Callouts: the boxed notes every site dialect writes its own way, as one element.

    !!! note "Title"            MkDocs / Python-Markdown (body indented 4 spaces)
    ??? tip / ???+ tip          MkDocs Material, collapsible: printed open
    :::tip Title   :::tip[Title]    Docusaurus (and Hugo's alert/notice shortcodes,
    ...                         turned into this form by the site pre-pass)
    :::
    ::: {.callout-tip title="Title"}   Quarto (a first `## heading` is the title too)
    ...
    :::
    > [!NOTE]                   GitHub alerts (and Obsidian's `> [!tip] Title`)
    > Body

all become

    <aside class="callout callout-KIND" role="note">
      <p class="callout-title">Title</p>
      …the body, rendered as Markdown…
    </aside>

A paper or e-book has no buttons to fold, so a collapsible callout is open.
Untitled callouts get the kind's word in the article's language: the parser
leaves `<p class="callout-title"></p>` empty (it does not know the language)
and `fill_titles` fills it once the article's words are known, and gives the
aside its role (set here, after the sanitizer, so that no author's raw HTML
can pass an ARIA role EPUBCheck would reject). `!!! note ""` asks for no title
bar, as in MkDocs, and gets none.

Other pandoc/Quarto fenced divs (`::: {.column-margin}`, `::: aside`) keep
their content in a plain `<div>` with their classes: their fences never print.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml import etree
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.attrs.parse import ParseError, parse as parse_attrs

# The kinds with a word in styles/labels.toml (`callout_KIND`), and what
# each dialect also calls them (MkDocs Material, Docusaurus, MyST, Bootstrap
# colours of Hugo's alerts). GitHub's five are note, tip, important, warning, caution.
KINDS = ("note", "tip", "important", "warning", "caution", "info", "danger", "abstract", "success",
         "question", "failure", "bug", "example", "quote")
ALIASES = {
    "summary": "abstract", "tldr": "abstract", "todo": "info", "hint": "tip", "check": "success",
    "done": "success", "help": "question", "faq": "question", "attention": "warning", "fail": "failure",
    "missing": "failure", "error": "danger", "cite": "quote", "secondary": "note", "primary": "note",
    "seealso": "note", "notice": "note", "remark": "note",
}
SHORT = 600  # characters: a callout this short is kept on one page in the PDF


def kind_of(name: str) -> str | None:
    """The callout kind a dialect's name stands for, or None if it is none of ours."""
    name = name.strip().lower().removeprefix("callout-")
    return name if name in KINDS else ALIASES.get(name)


def callouts_plugin(md: MarkdownIt) -> None:
    """Register every callout syntax on `md`: admon (`!!!`, `???`) from
    mdit-py-plugins, the `:::` fence, GitHub alerts, and their rendering."""
    md.use(admon_plugin)
    md.block.ruler.at("admonition", _admonition_as_mkdocs(md.block.ruler.__rules__))
    md.block.ruler.before("fence", "fenced_div", _fenced_div,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})
    md.core.ruler.before("inline", "callouts", _callouts)
    md.add_render_rule("callout_open", _render_open)
    md.add_render_rule("callout_close", lambda self, tokens, index, options, env: "</aside>\n")
    md.add_render_rule("callout_title_open", lambda self, tokens, index, options, env:
                       '<p class="callout-title">')
    md.add_render_rule("callout_title_close", lambda self, tokens, index, options, env: "</p>\n")


# MkDocs (Python-Markdown): `!!! type [more classes] ["Title"]`; nothing else on the line.
_MKDOCS = re.compile(r'[ \t]*([\w-]+(?:[ \t]+[\w-]+)*)(?:[ \t]+"(.*)")?[ \t]*')


def _admonition_as_mkdocs(rules: list) -> object:
    """admon's rule, taking only what MkDocs takes: `!!! IMPORTANT !!!` in
    prose stays a paragraph, as MkDocs leaves it (admon would box it)."""
    admonition = next(rule.fn for rule in rules if rule.name == "admonition")

    def rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        start = state.bMarks[start_line] + state.tShift[start_line]
        line = state.src[start:state.eMarks[start_line]]
        marker = "???+" if line.startswith("???+") else line[:3]
        if marker not in ("!!!", "???", "???+") or not _MKDOCS.fullmatch(line[len(marker):]):
            return False
        return admonition(state, start_line, end_line, silent)

    return rule


def _render_open(self, tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType) -> str:
    return f'<aside class="callout callout-{escapeHtml(tokens[index].meta["kind"])}">\n'


# --- `:::` fenced divs (Docusaurus, Quarto, pandoc) -------------------------------------

_OPENER = re.compile(r"(:{3,})[ \t]*(\S.*?)(?:[ \t]+:{3,})?[ \t]*")
_CLOSER = re.compile(r":{3,}[ \t]*")
_CODE_FENCE = re.compile(r"(`{3,}|~{3,})")
_NAME = re.compile(r"[A-Za-z][\w-]*")


def _fenced_div(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """`:::name …` … `:::`, nested by counting: every opener (colons and
    something after them) opens, every bare run of colons closes the
    innermost, whatever its length (pandoc's rule; Docusaurus's longer outer
    fences read the same). Lines inside a code fence are not looked at. An
    unclosed div ends with its parent, as an unclosed code fence does."""
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    opener = _OPENER.fullmatch(_line(state, start_line))
    parsed = _parse_opener(opener.group(2)) if opener else None
    if parsed is None:
        return False
    kind, title, attrs = parsed
    end, closed = _div_end(state, start_line, end_line)
    if not kind and not closed:
        return False  # `::: Chapter 2 :::` in prose, never closed: text, not a div
    if silent:
        return True
    old_parent, old_max = state.parentType, state.lineMax
    state.parentType, state.lineMax = "container", end
    if kind:
        _push_callout_open(state, kind, title, [start_line, end], quarto=title is None)
    else:
        token = state.push("fenced_div_open", "div", 1)
        token.attrs = attrs
        token.block, token.map = True, [start_line, end]
    state.md.block.tokenize(state, start_line + 1, end)
    state.push("callout_close" if kind else "fenced_div_close", "aside" if kind else "div", -1).block = True
    state.parentType, state.lineMax = old_parent, old_max
    state.line = end + (1 if closed else 0)
    return True


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]


def _div_end(state: StateBlock, start_line: int, end_line: int) -> tuple[int, bool]:
    """The line of the div's closing fence (and True), or where its parent ends (and False)."""
    depth, fence = 1, ""
    for line in range(start_line + 1, end_line):
        text = _line(state, line)
        if text and state.sCount[line] < state.blkIndent:
            return line, False  # a line indented less than the div ends it, as in a list
        if state.sCount[line] - state.blkIndent >= 4:
            continue
        if fence:
            fence = "" if text.rstrip().startswith(fence) and not text.strip().strip(fence[0]) else fence
            continue
        code = _CODE_FENCE.match(text)
        if code:
            fence = code.group(1)
        elif _CLOSER.fullmatch(text):
            depth -= 1
            if not depth:
                return line, True
        elif (opener := _OPENER.fullmatch(text)) and _parse_opener(opener.group(2)) is not None:
            depth += 1
    return end_line, False


def _parse_opener(params: str) -> tuple[str | None, str | None, dict] | None:
    """(callout kind or None, its title or None, a plain div's attrs) of what
    follows the colons: `tip`, `tip Title`, `tip[Title]`, `tip[Title]{#id}`,
    `{.callout-tip title="Title"}`, `callout-tip`, `{.column-margin}`;
    None if it is no opener (a bare word of text that is not a name)."""
    if params.startswith("{"):
        try:
            end, attrs = parse_attrs(params)
        except ParseError:
            return None
        if params[end + 1:].strip():  # `end` is the closing brace
            return None
        classes = attrs.get("class", "").split()
        kind = next((kind_of(c) for c in classes if c.startswith("callout-") and kind_of(c)), None)
        if kind:
            return kind, attrs.get("title"), {}
        return None, None, {key: value for key, value in attrs.items() if key in ("id", "class")}
    match = _NAME.match(params)
    if not match:
        return None
    name, rest = match.group(0), params[match.end():]
    if rest.endswith("}") and "{" in rest:  # Docusaurus directive attributes: `{#id}`
        rest = rest[:rest.rindex("{")]
    rest = rest.strip()
    if rest.startswith("[") and rest.endswith("]"):
        rest = rest[1:-1].strip()
    kind = kind_of(name)
    if kind:
        quarto = name.lower().startswith("callout-") and not rest
        return kind, None if quarto else rest, {}  # "": no title given, the kind's word is printed
    return None, None, {"class": name}


# --- GitHub alerts, MkDocs admonitions and Quarto headings, on the token stream ---------

_ALERT = re.compile(r"[ \t]*\[!([A-Za-z]+)\][+-]?[ \t]*(.*)")


def _callouts(state: StateCore) -> None:
    """Before inline parsing: admon's tokens become callout tokens with the
    MkDocs reading of their line; a blockquote opening with `[!KIND]` becomes
    a callout; a Quarto callout's first heading becomes its title."""
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "admonition_open":
            _from_admonition(tokens, index)
        elif token.type == "blockquote_open":
            _from_alert(tokens, index)
        elif token.type == "callout_open" and token.meta.get("quarto"):
            _heading_as_title(tokens, index)
        index += 1


def _from_admonition(tokens: list[Token], index: int) -> None:
    """`!!! note inline end "Title"`: the first word is the kind, the others
    are classes (MkDocs), the quoted text the title; no quotes, the kind's word."""
    opening = tokens[index]
    match = _MKDOCS.fullmatch(opening.info)
    name = match.group(1).split()[0] if match else opening.meta.get("tag", "note")
    kind = kind_of(name) or _class_name(name)
    title = match.group(2) if match else None
    close = _matching(tokens, index, "admonition_close")
    tokens[close] = _token("callout_close", "aside", -1, level=tokens[close].level)
    has_title = tokens[index + 1].type == "admonition_title_open"
    if has_title:
        del tokens[index + 1:index + 4]
    tokens[index] = _token("callout_open", "aside", 1, opening.map, {"kind": kind}, opening.level)
    if title != "":  # `!!! note ""`: no title bar
        tokens[index + 1:index + 1] = _title_tokens(title or "", opening.map, opening.level + 1)


def _from_alert(tokens: list[Token], index: int) -> None:
    """`> [!NOTE]` on a blockquote's first line: the quote is a callout; the
    rest of that line (Obsidian's habit) is its title."""
    if index + 2 >= len(tokens) or tokens[index + 1].type != "paragraph_open":
        return
    inline = tokens[index + 2]
    first, _, rest = inline.content.partition("\n")
    match = _ALERT.fullmatch(first)
    kind = kind_of(match.group(1)) if match else None
    if not kind:
        return
    close = _matching(tokens, index, "blockquote_close")
    tokens[close] = _token("callout_close", "aside", -1, level=tokens[close].level)
    opening = tokens[index]
    tokens[index] = _token("callout_open", "aside", 1, opening.map, {"kind": kind}, opening.level)
    if rest.strip():
        inline.content = rest
    else:
        del tokens[index + 1:index + 4]  # the marker was the paragraph
    tokens[index + 1:index + 1] = _title_tokens(match.group(2).strip(), opening.map, opening.level + 1)


def _heading_as_title(tokens: list[Token], index: int) -> None:
    """Quarto: `::: {.callout-tip}` then `## Title` — the heading is the title."""
    if index + 4 < len(tokens) and tokens[index + 1].type == "callout_title_open" \
            and not tokens[index + 2].content and tokens[index + 4].type == "heading_open":
        heading = tokens[index + 5]
        del tokens[index + 4:index + 7]
        tokens[index + 2].content = heading.content


def _push_callout_open(state: StateBlock, kind: str, title: str | None, where: list[int], quarto: bool) -> None:
    token = state.push("callout_open", "aside", 1)
    token.block, token.map, token.meta = True, where, {"kind": kind, "quarto": quarto}
    state.tokens.extend(_title_tokens(title or "", [where[0], where[0] + 1], state.level))


def _title_tokens(title: str, where: list[int] | None, level: int) -> list[Token]:
    """The title paragraph: `title` as inline Markdown, or empty for `fill_titles`."""
    inline = _token("inline", "", 0, where, level=level + 1)
    inline.content, inline.children = title, []
    return [_token("callout_title_open", "p", 1, where, level=level), inline,
            _token("callout_title_close", "p", -1, level=level)]


def _token(kind: str, tag: str, nesting: int, where: list[int] | None = None, meta: dict | None = None,
           level: int = 0) -> Token:
    token = Token(kind, tag, nesting)
    token.block, token.map, token.meta, token.level = True, where, meta or {}, level
    return token


def _matching(tokens: list[Token], index: int, closing: str) -> int:
    """The index of the token closing the one at `index` (same level)."""
    level = tokens[index].level
    return next(i for i in range(index + 1, len(tokens)) if tokens[i].type == closing and tokens[i].level == level)


def _class_name(name: str) -> str:
    """An unknown MkDocs type as a class word: letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "note"


# --- After the sanitizer: words of the article's language, role, short ones -------------

CALLOUT_CLASS = re.compile(r"(?:^|\s)callout-([a-z0-9-]+)(?:\s|$)")


def fill_titles(root: etree._Element, words: dict[str, str]) -> None:
    """Give each callout its ARIA role, an untitled one the word for its kind
    in the article's language (`callout_KIND` in labels.toml; an unknown
    MkDocs type its own name), and mark short ones `callout-short`, which
    print.css keeps on one page (a long one may break: kept whole, it would
    leave most of a page empty)."""
    for aside in root.iter("aside"):
        classes = (aside.get("class") or "").split()
        if "callout" not in classes:
            continue
        match = CALLOUT_CLASS.search(aside.get("class") or "")
        kind = match.group(1) if match else "note"
        aside.set("role", "note")
        title = aside[0] if len(aside) and aside[0].tag == "p" else None
        if title is not None and "callout-title" in (title.get("class") or "").split() \
                and not (title.text or "").strip() and not len(title):
            title.text = words.get(f"callout_{kind}") or kind.replace("-", " ").capitalize()
        if _is_short(aside) and "callout-short" not in classes:
            aside.set("class", " ".join([*classes, "callout-short"]))


def _is_short(aside: etree._Element) -> bool:
    """Little text, and nothing tall (code, a table, a picture, another callout)."""
    if len("".join(aside.itertext())) > SHORT:
        return False
    return next(aside.iterdescendants("pre", "table", "figure", "img", "aside"), None) is None
