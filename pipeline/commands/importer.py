"""Import stage: plain-text articles -> manuscripts (`pipeline import`).

Articles arrive as plain text in the layout of the seeds, one paragraph per
line: a summary paragraph, a quoted blurb paragraph (“…”), a bulleted list of
the section titles ("- Title"), then the sections, each opened by a line that
repeats its title, and a closing paragraph. `import_text` turns that into a
manuscript like the hand-made ones: YAML front matter (title, summary, blurb
as `>-` folded scalars) and a Markdown body with `## ` headings, wrapped at 78
columns. The bulleted list of section titles is dropped, since the pipeline
builds the contents; a bulleted list inside a section stays a Markdown list.
A closing "References" (or "Sources", "Literatur"...) section of entries
becomes a heading and a list, its identifiers linked (`_closing_sections`).

Every sentence is kept: only whitespace changes. Text that does not follow
the layout is still imported, as plain body paragraphs, with a warning saying
what was not found and where. If the text separates paragraphs by blank
lines, the lines of a blank-separated block are joined into one paragraph, so
hard-wrapped text imports as paragraphs rather than as one per line.

A Word document (.docx) is imported through `word.convert_docx` instead:
its headings, lists, tables, footnotes, links and images become Markdown,
the images files of the book's images/ folder.

Each manuscript remembers the file it was imported from, in a YAML comment
on its first front-matter line (`# imported from NAME (fingerprint F)`),
where F fingerprints the manuscript as written, less its title line.
Importing the same file again therefore replaces that manuscript instead of
adding a copy, as long as nobody edited it since (else --force): with
--title it takes the new title and the file name follows it (same number);
without, it keeps the title it has. A book folder without book.toml gets
one (`scaffold.write_book_toml`, as `pipeline init` writes it).

Like the other stages, problems are returned as diagnostics, never raised.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import textwrap
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import yaml

from ..diagnostics import Diagnostic, error, has_errors, warning
from ..load.frontmatter import split
from ..load.manuscripts import load_article, slugify
from ..output import write_atomically
from ..render.citations import DOI_URL, PMC_URL, PUBMED_URL
from ..resources import ResourceRefused, read_bytes
from ..text.sourcetext import NotUtf8, decode

WIDTH = 78
_BULLET = re.compile(r"^[-*•]\s+(?P<title>\S.*)$")
_QUOTES_OPEN, _QUOTES_CLOSE = "“\"«„", "”\"»“"
_NUMBERED = re.compile(r"^(?P<number>[0-9]+)[-_ ]")
# Line starts that CommonMark and our extensions read as block syntax even in
# the middle of a paragraph (heading, quote, definition, setext underline,
# rule, reference or footnote definition, list item, fence, HTML block): a
# wrapped line must never start with one.
_INTERRUPTS = re.compile(r"#|>| {0,3}:\s|[-=]+\s*$|([-*_])(\s*\1){2,}\s*$|\[[^\]]*\]:|\*\[|[-+*]\s|1[.)]\s"
                         r"|```|~~~|<")
# Block syntax at the start of a paragraph, and where a backslash defuses it.
_OPENERS = re.compile(r"(?P<at>[#>+`|\[]|[-*_](?=\s|[-*_]*\s*$)|\*\[)|[0-9]+(?P<dot>[.)])(\s|$)|(?P<colon>:)\s")


@dataclass(frozen=True)
class _Unit:
    """A paragraph, bullet or heading line of the text, with its first line number."""

    line: int
    text: str
    kind: str  # "para", "bullet" or "heading"


@dataclass(frozen=True)
class _Layout:
    summary: str
    blurb: str
    sections: list[tuple[str | None, list[_Unit]]]  # heading (None: before the first), paragraphs and bullets
    first_line: int  # line of the first paragraph, where the provisional title comes from


@dataclass(frozen=True)
class _Miss:
    """Why the text does not follow the seed layout, and the line where it shows."""

    message: str
    line: int


@dataclass(frozen=True)
class _Plan:
    source: Path
    target: Path
    text: str
    replaces: Path | None = None  # the earlier import of the same file, removed once `target` is written
    images: tuple[tuple[Path, bytes], ...] = ()  # a Word document's images, written before the manuscript
    provisional: bool = False  # its title is a provisional one (I004)


@dataclass(frozen=True)
class _Known:
    """A manuscript already in the book folder, as an import sees it."""

    slugs: tuple[str, ...]  # file-name slug, article slug, title's slug
    title: str
    source: str = ""  # the name of the file it was imported from ('' if it was not)
    pristine: bool = False  # unchanged since that import, but for its title


@dataclass(frozen=True)
class Imported:
    """What `import_book` did: files written (manuscripts, images, a new
    book.toml), earlier manuscripts it replaced under a new name, diagnostics."""

    written: tuple[Path, ...]
    removed: tuple[Path, ...]
    diagnostics: tuple[Diagnostic, ...]


# --- text -> manuscript ----------------------------------------------------------------------


def import_text(text: str, source: Path, title: str | None) -> tuple[str | None, list[Diagnostic]]:
    """Turn one plain-text article into manuscript text; None if there is nothing to import."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return None, [error("I002", "the text to import is empty", path=source, line=1, column=1,
                            hint="check that this is the article's file and that it was saved")]
    lines, closing = _closing_sections(text.split("\n"))
    layout = _parse_layout(lines, {_heading_key(section.heading) for section in closing})
    diagnostics: list[Diagnostic] = []
    if isinstance(layout, _Miss):
        diagnostics.append(warning(
            "I003", f"{layout.message}; the whole text is imported as body paragraphs",
            hint="expected: a summary paragraph, a quoted blurb (“…”), a list of '- Title' lines, then "
                 "sections opened by those titles; fix the text and import again, or edit the manuscript",
            path=source, line=layout.line, column=1))
        units = _units(lines, set())
        layout = _Layout("", "", [(None, units)], units[0].line)
    if title is None or not title.strip():
        title, found = _provisional_title(layout, source)
        diagnostics.append(found)
    return _manuscript(" ".join(title.split()), layout, closing), diagnostics


def _parse_layout(lines: list[str], closing: set[str]) -> _Layout | _Miss:
    """Recognise summary, blurb, title list and sections, or say what is missing.

    `closing` holds the keys of the reference sections already cut from the
    end of `lines` (`_closing_sections`): a listed title naming one of them
    has no heading left to find."""
    run = _first_run(_units(lines, set()))
    if not run:
        return _Miss("no bulleted list of section titles ('- Title' lines) was found", _line_after(lines, 2))
    listed = [_Unit(unit.line, _BULLET.match(unit.text)["title"], "bullet") for unit in run]
    listed = [unit for unit in listed if _heading_key(unit.text) not in closing] or listed
    units = _units(lines, {_key(unit.text) for unit in listed})
    start = next(i for i, unit in enumerate(units) if unit.kind == "bullet")
    preface, rest = units[:start], units[start + len(run):]
    if len(preface) != 2:
        return _Miss(f"expected a summary and a quoted blurb paragraph before the list of section "
                     f"titles on line {listed[0].line}, found {len(preface)} paragraph(s)", 1)
    blurb = preface[1].text
    if blurb[:1] not in _QUOTES_OPEN or blurb[-1:] not in _QUOTES_CLOSE:
        return _Miss("the paragraph before the list of section titles should be the blurb, "
                     "in quotes (“…”)", preface[1].line)
    return _sections(preface, listed, rest)


def _first_run(units: list[_Unit]) -> list[_Unit]:
    """The first run of consecutive bullet lines: the list of section titles."""
    start = next((i for i, unit in enumerate(units) if unit.kind == "bullet"), len(units))
    end = next((i for i in range(start, len(units)) if units[i].kind != "bullet"), len(units))
    return units[start:end]


def _sections(preface: list[_Unit], listed: list[_Unit], rest: list[_Unit]) -> _Layout | _Miss:
    """Split what follows the list at the heading lines that repeat the listed titles, in order."""
    sections: list[tuple[str | None, list[_Unit]]] = [(None, [])]
    found, last_line = 0, listed[-1].line
    for unit in rest:
        if unit.kind == "heading" and found < len(listed) and _key(unit.text) == _key(listed[found].text):
            sections.append((unit.text, []))
            found, last_line = found + 1, unit.line
        else:
            sections[-1][1].append(unit if unit.kind == "bullet" else _Unit(unit.line, unit.text, "para"))
    if found < len(listed):
        missing = listed[found]
        return _Miss(f"no heading line repeats the section title '{missing.text}' (listed on line "
                     f"{missing.line}) after line {last_line}", missing.line)
    if not sections[0][1]:
        sections.pop(0)
    return _Layout(preface[0].text, preface[1].text, sections, preface[0].line)


def _units(lines: list[str], heading_keys: set[str]) -> list[_Unit]:
    """Paragraphs, bullets and heading lines. Where blank lines separate
    paragraphs, a block's lines join into one paragraph, and an indented line
    continues the bullet above it."""
    joined = _uses_blank_lines(lines)
    units: list[_Unit] = []
    previous = ""  # kind of the unit the line before belongs to; '' after a blank line
    for number, line in enumerate(lines, 1):
        text = _norm(line)
        if not text:
            previous = ""
            continue
        kind = "bullet" if _BULLET.match(text) else "heading" if _key(text) in heading_keys else "para"
        continues = previous == "para" or (previous == "bullet" and line[:1].isspace())
        if kind == "para" and joined and continues:
            units[-1] = _Unit(units[-1].line, f"{units[-1].text} {text}", units[-1].kind)
        else:
            units.append(_Unit(number, text, kind))
        previous = units[-1].kind
    return units


def _uses_blank_lines(lines: list[str]) -> bool:
    """True when a blank line separates text, i.e. paragraphs may span several lines."""
    filled = [number for number, line in enumerate(lines) if line.strip()]
    return any(not line.strip() for line in lines[filled[0]:filled[-1]]) if filled else False


def _line_after(lines: list[str], count: int) -> int:
    """The line after the first `count` non-blank lines (where the title list is expected)."""
    filled = [number for number, line in enumerate(lines, 1) if line.strip()]
    return filled[count] if len(filled) > count else (filled[-1] if filled else 1)


def _provisional_title(layout: _Layout, source: Path) -> tuple[str, Diagnostic]:
    """A title to start from, with a warning: only the author can choose the real one.

    It comes from the first sentence of the summary (the first line), which
    says what the article is about; a section title names only a part of it.
    """
    first = layout.summary or next((unit.text for _, units in layout.sections for unit in units), "")
    title = _first_sentence(first) or _title_from_file(source)
    where = "the summary" if layout.summary else "the first paragraph"
    return title, provisional(title, where, source, layout.first_line)


def provisional(title: str, where: str, source: Path, line: int) -> Diagnostic:
    """I004: the title was made up from `where`; the hint says both ways to fix it, both true."""
    return warning(
        "I004", f"no title given; the provisional title '{title}' was taken from {where}",
        hint="review it: import the file again with --title \"…\" (the manuscript is replaced and "
             "renamed after it), or edit 'title:' in the manuscript (its file name stays)",
        path=source, line=line, column=1)


TITLE_WORDS = 12  # a provisional title longer than this is cut


def _first_sentence(paragraph: str) -> str:
    """The paragraph's first sentence, without its full stop; a long one is
    cut after a clause (a comma, colon...) within TITLE_WORDS words, else
    after TITLE_WORDS words with '…'."""
    text = paragraph.strip().strip(_QUOTES_OPEN + _QUOTES_CLOSE).strip()
    sentence = re.split(r"(?<=[.?!])\s+", text, maxsplit=1)[0].rstrip(".!").strip()
    words = sentence.split()
    if len(words) > TITLE_WORDS:
        clauses = [n for n in range(4, TITLE_WORDS + 1) if words[n - 1][-1:] in ",;:–—"]
        words = words[:clauses[-1]] if clauses else words[:TITLE_WORDS] + ["…"]
        sentence = " ".join(words).rstrip(",;:–—").replace(" …", "…")
    return sentence[:1].upper() + sentence[1:]


def _title_from_file(source: Path) -> str:
    return source.stem.replace("_", " ").replace("-", " ").strip().capitalize() or "Untitled"


def _manuscript(title: str, layout: _Layout, closing: list[_References]) -> str:
    """Front matter and body, in the form of the hand-made manuscripts; the
    reference sections close it."""
    front = [f"title: {json.dumps(title, ensure_ascii=False)}"]
    front += [_folded(key, value) for key, value in (("summary", layout.summary), ("blurb", layout.blurb))
              if value]
    body = []
    for heading, units in layout.sections:
        body += [f"## {heading}"] if heading else []
        body += _blocks(units)
    for section in closing:
        body += _reference_blocks(section)
    return "---\n" + "\n".join(front) + "\n---\n\n" + "\n\n".join(body) + "\n"


def _blocks(units: list[_Unit]) -> list[str]:
    """Markdown blocks of a section: each paragraph wrapped, each run of
    bullets one list ('- ' items, wrapped lines indented under their text)."""
    blocks: list[str] = []
    for index, unit in enumerate(units):
        if unit.kind != "bullet":
            blocks.append(_wrap(unit.text))
            continue
        item = "- " + _wrap(_BULLET.match(unit.text)["title"], WIDTH - 2).replace("\n", "\n  ")
        if index and units[index - 1].kind == "bullet":
            blocks[-1] += "\n" + item
        else:
            blocks.append(item)
    return blocks


def _folded(key: str, value: str) -> str:
    """`key: >-` and the value wrapped at 78 columns; YAML reads back exactly `value`.

    Characters YAML cannot hold in a block scalar (control characters) fall
    back to an escaped double-quoted string, which still reads back exactly.
    """
    value = _literal_dollars(value)
    lines = textwrap.wrap(value, WIDTH, initial_indent="  ", subsequent_indent="  ",
                          break_long_words=False, break_on_hyphens=False)
    block = f"{key}: >-\n" + "\n".join(lines)
    try:
        if yaml.safe_load(block) == {key: value}:
            return block
    except yaml.YAMLError:
        pass
    return f"{key}: {json.dumps(value)}"


def _wrap(paragraph: str, width: int = WIDTH) -> str:
    """Wrap a body paragraph at 78 columns without creating Markdown block syntax.

    A wrapped line starting with, say, '#' or '> ' would turn the rest of the
    paragraph into a heading or a quote: try narrower widths, then keep such a
    line on the previous one. A paragraph that itself starts like a list item
    or a heading gets a backslash, so it still renders as its own text, and
    so do its dollars where they would make math (`_literal_dollars`).
    """
    lines = _wrapped_lines(_literal_dollars(paragraph), width)
    return "\n".join([_escape_opener(lines[0]), *lines[1:]])


def _wrapped_lines(paragraph: str, width: int) -> list[str]:
    """The paragraph's lines within `width` columns, none starting block syntax."""
    for narrower in range(width, width - 19, -1):
        lines = textwrap.wrap(paragraph, narrower, break_long_words=False, break_on_hyphens=False)
        if not any(_INTERRUPTS.match(line) for line in lines[1:]):
            break
    merged = lines[:1]
    for line in lines[1:]:
        if _INTERRUPTS.match(line):
            merged[-1] += " " + line
        else:
            merged.append(line)
    return merged


def _literal_dollars(text: str) -> str:
    """The text with its dollars escaped if, as written, the book's Markdown
    would read math in it ("between $x and y$"); else unchanged ("$5 and
    $10" is no math by pandoc's rules, which the renderer follows)."""
    if "$" not in text or not _reads_math(text):
        return text
    return re.sub(r"(?<!\\)\$", r"\\$", text)


def _reads_math(text: str) -> bool:
    """True if the renderer's parser finds math (inline or display) in `text`."""
    from ..text.markdown import parse  # the renderer's own reading of `$`

    tokens = parse(text)
    children = [child for token in tokens for child in (token.children or [])]
    return any(token.type.startswith("math_") for token in (*tokens, *children))


def _escape_opener(line: str) -> str:
    match = _OPENERS.match(line)
    if not match:
        return line
    if match.group("colon"):  # ':' has no backslash escape; a character reference keeps it text
        return "&#58;" + line[1:]
    at = match.start("at") if match.group("at") else match.start("dot")
    return line[:at] + "\\" + line[at:]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _key(text: str) -> str:
    return _norm(text).casefold()


# --- closing reference sections --------------------------------------------------------------
#
# A seed article may end with its sources: a heading line ("References",
# "Sources:", "Literatur"...) and entries, numbered ("1.", "1)", "[1]"),
# bulleted, or one to a line (or to a paragraph). Such a section is cut off
# before the layout is read and closes the manuscript as a `## ` heading and
# a list: ordered, with the source's numbers, where they run in sequence; else
# bulleted, an out-of-sequence number kept as text. Each entry is its text as
# written, Markdown's special characters escaped, its URLs, DOIs, PMIDs and
# PMCIDs made links. It is no bibliography: nothing is parsed into fields.

# Headings of a closing section of sources, casefolded, without a trailing colon.
REFERENCE_HEADINGS = frozenset({
    "references", "reference list", "sources", "bibliography", "works cited", "further reading",
    "literatur", "literaturverzeichnis", "quellen", "références", "bibliographie", "referencias",
    "bibliografía", "fuentes", "fonti", "bibliografia", "riferimenti", "referências", "fontes",
    "literatuur", "bronnen"})
_ENTRY_MARK = re.compile(r"(?:(?P<number>[0-9]{1,4})[.)]|(?P<bullet>[-*•–]))(?:\s+|$)"
                         r"|\[(?P<bracket>[0-9]{1,4})\]\s*")
# What makes an unmarked line an entry rather than prose: an identifier, a
# year as references write it ("(2020)", "2020;", "2020."), "et al".
_CITATION_LIKE = re.compile(r"https?://|www\.|\b10\.[0-9]{4,9}/|\bPMID\b|\bPMC[0-9]|\bISBN\b|\bet al\b"
                            r"|\(\s*(?:1[5-9]|20)[0-9]{2}[a-z]?\s*\)|\b(?:1[5-9]|20)[0-9]{2}[a-z]?[.;,]",
                            re.IGNORECASE)
ENTRY_CHARS = 500  # an unmarked 'entry' longer than this is prose
_IDENTIFIER = re.compile(
    r"(?P<url>(?:https?://|www\.|(?:dx\.)?doi\.org/)[^\s<>\"\\]+)"
    r"|(?P<doi>(?:(?i:\bdoi\b):?\s*)?(?<![\w/.])10\.[0-9]{4,9}(?:\.[0-9]+)*/[^\s<>\"\\]+)"
    r"|(?P<pmid>(?i:\bPMID\b):?\s*(?P<number>[0-9]{1,9})\b)"
    r"|(?P<pmc>(?:(?i:\bPMCID\b):?\s*)?\b(?P<pmcid>PMC[0-9]{1,9})\b)")
_DOI_IN_URL = re.compile(r"(?:https?://)?(?:dx\.)?doi\.org/(?P<doi>10\..+)", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_SPECIAL = frozenset("\\`*[]<>$~{}")
_TRAILING = ".,;:!?'\"’”»"  # punctuation that ends a sentence, not a URL or DOI


@dataclass(frozen=True)
class _References:
    """A closing section of sources, as the text gives it."""

    heading: str  # as written, without a trailing colon
    entries: tuple[str, ...]  # each entry's text, whitespace normalized
    marks: tuple[str, ...]  # each entry's marker as written ('3.', '[3]', '-'; '' if none)
    numbers: tuple[int, ...]  # the entries' numbers, if numbered
    after: tuple[str, ...] = ()  # paragraphs after the last entry


def _heading_key(line: str) -> str:
    return unicodedata.normalize("NFC", _norm(line)).rstrip(":").rstrip().casefold()


def _closing_sections(lines: list[str]) -> tuple[list[str], list[_References]]:
    """The lines without the reference sections that close them, and those sections."""
    listed = {_heading_key(_BULLET.match(unit.text)["title"]) for unit in _first_run(_units(lines, set()))}
    joined = _uses_blank_lines(lines)
    found: list[_References] = []
    while (cut := _closing_section(lines, listed, joined)) is not None:
        lines, section = cut
        found.insert(0, section)
    return lines, found


def _closing_section(lines: list[str], listed: set[str],
                     joined: bool) -> tuple[list[str], _References] | None:
    """The last reference heading and what follows it, if that is a list of
    entries (and holds no section title of the list: then it closes nothing)."""
    at = next((i for i in reversed(range(len(lines))) if _heading_key(lines[i]) in REFERENCE_HEADINGS), None)
    if at is None or not any(line.strip() for line in lines[:at]):
        return None
    rest = lines[at + 1:]
    if any(_heading_key(line) in listed for line in rest if line.strip()):
        return None
    rows = [(line[:1].isspace(), _norm(line)) for line in rest]
    first = next((text for _, text in rows if text), None)
    if first is None:
        return None
    mark = _ENTRY_MARK.match(first)
    parsed = _marked(rows, _style(mark), joined) if mark else _unmarked(rows)
    if parsed is None:
        return None
    return lines[:at], _References(_norm(lines[at]).rstrip(":").rstrip(), *parsed)


def _style(mark: re.Match[str]) -> str:
    return "number" if mark["number"] else "bracket" if mark["bracket"] else mark["bullet"]


def _number(mark: re.Match[str]) -> int | None:
    value = mark["number"] or mark["bracket"]
    return int(value) if value else None


def _marked(rows: list[tuple[bool, str]], style: str, joined: bool) -> tuple:
    """Entries each opened by a marker of `style`. An unmarked line continues
    the entry above where the text wraps paragraphs (indented, or not after a
    blank line in blank-separated text); else it is a paragraph of its own:
    kept in the entry above if more entries follow, after the list if not."""
    entries: list[list[str]] = []
    marks: list[str] = []
    numbers: list[int] = []
    loose: list[list[str]] = []  # paragraphs since the last entry
    blank = False
    for indented, text in rows:
        if not text:
            blank = True
            continue
        mark = _ENTRY_MARK.match(text)
        if mark and _style(mark) == style and _next_entry(_number(mark), numbers):
            if entries:  # paragraphs between two entries stay in the one above
                entries[-1] += [part for paragraph in loose for part in paragraph]
            loose = []
            entries.append([text[mark.end():]])
            marks.append(mark.group().strip())
            numbers += [] if _number(mark) is None else [_number(mark)]
        elif indented or (joined and not blank):
            (loose[-1] if loose else entries[-1]).append(text)
        else:
            loose.append([text])
        blank = False
    return (tuple(_norm(" ".join(entry)) for entry in entries), tuple(marks), tuple(numbers),
            tuple(" ".join(paragraph) for paragraph in loose))


def _next_entry(number: int | None, numbers: list[int]) -> bool:
    """Whether a numbered line opens an entry: any number at first, then the
    next one, or any other that is no year (a wrapped line may start '2019.')."""
    return number is None or not numbers or number == numbers[-1] + 1 or not 1000 <= number <= 2999


def _unmarked(rows: list[tuple[bool, str]]) -> tuple | None:
    """One entry per line, or per paragraph where blank lines separate them
    (an indented line continues the entry above); None unless every entry
    reads like a reference, short and with an identifier or a year."""
    filled = [index for index, (_, text) in enumerate(rows) if text]
    paragraphs = any(not text for _, text in rows[filled[0]:filled[-1]])
    entries: list[str] = []
    blank = True
    for indented, text in rows:
        if not text:
            blank = True
            continue
        if entries and (indented or (paragraphs and not blank)):
            entries[-1] += " " + text
        else:
            entries.append(text)
        blank = False
    if not all(len(entry) <= ENTRY_CHARS and _CITATION_LIKE.search(entry) for entry in entries):
        return None
    return tuple(entries), ("",) * len(entries), ()


def _reference_blocks(section: _References) -> list[str]:
    """The section's heading, its list and the paragraphs after it, as Markdown blocks."""
    numbers = section.numbers
    ordered = bool(numbers) and numbers == tuple(range(numbers[0], numbers[0] + len(section.entries)))
    items = []
    for index, entry in enumerate(section.entries):
        if ordered:
            items.append(_item(f"{numbers[index]}. ", entry))
        else:  # bulleted; a number out of sequence is kept as text
            items.append(_item("- ", f"{section.marks[index]} {entry}" if numbers else entry))
    return [f"## {section.heading}", "\n".join(items), *(_wrap(paragraph) for paragraph in section.after)]


def _item(prefix: str, text: str) -> str:
    """A list item: the text escaped and linked, wrapped under its first character."""
    markdown, linked = _linked(text)
    lines = _wrapped_lines(markdown, WIDTH - len(prefix)) or [""]
    first = lines[0] if linked else _escape_opener(lines[0])
    return prefix + f"\n{' ' * len(prefix)}".join([first, *lines[1:]])


def _linked(text: str) -> tuple[str, bool]:
    """The text as Markdown that prints it as written, each URL, DOI, PMID
    and PMCID a link; and whether it starts with a link."""
    parts: list[str] = []
    cursor, starts = 0, False
    for match in _IDENTIFIER.finditer(text):
        if match.start() < cursor:
            continue
        found = _trimmed(match.group()) if match["url"] or match["doi"] else match.group()
        link = f"[{_escape_text(found)}](<{_href(match, found)}>)"
        parts += [_escape_text(text[cursor:match.start()]), link]
        starts = starts or match.start() == 0
        cursor = match.start() + len(found)
    return "".join(parts) + _escape_text(text[cursor:]), starts


def _trimmed(found: str) -> str:
    """A URL or DOI without the punctuation after it: a full stop, a comma, a
    closing bracket it does not open."""
    while found and (found[-1] in _TRAILING or (found[-1] == ")" and found.count(")") > found.count("("))
                     or (found[-1] == "]" and found.count("]") > found.count("["))):
        found = found[:-1]
    return found


def _href(match: re.Match[str], found: str) -> str:
    """Where an identifier links: the URL itself; doi.org for a DOI; PubMed, PMC."""
    if match["pmid"]:
        return PUBMED_URL.format(match["number"])
    if match["pmc"]:
        return PMC_URL.format(match["pmcid"])
    doi = _DOI_IN_URL.match(found)
    if doi or match["doi"]:
        return DOI_URL + (doi["doi"] if doi else quote(found[found.index("10."):], safe="/:;()._-"))
    return ("https://" if found.lower().startswith("www.") else "") + found


def _escape_text(text: str) -> str:
    """Text with a backslash before each character Markdown would read as
    markup: emphasis, code, links, HTML, math, strikethrough, attributes, a
    citation's '@', an entity; an underscore inside a word reads as itself."""
    out = []
    for index, char in enumerate(text):
        before, after = text[index - 1:index], text[index + 1:index + 2]
        if (char in _SPECIAL or (char == "_" and not (before.isalnum() and after.isalnum()))
                or (char == "@" and not before.isalnum()) or (char == "&" and _ENTITY.match(text, index))):
            out.append("\\")
        out.append(char)
    return "".join(out)


# --- files -> book folder --------------------------------------------------------------------

SLUG_WORDS, SLUG_CHARS = 4, 40  # a provisional title's file name: its first significant words
_MINOR_WORDS = frozenset({"the", "and", "for", "with", "from", "that", "this", "into", "its", "are", "was",
                          "how", "why", "what", "your", "you"})
_STAMP = re.compile(r"\A---\n# imported from (?P<name>.+) \(fingerprint (?P<digest>[0-9a-f]{12})\)\n")


def import_files(files: list[Path], into: Path, title: str | None,
                 force: bool) -> tuple[list[Path], list[Diagnostic]]:
    """Import each file as `into/NN-<slug>.md`; write nothing unless all of them import cleanly."""
    done = import_book(files, into, title, force)
    return list(done.written), list(done.diagnostics)


def import_book(files: list[Path], into: Path, title: str | None, force: bool) -> Imported:
    """`import_files`, saying also which earlier imports were replaced under another name."""
    if title is not None and len(files) > 1:
        return Imported((), (), (error("I006", f"--title was given with {len(files)} files; it names one article",
                                       hint="import the files one at a time to give each its title, "
                                            "or omit --title"),))
    if into.exists() and not into.is_dir():
        return Imported((), (), (error("I007", f"'{into}' is not a folder", path=into,
                                       hint="pass the book folder (the one holding book.toml) to --into"),))
    plans, diagnostics = _plan(files, into, title, force)
    if has_errors(diagnostics):
        return Imported((), (), tuple(diagnostics))
    written, removed, found = _write(plans, into)
    if written and not has_errors(found) and not os.path.lexists(into / "book.toml"):
        from .scaffold import write_book_toml  # the book.toml `pipeline init` writes

        made, more = write_book_toml(into, frozenset(plan.target for plan in plans if plan.provisional))
        written, found = written + made, found + more
    return Imported(tuple(written), tuple(removed), tuple(diagnostics + found + _unlisted(into, plans)))


def _plan(files: list[Path], into: Path, title: str | None,
          force: bool) -> tuple[list[_Plan], list[Diagnostic]]:
    """Import every file and choose its target, collecting every problem before writing."""
    existing = _existing(into)
    inputs = {file.resolve() for file in files}
    number, width = _next_number(into)
    plans: list[_Plan] = []
    diagnostics: list[Diagnostic] = []
    for file in files:
        previous = next((path for path, known in existing.items() if known.source == _source_name(file)), None)
        given = title if title is not None and title.strip() else None
        converted, found = _convert(file, into, given or (existing[previous].title if previous else None))
        diagnostics += found
        if converted is None:
            continue
        text, images = converted
        plan = _replacing(file, previous, existing[previous], text, given, force) if previous else \
            _Plan(file, into / f"{number:0{width}d}-{_new_slug(text, file, found)}.md", text)
        if isinstance(plan, Diagnostic):
            diagnostics.append(plan)
            continue
        replaced = _clash(plan, {path: known for path, known in existing.items() if path != previous}, plans, force)
        if isinstance(replaced, Diagnostic):
            diagnostics.append(replaced)
        elif (clobbered := replaced or previous) is not None and clobbered.resolve() in inputs:
            diagnostics.append(error("I005", f"'{clobbered}' is one of the files being imported; not overwritten",
                                     hint="import from a copy outside the book folder", path=clobbered))
        else:
            number += 1 if replaced is None and previous is None else 0
            target = replaced or plan.target
            renamed = previous if previous not in (None, target) else None
            plans.append(_Plan(file, target, _stamped(text, file), renamed, images,
                               any(d.code == "I004" for d in found)))
    return plans, diagnostics


def _replacing(file: Path, previous: Path, known: _Known, text: str, title: str | None,
               force: bool) -> _Plan | Diagnostic:
    """The plan to replace `previous`, an earlier import of `file`: under the
    name it has, or renamed after a new --title (keeping its number); an
    error if it was edited since (but for its title), unless --force."""
    if not known.pristine and not force:
        return error("I005", f"'{previous}' was imported from '{file.name}' and has been edited since; "
                             "it is not replaced", path=previous, line=1, column=1,
                     hint="pass --force to replace it (the edits are lost), or make the change in it by hand")
    if title is None:
        return _Plan(file, previous, text)
    number = _NUMBERED.match(previous.name)
    return _Plan(file, previous.with_name(f"{number.group(0) if number else ''}{_file_slug(text, file)}.md"), text)


_Converted = tuple[str, tuple[tuple[Path, bytes], ...]]  # a manuscript's text, and the images it brings


def _convert(file: Path, into: Path, title: str | None) -> tuple[_Converted | None, list[Diagnostic]]:
    """The manuscript of one input file and the images it brings, or None."""
    raw, diagnostics = _read(file)
    if raw is None:
        return None, diagnostics
    if file.suffix.lower() == ".docx":
        return _word_manuscript(raw, file, into, title)
    text, diagnostics = _decoded(raw, file)
    manuscript, found = import_text(text, file, title) if text is not None else (None, [])
    return ((manuscript, ()) if manuscript is not None else None), diagnostics + found


def _word_manuscript(raw: bytes, source: Path, into: Path,
                     title: str | None) -> tuple[_Converted | None, list[Diagnostic]]:
    """A Word document's manuscript: its title (--title, else the document's
    Title or lone first `#` heading, else provisional) and its Markdown body."""
    from .word import convert_docx

    word, diagnostics = convert_docx(raw, source)
    if word is None:
        return None, diagnostics
    title = " ".join((title or word.title).split())
    if not title:
        title = _first_sentence(word.lead) or _title_from_file(source)
        diagnostics.append(provisional(title, "the first paragraph", source, 1))
    front = [f"title: {json.dumps(title, ensure_ascii=False)}"]
    front += [f"subtitle: {json.dumps(word.subtitle, ensure_ascii=False)}"] if word.subtitle else []
    text = "---\n" + "\n".join(front) + "\n---\n\n" + word.body + "\n"
    return (text, tuple((into / name, data) for name, data in word.images)), diagnostics


def _new_slug(manuscript: str, source: Path, found: list[Diagnostic]) -> str:
    """The file-name slug of a new article: its title's, or a provisional title's short one."""
    if any(d.code == "I004" for d in found):
        return provisional_slug(_title(manuscript, source), source)
    return _file_slug(manuscript, source)


def provisional_slug(title: str, source: Path) -> str:
    """A short file name for a provisional title: its first SLUG_WORDS
    significant words, at most SLUG_CHARS characters.

    The file name is the article's slug: the id of its links and the name of
    its downloads (articles/<slug>.pdf), and it stays when the author fixes
    the title by editing 'title:'. A provisional title is a cut first
    sentence, so its whole slug is a sentence
    (kratom-a-natural-compound-found-in-mitragyna-speciosa-native); the
    source file's stem is often no name at all (a seed's is a hash). The
    first significant words (not 'a', 'in', 'the'...) still say what the
    article is about, in a name short enough to keep.
    """
    words = [word for token in title.split() for word in _significant(slugify(token).split("-"))]
    slug = words[0][:SLUG_CHARS] if words else ""
    for word in words[1:SLUG_WORDS]:
        if len(slug) + 1 + len(word) > SLUG_CHARS:
            break
        slug += "-" + word
    return slug.strip("-") or slugify(source.stem)[:SLUG_CHARS].strip("-") or "article"


def _significant(parts: list[str]) -> list[str]:
    """A word's slug, unless it is a short or minor word. A word of several
    parts (a script written without spaces, transliterated syllable by
    syllable; 'micro-tears') keeps them all: its syllables are no words."""
    if len(parts) > 1:
        return [part for part in parts if part]
    return [part for part in parts if len(part) > 2 and part not in _MINOR_WORDS or part.isdigit()]


def _source_name(file: Path) -> str:
    """The input's file name as its manuscript records it: on one line, whatever the name holds."""
    return "".join(c if c.isprintable() else "?" for c in file.name)


def _fingerprint(manuscript: str) -> str:
    """A short digest of the manuscript less its title line: an edit shows, a new title does not."""
    untitled = re.sub(r"^title:.*\n", "", manuscript, count=1, flags=re.MULTILINE)
    return hashlib.sha256(untitled.encode("utf-8")).hexdigest()[:12]


def _stamped(manuscript: str, source: Path) -> str:
    """The manuscript with, on its first front-matter line, a YAML comment
    naming the file it was imported from and its fingerprint."""
    return (f"---\n# imported from {_source_name(source)} (fingerprint {_fingerprint(manuscript)})\n"
            + manuscript.removeprefix("---\n"))


def _provenance(path: Path, into: Path) -> tuple[str, bool]:
    """The file the manuscript `path` was imported from ('' if none) and
    whether it is unchanged since (but for its title)."""
    try:
        text = decode(read_bytes(path, (into,)))
    except (ResourceRefused, NotUtf8, OSError):
        return "", False
    stamp = _STAMP.match(text)
    if stamp is None:
        return "", False
    return stamp["name"], stamp["digest"] == _fingerprint("---\n" + text[stamp.end():])


def _clash(plan: _Plan, existing: dict[Path, _Known], plans: list[_Plan],
           force: bool) -> Path | Diagnostic | None:
    """The existing manuscript `plan` replaces (only with --force), an error, or None if new.

    A manuscript 'exists' when its file name (without the number) or its
    article slug is the new one's, since load would report the two as the
    same article (M007).
    """
    slugs = {_stem_slug(plan.target), slugify(_title(plan.text, plan.source))}
    same = [path for path, known in existing.items() if slugs & set(known.slugs)]
    earlier = [other for other in plans if other.target in same or _stem_slug(other.target) in slugs]
    if earlier:
        return error("I005", f"'{earlier[0].source}' and '{plan.source}' would both be imported as "
                             f"'{_stem_slug(plan.target)}'", path=plan.source,
                     hint="import them separately, each with its own --title")
    if not same:
        return None
    if not force:
        return error("I005", f"'{same[0]}' already holds this article; '{plan.source}' is not imported",
                     hint="pass --force to replace it, or --title to import it under another title",
                     path=same[0], line=1, column=1)
    return same[0]


def _read(file: Path) -> tuple[bytes | None, list[Diagnostic]]:
    """Read one input file.

    The files to import are the ones the user names on the command line, so
    they are read wherever they are: this is the one read outside a book."""
    try:
        return file.read_bytes(), []
    except OSError as exc:
        return None, [error("I007", f"cannot read '{file}': {exc.strerror or exc}", path=file,
                            hint="check the file name and that the file is readable")]


def _decoded(raw: bytes, file: Path) -> tuple[str | None, list[Diagnostic]]:
    """A text file's text, or I001 locating its first byte that is not UTF-8."""
    try:
        return decode(raw), []
    except NotUtf8 as exc:
        hint = f"{exc.fix(str(file))}, then import it again" if exc.encoding else \
            "save the text file as UTF-8 and import it again"
        return None, [error("I001", exc.describe(), path=file, line=exc.line, column=exc.column, hint=hint)]


def _write(plans: list[_Plan], into: Path) -> tuple[list[Path], list[Path], list[Diagnostic]]:
    """Write each manuscript (and its images) atomically: a reader sees the
    old file or the new, never half of one. An earlier import renamed after
    a new title is removed once its successor is written."""
    written: list[Path] = []
    try:
        into.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return [], [], [error("I007", f"cannot create the book folder '{into}': {exc.strerror or exc}",
                              path=into)]
    outside = sorted({path.parent for plan in plans for path, _ in plan.images
                      if not path.parent.resolve().is_relative_to(into.resolve())})
    if outside:  # images/ a link out of the book: nothing is written through it
        return [], [], [error("I007", f"'{outside[0]}' is a link to a folder outside the book; the document's "
                                      "images are not written there", path=outside[0],
                              hint="replace the link by a folder of the book")]
    for plan in plans:
        for path, content in (*plan.images, (plan.target, plan.text.encode("utf-8"))):
            try:
                path.parent.mkdir(exist_ok=True)
                write_atomically(path, content)
            except OSError as exc:
                return written, [], [error("I007", f"cannot write '{path}': {exc.strerror or exc}",
                                           path=path, hint="check that the book folder is writable")]
            written.append(path)
    removed = [plan.replaces for plan in plans if plan.replaces is not None and plan.replaces not in written]
    for path in removed:
        path.unlink(missing_ok=True)
    return written, removed, []


def _existing(into: Path) -> dict[Path, _Known]:
    """Each manuscript of the book folder, known by its file-name slug, its
    article slug and its title's slug (an article renamed on disk is still
    known by its title), and by the file it was imported from."""
    if not into.is_dir():
        return {}
    result = {}
    for path in sorted(into.glob("*.md")):
        article, _ = load_article(path)
        slugs = (_stem_slug(path), *((article.slug, slugify(article.title)) if article else ()))
        result[path] = _Known(slugs, article.title if article else "", *_provenance(path, into))
    return result


def _next_number(into: Path) -> tuple[int, int]:
    """The number after the highest 'NN-' prefix in the folder, and the digits to pad to."""
    numbers = [m["number"] for p in (into.glob("*.md") if into.is_dir() else ())
               if (m := _NUMBERED.match(p.name))]
    highest = max((int(n) for n in numbers), default=0)
    return highest + 1, max([2, *(len(n) for n in numbers)])


def _stem_slug(path: Path) -> str:
    return _NUMBERED.sub("", path.stem) or path.stem


def _title(manuscript: str, source: Path) -> str:
    front, _ = split(manuscript, source)
    return str(front.values.get("title", ""))


def _file_slug(manuscript: str, source: Path) -> str:
    """The title's slug, cut at a word boundary so file names stay readable."""
    return slugify(_title(manuscript, source)) or "article"


def _unlisted(into: Path, plans: list[_Plan]) -> list[Diagnostic]:
    """Warn when book.toml names its articles: a new manuscript is built only once listed."""
    config = into / "book.toml"
    try:
        listed = tomllib.loads(decode(read_bytes(config, (into,)))).get("book", {}).get("articles")
    except (OSError, ResourceRefused, NotUtf8, tomllib.TOMLDecodeError, AttributeError):
        return []
    if not isinstance(listed, list):
        return []
    return [warning("I008", f"'{plan.target.name}' is not in the articles list of book.toml, so it is not built",
                    hint=f"replace \"{plan.replaces.name}\" by \"{plan.target.name}\" in [book] articles"
                    if plan.replaces is not None and plan.replaces.name in listed
                    else f"add \"{plan.target.name}\" to [book] articles", path=config, line=1)
            for plan in plans if plan.target.name not in listed]


# --- command line ----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> Imported:
    """Run `pipeline import` from parsed arguments."""
    return import_book(list(args.files), args.into, args.title, args.force)
