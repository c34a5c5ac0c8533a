"""Where the book's styles, templates and fonts come from.

The designer's files live in the top-level `styles/` folder of the source
tree. A wheel carries them as `pipeline/styles/` (see pyproject.toml), so an
installed `pipeline` finds its defaults without a checkout.

And what a language tag tells the layout: its writing direction (one table
of the languages written right to left; a script subtag such as `pa-Arab`
counts too), and the book's fixed words in its language (labels.toml).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

_PACKAGE = Path(__file__).resolve().parent


def styles_dir() -> Path:
    """The folder holding CSS, templates and fonts."""
    installed = _PACKAGE / "styles"
    return installed if installed.is_dir() else _PACKAGE.parent / "styles"


@lru_cache(maxsize=4)
def _environment(root: Path) -> "jinja2.Environment":
    import jinja2  # here, not at the top: a no-op rebuild never renders


    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(root / "templates"),
        autoescape=True,  # text from book.toml is escaped; sanitized XHTML is passed as Markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals["direction_of"] = direction  # "rtl" or "ltr" for a language tag
    return environment


def render_template(name: str, **context: object) -> str:
    return _environment(styles_dir()).get_template(name).render(**context)


@lru_cache(maxsize=1)
def _label_tables() -> dict[str, dict[str, str]]:
    import tomllib

    tables = tomllib.loads((styles_dir() / "labels.toml").read_text(encoding="utf-8"))
    return {name.lower(): words for name, words in tables.items()}


def label_language(language: str) -> str | None:
    """The table of labels.toml for a BCP 47 tag, or None: the whole tag,
    Chinese by script (Traditional for zh-Hant, zh-TW, zh-HK, zh-MO and
    Cantonese), else the primary subtag."""
    tables = _label_tables()
    tag = language.lower()
    subtags = tag.split("-")
    if tag in tables:
        return tag
    if subtags[0] in ("zh", "yue"):
        traditional = subtags[0] == "yue" or any(s in ("hant", "tw", "hk", "mo") for s in subtags[1:])
        return "zh-hant" if traditional else "zh-hans"
    return subtags[0] if subtags[0] in tables else None


@lru_cache(maxsize=8)
def labels(language: str) -> dict[str, str]:
    """The fixed words of the book (\"Contents\", \"In brief\"...) in its
    language; English for any word (or language) the tables lack."""
    tables = _label_tables()
    return {**tables["en"], **tables.get(label_language(language) or "en", {})}


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
    import langcodes

    return bool(TAG.match(tag)) and langcodes.tag_is_valid(tag)


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
