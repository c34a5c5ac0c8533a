"""Source text of the book's own files (book.toml, manuscripts): UTF-8, one
line-end form, a located error where the bytes are not UTF-8, and the one
place that finds where a value was written when its parser keeps no
positions (tomllib, Markdown's rendered tree). YAML keeps its own marks.
"""

from __future__ import annotations

import codecs
import re
import reprlib


class NotUtf8(ValueError):
    """The bytes are not UTF-8; `line` and `column` (1-based) say where,
    `encoding` what they most likely are (iconv's name, '' if unknown)."""

    def __init__(self, byte: int, line: int, column: int, encoding: str = ""):
        super().__init__(f"not valid UTF-8 (byte 0x{byte:02x})")
        self.byte, self.line, self.column, self.encoding = byte, line, column, encoding

    def describe(self) -> str:
        """The problem, with the likely encoding when one was found."""
        return f"{self}; it looks like {self.encoding}" if self.encoding else str(self)

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
        raise NotUtf8(raw[exc.start], line, column, likely_encoding(raw)) from None
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


def likely_encoding(raw: bytes) -> str:
    """The encoding `raw` was most likely written in, as iconv names it
    ('CP1252'), by charset-normalizer; '' if none reads it."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw, cp_isolation=list(_COMMON)))
    if not matches:
        return ""
    best = matches[0]
    ties = [m for m in matches if m.chaos <= best.chaos + _TIE and m.coherence >= best.coherence - _TIE]
    named = next((name for name in _COMMON for match in ties if name in match.could_be_from_charset),
                 best.encoding)
    return _iconv_name(named)


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
