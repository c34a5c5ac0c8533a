"""Import stage: plain-text articles -> manuscripts (`pipeline import`).

Articles arrive as plain text in the layout of the seeds, one paragraph per
line: a summary paragraph, a quoted blurb paragraph (“…”), a bulleted list of
the section titles ("- Title"), then the sections, each opened by a line that
repeats its title, and a closing paragraph. `import_text` turns that into a
manuscript like the hand-made ones: YAML front matter (title, summary, blurb
as `>-` folded scalars) and a Markdown body with `## ` headings, wrapped at 78
columns. The bulleted list of section titles is dropped, since the pipeline
builds the contents; a bulleted list inside a section stays a Markdown list.

Every sentence is kept: only whitespace changes. Text that does not follow
the layout is still imported, as plain body paragraphs, with a warning saying
what was not found and where. If the text separates paragraphs by blank
lines, the lines of a blank-separated block are joined into one paragraph, so
hard-wrapped text imports as paragraphs rather than as one per line.

Like the other stages, problems are returned as diagnostics, never raised.
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..diagnostics import Diagnostic, error, has_errors, warning
from ..load.frontmatter import split
from ..load.manuscripts import load_article, slugify
from ..output import write_atomically
from ..resources import ResourceRefused, read_bytes
from ..load.sourcetext import NotUtf8, decode

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


# --- text -> manuscript ----------------------------------------------------------------------


def import_text(text: str, source: Path, title: str | None) -> tuple[str | None, list[Diagnostic]]:
    """Turn one plain-text article into manuscript text; None if there is nothing to import."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return None, [error("I002", "the text to import is empty", path=source, line=1, column=1,
                            hint="check that this is the article's file and that it was saved")]
    lines = text.split("\n")
    layout = _parse_layout(lines)
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
    return _manuscript(" ".join(title.split()), layout), diagnostics


def _parse_layout(lines: list[str]) -> _Layout | _Miss:
    """Recognise summary, blurb, title list and sections, or say what is missing."""
    listed = _first_run(_units(lines, set()))
    if not listed:
        return _Miss("no bulleted list of section titles ('- Title' lines) was found", _line_after(lines, 2))
    listed = [_Unit(unit.line, _BULLET.match(unit.text)["title"], "bullet") for unit in listed]
    units = _units(lines, {_key(unit.text) for unit in listed})
    start = next(i for i, unit in enumerate(units) if unit.kind == "bullet")
    preface, rest = units[:start], units[start + len(listed):]
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
    return title, warning(
        "I004", f"no title given; the provisional title '{title}' was taken from {where}",
        hint="review it: edit 'title:' in the imported manuscript, or import again with --title",
        path=source, line=layout.first_line, column=1)


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


def _manuscript(title: str, layout: _Layout) -> str:
    """Front matter and body, in the form of the hand-made manuscripts."""
    front = [f"title: {json.dumps(title, ensure_ascii=False)}"]
    front += [_folded(key, value) for key, value in (("summary", layout.summary), ("blurb", layout.blurb))
              if value]
    body = []
    for heading, units in layout.sections:
        body += [f"## {heading}"] if heading else []
        body += _blocks(units)
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
    or a heading gets a backslash, so it still renders as its own text.
    """
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
    return "\n".join([_escape_opener(merged[0]), *merged[1:]])


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


# --- files -> book folder --------------------------------------------------------------------


def import_files(files: list[Path], into: Path, title: str | None,
                 force: bool) -> tuple[list[Path], list[Diagnostic]]:
    """Import each file as `into/NN-<slug>.md`; write nothing unless all of them import cleanly."""
    if title is not None and len(files) > 1:
        return [], [error("I006", f"--title was given with {len(files)} files; it names one article",
                          hint="import the files one at a time to give each its title, or omit --title")]
    if into.exists() and not into.is_dir():
        return [], [error("I007", f"'{into}' is not a folder", path=into,
                          hint="pass the book folder (the one holding book.toml) to --into")]
    plans, diagnostics = _plan(files, into, title, force)
    if has_errors(diagnostics):
        return [], diagnostics
    written, found = _write(plans, into)
    return written, diagnostics + found + _unlisted(into, written)


def _plan(files: list[Path], into: Path, title: str | None,
          force: bool) -> tuple[list[_Plan], list[Diagnostic]]:
    """Import every file and choose its target, collecting every problem before writing."""
    existing = _existing(into)
    inputs = {file.resolve() for file in files}
    number, width = _next_number(into)
    plans: list[_Plan] = []
    diagnostics: list[Diagnostic] = []
    for file in files:
        text, found = _read(file)
        diagnostics += found
        manuscript, found = import_text(text, file, title) if text is not None else (None, [])
        diagnostics += found
        if manuscript is None:
            continue
        plan = _Plan(file, into / f"{number:0{width}d}-{_file_slug(manuscript, file)}.md", manuscript)
        replaced = _clash(plan, existing, plans, force)
        if isinstance(replaced, Diagnostic):
            diagnostics.append(replaced)
        elif replaced is not None and replaced.resolve() in inputs:
            diagnostics.append(error("I005", f"'{replaced}' is one of the files being imported; not overwritten",
                                     hint="import from a copy outside the book folder", path=replaced))
        else:
            number += 1 if replaced is None else 0
            plans.append(_Plan(file, replaced or plan.target, manuscript))
    return plans, diagnostics


def _clash(plan: _Plan, existing: dict[Path, tuple[str, ...]], plans: list[_Plan],
           force: bool) -> Path | Diagnostic | None:
    """The existing manuscript `plan` replaces (only with --force), an error, or None if new.

    A manuscript 'exists' when its file name (without the number) or its
    article slug is the new one's, since load would report the two as the
    same article (M007).
    """
    slugs = {_stem_slug(plan.target), slugify(_title(plan.text, plan.source))}
    same = [path for path, known in existing.items() if slugs & set(known)]
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


def _read(file: Path) -> tuple[str | None, list[Diagnostic]]:
    """Read and decode one input file, locating a bad byte by line and column.

    The files to import are the ones the user names on the command line, so
    they are read wherever they are: this is the one read outside a book."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        return None, [error("I007", f"cannot read '{file}': {exc.strerror or exc}", path=file,
                            hint="check the file name and that the file is readable")]
    try:
        return decode(raw), []
    except NotUtf8 as exc:
        hint = f"{exc.fix(str(file))}, then import it again" if exc.encoding else \
            "save the text file as UTF-8 and import it again"
        return None, [error("I001", exc.describe(), path=file, line=exc.line, column=exc.column, hint=hint)]


def _write(plans: list[_Plan], into: Path) -> tuple[list[Path], list[Diagnostic]]:
    """Write each manuscript atomically: a reader sees the old file or the new, never half of one."""
    written: list[Path] = []
    try:
        into.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return [], [error("I007", f"cannot create the book folder '{into}': {exc.strerror or exc}",
                          path=into)]
    for plan in plans:
        try:
            write_atomically(plan.target, plan.text.encode("utf-8"))
        except OSError as exc:
            return written, [error("I007", f"cannot write '{plan.target}': {exc.strerror or exc}",
                                   path=plan.target, hint="check that the book folder is writable")]
        written.append(plan.target)
    return written, []


def _existing(into: Path) -> dict[Path, tuple[str, ...]]:
    """Each manuscript of the book folder -> (file-name slug, article slug,
    title's slug): an article renamed on disk is still known by its title."""
    if not into.is_dir():
        return {}
    result = {}
    for path in sorted(into.glob("*.md")):
        article, _ = load_article(path)
        result[path] = (_stem_slug(path), *((article.slug, slugify(article.title)) if article else ()))
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


def _unlisted(into: Path, written: list[Path]) -> list[Diagnostic]:
    """Warn when book.toml names its articles: a new manuscript is built only once listed."""
    config = into / "book.toml"
    try:
        listed = tomllib.loads(decode(read_bytes(config, (into,)))).get("book", {}).get("articles")
    except (OSError, ResourceRefused, NotUtf8, tomllib.TOMLDecodeError, AttributeError):
        return []
    if not isinstance(listed, list):
        return []
    return [warning("I008", f"'{path.name}' is not in the articles list of book.toml, so it is not built",
                    hint=f"add \"{path.name}\" to [book] articles", path=config, line=1)
            for path in written if path.name not in listed]


# --- command line ----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> tuple[list[Path], list[Diagnostic]]:
    """Run `pipeline import` from parsed arguments: the written paths and every diagnostic."""
    return import_files(list(args.files), args.into, args.title, args.force)
