"""A book.toml option and its validators (after MkDocs' config_options).

Each `Option` of `config.SCHEMA` carries its own checks: its kind's (a
string, a list of strings, a colour, a date, one of its choices...), then its
own `validate` (a URL with {slug}, a trim, a bleed), each turning the value
into the one the config keeps or raising `Invalid` with what is wrong and,
where the option's doc is not it, the fix. A check that needs another
option's value or the book's folder (a paper the profile has, a font the
book has) is the option's `post_validate`, run once every value is read.
`config._validate` only loops over them; no check branches on a key's name.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from ..diagnostics import Diagnostic, error, shorten, with_suggestion
from ..model import PRINT_PROFILES, inches, trim_inches
from ..text.sourcetext import ConfigSource, shown_value
from .addresses import article_url_problem


class Invalid(ValueError):
    """A value an option refuses: what is wrong with it (`problem`) and the
    fix (`hint`; '' when the option's doc says it)."""

    def __init__(self, problem: str, hint: str = ""):
        super().__init__(problem)
        self.problem, self.hint = problem, hint


@dataclass(frozen=True)
class Option:
    table: str
    key: str
    # "str", "date" (YYYY-MM-DD in quotes), "colour" (a CSS colour), "list" (of strings), "files" (a name or
    # a list), "bool", "int" (one of `choices`), "count" (0, or within `bounds`) or "choice"
    kind: str
    field: str  # BookConfig field it fills
    doc: str
    choices: tuple[str, ...] = ()
    required: bool = False
    bounds: tuple[int, int] = (0, 0)  # a "count": the range of its values besides 0 (off)
    # The option's own check of a value its kind accepts: the value kept, or Invalid.
    validate: Callable[[Any], Any] | None = None
    # Once every value is read (`values`: field -> value kept): what is wrong given the others or the
    # book's folder, each located; it may put the default back in `values`.
    post_validate: Callable[[Option, dict[str, Any], ConfigSource], list[Diagnostic]] | None = None
    # A valid value as TOML text, which `pipeline new` writes commented out ('' for its kind's: false,
    # the first choice). One that names a file names one a new book may add (images/cover.png).
    example: str = ""

    def check(self, value: Any) -> Any:
        """`value` as the config keeps it (a list as a tuple, a colour as
        #rrggbb), or Invalid: its kind's check, then the option's own."""
        kept = _KINDS[self.kind](self, value)
        return self.validate(kept) if self.validate is not None else kept

    def example_toml(self) -> str:
        """`example`, else its kind's: false, or the first of its choices ('' for a kind that has none)."""
        if self.example or self.kind not in ("bool", "int", "choice"):
            return self.example
        return "false" if self.kind == "bool" else self.choices[0] if self.kind == "int" else json.dumps(self.choices[0])


# ---------------------------------------------------------------- each kind's check

def _string(option: Option, value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid(f"expected a string, got {type(value).__name__}")
    if option.required and not value.strip():
        raise Invalid("must not be empty")
    return value


def _date(option: Option, value: Any) -> str:
    """YYYY-MM-DD in quotes; the fix names the same day when it can be read."""
    if isinstance(value, (datetime.date, datetime.time)):
        problem = f"expected a date in quotes, got the TOML {type(value).__name__} {value.isoformat()}"
    elif not isinstance(value, str):
        problem = f"expected a string, got {type(value).__name__}"
    elif not _is_date(value):
        problem = f"expected a date as YYYY-MM-DD, got {shown_value(value)}"
    else:
        return value
    raise Invalid(problem, date_hint(_value_text(value)))


def _colour(option: Option, value: Any) -> str:
    """As #rrggbb: nothing but a colour reaches a stylesheet."""
    if not isinstance(value, str):
        raise Invalid(f"expected a CSS colour as a string, e.g. \"#2a6f97\", got {type(value).__name__}")
    if not css_colour(value):
        raise Invalid(f"{shown_value(value)} is not a CSS colour; write e.g. \"#2a6f97\", \"rgb(42 111 151)\" or \"teal\"")
    return css_colour(value)


def _strings(option: Option, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid("expected a list of strings, e.g. [\"a\", \"b\"]")
    return tuple(value)


def _files(option: Option, value: Any) -> tuple[str, ...]:
    if not isinstance(value, (str, list)) or isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise Invalid("expected a file name or a list of them, e.g. \"refs.bib\" or [\"refs.bib\", \"more.json\"]")
    return (value,) if isinstance(value, str) else tuple(value)


def _bool(option: Option, value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("expected true or false")
    return value


def _int(option: Option, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or str(value) not in option.choices:
        raise Invalid(f"expected one of {', '.join(option.choices)}, got {shown_value(value)}")
    return value


def _count(option: Option, value: Any) -> int:
    low, high = option.bounds
    if isinstance(value, bool) or not isinstance(value, int) or not (value == 0 or low <= value <= high):
        raise Invalid(f"expected 0 (off) or a whole number from {low:,} to {high:,}, got {shown_value(value)}")
    return value


def _choice(option: Option, value: Any) -> Any:
    if value not in option.choices:
        raise Invalid(f"expected one of {', '.join(repr(c) for c in option.choices)}, got {shown_value(value)}")
    return value


_KINDS: dict[str, Callable[[Option, Any], Any]] = {
    "str": _string, "date": _date, "colour": _colour, "list": _strings, "files": _files, "bool": _bool,
    "int": _int, "count": _count, "choice": _choice}


# ---------------------------------------------------------------- options' own checks

def refusing(problem: Callable[[str], str]) -> Callable[[str], str]:
    """A validator from a function that says what is wrong with a value ('' when nothing)."""
    def validate(value: str) -> str:
        found = problem(value)
        if found:
            raise Invalid(found)
        return value

    return validate


def base_url_problem(value: str) -> str:
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


def trim_problem(value: str) -> str:
    """[print] trim: a width and a height with their units."""
    if trim_inches(value):
        return ""
    return f"expected a width and a height, e.g. \"5.5in 8.5in\" or \"148mm 210mm\", got {shown_value(value)}"


def bleed_problem(value: str) -> str:
    """[print] bleed: a length a printer takes (at most half an inch)."""
    if inches(value) is None or inches(value) > 0.5:
        return f"expected a length up to 0.5in, e.g. \"0.125in\" or \"3mm\", got {shown_value(value)}"
    return ""


validate_base_url = refusing(base_url_problem)
validate_article_url = refusing(article_url_problem)
validate_trim = refusing(trim_problem)
validate_bleed = refusing(bleed_problem)


# ---------------------------------------------------------------- checks once every value is read

def check_language(option: Option, values: dict[str, Any], source: ConfigSource) -> list[Diagnostic]:
    """A language tag the layout can use (it goes into markup and CSS). (The
    words labels.toml has none for in it: C008, `config._english_words`.)"""
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


_ISBN_PREFIX = re.compile(r"^ISBN(?:-1[03])?:?\s*", re.IGNORECASE)
_ISBN_SEPARATORS = re.compile(r"[\s\u00a0\u2010-\u2015-]")


def check_isbn(option: Option, values: dict[str, Any], source: ConfigSource) -> list[Diagnostic]:
    """[book] isbn: an ISBN-13 whose check digit holds, kept hyphenated as
    its registration groups say (python-stdnum's ranges); an ISBN-10 is
    refused with its ISBN-13 as the fix. Refused, the book has no ISBN."""
    written = values.get("isbn", "")
    number = _ISBN_SEPARATORS.sub("", _ISBN_PREFIX.sub("", written.strip()))
    if not written.strip():
        values.pop("isbn", None)
        return []
    from stdnum import isbn  # (with its ranges: not for a book without an ISBN)
    from stdnum.exceptions import ValidationError

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


def check_font(option: Option, values: dict[str, Any], source: ConfigSource) -> list[Diagnostic]:
    """[style] text-font or heading-font names a family the book can draw
    with: one of its styles/fonts/ or a packaged one."""
    from ..fonts import book_families

    family = values.get(option.field)
    if not family:
        return []
    known = book_families(source.path.parent)
    if family in known:
        return []
    return [error("C003", f"[style] {option.key}: no font family {shown_value(family)} in the book's "
                          "styles/fonts/ or the packaged fonts",
                  hint=f"families available: {', '.join(sorted(known))}; add the font's files "
                       "to styles/fonts/ in the book folder",
                  path=source.path, line=source.line_of("style", option.key)[0])]


def check_paper(option: Option, values: dict[str, Any], source: ConfigSource) -> list[Diagnostic]:
    """[print] paper the profile has (groundwood is IngramSpark's only)."""
    profile = PRINT_PROFILES[values.get("print_profile", "generic")]
    paper = values.get("print_paper", "white")
    if paper in profile.papers:
        return []
    values["print_paper"] = "white"
    return [error("C003", f"[print] paper: the {profile.name} profile has no {shown_value(paper)} paper",
                  hint=f"papers of {profile.name}: {', '.join(profile.papers)}",
                  path=source.path, line=source.line_of("print", "paper")[0])]


# ---------------------------------------------------------------- values

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


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def date_hint(written: str) -> str:
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
    """A value as book.toml could have held it, for `date_hint`."""
    return value.isoformat() if isinstance(value, (datetime.date, datetime.time)) else str(value)
