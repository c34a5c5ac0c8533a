"""Where a manuscript's articles and titles are: read from its Markdown blocks.

Books that people already have are not one file per article with front
matter: a converted book is one file with a `#` per chapter; an mdBook chapter
opens with its title at any level; a pandoc file opens with a `% Title` block.
The parser's block tokens (with their source lines) say where headings are,
so a `# comment` inside a code fence is never taken for a chapter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text.markdown import parse, to_inline_html


@dataclass(frozen=True)
class ArticleText:
    """One article's share of a manuscript."""

    title: str  # plain text; "" when the manuscript gives none (the file name is used)
    title_markdown: str  # the title as written, inline Markdown; "" for plain titles
    title_level: int  # level of the heading that gave the title (1 otherwise)
    body: str
    body_line: int  # 1-based line of the manuscript where `body` starts
    # The `#` heading that opens this article in a file of several ("" for
    # the file's opening text), and the id it gives itself (`# Title {#id}`):
    # where the article's slug comes from when the file name cannot tell it apart.
    heading: str = ""
    heading_id: str = ""


@dataclass(frozen=True)
class _Heading:
    start: int  # 0-based lines of the body, end excluded
    end: int
    level: int
    text: str
    id: str = ""


def split_articles(body: str, body_line: int, front_title: str = "", whole: bool = False) -> list[ArticleText]:
    """Cut a manuscript body into articles.

    - Each top-level `#` heading opens an article, titled by it.
    - Text before the first `#` is an opening article, titled by the front
      matter, else by a heading on its first line at any level, else by
      nobody (the caller takes the file name and warns).
    - A front-matter title with nothing before a first `#` titles that
      article (front matter and heading usually say the same).
    - Link reference and footnote definitions serve the whole file: each
      article also gets those written in the others (a converted book keeps
      its notes at the end).
    - `whole`: the file is one article (a website's page, whose later `#`
      headings are its sections); only a `#` heading on its first line titles it.
    """
    lines = body.split("\n")
    tokens = parse(body)
    headings = _headings(tokens)
    first = _first_content_line(tokens, len(lines))
    html_title = _html_heading(tokens, first)
    if html_title is not None and not (headings and headings[0].start == first):
        headings.insert(0, html_title)
    openers = [heading for heading in headings if heading.level == 1]
    if whole:
        openers = openers[:1] if openers and openers[0].start == first else []
    opening_end = openers[0].start if openers else len(lines)
    # (title, Markdown title, level, first body line, end line, opening `#` heading) of each article;
    # an article that starts before its heading (a comment or anchor above it) has the heading blanked.
    spans: list[tuple[str, str, int, int, int, _Heading | None]] = []
    leading = headings[0] if headings and headings[0].start == first and not front_title else None
    front_markdown = _written_markdown(front_title)
    front_title = plain_text(front_title) if front_markdown else front_title
    if leading is not None and leading.level > 1:
        spans.append((plain_text(leading.text), leading.text, leading.level, 0, opening_end, leading))
    elif any(line.strip() for line in lines[first:opening_end]) or not openers:
        spans.append((front_title, front_markdown, 1, 0, opening_end, None))
    for number, heading in enumerate(openers):
        end = openers[number + 1].start if number + 1 < len(openers) else len(lines)
        start = 0 if not spans else heading.start  # the file's comments and anchors stay with its first article
        if not spans and front_title:
            spans.append((front_title, front_markdown, 1, start, end, heading))
        else:
            spans.append((plain_text(heading.text), heading.text, 1, start, end, heading))
    definitions = _definitions(tokens, lines) if len(spans) > 1 else []
    parts = []
    for title, markdown, level, start, end, opener in spans:
        shared = [text for at, text in definitions if not start <= at < end]
        # A heading that says other words than the front matter's title stays in the body: MkDocs
        # and Docusaurus show it as the page's heading (`title:` names the page in the navigation).
        dropped = opener if opener and _same_words(plain_text(opener.text), title) or opener and not front_title \
            else None
        if dropped and start == dropped.start:
            start = dropped.end  # the body starts below its heading
        own = [("" if dropped and dropped.start <= index < dropped.end else line)
               for index, line in enumerate(lines[start:end], start=start)]
        text = "\n".join(own + (["", "\n\n".join(shared)] if shared else []))
        named = opener if opener and opener.level == 1 else None
        parts.append(ArticleText(title, markdown, level, text, body_line + start,
                          heading=plain_text(named.text) if named else "", heading_id=named.id if named else ""))
    return parts


def _same_words(one: str, other: str) -> bool:
    """Whether two titles say the same, case, spacing and punctuation aside."""
    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.casefold())
    return words(one) == words(other)


# An HTML block that shows nothing: comments and empty anchors (`<a id="old-name"></a>`),
# which mdBook chapters put above their title to keep old links working.
_SILENT_HTML = re.compile(r"(?:\s|<!--.*?-->|<a\s+(?:id|name)=\"[^\"]*\"\s*(?:/>|>\s*</a>))*", re.S)


def _first_content_line(tokens, line_count: int) -> int:
    """0-based line of the first top-level block that shows something (the
    title may stand below comments and old anchors)."""
    for index, token in enumerate(tokens):
        if token.level != 0 or not token.map or token.nesting == -1:
            continue
        if token.type == "html_block" and _SILENT_HTML.fullmatch(token.content):
            continue
        if token.type == "paragraph_open" and _SILENT_HTML.fullmatch(tokens[index + 1].content):
            continue  # an anchor alone on its line is inline HTML: a paragraph of nothing
        return token.map[0]
    return line_count


def _written_markdown(title: str) -> str:
    """A front-matter or `%` title as inline Markdown when it uses emphasis or
    code (`The *Tides* of \\`Box\\``), else "" (a plain title). Angle brackets
    stay text there (`Box<T>` in YAML is a title, not an HTML tag): they are
    escaped, and the emphasis around them still set (`Gulls < Terns on the *Coast*`)."""
    if not _INLINE_MARKUP.search(title):
        return ""
    parts = re.split(r"((`+).+?\2)", title)  # code spans (kept as written: an escape there is text)
    written = "".join(part if index % 3 else re.sub(r"(?<!\\)<", r"\\<", part)
                      for index, part in enumerate(parts) if index % 3 != 2)
    return written if plain_text(written) != " ".join(title.split()) else ""


_INLINE_MARKUP = re.compile(r"[*_`~]")
_DEFINITION = re.compile(r" {0,3}\[[^\]]+\]:")


def _definitions(tokens, lines: list[str]) -> list[tuple[int, str]]:
    """(line, text) of the link reference and footnote definitions: the lines
    no top-level block covers, that start like `[label]:` or `[^note]:`."""
    covered = [False] * len(lines)
    for token in tokens:
        if token.level == 0 and token.map:
            for index in range(token.map[0], min(token.map[1], len(lines))):
                covered[index] = True
    found, index = [], 0
    while index < len(lines):
        if covered[index] or not _DEFINITION.match(lines[index]):
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not covered[end] and not _DEFINITION.match(lines[end]) and (
                lines[end].strip() == "" or lines[end][:1] in (" ", "\t")):
            end += 1
        found.append((index, "\n".join(lines[index:end]).rstrip()))
        index = end
    return found


_HTML_H1 = re.compile(r"\s*<h1(?:\s[^>]*)?>(.*?)</h1>\s*", re.S | re.I)


def _html_heading(tokens, first: int) -> _Heading | None:
    """An HTML `<h1 align="center">Name</h1>` block on the first line that
    shows something, as a README on GitHub opens: the page's title, as a
    `#` heading there would be (its text: Markdown inline, tags kept)."""
    for token in tokens:
        if token.type == "html_block" and token.level == 0 and token.map and token.map[0] == first:
            match = _HTML_H1.fullmatch(token.content)
            if match and match.group(1).strip():
                return _Heading(token.map[0], token.map[1], 1, " ".join(match.group(1).split()))
            return None
    return None


def _headings(tokens) -> list[_Heading]:
    """Top-level headings (not those in quotes or lists), with their lines."""
    found = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.level == 0 and token.map:
            text = tokens[index + 1].content.strip()
            found.append(_Heading(token.map[0], token.map[1], int(token.tag[1]), " ".join(text.split()),
                                  str(token.attrGet("id") or "")))
    return found


def plain_text(markdown: str) -> str:
    """The text of a line of inline Markdown (`` `Box<T>` and *you* `` -> 'Box<T> and you'),
    for bookmarks, metadata and slugs; footnote calls left out. Characters
    XML forbids are left out too (lxml refuses them; the loader reports them)."""
    from lxml import html as lxml_html

    from ..xhtml import XML_FORBIDDEN

    source = to_inline_html(XML_FORBIDDEN.sub("", markdown))
    if not source.strip():
        return ""
    root = lxml_html.fragment_fromstring(source, create_parent="div")
    for call in root.iter("sup"):
        if call.get("id", "").startswith("fnref-"):
            call.drop_tree()
    for note in root.find_class("footnote"):
        note.drop_tree()
    return " ".join(root.text_content().split())


@dataclass(frozen=True)
class TitleBlock:
    values: dict[str, object]
    body: str
    lines: int  # lines the block took


def title_block(body: str) -> TitleBlock | None:
    """A pandoc title block: up to three leading `%` lines (title, authors
    separated by ';', date); an empty `%` line skips a field."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("%"):
        return None
    fields: list[str] = []
    index = 0
    while index < len(lines) and len(fields) < 3 and lines[index].startswith("%"):
        text = lines[index][1:].strip()
        index += 1
        while index < len(lines) and lines[index][:1] in (" ", "\t") and lines[index].strip():
            text += " " + lines[index].strip()  # a continuation line
            index += 1
        fields.append(text)
    fields += [""] * (3 - len(fields))
    values: dict[str, object] = {}
    if fields[0]:
        values["title"] = fields[0]
    authors = [name.strip() for name in fields[1].split(";") if name.strip()]
    if authors:
        values["authors"] = authors
    if fields[2]:
        values["date"] = fields[2]
    return TitleBlock(values, "\n".join(lines[index:]), index)
