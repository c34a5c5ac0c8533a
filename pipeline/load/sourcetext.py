"""Source text of the book's own files (book.toml, manuscripts): UTF-8, one
line-end form, a located error where the bytes are not UTF-8, and the one
place that finds where a value was written when its parser keeps no
positions (tomllib, Markdown's rendered tree). YAML keeps its own marks.
"""

from __future__ import annotations

import re


class NotUtf8(ValueError):
    """The bytes are not UTF-8; `line` and `column` (1-based) say where."""

    def __init__(self, byte: int, line: int, column: int):
        super().__init__(f"not valid UTF-8 (byte 0x{byte:02x})")
        self.byte, self.line, self.column = byte, line, column


def decode(raw: bytes) -> str:
    """UTF-8 (a BOM is dropped) with every line end as '\\n'."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise NotUtf8(raw[exc.start], line, column) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def position(text: str, needle: str, start_line: int = 1) -> tuple[int, int]:
    """1-based line and column of the first `needle` at or after `start_line`
    (1, 1 if absent): for messages about values whose parser keeps no positions."""
    for number, line in enumerate(text.split("\n"), start=1):
        column = line.find(needle) if number >= start_line else -1
        if column >= 0:
            return number, column + 1
    return 1, 1


def toml_line(text: str, table: str | None, key: str) -> int:
    """1-based line where `key` is set in `[table]`, or where the table
    `[key]` opens when `table` is None (1 if absent): tomllib keeps no positions."""
    current: str | None = None
    key_re = re.compile(rf'^\s*(?:"{re.escape(key)}"|{re.escape(key)})\s*=')
    for number, line in enumerate(text.split("\n"), start=1):
        header = re.match(r"^\s*\[+\s*([^\]]+?)\s*\]+", line)
        if header:
            current = header.group(1)
            if table is None and current == key:
                return number
        elif current == table and key_re.match(line):
            return number
    return 1
