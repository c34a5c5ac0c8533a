"""Source text of the book's own files (book.toml, manuscripts): UTF-8, one
line-end form, a located error where the bytes are not UTF-8, and the one
place that finds where a value was written when its parser keeps no
positions (tomllib, Markdown's rendered tree): book.toml's text is kept, as
read once, in a `ConfigSource`. YAML keeps its own marks.
"""

from __future__ import annotations

import codecs
import re
import reprlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

from ..diagnostics import shorten


class NotUtf8(ValueError):
    """The bytes are not UTF-8; `line` and `column` (1-based) say where,
    `encoding` what they most likely are (iconv's name, '' if unknown)."""

    def __init__(self, byte: int, line: int, column: int, encoding: str = "",
                 sample: tuple[int, str] = (0, ""), other: str = ""):
        super().__init__(f"not valid UTF-8 (byte 0x{byte:02x})")
        self.byte, self.line, self.column, self.encoding = byte, line, column, encoding
        self.sample = sample  # (line, text): the line with most letters outside ASCII, as `encoding` reads it
        self.other = other  # another encoding that reads the bytes nearly as well ('' if none)

    def describe(self) -> str:
        """The problem, with the likely encoding when one was found (and a
        close second), and a line as it reads in that encoding: the author
        sees whether the guess is right before converting the file by it."""
        if not self.encoding:
            return str(self)
        other = f" (or {self.other})" if self.other else ""
        number, text = self.sample
        shown = f", in which line {number} reads '{shorten(text, 80)}'" if text else ""
        return f"{self}; it looks like {self.encoding}{other}{shown}"

    def fix(self, name: str) -> str:
        """The hint: the iconv command that converts file `name`, when the encoding is known."""
        if not self.encoding:
            return f"save {name} as UTF-8"
        converted = f"{name}.utf8"  # not *.md: a failed conversion is no manuscript of the book
        return (f"convert it to UTF-8: iconv -f {self.encoding} -t UTF-8 {name} > {converted} "
                f"&& mv {converted} {name}")


def decode(raw: bytes) -> str:
    """UTF-8 (a BOM is dropped) with every line end as '\\n'."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        encoding, other = likely_encodings(raw)
        raise NotUtf8(raw[exc.start], line, column, encoding, _sample(raw, encoding), other) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Encodings text files are commonly saved in, most common first. Detection
# is limited to them (on a short text, charset-normalizer's statistics
# otherwise favour rare code pages such as cp775 or mac_turkish), and when
# several read the bytes about equally well (an English text with one 'é'
# reads the same in cp1250 and cp1252), the first of them is named.
_COMMON = ("utf_16", "utf_32", "cp1252", "iso8859_15", "latin_1", "mac_roman", "cp1251", "koi8_r", "cp1250",
           "iso8859_2", "cp932", "shift_jis", "euc_jp", "gb18030", "big5", "euc_kr", "cp1253", "cp1254",
           "cp1255", "cp1256", "cp1257", "cp874", "iso8859_7", "iso8859_9")
_TIE = 0.05  # charset-normalizer's scores this close count as equal
_OTHER = 0.1  # another encoding whose reading is this close is named beside it ("or CP1252")


def likely_encoding(raw: bytes) -> str:
    """The encoding `raw` was most likely written in, as iconv names it
    ('CP1252'), by charset-normalizer; '' if none reads it."""
    return likely_encodings(raw)[0]


def likely_encodings(raw: bytes) -> tuple[str, str]:
    """`likely_encoding`, and a more common encoding that reads `raw`
    nearly as well ('' if none), from one reading by charset-normalizer:
    French in Latin-1 reads best as CP1257 to it ('crčme brūlée'), and
    nearly as well as CP1252."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw, cp_isolation=list(_COMMON)))
    if not matches:
        return "", ""
    named = _iconv_name(_named(matches, _TIE))
    return named, _other(matches, named)


def _other(matches: list, named: str) -> str:
    """A more common encoding than `named` among `matches` within _OTHER of the best, '' if none."""
    others = [m for m in matches if named not in (_iconv_name(n) for n in m.could_be_from_charset)]
    other = _named(others, _OTHER, best=matches[0]) if others else ""
    if not other or _COMMON.index(other) > min(_COMMON.index(n) for n in _COMMON if _iconv_name(n) == named):
        return ""  # named only when it is the more common of the two: the one most files are in
    return _iconv_name(other)


def _named(matches: list, tie: float, best=None) -> str:
    """The most common encoding of the readings within `tie` of the best
    one (`best`, else the first of `matches`); '' if none is."""
    best = best or matches[0]
    ties = [m for m in matches if m.chaos <= best.chaos + tie and m.coherence >= best.coherence - tie]
    if not ties:
        return ""
    return next((name for name in _COMMON for match in ties if name in match.could_be_from_charset),
                ties[0].encoding)


def _sample(raw: bytes, encoding: str) -> tuple[int, str]:
    """(line number, text) of the line of `raw` with the most bytes outside
    ASCII, decoded in `encoding` (iconv's name): where a wrong guess shows
    most ('A crčme brūlée'); (0, '') if it cannot be decoded."""
    lines = raw.split(b"\n")
    number, line = max(enumerate(lines, start=1), key=lambda item: sum(byte > 127 for byte in item[1]))
    try:
        return number, line.decode({"LATIN1": "latin_1", "MACINTOSH": "mac_roman"}.get(encoding, encoding)).strip()
    except (LookupError, UnicodeDecodeError):
        return 0, ""


def _iconv_name(codec: str) -> str:
    """Python's codec name as iconv spells it: cp1252 -> CP1252, iso8859_15 -> ISO-8859-15."""
    name = codecs.lookup(codec).name
    special = {"latin-1": "LATIN1", "iso8859-1": "LATIN1", "mac-roman": "MACINTOSH", "shift_jis": "SHIFT_JIS"}
    if name in special:
        return special[name]
    return re.sub(r"^iso8859-", "ISO-8859-", name).upper().replace("_", "-")


def positions(text: str, needle: str) -> list[tuple[int, int]]:
    """1-based line and column of every `needle` in `text`, in order: the nth
    thing a renderer reports is usually the nth time the text holds it."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        column = line.find(needle)
        while column >= 0:
            found.append((number, column + 1))
            column = line.find(needle, column + len(needle))
    return found


def position(text: str, needle: str, start_line: int = 1) -> tuple[int, int]:
    """1-based line and column of the first `needle` at or after `start_line`
    (1, 1 if absent): for messages about values whose parser keeps no positions."""
    for number, line in enumerate(text.split("\n"), start=1):
        column = line.find(needle) if number >= start_line else -1
        if column >= 0:
            return number, column + 1
    return 1, 1


# A line of book.toml: a table's header ([print], [[x]]) or a key set (`key =`, `"key" =`), as tomllib
# reads them; tomllib keeps no positions, so ConfigSource finds them in the text.
_TOML_HEADER = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")
_TOML_KEY = re.compile(r'^\s*(?:"([^"\\]*)"|([A-Za-z0-9_-]+))\s*=')


@dataclass(frozen=True)
class ConfigSource:
    """book.toml as the loader read it: its text, kept beside the config so
    that a later stage (a cover's resolution, an article's entry) locates a
    key in a message without reading the file again. Its fields are plain
    data (a template may be given the Book); what it derives from the text,
    the keys' places and the parsed tables, is worked out once, on first use."""

    path: Path
    text: str = ""

    def line_of(self, table: str | None, key: str) -> tuple[int, int]:
        """1-based line and column where `key` is set in `[table]`, or where
        the table `[key]` opens when `table` is None. Written another way
        tomllib reads the same (`build.scheduler = …`, an inline table):
        where the key's name first stands; (1, 1) when nowhere."""
        return self._places.get((table, key)) or position(self.text, key)

    def value_of(self, table: str, key: str) -> tuple[int, int]:
        """Line and column where the value of `key` in `[table]` starts (else the key's)."""
        line, column = self.line_of(table, key)
        written = self.text.split("\n")[line - 1] if self.text else ""
        equals = written.find("=", column - 1)
        if equals < 0:
            return line, column
        rest = written[equals + 1:]
        return line, equals + 2 + len(rest) - len(rest.lstrip())

    def find(self, needle: str, table: str, key: str) -> tuple[int, int]:
        """Where `needle` (an entry of a list, as written) first stands from
        the line of `key` in `[table]` on; (1, 1) when nowhere."""
        return position(self.text, needle, self.line_of(table, key)[0])

    def tables(self) -> Mapping[str, Any] | None:
        """The text as tomllib reads it; None when it is no valid TOML (the loader said so)."""
        return self._tables

    def given(self, table: str) -> Mapping[str, Any]:
        """What the text sets in `[table]`, as tomllib reads it ({} when it
        sets nothing there, or is no valid TOML)."""
        content = (self._tables or {}).get(table)
        return content if isinstance(content, dict) else {}

    @cached_property
    def _places(self) -> dict[tuple[str | None, str], tuple[int, int]]:
        """(table, key) -> the first line and column where it is set, from one
        pass over the lines; (None, name) for a table's header and a key set
        before any header."""
        places: dict[tuple[str | None, str], tuple[int, int]] = {}
        current: str | None = None
        for number, written in enumerate(self.text.split("\n"), start=1):
            header = _TOML_HEADER.match(written)
            if header:
                current = header.group(1)
                places.setdefault((None, current), (number, header.start(1) + 1))
                continue
            key = _TOML_KEY.match(written)
            if key:
                group = 1 if key.group(1) is not None else 2
                places.setdefault((current, key.group(group)), (number, key.start(group) + 1))
        return places

    @cached_property
    def _tables(self) -> dict[str, Any] | None:
        import tomllib

        try:
            return tomllib.loads(self.text)
        except (tomllib.TOMLDecodeError, RecursionError):
            return None


# repr() with its work bounded: a nested list of a million items costs what
# ten do (reprlib stops at these counts), so no value makes a message slow.
_BOUNDED_REPR = reprlib.Repr()
_BOUNDED_REPR.maxlevel, _BOUNDED_REPR.maxlist, _BOUNDED_REPR.maxdict = 3, 8, 8
_BOUNDED_REPR.maxstring = _BOUNDED_REPR.maxother = 200


def shown_value(value: object) -> str:
    """A value of book.toml or front matter as a message quotes it (its
    repr), at most 200 characters, at a cost bounded whatever the value."""
    from ..diagnostics import shorten

    return shorten(_BOUNDED_REPR.repr(value))


# Characters no string of the book may hold: XML forbids them (lxml raises
# on them in the EPUB writer), and none is text anyone means to print.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def forbidden_character(text: str) -> str:
    """The first control character (U+0000-U+001F but tab and newline,
    U+007F), noncharacter U+FFFE/U+FFFF or lone surrogate of `text`, '' if none."""
    found = _FORBIDDEN.search(text)
    return found.group(0) if found else ""


def character_problem(text: str) -> str:
    """'holds the control character U+0007' for the first forbidden
    character of `text`, '' if it has none."""
    character = forbidden_character(text)
    if not character:
        return ""
    kind = "control character" if ord(character) < 0x80 else "character"
    return f"holds the {kind} U+{ord(character):04X}, which a book cannot print"


# ---- TOML's errors, in plain words ---------------------------------------------------------
# tomllib says "Illegal character '\n'" for a quote left open and "Cannot
# overwrite a value" for a key given twice, at the place it noticed: these
# name the problem as the writer sees it, where they made it, with the fix.

_TOML_PLACE = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)$")
_TOML_KEY_AT = re.compile(r"""\s*("[^"\n]*"|'[^'\n]*'|[A-Za-z0-9_.\s"'-]+?)\s*=""")
_TOML_HEADER = re.compile(r"\s*\[\[?\s*([^\]\n]+?)\s*\]\]?")
_CURLY = "“”„‘’‚«»"


@dataclass(frozen=True)
class Located:
    """A problem of a text, as a message says it: where (1-based) and the fix."""

    message: str
    hint: str
    line: int
    column: int


def toml_error(text: str, exc: Exception, value_hint=lambda line: "") -> Located:
    """tomllib's error `exc` on `text` in plain words, at the place the
    writer made it: a quote left open, a key or table given twice, a missing
    '=', a value that is not one. `value_hint(line)` gives the fix for a bad
    value on a line (book.toml's dates), '' to use the general one."""
    said = str(exc)
    place = _TOML_PLACE.search(said)
    problem = _TOML_PLACE.sub("", said)
    lines = text.split("\n")
    line, column = (int(place.group(1)), int(place.group(2))) if place and place.group(1) else (len(lines), 1)
    written = lines[line - 1] if 0 < line <= len(lines) else ""
    if problem in ("Illegal character '\\n'", "Unterminated string", "Expected \"'\"") or \
            problem.startswith("Unterminated"):
        opened = unclosed_quote(text)
        if opened:
            at_line, at_column, quote = opened
            opener = lines[at_line - 1]
            fix = (f"close it with {quote}" if len(quote) == 3
                   else f"end the text with {quote} on the same line: {shorten(opener.strip() + quote, 80)} "
                        f"(text spans lines only in triple quotes, {quote * 3}…{quote * 3})")
            return Located(f"the quote opened at {at_line}:{at_column} is never closed", fix, at_line, at_column)
    if problem == "Cannot overwrite a value" or problem.startswith("Duplicate inline table key"):
        return _toml_twice_key(lines, line, column, problem)
    declared = re.fullmatch(r"Cannot declare \((.*)\) twice", problem)
    if declared:
        return _toml_twice_table(lines, line, declared.group(1))
    if problem.startswith("Expected '=' after a key"):
        key = written[:column - 1].strip() or written.strip()
        return Located(f"'=' is missing after the key '{shorten(key, 60)}'",
                       f"write key = value, e.g. {shorten(key, 40)} = \"…\"", line, column)
    if problem in ("Invalid value", "Expected newline or end of document after a statement",
                   "Invalid date or datetime"):
        return _toml_bad_value(written, line, column, problem, value_hint)
    if problem in ("Unclosed array", "Unclosed inline table"):
        bracket = "[" if "array" in problem else "{"
        opened = _opening(lines, line, bracket)
        what = "list" if bracket == "[" else "inline table"
        closer = "]" if bracket == "[" else "}"
        return Located(f"the {what} opened at {opened[0]}:{opened[1]} is never closed",
                       f"close it with '{closer}'; items are separated by commas", *opened)
    if problem.startswith("Expected ']' at the end of a table"):
        return Located(f"the table name on line {line} is not closed with ']'",
                       f"write the table's name in brackets: [{shorten(written.strip().strip('[]').strip(), 40)}]",
                       line, 1)
    if problem == "Invalid statement" or problem.startswith("Invalid initial character for a key"):
        return Located(f"line {line} is neither key = value nor a [table]: {shorten(written.strip(), 60)}",
                       "write key = value, or [table]; a comment starts with #", line, column)
    control = re.fullmatch(r"Illegal character '(.+)'", problem)
    if control:  # tomllib writes the character as repr() does: '\x07'
        character = control.group(1).encode().decode("unicode_escape")
        return Located(f"the control character U+{ord(character[0]):04X} ('{control.group(1)}') is not allowed here",
                       "remove it (an editor may show it as a box or not at all)", line, column)
    if problem.startswith(("Unescaped '\\'", "Invalid hex value")) or "escape" in problem:
        return Located(f"a backslash in a \"…\" string starts an escape ({problem})",
                       "write \\\\ for a backslash, or put the text in single quotes: 'C:\\Users'", line, column)
    return Located(shorten(problem, 120), "check the quotes, brackets and '=' of this line", line, column)


def unclosed_quote(text: str) -> tuple[int, int, str] | None:
    """Line, column and quote (", ', \"\"\" or ''') of the first TOML string
    of `text` that is never closed (a "…" or '…' one at its line's end),
    None if every string is: one pass over the text, comments skipped."""
    index, size, line, line_start = 0, len(text), 1, 0
    while index < size:
        character = text[index]
        if character == "\n":
            line, line_start = line + 1, index + 1
        elif character == "#":
            end = text.find("\n", index)
            index = size if end < 0 else end
            continue
        elif character in "\"'":
            quote = text[index:index + 3] if text[index:index + 3] in ('"""', "'''") else character
            start_line, start_column = line, index - line_start + 1
            end = _string_end(text, index + len(quote), quote)
            if end < 0:
                return start_line, start_column, quote
            line += text.count("\n", index, end)
            line_start = text.rfind("\n", 0, end) + 1 if "\n" in text[index:end] else line_start
            index = end
            continue
        index += 1
    return None


def _string_end(text: str, index: int, quote: str) -> int:
    """The index just past the closing `quote` of a string whose text starts
    at `index`, -1 if it is not closed (a one-line string: on its line)."""
    escapes = quote[0] == '"'
    while index < len(text):
        character = text[index]
        if escapes and character == "\\":
            index += 2
            continue
        if text.startswith(quote, index):
            return index + len(quote)
        if character == "\n" and len(quote) == 1:
            return -1
        index += 1
    return -1


def _key_name(written: str) -> str:
    found = _TOML_KEY_AT.match(written)
    return re.sub(r"\s*\.\s*", ".", found.group(1).strip()).replace('"', "").replace("'", "") if found else ""


def _toml_twice_key(lines: list[str], line: int, column: int, problem: str) -> Located:
    """A key given twice: its name, both lines (the first in the same table)."""
    inline = re.search(r"'(.*)'", problem) if problem.startswith("Duplicate inline") else None
    if inline:
        return Located(f"'{shorten(inline.group(1), 60)}' is given twice in one {{ }} table on line {line}",
                       "keep one of them", line, column)
    written = lines[line - 1] if 0 < line <= len(lines) else ""
    key = _key_name(written)
    table, first = _table_at(lines, line), 0
    current = None
    for number, text in enumerate(lines[:line - 1], start=1):
        header = _TOML_HEADER.match(text) if text.lstrip().startswith("[") else None
        if header:
            current = header.group(1)
        elif current == table and key and _key_name(text) == key:
            first = number
            break
    where = f" (lines {first} and {line})" if first else f" (again on line {line})"
    key_column = written.find(key.split(".")[0]) + 1 if key and key.split(".")[0] in written else column
    return Located(f"'{shorten(key or written.strip(), 60)}' is given twice{where}",
                   "keep one of them: a key is given once in its table", line, key_column)


def _table_at(lines: list[str], line: int) -> str | None:
    """The name of the [table] line `line` is in (None before the first)."""
    for text in reversed(lines[:line - 1]):
        header = _TOML_HEADER.match(text) if text.lstrip().startswith("[") else None
        if header:
            return header.group(1)
    return None


def _toml_twice_table(lines: list[str], line: int, declared: str) -> Located:
    """A [table] declared twice: its name and both lines."""
    name = ".".join(re.findall(r"'((?:[^'\\]|\\.)*)'", declared)) or declared
    first = next((number for number, text in enumerate(lines[:line], start=1)
                  if text.lstrip().startswith("[") and _TOML_HEADER.match(text)
                  and _TOML_HEADER.match(text).group(1) == name), 0)
    if not first or first == line:  # set before by a dotted key (book.title = …)
        first = next((number for number, text in enumerate(lines[:line], start=1)
                      if _key_name(text).startswith(name + ".")), 0)
    where = f" (lines {first} and {line})" if first and first != line else f" (again on line {line})"
    return Located(f"the table [{shorten(name, 60)}] is given twice{where}",
                   f"merge them: write every key of [{shorten(name, 40)}] under one [{shorten(name, 40)}] line",
                   line, 1)


def _toml_bad_value(written: str, line: int, column: int, problem: str, value_hint) -> Located:
    """A value TOML cannot read, or text after one."""
    key, _, value = written.partition("=")
    key, value = key.strip(), value.strip()
    after = written[column - 1:].strip() if column > 0 else ""
    fix = value_hint(written)
    if not value:
        return Located(f"'{shorten(key, 60)}' has no value", f"write {shorten(key, 40)} = \"…\"", line, column)
    if value.startswith("="):
        return Located(f"'=' is written twice after '{shorten(key, 60)}'",
                       f"write {shorten(key, 40)} = {shorten(value.lstrip('= '), 60)}", line, column)
    if value[0] in _CURLY:
        return Located(f"{shorten(value, 60)} is in curly quotes, which TOML does not read",
                       f"use straight double quotes: {shorten(key, 40)} = \"{shorten(value.strip(_CURLY), 60)}\"",
                       line, column)
    if problem == "Expected newline or end of document after a statement" and value[0] not in "\"'[{":
        return Located(f"{shorten(value, 60)} is not a TOML value (text goes in quotes)",
                       fix or f"put text in double quotes: {shorten(key, 40)} = \"{shorten(value, 60)}\"",
                       line, column)
    if problem == "Expected newline or end of document after a statement":
        if not fix and after.startswith(","):
            fix = f"a list goes in brackets: {shorten(key, 40)} = [{shorten(value, 60)}]"
        return Located(f"unexpected text after the value: {shorten(after, 60)}",
                       fix or "put the whole text in double quotes, or start a comment with #", line, column)
    if problem == "Invalid date or datetime":
        return Located(f"{shorten(value, 60)} is not a date", fix or "write the date as \"YYYY-MM-DD\"", line, column)
    return Located(f"{shorten(value, 60)} is not a TOML value (text goes in quotes)",
                   fix or f"put text in double quotes: {shorten(key, 40)} = \"{shorten(value, 60)}\"", line, column)


def _opening(lines: list[str], line: int, bracket: str) -> tuple[int, int]:
    """Line and column of the `bracket` that opens a value a line before
    `line` (an unclosed list: tomllib notices on the next key's line)."""
    for number in range(min(line, len(lines)), 0, -1):
        text = lines[number - 1]
        found = re.search(rf"=\s*{re.escape(bracket)}", text)
        if found:
            return number, found.end()
    return line, 1
