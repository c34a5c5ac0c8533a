"""Split and validate a manuscript's front matter: YAML (`---`), TOML
(`+++`, Hugo) or JSON (an object from line 1, Hugo), each site's keys mapped
onto ours (`title`, `summary`, `date`, `authors`, `tags`, `image`, `url`,
`order`, `language`, `draft`...).

Parsers' error marks are relative to the front-matter block; we add the
block's offset so every message names the real line of the manuscript. Only
plain YAML is accepted (`yaml.SafeLoader`): tags that construct objects are
refused, and so are anchors and aliases (`&a`, `*a`, M012), found by YAML's
scanner before anything is built: nine lines of aliases expand to a billion
values. JSON front matter is read from at most MAX_JSON characters.
"""

from __future__ import annotations

import datetime
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..diagnostics import Diagnostic, did_you_mean, error, shorten, warning, with_suggestion
from ..styles import is_language_tag, language_tag_for
from .language import language_tag_named
from ..text.sourcetext import character_problem, shown_value, toml_error

MAX_JSON = 64 * 1024  # characters a JSON front matter may span: a page's metadata, not a data set

# Our keys -> (expected Python type, description). Values are type-checked, so
# that `title: no` is an error to fix rather than the title "False".
FIELDS: dict[str, tuple[type, str]] = {
    "title": (str, "the article's title"),
    "subtitle": (str, "a subtitle shown under the title"),
    "summary": (str, "a one-paragraph summary, shown as 'In brief'"),
    "blurb": (str, "a quoted paragraph, shown as a pull quote"),
    "authors": (list, "the article's authors, if not the book's"),
    "slug": (str, "the article's id in links and file names"),
    "language": (str, "the article's language (BCP 47), if not the book's: quotes, hyphenation, direction"),
    "date": (str, "the article's date, shown under its title (YYYY-MM-DD)"),
    "tags": (list, "subjects of the article (the EPUB's dc:subject)"),
    "image": (str, "the article's lead image, shown on its opener"),
    "url": (str, "the article's web address"),
    "order": (float, "the article's place in the book (lower first)"),
    "draft": (bool, "true: the article is left out of the book"),
    "bibliography": (list, "the article's bibliography files (.bib, .json, .yaml, .ris, .nbib), beside the book's"),
    "references": (list, "the article's own references: CSL-YAML items, as pandoc reads them"),
    "nocite": (list, "keys listed though not cited: [\"@smith2020\"], or [\"@*\"] for every entry"),
}

# A website's key -> ours, in order of preference where several name the same
# thing (`title` over `linkTitle`, the publication date over the last change).
ALIASES: dict[str, str] = {
    "title": "title", "display_title": "title", "linkTitle": "title",
    "summary": "summary", "description": "summary", "excerpt": "summary",
    "date": "date", "publishDate": "date", "pubDate": "date", "published_at": "date",
    "lastmod": "date", "lastupdate": "date", "last_modified_at": "date", "updatedDate": "date",
    "authors": "authors", "author": "authors",
    "tags": "tags", "categories": "tags", "keywords": "tags",
    "image": "image", "cover": "image", "heroImage": "image", "featured_image": "image", "images": "image",
    "slug": "slug", "url": "url", "permalink": "url",
    "weight": "order", "order": "order", "sidebar_position": "order", "nav_order": "order",
    "language": "language", "lang": "language", "locale": "language",
    "draft": "draft", "published": "draft",
    "subtitle": "subtitle", "blurb": "blurb",
    "bibliography": "bibliography", "references": "references", "nocite": "nocite",
}

# Keys each generator reads for its own templates, menus and search: nothing
# a book prints, so they are ignored without a warning in that flavour.
_COMMON = {"layout", "template", "type", "id", "toc", "comments", "share", "sidebar", "hidden",
           "seo", "canonical_url", "canonical", "robots", "noindex", "no_index", "og_image", "og_title",
           "og_description", "twitter", "meta_title", "meta_description", "version", "category", "minutes", "draft_only"}
IGNORED: dict[str, frozenset[str]] = {
    "hugo": frozenset(_COMMON | {
        "aliases", "menu", "menus", "outputs", "build", "cascade", "headless", "isCJKLanguage", "markup",
        "resources", "sitemap", "expiryDate", "series", "translationKey", "params", "video", "audio",
        "featured", "archived", "showToc", "TocOpen", "tocOpen", "hidemeta", "ShowReadingTime",
        "ShowBreadCrumbs", "ShowPostNavLinks", "ShowWordCount", "UseHugoToc", "disableShare", "disableHLJS",
        "searchHidden", "hideSummary", "editPost", "math", "mermaid", "tags_title", "thumbnail", "icon"}),
    "jekyll": frozenset(_COMMON | {
        "redirect_from", "redirect_to", "excerpt_separator", "sitemap", "tags_title", "hide", "nav_exclude",
        "parent", "grand_parent", "has_children", "has_toc", "collection", "render_with_liquid", "feature",
        "mathjax", "header", "classes", "read_time", "author_profile", "related", "show_date"}),
    "docusaurus": frozenset(_COMMON | {
        "sidebar_label", "sidebar_class_name", "sidebar_custom_props", "hide_title", "hide_table_of_contents",
        "toc_min_heading_level", "toc_max_heading_level", "pagination_label", "pagination_next",
        "pagination_prev", "parse_number_prefixes", "custom_edit_url", "last_update", "displayed_sidebar",
        "unlisted", "hide_reading_time", "title_meta", "sidebar_key"}),
    "astro": frozenset(_COMMON | {"ogImage", "minutesRead", "featured", "heroImageAlt", "relatedPosts",
                                  "isDraft", "updated"}),
    "mkdocs": frozenset(_COMMON | {"hide", "icon", "status", "search", "links", "readtime", "pin",
                                   "render_macros", "social"}),
    "mdbook": frozenset(_COMMON | {"course", "session", "target_minutes"}),
    "gfm": frozenset(_COMMON),
}
IGNORED["plain"] = frozenset().union(*IGNORED.values())  # a folder copied out of a site has no config to say which


@dataclass(frozen=True)
class FrontMatter:
    values: dict[str, Any]  # our keys (FIELDS), whatever the site called them
    body: str
    body_line: int  # 1-based line where the body starts
    present: bool
    where: dict[str, tuple[int, int]] = field(default_factory=dict)  # our key -> its line and value's column


# Each top-level key's manuscript line, the column of its value and the value
# as written (`no` is False once parsed; a message quotes `no`).
Written = dict[str, tuple[int, int, str]]


@dataclass(frozen=True)
class _Raw:
    """A front matter as its parser read it, before its keys are mapped."""

    data: dict[str, Any]
    written: Written
    body: str
    body_line: int
    present: bool
    kind: str = "YAML"  # the language it is written in, as messages name it


_JSON_START = re.compile(r"\{\s*(\"|\}|$)")  # `{` then a key or the end: not `{{< shortcode >}}` or `{% tag %}`


def split(text: str, path: Path, flavour: str = "plain",
          authors: Mapping[str, str] | None = None) -> tuple[FrontMatter, list[Diagnostic]]:
    """Separate front matter (`---` YAML, `+++` TOML, or a JSON object from
    line 1) from the Markdown body, its keys mapped onto ours for `flavour`;
    author ids are looked up in `authors` (id -> name; an unknown id is kept
    as written). A file name's date (`2023-03-16-slug.md`) or language
    (`post.fr.md`) fills what the front matter does not say."""
    first = text.split("\n", 1)[0].rstrip()
    if first in ("---", "+++"):
        raw, diagnostics = _delimited(text.split("\n"), first, path)
    elif _JSON_START.match(first):
        raw, diagnostics = _json_block(text, path)
    else:
        raw, diagnostics = _Raw({}, {}, text, 1, False), []
    values, found = _check(raw, path, flavour, dict(authors or {}))
    values.update({key: value for key, value in _from_file_name(path, flavour).items() if key not in values})
    where = {ALIASES[name]: place[:2] for name, place in raw.written.items() if name in ALIASES}
    return FrontMatter(values, raw.body, raw.body_line, raw.present, where), diagnostics + found


def _delimited(lines: list[str], fence: str, path: Path) -> tuple[_Raw, list[Diagnostic]]:
    """A block between `---` lines (YAML, which may also end with `...`) or
    `+++` lines (TOML), parsed; M006 if it is never closed."""
    closing = ("---", "...") if fence == "---" else ("+++",)
    for index in range(1, len(lines)):
        if lines[index].rstrip() in closing:
            block = "\n".join(lines[1:index])
            data, written, diagnostics = (_parse if fence == "---" else _toml)(block, path)
            return _Raw(data, written, "\n".join(lines[index + 1:]), index + 2, True,
                        "YAML" if fence == "---" else "TOML"), diagnostics
    return _Raw({}, {}, "\n".join(lines), 1, False), [error(
        "M006", f"front matter opened with '{fence}' is never closed",
        hint=f"add a line '{fence}' after the last front-matter key", path=path, line=1, column=1)]


def _toml(block: str, path: Path) -> tuple[dict[str, Any], Written, list[Diagnostic]]:
    """TOML front matter (Hugo's `+++`), with tomllib; an error at the line
    and column TOML names (line 1 of the block is the manuscript's line 2)."""
    try:
        data = tomllib.loads(block)
    except tomllib.TOMLDecodeError:
        return {}, {}, [_toml_problem(block, path)]
    except (ValueError, RecursionError) as exc:  # a number of 5,000 digits; arrays nested thousands deep
        return {}, {}, [error("M001", f"invalid TOML front matter: a value cannot be read "
                                      f"({shorten(str(exc) or type(exc).__name__, 80)})",
                              hint="quote the value to make it text", path=path, line=2, column=1)]
    return data, _toml_written(block), []


def _toml_problem(block: str, path: Path) -> Diagnostic:
    """M001 for TOML front matter tomllib refuses, in plain words. Parsed
    again after a blank line, the '+++' line's place: every line it and the
    message name is then the manuscript's."""
    try:
        tomllib.loads("\n" + block)
    except tomllib.TOMLDecodeError as exc:
        found = toml_error("\n" + block, exc)
        return error("M001", f"invalid TOML front matter: {found.message}", hint=found.hint, path=path,
                     line=found.line, column=found.column)
    return error("M001", "invalid TOML front matter", path=path, line=2, column=1)  # (not reached)


_TOML_KEY = re.compile(r"""\s*(?:\[\[?\s*)?["']?([A-Za-z0-9_-]+)["']?\s*(=\s*|\]\]?)""")


def _toml_written(block: str) -> Written:
    """Each top-level key's line, value column and value as written: `key =
    value` lines before the first table, and each table's `[name]` line."""
    written: Written = {}
    in_table = False
    for number, text in enumerate(block.split("\n"), start=2):
        found = _TOML_KEY.match(text)
        if not found:
            continue
        is_table = found.group(2).startswith("]")
        in_table = in_table or is_table
        if (is_table or not in_table) and found.group(1) not in written:
            written[found.group(1)] = (number, found.end() + 1, text[found.end():].strip() or "...")
    return written


def _json_block(text: str, path: Path) -> tuple[_Raw, list[Diagnostic]]:
    """A JSON object that opens the file (Hugo), read from its first
    MAX_JSON characters: the body starts on the line after its `}`."""
    head = text[:MAX_JSON]
    closing = re.search(r"^\}\s*$", text, re.MULTILINE)  # where a broken object most likely ends
    broken = _Raw({}, {}, text[closing.end() + 1:], text.count("\n", 0, closing.end()) + 2, True) if closing \
        else _Raw({}, {}, text, 1, True)
    try:
        data, end = json.JSONDecoder().raw_decode(head)
    except json.JSONDecodeError as exc:
        if len(text) > MAX_JSON and (closing is None or closing.start() >= MAX_JSON):
            return broken, [error(
                "M001", f"JSON front matter is not closed within its first {MAX_JSON // 1024} KiB",
                hint="close the object with '}' on its own line; keep front matter to a page's metadata",
                path=path, line=1, column=1)]
        return broken, [error(
            "M001", f"invalid JSON front matter: {exc.msg}", path=path, line=exc.lineno, column=exc.colno,
            hint="write \"key\": value pairs separated by commas, with text in double quotes")]
    except (ValueError, RecursionError) as exc:  # a number of 5,000 digits; arrays nested thousands deep
        return broken, [error(
            "M001", f"invalid JSON front matter: a value cannot be read ({shorten(str(exc) or 'too deep', 80)})",
            hint="quote the value to make it text", path=path, line=1, column=1)]
    line_end = text.find("\n", end)
    body, body_line = (text[line_end + 1:], text.count("\n", 0, line_end) + 2) if line_end >= 0 else ("", 1)
    return _Raw(data, _json_written(head[:end]), body, body_line, True, "JSON"), []


def _json_written(block: str) -> Written:
    """Each key's line, value column and value as written (its first
    `"key":`, which for a top-level key is normally its own)."""
    written: Written = {}
    for found in re.finditer(r'"((?:[^"\\\n]|\\.)*)"\s*:\s*', block):
        key = found.group(1)
        if key not in written:
            line = block.count("\n", 0, found.start()) + 1
            column = found.end() - block.rfind("\n", 0, found.end())
            rest = block[found.end():block.find("\n", found.end()) if "\n" in block[found.end():] else None]
            written[key] = (line, column, rest.strip().rstrip(",") or "...")
    return written


def _parse(block: str, path: Path) -> tuple[dict[str, Any], Written, list[Diagnostic]]:
    """YAML front matter, with the protections above."""
    refused = _too_deep(block, path)
    if refused:
        return {}, {}, [refused]
    quick = _read_by_libyaml(block, path)
    if quick is not None:
        return quick
    refused = _anchor_or_alias(block, path)
    if refused:
        return {}, {}, [refused]
    try:
        loader = yaml.SafeLoader(block)  # its reader refuses control characters at once
    except yaml.reader.ReaderError as exc:
        line = block.count("\n", 0, exc.position) + 2  # +1 for 1-based, +1 for the '---' line
        column = exc.position - block.rfind("\n", 0, exc.position)
        return {}, {}, [error("M002", f"front matter holds the control character U+{exc.character:04X}",
                              hint="remove it (an editor may show it as a box or not at all)",
                              path=path, line=line, column=column)]
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        problem, hint, line, column = _yaml_problem(exc, block)
        return {}, {}, [error("M001", f"invalid YAML front matter: {problem}", hint=hint,
                              path=path, line=line, column=column)]
    except yaml.YAMLError as exc:
        return {}, {}, [error("M001", f"invalid YAML front matter: {shorten(str(exc))}", path=path, line=1)]
    except (ValueError, OverflowError) as exc:  # a number of 5,000 digits: Python refuses to convert it
        line, column = _longest_scalar(node)
        return {}, {}, [error("M001", f"invalid YAML front matter: a value cannot be read "
                                      f"({shorten(str(exc), 80)})",
                              hint="quote the value to make it text", path=path, line=line, column=column)]
    finally:
        loader.dispose()
    if data is None:
        return {}, {}, []
    if not isinstance(data, dict):
        return {}, {}, [error("M001", "front matter must be a mapping of 'key: value' lines",
                              path=path, line=2, column=1)]
    return data, _written(node, block), _given_twice(node, path)


MAX_DEPTH = 50  # nested lists and mappings in front matter: a page's metadata has two or three


def _too_deep(block: str, path: Path) -> Diagnostic | None:
    """M001 where collections nest more than MAX_DEPTH deep (`nested_past`)."""
    mark = nested_past(block, MAX_DEPTH)
    if mark is None:
        return None
    return error("M001", f"invalid YAML front matter: lists and mappings nested more than {MAX_DEPTH} levels deep",
                 hint="a page's metadata needs two or three", path=path, line=mark.line + 2, column=mark.column + 1)


def nested_past(text: str, limit: int) -> yaml.Mark | None:
    """Where YAML `text`'s collections first nest more than `limit` deep
    (`[[[[...` or `- - - -...`), found by YAML's scanner, which keeps no
    stack: PyYAML's parser recurses once a level (a RecursionError at about
    a thousand, after minutes on 200,000 brackets) and libyaml's composer in
    C (a crash of the process at some tens of thousands). None if they do
    not, or if the YAML is invalid (the parser then says so)."""
    depth = 0
    opening = (yaml.FlowSequenceStartToken, yaml.FlowMappingStartToken, yaml.BlockSequenceStartToken,
               yaml.BlockMappingStartToken)
    try:
        for token in yaml.scan(text, Loader=yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):
            if isinstance(token, opening):
                depth += 1
                if depth > limit:
                    return token.start_mark
            elif isinstance(token, (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def _read_by_libyaml(block: str, path: Path) -> tuple[dict[str, Any], Written, list[Diagnostic]] | None:
    """The front matter read by libyaml (PyYAML's C loader: some ten times
    its pure-Python speed, a fifth of loading a long book), where it reads
    it without a problem; None otherwise, and for a block with a control
    character, an anchor or an alias: PyYAML reads that one again, and its
    messages are those `_yaml_problem` and the protections above know;
    and for a block with a tab or a byte-order mark, which libyaml reads
    otherwise than PyYAML (`title:<tab>A` is M001; U+FEFF starting a line,
    which libyaml skips, is text). Same constructor, same marks (characters,
    not bytes), same values."""
    if not yaml.__with_libyaml__ or "\t" in block or "\ufeff" in block \
            or yaml.reader.Reader.NON_PRINTABLE.search(block):
        return None
    try:
        if any(isinstance(token, (yaml.AnchorToken, yaml.AliasToken))
               for token in yaml.scan(block, Loader=yaml.CSafeLoader)):
            return None
        loader = yaml.CSafeLoader(block)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except (yaml.YAMLError, ValueError, OverflowError):
        return None
    if data is None:
        return {}, {}, []
    if not isinstance(data, dict):
        return None
    return data, _written(node, block), _given_twice(node, path)


def _yaml_problem(exc: yaml.MarkedYAMLError, block: str) -> tuple[str, str, int, int]:
    """PyYAML's error in plain words, the hint that fits it, and the
    manuscript's line and column (1-based; the block starts on line 2):
    a tab, a quote left open or closed too soon, a list left open, a ': '
    inside a value, a line indented under a value. Otherwise YAML's own
    words, at where the construct it could not finish begins (an unclosed
    '[' on the title line), not where YAML noticed (a later line)."""
    lines = block.split("\n")
    at = lambda mark: (mark.line + 2, mark.column + 1)  # noqa: E731  (+1 for 1-based, +1 for '---')
    problem, context = exc.problem or "", exc.context or ""
    if "could not determine a constructor" in str(exc):
        line, column = at(exc.context_mark or exc.problem_mark)
        return "YAML tags such as '!!python/...' are not allowed", "remove the tag", line, column
    if exc.problem_mark is not None:
        line, column = at(exc.problem_mark)
        written = lines[line - 2] if 0 <= line - 2 < len(lines) else ""
        found = _plain_yaml(problem, context, exc, lines, written, line, column)
        if found:
            return found
    mark = exc.context_mark or exc.problem_mark
    line, column = at(mark) if mark else (1, 1)
    said = problem or str(exc)
    if exc.context_mark and exc.problem_mark and exc.problem_mark.line != exc.context_mark.line:
        said += f" (noticed on line {exc.problem_mark.line + 2})"
    return said, "check the quotes and the indentation of this line", line, column


def _plain_yaml(problem: str, context: str, exc: yaml.MarkedYAMLError, lines: list[str], written: str,
                line: int, column: int) -> tuple[str, str, int, int] | None:
    """The plain message for the errors authors make (see `_yaml_problem`), None for another."""
    key, _, value = written.partition(":")
    key, value = key.strip(), value.strip()
    if problem.startswith("found character '\\t'"):
        leading = column <= len(written) - len(written.lstrip())
        return (f"a tab at {line}:{column}: {'indent' if leading else 'separate'} with spaces",
                "YAML indents with spaces only" if leading else "YAML separates and indents with spaces only",
                line, column)
    opened = exc.context_mark
    if context == "while scanning a quoted scalar" and opened is not None:
        quote_line, quote_column = opened.line + 2, opened.column + 1
        opener = lines[opened.line].rstrip() if opened.line < len(lines) else ""
        quote = opener[opened.column:opened.column + 1] or '"'
        return (f"the quote opened at {quote_line}:{quote_column} is never closed",
                f"end the value with {quote} on the same line: {shorten(opener.strip() + quote, 80)}",
                quote_line, quote_column)
    if context == "while parsing a flow sequence" and opened is not None:
        start = (opened.line + 2, opened.column + 1)
        return (f"the list opened at {start[0]}:{start[1]} is never closed (']' is missing before line {line})",
                "close it with ']' on the same line: tags: [a, b]", *start)
    if context == "while parsing a flow mapping" and opened is not None:
        start = (opened.line + 2, opened.column + 1)
        return (f"the {{ opened at {start[0]}:{start[1]} is never closed (before line {line})",
                "close it with '}'; text that starts with '{' goes in quotes", *start)
    # A line whose own quoted value is whole ('author: "Cy Wing"') where YAML failed: the quote that
    # ended there was opened on a line above and left open ('title: "Gulls of the Coast').
    whole = re.fullmatch(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'', value) is not None
    unclosed = _quote_left_open(lines, line - 2) \
        if whole and "expected <block end>, but found '<scalar>'" in problem else None
    if unclosed is not None:  # YAML read a value on across lines to the next quote, and failed there
        (quote_line, quote_column), opener = unclosed
        quote = opener.strip()[len(opener.strip().partition(":")[0]) + 1:].strip()[:1]
        return (f"the quote opened at {quote_line}:{quote_column} is not closed on its line (YAML read the "
                f"value on to line {line})", f"end the value with {quote} on the same line: "
                f"{shorten(opener.strip() + quote, 80)}", quote_line, quote_column)
    if "expected <block end>, but found '<block sequence start>'" in problem or (
            "expected <block end>, but found '-'" in problem and written.lstrip().startswith("- ")
            and line > 2 and lines[line - 3].lstrip().startswith("- ")):
        return (f"the list item at {line}:{column} is indented differently from the one above it",
                f"indent every item of a list alike: {shorten(lines[line - 3].split('-')[0] + '- ' + value_of(written), 60)}",
                line, column)
    if "expected <block end>, but found '<scalar>'" in problem and value[:1] in ("'", '"'):
        quote = value[0]
        start = written.index(quote, len(written) - len(written.lstrip()) + len(key)) + 1
        inner = value[1:-1] if len(value) > 1 and value.endswith(quote) else value[1:]
        fixed = (f"'{inner.replace(chr(39), chr(39) * 2)}'" if quote == "'"
                 else '"' + inner.replace('"', '\\"') + '"')
        return (f"the quoted value at {line}:{start} ends before its line does: text follows its closing {quote}",
                f"a {quote} inside the value ends it; write it {'twice' if quote == chr(39) else 'as ' + chr(92) + quote}: "
                f"{shorten(key, 40)}: {shorten(fixed, 80)}", line, column)
    if problem == "mapping values are not allowed here":
        indented = written[:len(written) - len(written.lstrip())]
        if indented and ":" in written.lstrip().split(" ", 1)[0] + " ":
            return (f"line {line} is indented under a key that already has a value",
                    "start each key of the front matter at the line's start, or quote the value above",
                    line, len(indented) + 1)
        return (f"a ': ' inside the value at {line}:{column}",
                f"quote values that contain ': ': {shorten(key, 40)}: \"{shorten(value, 60)}\"", line, column)
    character = re.match(r"found character '(.)' that cannot start any token", problem)
    if character:
        return (f"a value cannot start with '{character.group(1)}' ({line}:{column})",
                f"quote the value: {shorten(key, 40)}: \"{shorten(value, 60)}\"", line, column)
    if "expected <block end>, but found '-'" in problem:
        return (f"a list item ('-') at {line}:{column}, where a 'key: value' line was expected",
                "put list items under their key, each on a line of its own, indented: '  - travel' under 'tags:'",
                line, column)
    return None


def _quote_left_open(lines: list[str], before: int) -> tuple[tuple[int, int], str] | None:
    """The last 'key: "value' line before `before` (0-based in the block)
    whose quote is not closed on it: ((line, column) of the quote in the
    manuscript, the line), else None."""
    for index in range(min(before, len(lines)) - 1, -1, -1):
        match = re.match(r"""\s*[^\s:#'"][^:]*:\s+(["'])(.*)$""", lines[index])
        if match is None:
            continue
        quote, rest = match.group(1), match.group(2)
        closed = re.search(r'(?<!\\)"' if quote == '"' else "'(?!')", rest)
        if closed is None:
            return (index + 2, match.start(1) + 1), lines[index]
        return None  # the nearest quoted value above closes: the problem is elsewhere
    return None


def value_of(written: str) -> str:
    """The text of a list item's line after its '- '."""
    return written.strip().removeprefix("-").strip()


def _given_twice(node: yaml.Node, path: Path) -> list[Diagnostic]:
    """M001 (a warning: the build goes on with the last, as PyYAML and Jekyll
    read it) for each key a mapping of the front matter gives twice, which
    YAML forbids and PyYAML silently allows; nested mappings too."""
    found, pending = [], [node]
    while pending:
        current = pending.pop()
        if isinstance(current, yaml.SequenceNode):
            pending += current.value
        elif isinstance(current, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in current.value:
                pending.append(value)
                if not isinstance(key, yaml.ScalarNode):
                    continue
                line = key.start_mark.line + 2
                if key.value in seen:
                    found.append(warning(
                        "M001", f"'{shorten(key.value, 60)}' is given twice (lines {seen[key.value]} and {line}); "
                                "the last is used", hint="keep one of them: YAML gives each key once",
                        path=path, line=line, column=key.start_mark.column + 1))
                else:
                    seen[key.value] = line
    return sorted(found, key=lambda d: (d.line, d.column))


def _longest_scalar(node: yaml.Node) -> tuple[int, int]:
    """Line and column of the value under `node` that YAML's converter
    refuses (a date of month 13), else of the longest one (an integer of
    thousands of digits, which the converter refuses for its length)."""
    longest, place, pending = -1, (2, 1), [node]
    constructor = yaml.constructor.SafeConstructor()
    while pending:
        current = pending.pop(0)
        if isinstance(current, yaml.ScalarNode):
            where = (current.start_mark.line + 2, current.start_mark.column + 1)
            convert = constructor.yaml_constructors.get(current.tag)
            if convert is not None and len(current.value) < 100:
                try:
                    convert(constructor, current)
                except (ValueError, OverflowError, yaml.YAMLError):
                    return where
            if len(current.value) > longest:
                longest, place = len(current.value), where
        elif isinstance(current, yaml.SequenceNode):
            pending += current.value
        elif isinstance(current, yaml.MappingNode):
            pending += [part for pair in current.value for part in pair]
    return place


def _anchor_or_alias(block: str, path: Path) -> Diagnostic | None:
    """M012 at the first anchor (`&a`) or alias (`*a`) of the block, found
    by YAML's scanner (tokens only: nothing is built or expanded). None if
    there is none, or if the YAML is invalid (the parser then reports it)."""
    try:
        for token in yaml.scan(block, Loader=yaml.SafeLoader):
            if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
                kind, sign = ("an anchor", "&") if isinstance(token, yaml.AnchorToken) else ("an alias", "*")
                return error("M012", f"front matter uses {kind} ({sign}{shorten(str(token.value), 40)}); "
                                     "YAML anchors and aliases are refused",
                             hint="write each value out in full where it is used",
                             path=path, line=token.start_mark.line + 2, column=token.start_mark.column + 1)
    except yaml.YAMLError:
        return None
    return None


def _written(node: yaml.MappingNode, block: str) -> Written:
    """Each key's manuscript line, value column and value as written, from
    YAML's own marks (`no` is False once constructed; the message quotes `no`)."""
    return {str(key.value): (key.start_mark.line + 2,  # 1-based, after the '---' line
                             value.start_mark.column + 1,
                             block[value.start_mark.index:value.end_mark.index].strip() or "...")
            for key, value in node.value}


def _check(raw: _Raw, path: Path, flavour: str, authors: dict[str, str]) -> tuple[dict[str, Any], list[Diagnostic]]:
    """The front matter's values under our keys: each site key mapped
    (ALIASES; where several name one of ours, the first in ALIASES' order that
    is valid wins; tags are gathered from all), the flavour's own template
    keys ignored, any other key M003."""
    data, written = _with_params(raw.data, flavour), raw.written
    diagnostics: list[Diagnostic] = []
    found: dict[str, list[tuple[str, Any]]] = {}
    for key, value in data.items():
        name = str(key)
        if name in ALIASES:
            found.setdefault(ALIASES[name], []).append((name, value))
        elif name not in IGNORED.get(flavour, IGNORED["plain"]):
            line = written.get(name, (2, 1, ""))[0]
            suggestion = did_you_mean(shorten(name), FIELDS) or did_you_mean(shorten(name), ALIASES)
            diagnostics.append(warning(
                "M003", f"unknown front-matter key '{shorten(name)}' is ignored",
                hint=with_suggestion(suggestion, f"known keys: {', '.join(FIELDS)}"),
                path=path, line=line, column=1))
    order = list(ALIASES)
    values: dict[str, Any] = {}
    for ours, pairs in found.items():
        for name, value in sorted(pairs, key=lambda pair: order.index(pair[0])):
            line, column, shown = written.get(name, (2, 1, "..."))
            converted, problem = _convert(ours, name, value, shown, authors, raw.kind)
            if problem:
                diagnostics.append(_problem(problem, name, path, line, column))
            elif ours == "tags":
                values["tags"] = list(dict.fromkeys(values.get("tags", []) + converted))
            elif ours not in values and converted not in ("", [], None):
                values[ours] = converted
    if values.get("draft"):
        line = min(written.get(name, (2, 1, ""))[0] for name, _ in found["draft"])
        diagnostics.append(warning(
            "M013", "an article is a draft (draft: true or published: false) and is left out",
            hint="remove 'draft: true' (or 'published: false') to put it in the book",
            path=path, line=line, column=1))
    return values, diagnostics


def _with_params(data: dict[Any, Any], flavour: str) -> dict[Any, Any]:
    """Hugo's front matter may put page values under `params:`: those we
    know count as if written at the top (the top wins); the rest are the
    site's own and stay unread."""
    params = data.get("params")
    if flavour not in ("hugo", "plain") or not isinstance(params, dict):
        return data
    lifted = {key: value for key, value in params.items() if str(key) in ALIASES and key not in data}
    return {**data, **lifted}


@dataclass(frozen=True)
class _Problem:
    message: str
    hint: str
    is_error: bool = True
    at_value: bool = True


def _problem(problem: _Problem, name: str, path: Path, line: int, column: int) -> Diagnostic:
    make = error if problem.is_error else warning
    return make("M002", f"'{shorten(name)}' {problem.message}", hint=problem.hint, path=path,
                line=line, column=column if problem.at_value else 1)


def _convert(ours: str, name: str, value: Any, raw: str, authors: dict[str, str],
             kind: str) -> tuple[Any, _Problem | None]:
    """`value` of the site's key `name` as our key `ours` wants it, or the
    problem (M002) that keeps it out."""
    if ours == "authors":
        return _authors(value, authors)
    if ours == "tags":
        return _tags(value)
    if ours == "date":
        return _date(value, raw)
    if ours == "image":
        return _image(value, name, raw)
    if ours == "order":
        return _order(value, name, raw)
    if ours in ("bibliography", "nocite"):
        return _words(value, name, ours)
    if ours == "references":
        return _references(value, name)
    if ours == "draft":
        if not isinstance(value, bool):
            return None, _Problem(f"must be true or false, not {shown_value(value)}", f"{name}: true")
        return (value if name == "draft" else not value), None
    if not isinstance(value, str):
        return None, _Problem(f"must be text, not {_yaml_type(value)} ({kind} reads {shorten(raw)} as {shown_value(value)})",
                              f"quote the value: {name}: \"{shorten(raw)}\"")
    text = value.strip()
    if ours == "language":
        return _language(text if name != "locale" else text.replace("_", "-"))
    return text, _forbidden_characters(text)


def _forbidden_characters(text: str) -> _Problem | None:
    problem = character_problem(text)
    return _Problem(problem, "remove the character") if problem else None


def _language(tag: str) -> tuple[str, _Problem | None]:
    if is_language_tag(tag):
        return tag, None
    meant = language_tag_for(tag) or language_tag_named(tag)  # 'en_GB'; 'english', 'Deutsch', 'Français'
    return "", _Problem(f"must be a BCP 47 language tag, not {shown_value(tag)}",
                        with_suggestion(f"did you mean '{meant}'?" if meant else "",
                                        "e.g. language: de, language: zh-Hant"))


def _authors(value: Any, table: dict[str, str]) -> tuple[list[str], _Problem | None]:
    """Authors written as a name, a list of names, a mapping with `name`
    (Hugo, Docusaurus) or a list of those; an id of the site's authors table
    becomes the name it gives (an unknown id stays as written)."""
    names = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            item = item["name"]
        if not isinstance(item, str):
            return [], _Problem(f"must be a name, a list of names or mappings with a 'name', not "
                                f"{shown_value(item)}", "authors: [Ada Lovelace, Charles Babbage]")
        name = table.get(item.strip(), item.strip())
        names.append(name if isinstance(name, str) else item.strip())
    problem = _forbidden_characters("".join(names))
    return ([] if problem else [n for n in names if n]), problem


def _tags(value: Any) -> tuple[list[str], _Problem | None]:
    """Tags as a list of words (a single word or comma-separated text too;
    numbers, as in `tags: [2023]`, as written)."""
    items = [part for part in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                              for v in items):
        return [], _Problem(f"must be a list of words, not {shown_value(value)}", "tags: [travel, food]")
    words = [str(v).strip() for v in items if str(v).strip()]
    problem = _forbidden_characters("".join(words))
    return ([] if problem else words), problem


def _words(value: Any, name: str, ours: str) -> tuple[list[str], _Problem | None]:
    """A file name or a list of them (`bibliography`); keys as a list or
    pandoc's text of them (`nocite: "@a, @b"`)."""
    items = [value] if isinstance(value, str) else value
    example = f"{name}: [refs.bib, pubmed.nbib]" if ours == "bibliography" else f'{name}: ["@smith2020", "@*"]'
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        return [], _Problem(f"must be {'a file name' if ours == 'bibliography' else 'a key'} or a list of them, "
                            f"not {shown_value(value)}", example)
    words = [v.strip() for v in items if v.strip()]
    problem = _forbidden_characters("".join(words))
    return ([] if problem else words), problem


def _references(value: Any, name: str) -> tuple[list[dict], _Problem | None]:
    """Inline references: a list of CSL items, each a mapping (its `id` is
    checked where it is read, load/bibliography.py)."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return [], _Problem(f"must be a list of CSL items (mappings with an 'id'), not {shown_value(value)}",
                            f"{name}:\n  - id: smith2020\n    type: book\n    title: …", at_value=False)
    return value, None


_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?=$|[T\s_])")
# Dates as people and site templates write them: 'March 16, 2023', '16 March 2023', Astro's blog
# starter's 'Jul 08 2022' (any form JavaScript's Date reads is fair game there), 'Fri Jul 08 2022'.
_DATE_FORMS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%d %B, %Y", "%d %b, %Y",
               "%a %b %d %Y", "%a, %b %d, %Y", "%A, %B %d, %Y")


def _date(value: Any, raw: str) -> tuple[str, _Problem | None]:
    """A date as YYYY-MM-DD, the calendar day as written (an offset is not
    applied): YAML and TOML dates and datetimes, and text such as
    '2013-08-19T00:00:00Z', '2014-06-04 15:46:53 -0400', '2023/03/16' or
    'March 16, 2023'. An unreadable date is a warning, and not shown."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.strftime("%Y-%m-%d") if isinstance(value, datetime.date) else "", None
    if isinstance(value, str):
        day = _day(value.strip())
        if day:
            return day, None
    return "", _Problem(f"is not a date this tool reads ({shorten(raw, 80)}); the date is left out",
                        "write it as YYYY-MM-DD, e.g. date: 2023-03-16", is_error=False)


def _day(text: str) -> str:
    found = _DATE.match(text)
    try:
        if found:
            return datetime.date(*(int(part) for part in found.groups())).isoformat()
        for form in _DATE_FORMS:
            try:
                return datetime.datetime.strptime(text, form).date().isoformat()
            except ValueError:
                continue
        return _mail_day(text)
    except ValueError:
        return ""


def _mail_day(text: str) -> str:
    """The day of a date written as e-mail and RSS write it ('Fri, 08 Jul 2022 10:00:00 +0000'), else ''."""
    from email.utils import parsedate_to_datetime

    if not re.search(r"\d{4}", text):
        return ""
    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


def _image(value: Any, name: str, raw: str) -> tuple[str, _Problem | None]:
    """The lead image's path as written: text, the first of a list (`images`),
    or a mapping's `image`/`src`/`url` (PaperMod's `cover: {image: …}`)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = next((value[key] for key in ("image", "src", "url", "path") if isinstance(value.get(key), str)), None)
    if not isinstance(value, str):
        return "", _Problem(f"must be an image's path, not {shown_value(value)}",
                            f"{name}: images/lead.jpg", at_value=False)
    return value.strip(), _forbidden_characters(value)


def _order(value: Any, name: str, raw: str) -> tuple[float | None, _Problem | None]:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None, _Problem(f"must be a number, not {shown_value(value)}", f"{name}: 10")
    return float(value), None


_FILE_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})-")
_FILE_LANGUAGE = re.compile(r"[^.]+\.([a-z]{2,3}(?:-[A-Za-z0-9]{2,4})?)\.(?:md|markdown|mdx)")


def _from_file_name(path: Path, flavour: str) -> dict[str, str]:
    """What a file name says: Jekyll's and Docusaurus's date
    (`2023-03-16-slug.md`), Hugo's language (`post.fr.md`; for a folder with
    no config, only a two-letter one)."""
    values = {}
    dated = _FILE_DATE.match(path.name)
    if dated:
        day = _day("-".join(dated.groups()))
        if day:
            values["date"] = day
    language = _FILE_LANGUAGE.fullmatch(path.name)
    if language and flavour in ("hugo", "plain") and (flavour == "hugo" or len(language.group(1)) == 2) \
            and is_language_tag(language.group(1)):
        values["language"] = language.group(1)
    return values


def _yaml_type(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)
