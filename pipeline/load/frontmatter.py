"""Split and validate a manuscript's YAML front matter.

YAML error marks are relative to the front-matter block; we add the block's
offset so every message names the real line of the manuscript. Only plain
YAML is accepted (`yaml.SafeLoader`): tags that construct objects are refused,
and so are anchors and aliases (`&a`, `*a`, M012), found by YAML's scanner
before anything is built: nine lines of aliases expand to a billion values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..diagnostics import Diagnostic, did_you_mean, error, shorten, warning, with_suggestion
from ..styles import is_language_tag, language_tag_for
from .sourcetext import character_problem, shown_value

# Key -> (expected Python type, description). Values are type-checked, so that
# `title: no` is an error to fix rather than the title "False".
FIELDS: dict[str, tuple[type, str]] = {
    "title": (str, "the article's title"),
    "subtitle": (str, "a subtitle shown under the title"),
    "summary": (str, "a one-paragraph summary, shown as 'In brief'"),
    "blurb": (str, "a quoted paragraph, shown as a pull quote"),
    "authors": (list, "the article's authors, if not the book's"),
    "slug": (str, "the article's id in links and file names"),
    "language": (str, "the article's language (BCP 47), if not the book's: quotes, hyphenation, direction"),
}


@dataclass(frozen=True)
class FrontMatter:
    values: dict[str, Any]
    body: str
    body_line: int  # 1-based line where the body starts
    present: bool


def split(text: str, path: Path) -> tuple[FrontMatter, list[Diagnostic]]:
    """Separate `---`-delimited front matter from the Markdown body."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return FrontMatter({}, text, 1, False), []
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            block = "\n".join(lines[1:index])
            body = "\n".join(lines[index + 1:])
            values, diagnostics = _parse(block, path)
            return FrontMatter(values, body, index + 2, True), diagnostics
    return FrontMatter({}, text, 1, False), [error(
        "M006", "front matter opened with '---' is never closed",
        hint="add a line '---' after the last front-matter key", path=path, line=1, column=1)]


def _parse(block: str, path: Path) -> tuple[dict[str, Any], list[Diagnostic]]:
    refused = _anchor_or_alias(block, path)
    if refused:
        return {}, [refused]
    try:
        loader = yaml.SafeLoader(block)  # its reader refuses control characters at once
    except yaml.reader.ReaderError as exc:
        line = block.count("\n", 0, exc.position) + 2  # +1 for 1-based, +1 for the '---' line
        column = exc.position - block.rfind("\n", 0, exc.position)
        return {}, [error("M002", f"front matter holds the control character U+{exc.character:04X}",
                          hint="remove it (an editor may show it as a box or not at all)",
                          path=path, line=line, column=column)]
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        # Point at where the construct YAML could not finish begins (an
        # unclosed '[' on the title line), not where YAML noticed (a later line).
        mark = exc.context_mark or exc.problem_mark
        line = (mark.line + 2) if mark else 1  # +1 for 1-based, +1 for the '---' line
        column = (mark.column + 1) if mark else 1
        problem = exc.problem or str(exc)
        if exc.context_mark and exc.problem_mark and exc.problem_mark.line != exc.context_mark.line:
            problem += f" (noticed on line {exc.problem_mark.line + 2})"
        hint = "quote values that contain ': ' or start with a special character"
        if "could not determine a constructor" in str(exc):
            problem, hint = "YAML tags such as '!!python/...' are not allowed", "remove the tag"
        return {}, [error("M001", f"invalid YAML front matter: {problem}", hint=hint,
                          path=path, line=line, column=column)]
    except yaml.YAMLError as exc:
        return {}, [error("M001", f"invalid YAML front matter: {shorten(str(exc))}", path=path, line=1)]
    except (ValueError, OverflowError) as exc:  # a number of 5,000 digits: Python refuses to convert it
        line, column = _longest_scalar(node)
        return {}, [error("M001", f"invalid YAML front matter: a value cannot be read ({shorten(str(exc), 80)})",
                          hint="quote the value to make it text", path=path, line=line, column=column)]
    finally:
        loader.dispose()
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return {}, [error("M001", "front matter must be a mapping of 'key: value' lines",
                          path=path, line=2, column=1)]
    return _check(data, _written(node, block), path)


def _longest_scalar(node: yaml.Node) -> tuple[int, int]:
    """Line and column of the longest plain value under `node`: the one a
    converter refuses for its length (an integer of thousands of digits)."""
    longest, place, pending = -1, (2, 1), [node]
    while pending:
        current = pending.pop()
        if isinstance(current, yaml.ScalarNode):
            if len(current.value) > longest:
                longest, place = len(current.value), (current.start_mark.line + 2, current.start_mark.column + 1)
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


def _written(node: yaml.MappingNode, block: str) -> dict[str, tuple[int, str]]:
    """Each key's manuscript line and its value as the author wrote it, from
    YAML's own marks (`no` is False once constructed; the message quotes `no`)."""
    return {str(key.value): (key.start_mark.line + 2,  # 1-based, after the '---' line
                             block[value.start_mark.index:value.end_mark.index].strip() or "...")
            for key, value in node.value}


def _check(data: dict[Any, Any], written: dict[str, tuple[int, str]],
           path: Path) -> tuple[dict[str, Any], list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        line, raw = written.get(str(key), (2, "..."))
        if key not in FIELDS:
            diagnostics.append(warning(
                "M003", f"unknown front-matter key '{shorten(str(key))}' is ignored",
                hint=with_suggestion(did_you_mean(shorten(str(key)), FIELDS), f"known keys: {', '.join(FIELDS)}"),
                path=path, line=line, column=1))
            continue
        expected, doc = FIELDS[key]
        if expected is list:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                diagnostics.append(error("M002", f"'{key}' must be a list of strings",
                                         hint=f"{key}: {doc}", path=path, line=line, column=1))
                continue
        elif not isinstance(value, expected):
            diagnostics.append(error(
                "M002", f"'{key}' must be text, not {_yaml_type(value)} "
                        f"(YAML reads {shorten(raw)} as {shown_value(value)})",
                hint=f"quote the value: {key}: \"{shorten(raw)}\"", path=path, line=line, column=len(key) + 3))
            continue
        problem = character_problem("".join(value) if isinstance(value, list) else value)
        if problem:
            diagnostics.append(error("M002", f"'{key}' {problem}", hint="remove the character",
                                     path=path, line=line, column=len(key) + 3))
            continue
        if key == "language" and not is_language_tag(value):
            meant = language_tag_for(value)
            diagnostics.append(error("M002", f"'language' must be a BCP 47 language tag, not {shown_value(value)}",
                                     hint=with_suggestion(f"did you mean '{meant}'?" if meant else "",
                                                          "e.g. language: de, language: zh-Hant"),
                                     path=path, line=line, column=len(key) + 3))
            continue
        values[key] = value
    return values, diagnostics


def _yaml_type(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)


