"""Diagnostics: every problem the pipeline reports is a value, not an exception.

Each stage returns the diagnostics it found next to its result, so a build can
report all problems of a book at once (like a compiler) instead of stopping at
the first. `CODES` is the single table of every code the pipeline can emit;
docs/guide/12-diagnostics-reference.md documents it and a test checks the two agree.
"""

from __future__ import annotations

import difflib
import enum
import os
from dataclasses import dataclass, replace
from pathlib import Path


class Severity(enum.Enum):
    WARNING = "warning"
    ERROR = "error"


# Code -> one-line description. Prefixes group codes by stage, after
# Standard Ebooks' lint codes: C config, M manuscript, R render, X export, P print (preflight), O output, I import,
# B bibliography (citations' sources and style), T targets (stores, the EAA: --target).
CODES: dict[str, str] = {
    "C001": "book.toml is not valid TOML",
    "C002": "unknown key in book.toml",
    "C003": "a book.toml value has the wrong type or an invalid value",
    "C004": "book.toml is missing; defaults are used",
    "C005": "an article listed in book.toml does not exist",
    "C006": "the book folder does not exist or holds no manuscripts",
    "C007": "book.toml, or an article it lists, is outside the book folder (by its path or a link)",
    "C008": "labels.toml lacks some or all of the book's fixed words in its language; those words are printed in English (named)",
    "C009": "a file of the book's own styles/ folder is refused, not UTF-8, or invalid (template, labels.toml)",
    "C010": "book.toml names a network peer ([build] scheduler); only the command line or the environment may",
    "C011": "a file of the book has more than one hard link (it may be a file outside the book); it was not read",
    "C012": "the book's language is not the language its text is written in",
    "C013": "a website's config (hugo.toml, _config.yml, mkdocs.yml…) cannot be read; the book takes nothing from it",
    "M001": "front matter is not valid YAML, TOML or JSON",
    "M002": "a front-matter value has the wrong type or an invalid value",
    "M003": "unknown front-matter key",
    "M004": "front matter is missing; the title comes from a heading or the file name",
    "M005": "manuscript is not valid UTF-8",
    "M006": "front matter is not closed by a '---' (or '+++') line",
    "M007": "two articles have the same slug",
    "M008": "the manuscript is larger than the size limit",
    "M009": "two articles have the same title",
    "M010": "a manuscript is a link to a file outside the book folder, or cannot be read",
    "M011": "a slug derived from a file name was taken; a number was added to it",
    "M012": "front matter uses a YAML anchor or alias (&name, *name), which is refused",
    "M013": "an article is a draft (draft: true or published: false) and is left out",
    "M014": "an article's text is not in its language (its front matter's, or the book's it takes)",
    "R001": "a character XML forbids was removed",
    "R002": "an image or resource is missing, outside the book folder, or refused",
    "R003": "an image has no alt text (its EPUB cannot claim accessibility conformance)",
    "R004": "a link points to an anchor the article does not have",
    "R005": "the manuscript nests elements too deeply",
    "R006": "a heading level is skipped (## then ####)",
    "R007": "a character no font of the book can draw",
    "R008": "a link points to a file that is not part of the book; its text is kept without the link",
    "R009": "a heading is empty; it is left out of the contents, nav and bookmarks",
    "R010": "template syntax of another tool ({{#include}}, {% %}) is printed as it is",
    "R011": "a TeX formula cannot be typeset (unbalanced braces, an unknown command); it is shown as code",
    "R014": "a cross-reference (@fig-…, @tbl-…, @eq-…, @sec-…) names an id no numbered element has",
    "R016": "a code block names a language Pygments does not know; it is printed without highlighting",
    "R017": "an id is given twice in one article; links and references go to the first",
    "R018": "a remote image was left out (its alt text links to it); --fetch-remote downloads it",
    "R019": "a citation names a key no bibliography in reach has (printed '(key?)'), or an @word is near a key",
    "R020": "a bibliography entry cannot be formatted by citeproc-py; its citations print '(key?)'",
    "R021": "the citation style cannot be found or read (a bundled name, or the book's .csl file)",
    "R022": "a footnote call names no note (printed as written), or a note is never called (left out)",
    "X001": "the PDF renderer reported a problem",
    "X002": "an output could not be written (the disk is full, the folder is read-only, a name is too long)",
    "X003": "reading a manuscript, rendering an article or laying out the PDF took longer than its time limit",
    "X004": "a heading is left alone at the foot of a PDF page",
    "X005": "a layout worker died: a local process, or a cluster's workers each time the task was tried",
    "X006": "the Dask scheduler cannot be reached, or its workers differ from this machine",
    "X007": "the build was interrupted (Ctrl-C); the previous outputs are left as they were",
    "X008": "a step of the build went past its memory ceiling or its size limit",
    "X009": "the PDF engine chosen cannot do what the book asks (a print.css or print files with Typst); refused",
    "P001": "the print interior was padded with blank pages to the profile's minimum and an even count",
    "P002": "a print file lacks a TrimBox or BleedBox, or its trim is not the book's trim size",
    "P003": "a font of a print file is not embedded",
    "P004": "a print file has bookmarks or link annotations, which the profile refuses (KDP)",
    "P005": "a print interior has fewer pages than the profile's minimum",
    "P006": "a print file has no PDF/X output intent or version key",
    "P007": "the print settings do not fit the profile, or the cover was asked for without the interior",
    "P008": "an image prints at fewer than 300 pixels an inch at its placed size in the print interior",
    "P009": "text of the print interior stands closer than 0.25 in to the trim edge",
    "P010": "an image of the print interior runs past the trim but stops short of the bleed's edge",
    "T001": "the EPUB, or one of its documents, is larger than a store accepts or advises (--target)",
    "T002": "an image of the EPUB has more pixels or bytes than a store accepts or advises (--target)",
    "T003": "the EPUB's cover is missing, or its size, ratio, format or naming does not fit a store (--target)",
    "T004": "the EPUB's CSS uses a feature a store's reader ignores or mangles: flex, grid, var(), "
            "position: fixed (--target)",
    "T005": "an XML comment of the EPUB holds '--', which Send to Kindle refuses (E999) (--target)",
    "T006": "an embedded font's licence (OS/2 fsType) restricts embedding or subsetting (--target)",
    "T007": "the EPUB's ISBN is not valid, or is not the book's [book] isbn (--target)",
    "T008": "the EPUB's table of contents is missing, or nested deeper than a store shows (--target)",
    "T009": "the EPUB's version is not one a store accepts (--target)",
    "T010": "the EPUB cannot be read, or EPUBCheck reports a problem a store refuses (--target)",
    "T011": "something stands between the book and the EPUB Accessibility 1.1 conformance claim (--target eaa)",
    "T012": "the EPUB claims accessibility conformance, but a check finds a problem (--target eaa)",
    "T013": "a checker a target needs (EPUBCheck, DAISY Ace) is not installed or failed; its rules were not "
            "checked (--target)",
    "O001": "the output folder is, holds or lies in what the build reads "
            "(the book folder, styles, a manuscript, an image)",
    "O002": "an output to check has not been built",
    "O003": "EPUBCheck reported a problem in the EPUB (or is not installed)",
    "O004": "the folder for a new book exists and is not empty",
    "O005": "`pipeline init` found a book.toml (it never replaces one) or no folder to write it in",
    "O006": "the output folder cannot be made: a file is where it (or a folder above it) would be",
    "I001": "a file to import is not valid UTF-8",
    "I002": "a file to import is empty",
    "I003": "the text does not follow the layout of an article; it is imported as plain paragraphs",
    "I004": "no title was given; a provisional title was derived from the text",
    "I005": "the imported manuscript would replace an existing one (pass --force) or another imported file",
    "I006": "--title was given with more than one file",
    "I007": "a file to import cannot be read, or the book folder cannot be written",
    "I008": "book.toml lists its articles and does not list the imported manuscript",
    "I009": "a Word document (.docx) cannot be read: not a .docx, or damaged",
    "I010": "part of a Word document was left out or read plainly: an image in a format books cannot show "
            "(EMF, WMF), a style of its own",
    "B001": "a bibliography file is missing, outside the book folder, or cannot be read",
    "B002": "a bibliography is malformed (BibTeX, JSON, YAML, RIS or NBIB that cannot be read), or not UTF-8",
    "B003": "a bibliography key is given twice; the first entry is used (an article's own over the book's)",
    "B004": "a bibliography file is in a format not read (by its extension)",
    "B005": "a bibliography item has no key ('id'); it is left out",
    "B006": "the citation style ([book] csl) is not a bundled one, or its .csl file is missing, outside the book "
            "or not CSL; APA is used",
}


@dataclass(frozen=True)
class Diagnostic:
    """One problem, located in a source file where possible."""

    code: str
    severity: Severity
    message: str
    hint: str = ""
    path: Path | None = None
    line: int = 0
    column: int = 0

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code}")

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self, relative_to: Path | None = None) -> str:
        """`path:line:col`, `folder/` for a problem of a folder (a missing
        book.toml), or '' when the problem has no file."""
        if self.path is None:
            return ""
        path = self.path
        if relative_to is not None:
            try:  # absolute, not resolved: a link is named as the link, not as its target
                path = Path(os.path.abspath(path)).relative_to(os.path.abspath(relative_to))
            except ValueError:
                pass
        if not self.line and self.path.is_dir():
            return f"{path}{os.sep}"
        return f"{path}:{self.line or 1}:{self.column or 1}"

    def format(self, relative_to: Path | None = None) -> str:
        """Render as `path:line:col: error[CODE]: message`, hint on the next line."""
        where = self.location(relative_to)
        text = f"{where + ': ' if where else ''}{self.severity.value}[{self.code}]: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


SHOWN_LOCATIONS = 3  # locations a folded line names


def format_all(diagnostics, relative_to: Path | None = None) -> list[str]:
    """Every diagnostic formatted, identical ones (same code, message and hint,
    other places) folded into one: the first in full, then the count and the
    first locations, so a book with the same problem in 80 places prints one
    line, not 80. Order: as first found."""
    groups: dict[tuple, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        groups.setdefault((diagnostic.code, diagnostic.severity, diagnostic.message, diagnostic.hint),
                          []).append(diagnostic)
    lines = []
    for group in groups.values():
        first = group[0]
        if len(group) == 1:
            lines.append(first.format(relative_to))
            continue
        distinct = [place for place in dict.fromkeys(d.location(relative_to) for d in group) if place]
        places, more = distinct[:SHOWN_LOCATIONS], ", …" if len(distinct) > SHOWN_LOCATIONS else ""
        where = f": {', '.join(places)}{more}" if places else ""
        text = f"{first.severity.value}[{first.code}]: {first.message} ({len(group)} times{where})"
        if first.hint:
            text += f"\n  hint: {first.hint}"
        lines.append(text)
    return lines


MAX_SHOWN = 200  # characters of a value a message may quote


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """`text` as a message may quote it: at most `limit` characters, the rest
    cut off and counted. A book's value can be megabytes long (or a YAML alias
    expanded a billion times): formatting it whole costs the time and memory
    the message was meant to save, and shows nobody anything."""
    if len(text) <= limit:
        return text
    tail = f"… ({len(text):,} characters in all)"
    return text[:max(0, limit - len(tail))] + tail


def did_you_mean(word: str, choices, quote=lambda choice: f"'{choice}'") -> str:
    """'did you mean 'authors'?' for the choice nearest `word` (difflib's
    ratio, 0.6 or better), or '' when none is near: a hint that names the fix
    beats a list to read through. `quote` writes the choice as the author
    would type it (e.g. '#id' for an anchor)."""
    near = difflib.get_close_matches(word, [c for c in dict.fromkeys(choices) if c != word], n=1)
    return f"did you mean {quote(near[0])}?" if near else ""


def with_suggestion(suggestion: str, hint: str) -> str:
    """The suggestion first, then the general hint."""
    return f"{suggestion} {hint}" if suggestion else hint


def error(code: str, message: str, hint: str = "", path: Path | None = None,
          line: int = 0, column: int = 0) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, hint, path, line, column)


def warning(code: str, message: str, hint: str = "", path: Path | None = None,
            line: int = 0, column: int = 0) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, hint, path, line, column)


def has_errors(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> bool:
    return any(d.is_error for d in diagnostics)


def as_errors(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> list[Diagnostic]:
    """--strict: every warning reported (and counted) as an error."""
    return [replace(d, severity=Severity.ERROR) for d in diagnostics]
