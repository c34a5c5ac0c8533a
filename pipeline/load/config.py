"""book.toml: one schema table, strict validation, located messages.

Every option is declared once in `SCHEMA` (key, type, default, description).
Validation, the guide's reference table (docs/guide/04-book-toml-reference.md)
and `pipeline new`'s commented book.toml all come from it. Unknown keys are errors that name the key, its
line and the valid keys (after mdBook), and every problem is collected before
returning (after MkDocs).
"""

from __future__ import annotations

import datetime
import re
import tomllib
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, did_you_mean, error, shorten, warning, with_suggestion
from ..model import FLAVOURS, PAGE_SIZES, PAPERS, PRINT_PROFILES, BookConfig, inches, trim_inches
from ..resources import HardLinked, OutsideBook, ResourceRefused, read_bytes
from .addresses import article_url_problem
from ..text.sourcetext import ConfigSource, NotUtf8, character_problem, decode, shown_value, toml_error

# Page-size name in book.toml -> CSS `size` of the booklet's pages.
PDF_VARIANTS = ("none", "pdf/ua-1", "pdf/a-3b")
PDF_ENGINES = ("weasyprint", "typst")  # [pdf] engine, --engine (export/typst)


@dataclass(frozen=True)
class Option:
    table: str
    key: str
    kind: str  # "str", "list", "files" (a name or a list), "bool", "int" (one of `choices`), "count" (0, or within `bounds`) or "choice"
    field: str  # BookConfig field it fills
    doc: str
    choices: tuple[str, ...] = ()
    required: bool = False
    bounds: tuple[int, int] = (0, 0)  # a "count": the range of its values besides 0 (off)


SCHEMA: tuple[Option, ...] = (
    Option("book", "title", "str", "title", "Book title (cover, title page, metadata).", required=True),
    Option("book", "subtitle", "str", "subtitle", "Subtitle, shown under the title."),
    Option("book", "authors", "list", "authors", "List of author names."),
    Option("book", "publisher", "str", "publisher", "Publisher name (title page, metadata)."),
    Option("book", "language", "str", "language", "BCP 47 language tag, e.g. \"en\" or \"en-GB\" (hyphenation, metadata)."),
    Option("book", "identifier", "str", "identifier", "Stable identifier, e.g. \"urn:uuid:…\" or \"urn:isbn:…\"; derived from the title if absent."),
    Option("book", "isbn", "str", "isbn", "ISBN-13 of the book, e.g. \"978-0-306-40615-7\" (hyphens and spaces optional, the check digit checked): the EPUB's identifier unless `identifier` is given (then an extra one), the PDF's metadata, and \"ISBN 978-…\" on the notice page."),
    Option("book", "date", "str", "date", "Publication date, YYYY-MM-DD; also the timestamp of reproducible builds."),
    Option("book", "description", "str", "description", "One-paragraph description (PDF subject, EPUB description)."),
    Option("book", "keywords", "list", "keywords", "List of keywords (PDF keywords, EPUB subjects)."),
    Option("book", "notice", "str", "notice", "Text of the notice page (disclaimer)."),
    Option("book", "rights", "str", "rights", "Copyright line for the notice page and metadata."),
    Option("book", "cover", "str", "cover", "Cover image (PNG or JPEG inside the book folder); default: a typographic cover."),
    Option("book", "articles", "list", "articles", "Manuscript file names in reading order; default: every *.md in file-name order."),
    Option("book", "toc-depth", "int", "toc_depth", "Heading levels the contents show: 1 articles, 2 their sections, 3 subsections. Default 2.", choices=("1", "2", "3")),
    Option("book", "numbering", "choice", "numbering", "Figures, tables and equations are numbered 1, 2… in each article (\"article\") or through the book (\"book\"; sections then start with the article's number). Default \"article\".", choices=("article", "book")),
    Option("book", "bibliography", "files", "bibliography", "Bibliography files inside the book, one or a list, e.g. \"refs.bib\" or [\"refs.bib\", \"pubmed.nbib\"]: BibTeX (.bib), CSL-JSON (.json), CSL-YAML (.yaml), RIS (.ris) or PubMed (.nbib); every article may cite their entries."),
    Option("book", "csl", "str", "csl", "Citation style: apa (the default), vancouver, ama, chicago-author-date, ieee or harvard; or a .csl file inside the book, e.g. \"styles/my-style.csl\"."),
    Option("book", "references", "choice", "references_scope", "Where the reference list is: closing each article (\"article\", the default) or one list at the end of the book (\"book\").", choices=("article", "book")),
    Option("pdf", "page-size", "choice", "pdf_page_size", "Page size of the PDF booklet.", choices=tuple(PAGE_SIZES)),
    Option("pdf", "variant", "choice", "pdf_variant", "PDF standard to follow: tagged and accessible (pdf/ua-1) or archival (pdf/a-3b).", choices=PDF_VARIANTS),
    Option("pdf", "engine", "choice", "pdf_engine", "The PDF's typesetter: weasyprint (print.css designs) or typst (fast, tagged).", choices=PDF_ENGINES),
    Option("pdf", "impose", "bool", "pdf_impose", "Also write <slug>-imposed.pdf: two pages per sheet in saddle-stitch order."),
    Option("epub", "embed-fonts", "bool", "epub_embed_fonts", "Embed the book's fonts in the EPUB."),
    Option("epub", "max-image-pixels", "count", "epub_max_image_pixels", "Images of more pixels (width × height) are downsampled for the EPUB; default 4000000 (Apple Books' limit); 0 keeps every image as it is.", bounds=(10_000, 100_000_000)),
    Option("accessibility", "certified-by", "str", "accessibility_certified_by", "Who certifies the EPUB's accessibility conformance claim (a11y:certifiedBy), e.g. \"The Editors\"; default [book] publisher, else the authors."),
    Option("images", "max-dpi", "count", "images_max_dpi", "Images are downsampled for the PDF to at most this many pixels per inch of the widest they can print; default 300; 0 keeps every image as it is.", bounds=(72, 2400)),
    Option("images", "remote", "choice", "images_remote", "Images at http(s) addresses: \"omit\" (the default) leaves them out, their alt text a link to them (R018); \"fetch\" says the book wants them downloaded, which only --fetch-remote on the command line allows (a book never fetches on its own; https, public addresses only, cached).", choices=("omit", "fetch")),
    Option("style", "accent", "colour", "accent", "Accent colour (CSS colour, e.g. \"#2a6f97\"): headings, rules, the cover; var(--accent) in print.css."),
    Option("style", "text-font", "str", "text_font", "Font family of the text: one of the book's styles/fonts/ or a packaged one (\"Book Serif\", \"Book Sans\")."),
    Option("style", "heading-font", "str", "heading_font", "Font family of headings, the cover, title page and folios, chosen like text-font."),
    Option("style", "logo", "str", "logo", "Logo image inside the book (PNG or JPEG), on the cover and the title page."),
    Option("style", "cover-background", "colour", "cover_background", "Background colour of the typographic cover; default the accent."),
    Option("notice", "show-tool", "bool", "notice_show_tool", "Print the \"Made with pipeline x.y\" line on the notice page. Default false; a per-article download shows it only when set to true here."),
    Option("notice", "show-identifier", "bool", "notice_show_identifier", "Print the book's identifier on the notice page. Default true in the book; a per-article download shows it only when set to true here."),
    Option("notice", "lines", "list", "notice_lines", "Lines of text printed on the notice page, e.g. [\"© 2026 The Editors\", \"CC BY 4.0\"]."),
    Option("per-article", "layout", "choice", "per_article_layout", "Form of the --per-article files: download (the default: a title block, the article flowing after it, no blank page, \"Read online\" with the article's web address), compact (title page with the notice, no contents) or booklet (the book's full form).", choices=("download", "compact", "booklet")),
    Option("per-article", "page-size", "choice", "per_article_page_size", "Page size of the --per-article PDFs, e.g. \"A4\" or \"Letter\" for a home printer; default [pdf] page-size.", choices=tuple(PAGE_SIZES)),
    Option("print", "profile", "choice", "print_profile", "Print-on-demand printer whose rules `pipeline build --print` follows (kdp, ingramspark, lulu, generic); --print PROFILE overrides it.", choices=tuple(PRINT_PROFILES)),
    Option("print", "trim", "str", "print_trim", "Trim size of the printed book, width then height, e.g. \"5.5in 8.5in\" or \"148mm 210mm\"; default the profile's standard trim nearest [pdf] page-size."),
    Option("print", "paper", "choice", "print_paper", "Paper of the interior (sets the spine width): white or cream; ingramspark also groundwood.", choices=PAPERS),
    Option("print", "bleed", "str", "print_bleed", "Bleed beyond the trim at the top, bottom and outer edge, e.g. \"0.125in\" or \"3mm\". Default 0.125in."),
    Option("print", "marks", "bool", "print_marks", "Crop marks outside the bleed (never with the kdp profile, which refuses them). Default false."),
    Option("source", "flavor", "choice", "source_flavor", "The generator the manuscripts were written for, if not the one detected: hugo, jekyll, docusaurus, astro, mkdocs, mdbook, gfm or plain.", choices=FLAVOURS),
    Option("source", "section", "str", "source_section", "The section of the site the book takes when BOOK_DIR is the site's root (--section overrides); default its posts or blog (MkDocs, mdBook: all its pages)."),
    Option("site", "base-url", "str", "site_base_url", "Absolute http(s) address the output folder is published at, e.g. \"https://example.org/downloads/\"; manifest.json then gives each file's url."),
    Option("site", "article-url", "str", "site_article_url", "Each article's web address, an https URL with {slug}, e.g. \"https://example.org/articles/{slug}/\": printed as \"Read online\" on its download and in its metadata; default a front matter's url, else the site's page of the manuscript."),
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Keys a book may not set (C010): a book is untrusted, and these would make
# the build reach something outside it. A dask scheduler runs whatever it is
# sent, and a build sends it the book: only the person who runs the build
# names one, on the command line or in the environment.
REFUSED: dict[tuple[str, str], tuple[str, str]] = {
    ("build", "scheduler"): (
        "[build] scheduler: a book may not name a network peer; the build connects only where "
        "the person running it says",
        "pass it on the command line, --scheduler tcp://HOST:PORT, or set the environment "
        "variable PIPELINE_SCHEDULER=tcp://HOST:PORT; remove the key from book.toml"),
}


def load_config(path: Path, fallback_title: str) -> tuple[BookConfig, list[Diagnostic]]:
    """book.toml's config and what is wrong with it (`read_config`), for a
    caller that locates nothing in it afterwards."""
    config, _, diagnostics = read_config(path, fallback_title)
    return config, diagnostics


def read_config(path: Path, fallback_title: str) -> tuple[BookConfig, ConfigSource | None, list[Diagnostic]]:
    """Read and validate book.toml; a missing file gives defaults and a
    warning. Its source comes back beside the config (None when there is no
    file, or it could not be read), so that the loader and the exporters
    locate a key in a message without reading the file again."""
    if not path.exists():
        return _with_identifier(BookConfig(title=fallback_title)), None, [warning(
            "C004", f"the book folder '{path.parent}' has no book.toml; the title '{fallback_title}' is taken "
                    "from the folder's name and the language is 'en'",
            hint=f"run 'pipeline init {path.parent}' to write one, every key in it described",
            path=path.parent)]
    try:
        source = ConfigSource(path, decode(read_bytes(path, (path.parent,))))
    except OutsideBook as exc:
        return BookConfig(title=fallback_title), None, [error(
            "C007", f"book.toml is a link to '{exc.target}', outside the book folder; it was not read",
            hint="replace the link by the book's own book.toml", path=path)]
    except HardLinked as exc:
        return BookConfig(title=fallback_title), None, [error(
            "C011", str(exc), path=path, hint="copy the file into the book (cp, not ln or cp -l); or, "
                                              "for a folder you trust, pass --trust-hard-links")]
    except ResourceRefused as exc:
        return BookConfig(title=fallback_title), None, [error(
            "C007", f"book.toml cannot be read: {exc}", hint="make book.toml a plain file", path=path)]
    except NotUtf8 as exc:
        return BookConfig(title=fallback_title), None, [error(
            "C001", f"book.toml is {exc.describe()}", hint=exc.fix(str(path)),
            path=path, line=exc.line, column=exc.column)]
    try:
        data = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:  # in plain words, where it was made (a quote left open)
        found = toml_error(source.text, exc, _date_hint)
        return BookConfig(title=fallback_title), source, [error(
            "C001", f"invalid TOML: {found.message}", hint=found.hint, path=path,
            line=found.line, column=found.column)]
    config, diagnostics = _validate(data, source, fallback_title)
    return config, source, diagnostics


def _validate(data: dict[str, Any], source: ConfigSource,
              fallback_title: str) -> tuple[BookConfig, list[Diagnostic]]:
    path = source.path
    diagnostics: list[Diagnostic] = []
    values: dict[str, Any] = {}
    tables = sorted({o.table for o in SCHEMA} | {"labels"})
    for table, content in data.items():
        if table == "labels" and isinstance(content, dict):
            values["labels"], found = _labels(content, source)
            diagnostics += found
            continue
        if isinstance(content, dict) and table in {t for t, _ in REFUSED} and table not in tables:
            diagnostics += _refused(table, content, source)
            continue
        if table not in tables or not isinstance(content, dict):
            diagnostics.append(error(
                "C002", f"unknown table or key '{shorten(table)}'",
                hint=with_suggestion(_belongs(table, None) or did_you_mean(shorten(table), tables, lambda t: f"[{t}]"),
                                     f"valid tables: {', '.join(f'[{t}]' for t in tables)}"),
                path=path, line=source.line_of(None, table)[0]))
            continue
        options = {o.key: o for o in SCHEMA if o.table == table}
        for key, value in content.items():
            option = options.get(key)
            line = source.line_of(table, key)[0]
            if option is None:
                diagnostics.append(error(
                    "C002", f"unknown key '{shorten(key)}' in [{table}]",
                    hint=with_suggestion(did_you_mean(shorten(key), options) or _belongs(key, table),
                                         f"valid keys in [{table}]: {', '.join(options)}"),
                    path=path, line=line))
                continue
            problem, hint = _check(option, value), ""
            if problem:
                hint = _date_hint(_value_text(value)) if option.key == "date" else ""
            elif _characters(value):
                problem, hint = _characters(value), "remove the character"
            if problem:
                diagnostics.append(error("C003", f"[{table}] {key}: {problem}", path=path, line=line,
                                         hint=hint or option.doc))
                continue
            if option.kind == "colour":
                value = css_colour(value)  # as #rrggbb: nothing but a colour reaches a stylesheet
            if option.kind == "files":
                value = [value] if isinstance(value, str) else value
            values[option.field] = tuple(value) if option.kind in ("list", "files") else value
    for option in SCHEMA:
        given = option.key in (data.get(option.table) if isinstance(data.get(option.table), dict) else {})
        if option.required and option.field not in values and not given:  # (a value given is reported above)
            diagnostics.append(error("C003", f"[{option.table}] {option.key} is required",
                                     hint=option.doc, path=path, line=1))
    values.setdefault("title", fallback_title)
    notice = data.get("notice") if isinstance(data.get("notice"), dict) else {}
    values["notice_given"] = tuple(f"notice_{k.replace('-', '_')}" for k in notice if f"notice_{k.replace('-', '_')}" in values)
    diagnostics += _language(values, source)
    diagnostics += _isbn(values, source)
    diagnostics += _fonts(values, source)
    diagnostics += _print(values, source)
    words, values["label_tables"], found = _book_labels(path.parent, values.get("language", "en"))
    diagnostics += found
    if words:
        values["labels"] = words + tuple(values.get("labels", ()))  # book.toml's [labels] last: they win
    diagnostics += _english_words(values, source)
    return _with_identifier(BookConfig(**values)), diagnostics


def _refused(table: str, content: dict[str, Any], source: ConfigSource) -> list[Diagnostic]:
    """A table only keys of `REFUSED` belong to: each one found is C010 at
    its line and column, any other key is unknown (C002)."""
    found = []
    for key in content:
        line, column = source.line_of(table, key)
        path = source.path
        if (table, key) in REFUSED:
            message, hint = REFUSED[table, key]
            found.append(error("C010", message, hint=hint, path=path, line=line, column=column))
        else:
            found.append(error("C002", f"unknown key '{shorten(key)}' in [{table}]",
                               hint=f"a book sets no other key in [{table}]", path=path, line=line))
    return found


def _language(values: dict[str, Any], source: ConfigSource) -> list[Diagnostic]:
    """A language tag the layout can use (it goes into markup and CSS). (The
    words labels.toml has none for in it: C008, `_english_words`.)"""
    from ..styles import is_language_tag, language_tag_for
    from .language import language_tag_named

    language = values.get("language", "en")
    line = source.line_of("book", "language")[0]
    if not is_language_tag(language):
        values["language"] = "en"
        meant = language_tag_for(language) or language_tag_named(language)  # 'en_GB'; 'english', 'Deutsch'
        return [error("C003", f"[book] language: {shown_value(language)} is not a BCP 47 language tag",
                      hint=with_suggestion(f"did you mean '{meant}'?" if meant else "",
                                           "e.g. \"en\", \"de-CH\", \"zh-Hant\", \"ar\""),
                      path=source.path, line=line)]
    return []  # (words it has none for: C008, _english_words)


def _english_words(values: dict[str, Any], source: ConfigSource) -> list[Diagnostic]:
    """C008, once a book: the words of the book's language that neither
    styles/labels.toml nor the book (its styles/labels.toml, [labels]) gives,
    by name, each printed in English; a word at a time, never the table."""
    from ..styles import english_words, label_language

    language = values.get("language", "en")
    missing = english_words(language, frozenset(key for key, _ in values.get("labels", ())))
    if not missing:
        return []
    example = "; ".join(f'{key} = "…"' for key in missing[:2])
    if label_language(language) is None and missing == english_words(language):
        said = (f"no words for the language '{language}' in labels.toml: the book's fixed words "
                f"(\"Contents\", \"In brief\"...) are printed in English ({len(missing)} words)")
    else:
        said = (f"labels.toml has no '{language}' for {len(missing)} of the book's fixed words, "
                f"printed in English: {', '.join(missing)}")
    return [warning("C008", said, hint=f"give them in book.toml's [labels] table, a line each ({example}); "
                                       "the English words are styles/labels.toml's [en]",
                    path=source.path, line=source.line_of("book", "language")[0])]


def _labels(content: dict[str, Any], source: ConfigSource) -> tuple[tuple[tuple[str, str], ...], list[Diagnostic]]:
    """[labels]: words of styles/labels.toml replaced for this book."""
    from ..styles import labels

    known, path = labels("en"), source.path
    found, words = [], []
    for key, value in content.items():
        line = source.line_of("labels", key)[0]
        if key not in known:
            found.append(error("C002", f"unknown key '{shorten(key)}' in [labels]",
                               hint=with_suggestion(did_you_mean(shorten(key), known),
                                                    f"valid keys in [labels]: {', '.join(known)}"),
                               path=path, line=line))
        elif not isinstance(value, str):
            found.append(error("C003", f"[labels] {key}: expected a string, got {type(value).__name__}",
                               hint=f"the word printed in place of \"{known[key]}\"", path=path, line=line))
        elif character_problem(value):
            found.append(error("C003", f"[labels] {key}: {character_problem(value)}",
                               hint="remove the character", path=path, line=line))
        else:
            words.append((key, value))
    return tuple(words), found


def _with_identifier(config: BookConfig) -> BookConfig:
    """Every book has an identifier (the EPUB requires one, the notice page
    prints it): book.toml's, else one derived from the title, the same on
    every build."""
    if config.identifier:
        return config
    if config.isbn:  # an ISBN identifies the book best (EPUB 3.3: urn:isbn)
        return replace(config, identifier=f"urn:isbn:{config.isbn.replace('-', '')}")
    return replace(config, identifier=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'pipeline:' + config.title)}")


_ISBN_PREFIX = re.compile(r"^ISBN(?:-1[03])?:?\s*", re.IGNORECASE)
_ISBN_SEPARATORS = re.compile(r"[\s\u00a0\u2010-\u2015-]")


def _isbn(values: dict[str, Any], source: ConfigSource) -> list[Diagnostic]:
    """[book] isbn: an ISBN-13 whose check digit holds, kept hyphenated as
    its registration groups say (python-stdnum's ranges); an ISBN-10 is
    refused with its ISBN-13 as the fix. Refused, the book has no ISBN."""
    from stdnum import isbn
    from stdnum.exceptions import ValidationError

    written = values.get("isbn", "")
    number = _ISBN_SEPARATORS.sub("", _ISBN_PREFIX.sub("", written.strip()))
    if not written.strip():
        values.pop("isbn", None)
        return []
    problem, hint = "", 'write the 13 digits the ISBN agency issued, e.g. isbn = "978-0-306-40615-7"'
    if re.fullmatch(r"\d{9}[\dX]", number.upper()):
        try:
            thirteen = isbn.format(isbn.to_isbn13(isbn.validate(number)))
            problem = f"{shown_value(written)} is an ISBN-10; the book's metadata take its ISBN-13"
            hint = f'did you mean isbn = "{thirteen}"? (the same number, as ISBN-13)'
        except ValidationError:
            problem = f"{shown_value(written)} is an ISBN-10 whose check digit is wrong"
            hint = "copy the number again from the agency's record (a digit is mistyped, or two are swapped)"
    elif not re.fullmatch(r"\d{13}", number):
        problem = f"{shown_value(written)} is not an ISBN-13: 13 digits, hyphens and spaces allowed"
    elif number[:3] not in ("978", "979"):
        problem = f"{shown_value(written)} is not an ISBN: an ISBN-13 starts with 978 or 979"
    elif not isbn.is_valid(number):
        problem = f"the check digit of {shown_value(written)} is wrong (its last digit checks the other twelve)"
        hint = "copy the number again from the agency's record (a digit is mistyped, or two are swapped)"
    if not problem:
        values["isbn"] = isbn.format(number)
        return []
    values.pop("isbn", None)
    line, column = source.value_of("book", "isbn")
    return [error("C003", f"[book] isbn: {problem}", hint=hint, path=source.path, line=line, column=column)]


_SCHEDULER = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$")


def scheduler_address(value: str) -> bool:
    """Whether `value` names a Dask scheduler: tcp:// or tls://, a host, a port."""
    match = _SCHEDULER.match(value)
    return bool(match) and 0 < int(match.group(3)) < 65536


def _characters(value: Any) -> str:
    """What is wrong with the characters of a string (or list of strings)
    value: a control character XML forbids (lxml raises on it when the EPUB
    is written), '' if none."""
    strings = value if isinstance(value, list) else [value]
    return next((character_problem(v) for v in strings if isinstance(v, str) and character_problem(v)), "")


def _check(option: Option, value: Any) -> str:
    """Return a description of what is wrong with `value`, or ''."""
    if option.kind == "str":
        if option.key == "date" and isinstance(value, (datetime.date, datetime.time)):
            return f"expected a date in quotes, got the TOML {type(value).__name__} {value.isoformat()}"
        if not isinstance(value, str):
            return f"expected a string, got {type(value).__name__}"
        if option.key == "date" and not _is_date(value):
            return f"expected a date as YYYY-MM-DD, got {shown_value(value)}"
        if option.key == "base-url":
            return _base_url_problem(value)
        if option.key == "article-url":
            return article_url_problem(value)
        if option.table == "print" and option.key == "trim" and not trim_inches(value):
            return f"expected a width and a height, e.g. \"5.5in 8.5in\" or \"148mm 210mm\", got {shown_value(value)}"
        if option.table == "print" and option.key == "bleed" and (inches(value) is None or inches(value) > 0.5):
            return f"expected a length up to 0.5in, e.g. \"0.125in\" or \"3mm\", got {shown_value(value)}"
        if option.required and not value.strip():
            return "must not be empty"
    elif option.kind == "colour":
        if not isinstance(value, str):
            return f"expected a CSS colour as a string, e.g. \"#2a6f97\", got {type(value).__name__}"
        if not css_colour(value):
            return f"{shown_value(value)} is not a CSS colour; write e.g. \"#2a6f97\", \"rgb(42 111 151)\" or \"teal\""
    elif option.kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "expected a list of strings, e.g. [\"a\", \"b\"]"
    elif option.kind == "files":
        if not isinstance(value, (str, list)) or isinstance(value, list) and not all(isinstance(v, str) for v in value):
            return "expected a file name or a list of them, e.g. \"refs.bib\" or [\"refs.bib\", \"more.json\"]"
    elif option.kind == "bool":
        if not isinstance(value, bool):
            return "expected true or false"
    elif option.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or str(value) not in option.choices:
            return f"expected one of {', '.join(option.choices)}, got {shown_value(value)}"
    elif option.kind == "count":
        low, high = option.bounds
        if isinstance(value, bool) or not isinstance(value, int) or not (value == 0 or low <= value <= high):
            return f"expected 0 (off) or a whole number from {low:,} to {high:,}, got {shown_value(value)}"
    elif option.kind == "choice":
        if value not in option.choices:
            return f"expected one of {', '.join(repr(c) for c in option.choices)}, got {shown_value(value)}"
    return ""


def css_colour(value: str) -> str:
    """`value` as "#rrggbb" if it is an opaque CSS colour in sRGB terms, else ''.
    Normalised, so that nothing but a colour ever reaches a stylesheet."""
    from tinycss2.color4 import parse_color

    colour = parse_color(value.strip()) if value.strip() else None
    if colour is None or isinstance(colour, str):  # None, or "currentcolor"
        return ""
    try:
        red, green, blue = colour.to("srgb").coordinates
    except NotImplementedError:  # a colour space tinycss2 does not convert (oklch...)
        return ""
    if colour.alpha < 1:
        return ""
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in (red, green, blue))


def _fonts(values: dict[str, Any], source: ConfigSource) -> list[Diagnostic]:
    """[style] text-font and heading-font name a family the book can draw
    with: one of its styles/fonts/ or a packaged one."""
    from ..fonts import book_families

    fields = (("text-font", "text_font"), ("heading-font", "heading_font"))
    chosen = {key: values[field] for key, field in fields if values.get(field)}
    if not chosen:
        return []
    known = book_families(source.path.parent)
    found = []
    for key, family in chosen.items():
        if family not in known:
            found.append(error("C003", f"[style] {key}: no font family {shown_value(family)} in the book's "
                                       "styles/fonts/ or the packaged fonts",
                               hint=f"families available: {', '.join(sorted(known))}; add the font's files "
                                    "to styles/fonts/ in the book folder",
                               path=source.path, line=source.line_of("style", key)[0]))
    return found


def _print(values: dict[str, Any], source: ConfigSource) -> list[Diagnostic]:
    """[print] paper the profile has (groundwood is IngramSpark's only)."""
    profile = PRINT_PROFILES[values.get("print_profile", "generic")]
    paper = values.get("print_paper", "white")
    if paper in profile.papers:
        return []
    values["print_paper"] = "white"
    return [error("C003", f"[print] paper: the {profile.name} profile has no {shown_value(paper)} paper",
                  hint=f"papers of {profile.name}: {', '.join(profile.papers)}",
                  path=source.path, line=source.line_of("print", "paper")[0])]


def _book_labels(root: Path, language: str) -> tuple[tuple, tuple, list[Diagnostic]]:
    """The words of the book's own styles/labels.toml for its language (its
    table for the language, else its [en] table where ours have none for the
    language either: styles.book_table), every table it has (an article in
    another language takes its own: styles.words_for), and what is wrong
    with it; read through the gate."""
    from ..styles import book_label_tables, book_table, labels

    tables, found = book_label_tables(root)
    known = labels("en")
    kept = tuple((name, tuple((k, v) for k, v in words.items() if k in known)) for name, words in tables.items())
    return tuple(book_table(language, dict(kept)).items()), kept, found


def _is_date(value: str) -> bool:
    """YYYY-MM-DD and a day the calendar has (not 2026-02-30)."""
    try:
        return bool(_DATE.match(value)) and bool(datetime.date.fromisoformat(value))
    except ValueError:
        return False


# Ways of writing a date that can be read without guessing (not 03/01/2026).
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%B %d %Y",
                 "%b %d, %Y", "%b %d %Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
_DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\b\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}|"
                        r"\b[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}")


def _date_hint(written: str) -> str:
    """The fix for a date written another way: the same day as "YYYY-MM-DD" in
    quotes when it can be read ('1 March 2026', 2026-3-1, an unquoted TOML
    date), else the form itself. '' when `written` holds nothing date-like.
    `written` is a book.toml line or a value as written."""
    key, _, value = written.partition("=") if "=" in written else ("date", "", written)
    key, value = key.strip().strip('"'), value.strip()
    if key != "date":  # a date-like value of another key, such as a title: text in quotes
        return f"quote the value: {key} = \"{shorten(value)}\"" if _DATE_LIKE.search(value) else ""
    value = value.strip("\"'").strip()
    for form in _DATE_FORMATS:
        try:
            day = datetime.datetime.strptime(value, form).date()
        except ValueError:
            continue
        return f"write the date as YYYY-MM-DD in quotes: date = \"{day.isoformat()}\""
    return "write the date as YYYY-MM-DD in quotes, with a real month and day, e.g. date = \"2026-03-01\""


def _value_text(value: Any) -> str:
    """A value as book.toml could have held it, for `_date_hint`."""
    return value.isoformat() if isinstance(value, (datetime.date, datetime.time)) else str(value)


def _belongs(key: str, table: str | None) -> str:
    """"'page-size' belongs in [pdf]" when `key` is an option of another table."""
    owners = [o.table for o in SCHEMA if o.key == key and o.table != table]
    return f"'{key}' belongs in [{owners[0]}]." if owners else ""
def _base_url_problem(value: str) -> str:
    """What keeps `value` from being a base for download addresses, or ''.
    The manifest appends each output's path to it, so it must be absolute,
    web-served (http or https) and end before any query or fragment."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc \
            or any(c.isspace() for c in value):
        return f"expected an absolute http(s) URL, e.g. \"https://example.org/downloads/\", got {shown_value(value)}"
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        return f"expected a URL without '?' or '#' (each file's path is appended to it), got {shown_value(value)}"
    return ""


def config_source(path: Path) -> ConfigSource | None:
    """The text of a book.toml that is not ours to validate (an mdBook's),
    read through the gate, so that messages can point into it; None when it
    cannot be read."""
    try:
        return ConfigSource(path, decode(read_bytes(path, (path.parent,))))
    except (ResourceRefused, NotUtf8, OSError):
        return None


def with_site(config: BookConfig, given: set[str], title: str = "", authors: tuple[str, ...] = (),
              language: str = "", description: str = "") -> BookConfig:
    """`config` with what a website's own config says (hugo.toml's title,
    mkdocs.yml's site_author…) where book.toml's [book] sets nothing; a
    language that is no BCP 47 tag is left out (the book's stays "en")."""
    from ..styles import is_language_tag

    values: dict[str, Any] = {}
    if title.strip() and "title" not in given and not character_problem(title):
        values["title"] = title.strip()
        if "identifier" not in given:  # derived from the title it now has
            values["identifier"] = ""
    if authors and "authors" not in given and not any(character_problem(a) for a in authors):
        values["authors"] = tuple(authors)
    if language and "language" not in given and is_language_tag(language):
        values["language"] = language
    if description and "description" not in given and not character_problem(description):
        values["description"] = description.strip()
    return _with_identifier(replace(config, **values)) if values else config


def mdbook_book_config(path: Path, fallback_title: str) -> BookConfig:
    """An mdBook's book.toml read as mdBook's config, not ours (its
    [preprocessor], [output] and [rust] tables are no errors): its [book]
    title, authors, language and description."""
    from .sites import mdbook_config

    book = mdbook_config(path)
    authors = tuple(a for a in book.get("authors", []) if isinstance(a, str)) \
        if isinstance(book.get("authors"), list) else ()
    text = lambda key: book.get(key) if isinstance(book.get(key), str) else ""  # noqa: E731
    return with_site(_with_identifier(BookConfig(title=fallback_title)), set(), text("title"), authors,
                     text("language"), text("description"))
