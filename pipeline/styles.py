"""Where the book's styles, templates and fonts come from.

The designer's files live in the top-level `styles/` folder of the source
tree. A wheel carries them as `pipeline/styles/` (see pyproject.toml), so an
installed `pipeline` finds its defaults without a checkout.

A book may have a `styles/` folder of its own, layered over ours (like
MkDocs' custom_dir): its `print.css` and `epub.css` are appended after ours,
its `templates/` replace ours of the same name, its `fonts/` are added, and
its `labels.toml` words replace ours. Every file of it is read through the
read gate (`resources`): nothing outside the book. Its templates run in
Jinja's sandbox, since a book is untrusted. `[style]` in book.toml sets the
common choices as CSS custom properties (`design_css`).

And what a language tag tells the layout: its writing direction (one table
of the languages written right to left; a script subtag such as `pa-Arab`
counts too), and the book's fixed words in its language (labels.toml).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .resources import ResourceRefused, inside, read_bytes

if TYPE_CHECKING:
    import jinja2

    from .model import Article, Book, BookConfig

_PACKAGE = Path(__file__).resolve().parent
BOOK_STYLES = "styles"  # the book's own styles folder, inside the book folder


def styles_dir() -> Path:
    """The folder holding CSS, templates and fonts."""
    installed = _PACKAGE / "styles"
    return installed if installed.is_dir() else _PACKAGE.parent / "styles"


def book_styles(root: Path) -> Path | None:
    """The book's own styles folder (its real path), or None if it has none.
    Raises OutsideBook if it is a link out of the book."""
    folder = root / BOOK_STYLES
    if not folder.is_dir():
        return None
    return inside(folder, (root,))


def book_file(book: "Book", name: str) -> str:
    """A text file of the book's styles folder ('' if absent), read through the gate."""
    if book.styles is None or not (book.styles / name).is_file():
        return ""
    return read_bytes(book.styles / name, (book.root,)).decode("utf-8")


@lru_cache(maxsize=8)
def _environment(root: Path, book: Path | None = None, allowed: Path | None = None) -> "jinja2.Environment":
    import jinja2  # here, not at the top: a no-op rebuild never renders

    from .sandbox import guarded_environment

    loader: jinja2.BaseLoader = jinja2.FileSystemLoader(root / "templates")
    if book is not None and allowed is not None:  # the book's templates first, ours for the rest
        loader = jinja2.ChoiceLoader([_gated_loader()(book / "templates", allowed), loader])
    environment = guarded_environment(loader)  # ours too: they may be given the book's values
    environment.globals["direction_of"] = direction  # "rtl" or "ltr" for a language tag
    environment.globals["words_of"] = article_words  # an article's fixed words ("Article 2", "In brief")
    return environment


def render_template(name: str, book: "Book | None" = None, **context: object) -> str:
    """Render a template: the book's own (`book`'s styles/templates/) if it
    has one of that name, else ours. The template gets `context` as plain
    data and its work is bounded (pipeline/sandbox.py); where the book
    brings templates, their output is checked before it is used. Raises
    sandbox.TemplateFailed, located, if the template fails or is refused.

    The book's settings are `config` in a template, as in the code; a book's
    own templates written when they were called `book` still find them
    under that name (`book` is the BookConfig there, never the Book)."""
    from .sandbox import render

    if "config" in context:
        context.setdefault("book", context["config"])
    folders = (styles_dir() / "templates",)
    if book is not None and book.styles is not None and (book.styles / "templates").is_dir():
        environment = _environment(styles_dir(), book.styles, book.root.resolve())
        folders += (book.styles / "templates",)
        checked = True
    else:
        environment = _environment(styles_dir())
        checked = False
    import jinja2

    from .sandbox import TemplateFailed

    try:
        template = environment.get_template(name)
    except jinja2.TemplateError as exc:  # a syntax error, or a book's template the gate refused
        raise TemplateFailed(f"template {name}: {getattr(exc, 'message', None) or exc}",
                             Path(exc.filename) if getattr(exc, "filename", None) else None,
                             getattr(exc, "lineno", 0) or 0) from None
    except (RecursionError, SyntaxError, MemoryError, ValueError) as exc:  # 300 nested '(', 30 nested for
        raise TemplateFailed(f"template {name} cannot be compiled: {type(exc).__name__} "
                             f"({str(exc)[:120]}); nest less deeply", folders[-1], 0) from None
    return render(template, context, folders, checked)


@lru_cache(maxsize=1)
def _gated_loader() -> type:
    """The loader class of a book's templates (made on first use: jinja2 is
    imported only when something is rendered)."""
    import jinja2
    from jinja2.loaders import split_template_path

    class GatedLoader(jinja2.BaseLoader):
        """Templates of a book's styles/templates/, read through the read gate."""

        def __init__(self, folder: Path, allowed: Path):
            self.folder, self.allowed = folder, allowed

        def get_source(self, environment, template):
            path = self.folder.joinpath(*split_template_path(template))
            if not path.is_file():
                raise jinja2.TemplateNotFound(template)
            try:
                source = read_bytes(path, (self.allowed,)).decode("utf-8")
            except (ResourceRefused, UnicodeDecodeError) as exc:
                raise jinja2.TemplateError(f"{path}: {exc}") from None
            mtime = path.stat().st_mtime_ns
            return source, str(path), lambda: path.is_file() and path.stat().st_mtime_ns == mtime

    return GatedLoader


@lru_cache(maxsize=1)
def _label_tables() -> dict[str, dict[str, str]]:
    """labels.toml's words by language (its `fallback` lists, which declare
    the words a table leaves English, are for tests/test_labels.py)."""
    import tomllib

    tables = tomllib.loads((styles_dir() / "labels.toml").read_text(encoding="utf-8"))
    return {name.lower(): {key: word for key, word in words.items() if isinstance(word, str)}
            for name, words in tables.items()}


# Individual languages whose words are their macrolanguage's (the IANA
# Language Subtag Registry's "Macrolanguage" field): Dari and Iranian
# Persian read Persian's table, and so on.
MACROLANGUAGE_OF = {"prs": "fa", "pes": "fa", "npi": "ne", "nob": "nb", "nno": "nn", "zsm": "ms",
                    "ekk": "et", "lvs": "lv", "arb": "ar", "als": "sq", "tgl": "tl"}


def book_label_tables(root: Path) -> tuple[dict[str, dict], list]:
    """The tables of the book's own styles/labels.toml ({} if none), and
    what is wrong with it (located diagnostics)."""
    import tomllib

    from .diagnostics import error

    path = root / BOOK_STYLES / "labels.toml"
    if not path.is_file():
        return {}, []
    try:
        tables = tomllib.loads(read_bytes(path, (root,)).decode("utf-8"))
    except ResourceRefused as exc:
        return {}, [error("C009", f"styles/labels.toml: {exc}", hint="make it a file inside the book folder",
                          path=path)]
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [error("C009", f"styles/labels.toml is not valid UTF-8 TOML: {exc}",
                          hint="tables by language, e.g. [en] contents = \"In this issue\"", path=path)]
    from .text.sourcetext import character_problem

    known = labels("en")
    found = []
    for language, words in tables.items():
        unknown = [key for key in words if key not in known] if isinstance(words, dict) else [language]
        for key in unknown:
            found.append(error("C009", f"styles/labels.toml: unknown word '{key}' in [{language}]",
                               hint=f"the words of labels.toml: {', '.join(known)}", path=path))
        for key, word in (words.items() if isinstance(words, dict) else ()):
            problem = "is not text" if not isinstance(word, str) else character_problem(word)
            if problem and key in known:  # (an unknown key is reported above)
                found.append(error("C009", f"styles/labels.toml: [{language}] {key} {problem}",
                                   hint="write the word as plain text", path=path))
    return {name.lower(): {key: word for key, word in words.items()
                           if isinstance(word, str) and not character_problem(word)}
            for name, words in tables.items() if isinstance(words, dict)}, found


def label_language(language: str, tables: dict | None = None) -> str | None:
    """The table of labels.toml (or of `tables`) for a BCP 47 tag, or None:
    the whole tag, Chinese by script (Traditional for zh-Hant, zh-TW, zh-HK,
    zh-MO and Cantonese), else the primary subtag."""
    tables = _label_tables() if tables is None else tables
    tag = language.lower()
    subtags = tag.split("-")
    if tag in tables:
        return tag
    if subtags[0] in ("zh", "yue"):
        traditional = subtags[0] == "yue" or any(s in ("hant", "tw", "hk", "mo") for s in subtags[1:])
        key = "zh-hant" if traditional else "zh-hans"
        return key if key in tables else None
    scripts = [s for s in subtags[1:] if len(s) == 4 and s.isalpha()]  # sr-Latn-RS: the Latin table
    if scripts and f"{subtags[0]}-{scripts[0]}" in tables:
        return f"{subtags[0]}-{scripts[0]}"
    primary = subtags[0] if subtags[0] in tables else MACROLANGUAGE_OF.get(subtags[0])
    return primary if primary in tables else None


@lru_cache(maxsize=8)
def labels(language: str) -> dict[str, str]:
    """The fixed words of the book (\"Contents\", \"In brief\"...) in its
    language; English for any word (or language) the tables lack."""
    tables = _label_tables()
    return {**tables["en"], **tables.get(label_language(language) or "en", {})}


def english_words(language: str, given: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The words labels.toml has no `language` for, that a book in it
    prints in English (C008): each word of the English table its table
    lacks, unless `given` (the book's own words) has it. Per word, never
    the whole table; a word of punctuation alone ("{label}: ") is none."""
    import re

    tables = _label_tables()
    table = tables.get(label_language(language) or "", {})
    return tuple(key for key, word in tables["en"].items()
                 if key not in table and key not in given and re.search(r"[A-Za-z]", re.sub(r"\{\w+\}", "", word)))


def design_css(config: "BookConfig") -> str:
    """[style]'s colours as the custom properties print.css uses ('' when
    none is set). The values were normalised to #rrggbb by the loader."""
    properties = []
    if config.accent:
        properties.append(f"--accent: {config.accent}")
    background = config.cover_background or config.accent
    if config.cover_background:
        properties.append(f"--cover-background: {config.cover_background}")
    if background:
        properties.append(f"--cover-ink: {cover_ink(background)}")
    return f":root {{ {'; '.join(properties)}; }}\n" if properties else ""


def cover_ink(background: str) -> str:
    """Light type on a dark cover, dark type on a light one (by WCAG relative luminance)."""
    channels = [int(background[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#1a1a1a" if luminance > 0.18 else "#fbf7f2"


def words_for(article: "Article", config: "BookConfig") -> dict[str, str]:
    """An article's fixed words ("Article 2", "In brief", "Table 3"): the one
    rule every output follows (render's captions and references, the
    booklet's and EPUB's openers, each download, the Typst engine).

    An article in the book's language has the book's words: labels.toml's,
    the book's styles/labels.toml table for it, book.toml's [labels] last.
    An article in another language has its own language's words, with the
    book's styles/labels.toml table for that language over them if it has
    one; book.toml's [labels] are not its: they are one table, written in
    the book's language ("Abb. {n}" in a German book would caption a
    Japanese story's figure in German beside its Japanese opener).
    Languages are the same when they read the same labels.toml table
    (en-GB in an English book is the book's language; zh-Hant in a
    zh-Hans book is not)."""
    return _words(article.language, config.language, config.labels, config.label_tables)


def article_words(item: dict, words: dict[str, str], book: dict) -> dict[str, str]:
    """words_for for templates, where `item` and `book` are a RenderedArticle
    and a BookConfig as template data (`words`, the book's words, is kept for
    the templates of books that call words_of(item, labels, book))."""
    return _words(str(item["article"]["language"]), str(book["language"]), book["labels"], book["label_tables"])


def own_labels(language: str, config: "BookConfig") -> tuple[tuple[str, str], ...]:
    """The book's words over labels.toml's for a text in `language` (see
    words_for): a download in another language keeps these as its [labels]."""
    if _same_language(language, config.language):
        return tuple(config.labels)
    return tuple(book_table(language, dict(config.label_tables)).items())


def book_table(language: str, tables: dict) -> dict[str, str]:
    """The book's styles/labels.toml table (of `tables`) for `language`: its
    own, else its [en] where labels.toml has no words for the language
    either (English ones are printed then)."""
    key = label_language(language, tables) or ("en" if label_language(language) is None else "")
    return dict(tables.get(key, ()))


def _words(language: str, book_language: str, book_words, tables) -> dict[str, str]:
    """words_for on plain data (templates get lists where the config has tuples)."""
    language = language or book_language
    if _same_language(language, book_language):
        return {**labels(book_language), **dict(book_words)}
    return {**labels(language), **book_table(language, {str(name): words for name, words in tables})}


def _same_language(one: str, other: str) -> bool:
    """Whether two tags read the same words: the same labels.toml table
    (or, for languages it has none for, the same primary subtag)."""
    def table(tag: str) -> str:
        return label_language(tag) or tag.lower().split("-")[0]

    return table(one) == table(other)


def book_labels(config) -> dict[str, str]:
    """The book's words: its language's, with book.toml's [labels] over them."""
    return {**labels(config.language), **dict(config.labels)}


RTL_LANGUAGES = frozenset({"ar", "fa", "ur", "he", "yi", "ps", "ckb", "sd", "ug", "dv", "iw", "ji"})
RTL_SCRIPTS = frozenset({"arab", "hebr", "thaa", "syrc", "nkoo", "adlm", "rohg"})
# BCP 47, loosely: a primary subtag and subtags of letters and digits. Enough
# to keep a tag from book.toml or front matter safe inside CSS and markup.
TAG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


def is_language_tag(tag: str) -> bool:
    """A well-formed BCP 47 tag whose subtags are registered (langcodes):
    what EPUBCheck asks of xml:lang. 'en_GB' is not one (langcodes itself
    would read it kindly; the EPUB's readers do not), nor is 'xx'."""
    if not TAG.match(tag):
        return False
    if tag.lower() in _label_tables():  # one of the languages we ship words for: registered
        return True
    import langcodes  # (its registry costs 0.12 s to load: not for the common tags above)

    return langcodes.tag_is_valid(tag)


def language_tag_for(text: str) -> str:
    """The valid tag `text` most likely means ('en_GB' -> 'en-GB',
    'iw' -> 'he'), or '' when there is none to suggest."""
    import langcodes

    try:
        tag = langcodes.standardize_tag(text.strip().replace("_", "-"))
    except (ValueError, LookupError):
        return ""
    return tag if is_language_tag(tag) else ""


def direction(language: str) -> str:
    """"rtl" or "ltr" for a BCP 47 tag."""
    subtags = language.lower().split("-")
    if subtags[0] in RTL_LANGUAGES or any(tag in RTL_SCRIPTS for tag in subtags[1:]):
        return "rtl"
    return "ltr"


def is_rtl(language: str) -> bool:
    return direction(language) == "rtl"
