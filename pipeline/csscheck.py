"""CSS read as CSS: every place a stylesheet or a style attribute loads a file.

A book's CSS is untrusted (docs/guide, "Security"). A text match on `url(`
misses what a CSS parser reads as a load: `URL(`, `\\75 rl(` (escapes),
`@IMPORT "…"`, `image-set("…")`, `src("…")`. So the book's epub.css
(`export/epub.book_stylesheet`), its print.css (`load/manuscripts`), and
an SVG's `<style>` and attributes (`resources.check_svg`, via `SvgCss`) are
tokenized with tinycss2, which decodes escapes and folds case as a
reader's parser does; each load it finds is judged by the caller's rule.
SVG animations that set a link are judged here too (`animation_problem`).

The walk is over the whole token stream, not over rules: a load hidden in an
invalid rule, a nested block or an at-rule's prelude is found too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml import etree

# Functions whose string arguments are URLs (url() and src() take one, the
# others a list of images); attr() may read a URL from the document.
URL_FUNCTIONS = frozenset({"url", "src"})
IMAGE_FUNCTIONS = frozenset({"image", "image-set", "-webkit-image-set", "cross-fade", "-webkit-cross-fade"})
# What every load needs, in text lowered first: a function's name before its
# "(" (or an escape, which may spell the name), or "@i" (@import; or an
# escape). Where none is found, tinycss2 (pure Python, slow) need not read it.
_CANDIDATE = re.compile(r"(?:url|src|image|set|fade|attr)\(|@i|\\")
# The same, but for a plain reference to a fragment of the document: url(#id).
_NOT_FRAGMENT = re.compile(r"""url\((?![ \t\n\r\f]*(?:#[^()\\"'\s]*|"#[^"\\\n]*"|'#[^'\\\n]*')[ \t\n\r\f]*\))"""
                           r"|(?:src|image|set|fade|attr)\(|@i|\\")
MALFORMED = "a malformed url()"  # the url of a load tinycss2 could not read (a bad-url token)


@dataclass(frozen=True)
class Load:
    """One thing a stylesheet loads: its URL as the CSS means it (escapes
    decoded), where it is (1-based), whether it is an @import or a url, and
    the at-rule whose block holds it ('font-face', 'media'; '' for none)."""

    url: str
    line: int
    column: int
    kind: str = "url"  # or "import"
    within: str = ""


def loads(css: str) -> Iterator[Load]:
    """Every load of `css`, a stylesheet or a style attribute's declarations."""
    import tinycss2

    if not may_load(css):
        return
    yield from _walk(tinycss2.parse_component_value_list(css, skip_comments=True), "")


def may_load(css: str, fragments: bool = False) -> bool:
    """Could `css` load anything? False only where it surely cannot (see
    _CANDIDATE). With `fragments`, a plain `url(#id)` does not count.
    Lowering may only add candidates (CSS folds ASCII case only)."""
    return (_NOT_FRAGMENT if fragments else _CANDIDATE).search(css.lower()) is not None


def imports(css: str) -> Iterator[Load]:
    """The @import rules of `css`, wherever they stand and however spelled."""
    return (load for load in loads(css) if load.kind == "import")


def _walk(tokens: Iterable, within: str) -> Iterator[Load]:
    """The loads of a list of component values; `within`: the enclosing at-rule.
    An @import loads the URL after it (or nothing: refused all the same);
    @namespace names a URI and loads nothing."""
    keyword, at = "", None  # the at-rule this level is in, until its `;` or block ends it
    for token in tokens:
        kind = token.type
        if kind == "at-keyword" or (kind == "literal" and token.value == ";") or kind == "{} block":
            if keyword == "import":
                yield Load("", *at, kind="import", within=within)
            if kind == "{} block":
                yield from _walk(token.content, keyword or within)
            keyword, at = ("", None) if kind != "at-keyword" else \
                (token.lower_value, (token.source_line, token.source_column))
            continue
        found = list(_loads_of(token, within))
        if keyword == "namespace" and (kind in ("string", "url") or found):  # its URI, not a load
            continue
        if keyword == "import" and (found or kind == "string"):
            yield Load(found[0].url if found else token.value, *at, kind="import", within=within)
            keyword = ""
            continue
        yield from found
    if keyword == "import":
        yield Load("", *at, kind="import", within=within)


def _loads_of(token, within: str) -> Iterator[Load]:
    """The loads of one component value (a function's or block's inside too)."""
    kind, place = token.type, (token.source_line, token.source_column)
    if kind == "url":
        yield Load(token.value, *place, within=within)
    elif kind == "error" and token.kind == "bad-url":
        yield Load(MALFORMED, *place, within=within)
    elif kind == "function":
        strings = [argument.value for argument in token.arguments if argument.type == "string"]
        if token.lower_name in URL_FUNCTIONS:
            yield Load(strings[0] if strings else "", *place, within=within)
        elif token.lower_name in IMAGE_FUNCTIONS:
            yield from (Load(url, *place, within=within) for url in strings)
        elif token.lower_name == "attr" and any(a.type == "ident" and a.lower_value == "url"
                                                for a in token.arguments):
            yield Load(token.serialize(), *place, within=within)
        yield from _walk(token.arguments, within)
    elif kind in ("() block", "[] block"):
        yield from _walk(token.content, within)


def shown(url: str) -> str:
    """`url` for a message: a very long one cut short."""
    return url if len(url) <= 120 else url[:117] + "..."


MAX_SVG_CSS = 512 * 1024  # characters of an SVG's CSS tokenized at most (tinycss2: about 0.3 MB/s)
CALL_COST = 100  # what one call of the tokenizer counts for, in characters (a million tiny values are slow too)
ANIMATIONS = frozenset({"set", "animate", "animateMotion", "animateTransform", "animateColor"})
_ANIMATED_VALUES = ("to", "from", "by", "values")


class SvgCss:
    """Judges an SVG's CSS, text by text (every attribute's value, every
    `<style>`'s text as a reader sees it): an @import, or a url() that is
    not a local `#fragment`, is a problem (escapes decoded: `\\75 rl(`).
    Most texts never reach the tokenizer (`may_load`), and all of one SVG's
    that do count against MAX_SVG_CSS: a 20 MiB SVG cannot make it crawl."""

    def __init__(self) -> None:
        self.left = MAX_SVG_CSS

    def problem(self, css: str) -> str | None:
        """Why `css` may not stand in an SVG image, or None."""
        if ("(" not in css and "@" not in css) or not may_load(css, fragments=True):
            return None
        self.left -= len(css) + CALL_COST
        if self.left < 0:
            return f"SVG has more CSS to check than {MAX_SVG_CSS // 1024} KiB; simplify it or convert it to PNG"
        for load in loads(css):
            if load.kind == "import":
                return f"SVG <style> has an @import of '{shown(load.url)}'; SVG images must be self-contained"
            if not load.url.startswith("#"):
                return (f"SVG style refers to an external url() ('{shown(load.url)}'); "
                        "SVG images must be self-contained")
        return None


def animation_problem(name: str, element: "etree._Element") -> str | None:
    """Why an SVG element `name` may not stand in an SVG image, or None: an
    animation (ANIMATIONS) that sets a link (href, xlink:href) or moves any
    attribute to a URL that is not a local `#fragment` (javascript:...)."""
    if name not in ANIMATIONS:
        return None
    target = element.get("attributeName", "").strip()
    if target.rpartition(":")[2].lower() == "href":
        return f"SVG <{name}> animates a link ({target}); remove it"
    for attribute in _ANIMATED_VALUES:
        for value in element.get(attribute, "").split(";"):
            value = value.strip()
            if value and not value.startswith("#") and (":" in value or "/" in value):
                return f"SVG <{name}> {attribute}= names '{shown(value)}'; SVG images must be self-contained"
    return None
