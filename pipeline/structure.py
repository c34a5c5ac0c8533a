"""Where a manuscript's articles and titles are: read from its Markdown blocks.

Books that people already have are not one file per article with front
matter: a converted book is one file with a `#` per chapter; an mdBook chapter
opens with its title at any level; a pandoc file opens with a `% Title` block.
The parser's block tokens (with their source lines) say where headings are,
so a `# comment` inside a code fence is never taken for a chapter.
"""

from __future__ import annotations

from dataclasses import dataclass

from .markdown import make_parser, to_inline_html


@dataclass(frozen=True)
class Part:
    """One article's share of a manuscript."""

    title: str  # plain text; "" when the manuscript gives none (the file name is used)
    title_markdown: str  # the title as written, inline Markdown; "" for plain titles
    title_level: int  # level of the heading that gave the title (1 otherwise)
    body: str
    body_line: int  # 1-based line of the manuscript where `body` starts


@dataclass(frozen=True)
class _Heading:
    start: int  # 0-based lines of the body, end excluded
    end: int
    level: int
    text: str


def split_articles(body: str, body_line: int, front_title: str = "") -> list[Part]:
    """Cut a manuscript body into articles.

    - Each top-level `#` heading opens an article, titled by it.
    - Text before the first `#` is an opening article, titled by the front
      matter, else by a heading on its first line at any level, else by
      nobody (the caller takes the file name and warns).
    - A front-matter title with nothing before a first `#` titles that
      article (front matter and heading usually say the same).
    """
    lines = body.split("\n")
    headings = _headings(body)
    firsts = [index for index, line in enumerate(lines) if line.strip()]
    first = firsts[0] if firsts else len(lines)
    openers = [heading for heading in headings if heading.level == 1]
    opening_end = openers[0].start if openers else len(lines)
    parts = []
    leading = headings[0] if headings and headings[0].start == first and not front_title else None
    if leading is not None and leading.level > 1:
        parts.append(_part(leading, lines, leading.end, opening_end, body_line))
    elif any(line.strip() for line in lines[:opening_end]) or not openers:
        parts.append(Part(front_title, "", 1, "\n".join(lines[:opening_end]), body_line))
    for number, heading in enumerate(openers):
        end = openers[number + 1].start if number + 1 < len(openers) else len(lines)
        part = _part(heading, lines, heading.end, end, body_line)
        if not parts and front_title:
            part = Part(front_title, "", 1, part.body, part.body_line)
        parts.append(part)
    return parts


def _part(heading: _Heading, lines: list[str], start: int, end: int, body_line: int) -> Part:
    return Part(plain_text(heading.text), heading.text, heading.level, "\n".join(lines[start:end]),
                body_line + start)


def _headings(body: str) -> list[_Heading]:
    """Top-level headings (not those in quotes or lists), with their lines."""
    tokens = make_parser().parse(body)
    found = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.level == 0 and token.map:
            text = tokens[index + 1].content.strip()
            found.append(_Heading(token.map[0], token.map[1], int(token.tag[1]), " ".join(text.split())))
    return found


def plain_text(markdown: str) -> str:
    """The text of a line of inline Markdown (`` `Box<T>` and *you* `` -> 'Box<T> and you'),
    for bookmarks, metadata and slugs; footnote calls left out."""
    from lxml import html as lxml_html

    source = to_inline_html(markdown)
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
