"""book.toml: one schema table, strict validation, located messages.

Every option is declared once in `SCHEMA` (key, type, default, description,
and its own validators: `load/options.py`, after MkDocs' config options).
Validation, the guide's reference table (docs/guide/04-book-toml-reference.md)
and `pipeline new`'s commented book.toml all come from it. Unknown keys are errors that name the key, its
line and the valid keys (after mdBook), and every problem is collected before
returning (after MkDocs). The text read is kept (`ConfigSource`) for every
later message to find a key's line in.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, did_you_mean, error, shorten, warning, with_suggestion
from ..model import FLAVOURS, PAGE_SIZES, PAPERS, PRINT_PROFILES, BookConfig
from ..resources import HardLinked, OutsideBook, ResourceRefused, read_bytes
from .options import (Invalid, Option, check_font, check_isbn, check_language, check_paper, date_hint,
                      validate_article_url, validate_base_url, validate_bleed, validate_trim)
from ..text.sourcetext import ConfigSource, NotUtf8, character_problem, decode, toml_error

# Page-size name in book.toml -> CSS `size` of the booklet's pages.
PDF_VARIANTS = ("none", "pdf/ua-1", "pdf/a-3b")
PDF_ENGINES = ("weasyprint", "typst")  # [pdf] engine, --engine (export/typst)


SCHEMA: tuple[Option, ...] = (
    Option("book", "title", "str", "title", "Book title (cover, title page, metadata).", required=True, example='"A title"'),
    Option("book", "subtitle", "str", "subtitle", "Subtitle, shown under the title.", example='"Notes from the field"'),
    Option("book", "authors", "list", "authors", "List of author names.", example='["A. Writer"]'),
    Option("book", "publisher", "str", "publisher", "Publisher name (title page, metadata).", example='"A. Publisher"'),
    Option("book", "language", "str", "language", "BCP 47 language tag, e.g. \"en\" or \"en-GB\" (hyphenation, metadata).", post_validate=check_language, example='"en"'),
    Option("book", "identifier", "str", "identifier", "Stable identifier, e.g. \"urn:uuid:…\" or \"urn:isbn:…\"; derived from the title if absent.", example='"urn:uuid:6f0c2b8e-3d4a-5b1e-9c7f-2a8d4e6b1c90"'),
    Option("book", "isbn", "str", "isbn", "ISBN-13 of the book, e.g. \"978-0-306-40615-7\" (hyphens and spaces optional, the check digit checked): the EPUB's identifier unless `identifier` is given (then an extra one), the PDF's metadata, and \"ISBN 978-…\" on the notice page.", post_validate=check_isbn, example='"978-0-306-40615-7"'),
    Option("book", "date", "date", "date", "Publication date, YYYY-MM-DD; also the timestamp of reproducible builds.", example='"2026-01-31"'),
    Option("book", "description", "str", "description", "One-paragraph description (PDF subject, EPUB description).", example='"What the book is about, in a paragraph."'),
    Option("book", "keywords", "list", "keywords", "List of keywords (PDF keywords, EPUB subjects).", example='["keyword", "another"]'),
    Option("book", "notice", "str", "notice", "Text of the notice page (disclaimer).", example='"For information only; not professional advice."'),
    Option("book", "rights", "str", "rights", "Copyright line for the notice page and metadata.", example='"© 2026 A. Writer"'),
    Option("book", "cover", "str", "cover", "Cover image (PNG or JPEG inside the book folder); default: a typographic cover.", example='"images/cover.png"'),
    Option("book", "articles", "list", "articles", "Manuscript file names in reading order; default: every *.md in file-name order.", example='["01-example.md"]'),
    Option("book", "toc-depth", "int", "toc_depth", "Heading levels the contents show: 1 articles, 2 their sections, 3 subsections. Default 2.", choices=("1", "2", "3"), example='2'),
    Option("book", "numbering", "choice", "numbering", "Figures, tables and equations are numbered 1, 2… in each article (\"article\") or through the book (\"book\"; sections then start with the article's number). Default \"article\".", choices=("article", "book")),
    Option("book", "bibliography", "files", "bibliography", "Bibliography files inside the book, one or a list, e.g. \"refs.bib\" or [\"refs.bib\", \"pubmed.nbib\"]: BibTeX (.bib), CSL-JSON (.json), CSL-YAML (.yaml), RIS (.ris) or PubMed (.nbib); every article may cite their entries.", example='"references.bib"'),
    Option("book", "csl", "str", "csl", "Citation style: apa (the default), vancouver, ama, chicago-author-date, ieee or harvard; or a .csl file inside the book, e.g. \"styles/my-style.csl\".", example='"vancouver"'),
    Option("book", "references", "choice", "references_scope", "Where the reference list is: closing each article (\"article\", the default) or one list at the end of the book (\"book\").", choices=("article", "book")),
    Option("pdf", "page-size", "choice", "pdf_page_size", "Page size of the PDF booklet.", choices=tuple(PAGE_SIZES)),
    Option("pdf", "variant", "choice", "pdf_variant", "PDF standard to follow: tagged and accessible (pdf/ua-1) or archival (pdf/a-3b).", choices=PDF_VARIANTS),
    Option("pdf", "engine", "choice", "pdf_engine", "The PDF's typesetter: weasyprint (print.css designs) or typst (fast, tagged).", choices=PDF_ENGINES),
    Option("pdf", "impose", "bool", "pdf_impose", "Also write <slug>-imposed.pdf: two pages per sheet in saddle-stitch order."),
    Option("epub", "embed-fonts", "bool", "epub_embed_fonts", "Embed the book's fonts in the EPUB.", example='true'),
    Option("epub", "max-image-pixels", "count", "epub_max_image_pixels", "Images of more pixels (width × height) are downsampled for the EPUB; default 4000000 (Apple Books' limit); 0 keeps every image as it is.", bounds=(10_000, 100_000_000), example='4000000'),
    Option("accessibility", "certified-by", "str", "accessibility_certified_by", "Who certifies the EPUB's accessibility conformance claim (a11y:certifiedBy), e.g. \"The Editors\"; default [book] publisher, else the authors.", example='"The Editors"'),
    Option("images", "max-dpi", "count", "images_max_dpi", "Images are downsampled for the PDF to at most this many pixels per inch of the widest they can print; default 300; 0 keeps every image as it is.", bounds=(72, 2400), example='300'),
    Option("images", "remote", "choice", "images_remote", "Images at http(s) addresses: \"omit\" (the default) leaves them out, their alt text a link to them (R018); \"fetch\" says the book wants them downloaded, which only --fetch-remote on the command line allows (a book never fetches on its own; https, public addresses only, cached).", choices=("omit", "fetch")),
    Option("style", "accent", "colour", "accent", "Accent colour (CSS colour, e.g. \"#2a6f97\"): headings, rules, the cover; var(--accent) in print.css.", example='"#2a6f97"'),
    Option("style", "text-font", "str", "text_font", "Font family of the text: one of the book's styles/fonts/ or a packaged one (\"Book Serif\", \"Book Sans\").", post_validate=check_font, example='"Book Serif"'),
    Option("style", "heading-font", "str", "heading_font", "Font family of headings, the cover, title page and folios, chosen like text-font.", post_validate=check_font, example='"Book Sans"'),
    Option("style", "logo", "str", "logo", "Logo image inside the book (PNG or JPEG), on the cover and the title page.", example='"images/logo.png"'),
    Option("style", "cover-background", "colour", "cover_background", "Background colour of the typographic cover; default the accent.", example='"#1f3a4d"'),
    Option("notice", "show-tool", "bool", "notice_show_tool", "Print the \"Made with pipeline x.y\" line on the notice page. Default false; a per-article download shows it only when set to true here."),
    Option("notice", "show-identifier", "bool", "notice_show_identifier", "Print the book's identifier on the notice page. Default true in the book; a per-article download shows it only when set to true here."),
    Option("notice", "lines", "list", "notice_lines", "Lines of text printed on the notice page, e.g. [\"© 2026 The Editors\", \"CC BY 4.0\"].", example='["© 2026 A. Writer", "Licensed under CC BY 4.0"]'),
    Option("per-article", "layout", "choice", "per_article_layout", "Form of the --per-article files: download (the default: a title block, the article flowing after it, no blank page, \"Read online\" with the article's web address), compact (title page with the notice, no contents) or booklet (the book's full form).", choices=("download", "compact", "booklet")),
    Option("per-article", "page-size", "choice", "per_article_page_size", "Page size of the --per-article PDFs, e.g. \"A4\" or \"Letter\" for a home printer; default [pdf] page-size.", choices=tuple(PAGE_SIZES)),
    Option("print", "profile", "choice", "print_profile", "Print-on-demand printer whose rules `pipeline build --print` follows (kdp, ingramspark, lulu, generic); --print PROFILE overrides it.", choices=tuple(PRINT_PROFILES)),
    Option("print", "trim", "str", "print_trim", "Trim size of the printed book, width then height, e.g. \"5.5in 8.5in\" or \"148mm 210mm\"; default the profile's standard trim nearest [pdf] page-size.", validate=validate_trim, example='"5.5in 8.5in"'),
    Option("print", "paper", "choice", "print_paper", "Paper of the interior (sets the spine width): white or cream; ingramspark also groundwood.", choices=PAPERS, post_validate=check_paper),
    Option("print", "bleed", "str", "print_bleed", "Bleed beyond the trim at the top, bottom and outer edge, e.g. \"0.125in\" or \"3mm\". Default 0.125in.", validate=validate_bleed, example='"0.125in"'),
    Option("print", "marks", "bool", "print_marks", "Crop marks outside the bleed (never with the kdp profile, which refuses them). Default false."),
    Option("source", "flavor", "choice", "source_flavor", "The generator the manuscripts were written for, if not the one detected: hugo, jekyll, docusaurus, astro, mkdocs, mdbook, gfm or plain.", choices=FLAVOURS),
    Option("source", "section", "str", "source_section", "The section of the site the book takes when BOOK_DIR is the site's root (--section overrides); default its posts or blog (MkDocs, mdBook: all its pages).", example='"posts"'),
    Option("site", "base-url", "str", "site_base_url", "Absolute http(s) address the output folder is published at, e.g. \"https://example.org/downloads/\"; manifest.json then gives each file's url.", validate=validate_base_url, example='"https://example.org/downloads/"'),
    Option("site", "article-url", "str", "site_article_url", "Each article's web address, an https URL with {slug}, e.g. \"https://example.org/articles/{slug}/\": printed as \"Read online\" on its download and in its metadata; default a front matter's url, else the site's page of the manuscript.", validate=validate_article_url, example='"https://example.org/articles/{slug}/"'),
)

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
        found = toml_error(source.text, exc, date_hint)
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
            try:
                kept = option.check(value)
            except Invalid as exc:
                problem, hint = exc.problem, exc.hint
            else:
                problem, hint = _character_problem_in(value), "remove the character"
            if problem:
                diagnostics.append(error("C003", f"[{table}] {key}: {problem}", path=path, line=line,
                                         hint=hint or option.doc))
                continue
            values[option.field] = kept
    for option in SCHEMA:
        given = option.key in (data.get(option.table) if isinstance(data.get(option.table), dict) else {})
        if option.required and option.field not in values and not given:  # (a value given is reported above)
            diagnostics.append(error("C003", f"[{option.table}] {option.key} is required",
                                     hint=option.doc, path=path, line=1))
    values.setdefault("title", fallback_title)
    notice = data.get("notice") if isinstance(data.get("notice"), dict) else {}
    values["pdf_variant_given"] = "pdf_variant" in values  # a download's variant follows it only then
    values["notice_given"] = tuple(f"notice_{k.replace('-', '_')}" for k in notice if f"notice_{k.replace('-', '_')}" in values)
    for option in SCHEMA:  # what each value is given the others and the book's folder
        diagnostics += option.post_validate(option, values, source) if option.post_validate else []
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


_SCHEDULER = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$")


def scheduler_address(value: str) -> bool:
    """Whether `value` names a Dask scheduler: tcp:// or tls://, a host, a port."""
    match = _SCHEDULER.match(value)
    return bool(match) and 0 < int(match.group(3)) < 65536


def _character_problem_in(value: Any) -> str:
    """What is wrong with the characters of a string (or list of strings)
    value: a control character XML forbids (lxml raises on it when the EPUB
    is written), '' if none."""
    strings = value if isinstance(value, list) else [value]
    return next((character_problem(v) for v in strings if isinstance(v, str) and character_problem(v)), "")


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


def _belongs(key: str, table: str | None) -> str:
    """"'page-size' belongs in [pdf]" when `key` is an option of another table."""
    owners = [o.table for o in SCHEMA if o.key == key and o.table != table]
    return f"'{key}' belongs in [{owners[0]}]." if owners else ""
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
