"""CSS read as CSS: every place a stylesheet or a style attribute loads a file.

A book's CSS is untrusted (README, "Security"). A text match on `url(`
misses what a CSS parser reads as a load: `URL(`, `\\75 rl(` (escapes),
`@IMPORT "…"`, `image-set("…")`, `src("…")`. So the book's epub.css
(`export/epub.book_stylesheet`), its print.css (`load/manuscripts`) and an SVG's `<style>` and attributes
(`resources.check_svg`, via `svg_problem`) are tokenized with tinycss2,
which decodes escapes and folds case as a reader's parser does, and each
load it finds is judged by the caller's rule.

The walk is over the whole token stream, not over rules: a load hidden in an
invalid rule, a nested block or an at-rule's prelude is found too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml import etree

# Functions whose string arguments are URLs (url() and src() take one, the
# others a list of images); attr() may read a URL from the document.
URL_FUNCTIONS = frozenset({"url", "src"})
IMAGE_FUNCTIONS = frozenset({"image", "image-set", "-webkit-image-set", "cross-fade", "-webkit-cross-fade"})
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

    yield from _walk(tinycss2.parse_component_value_list(css, skip_comments=True), "")


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


ANIMATIONS = frozenset({"set", "animate", "animateMotion", "animateTransform", "animateColor"})
_ANIMATED_VALUES = ("to", "from", "by", "values")


def svg_problem(root: "etree._Element") -> str | None:
    """What makes an SVG tree load or run something through CSS or animation
    (None if nothing): an @import or a url() that is not a local `#fragment`
    in `<style>` or any attribute (escapes decoded: `\\75 rl(`), or an
    animation element that sets an `href` or animates to a URL."""
    from lxml import etree

    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        sheets = list(element.attrib.values())
        if name == "style":  # its text as a reader sees it: CDATA, and text around comments or elements
            sheets.append(element.xpath("string()"))
        for css in sheets:
            if "(" not in css and "@" not in css:  # neither a url nor an @import: skip the tokenizer
                continue
            for load in loads(css):
                if load.kind == "import":
                    return (f"SVG <style> has an @import of '{shown(load.url)}'; "
                            "SVG images must be self-contained")
                if not load.url.startswith("#"):
                    return (f"SVG style refers to an external url() ('{shown(load.url)}'); "
                            "SVG images must be self-contained")
        if name in ANIMATIONS:
            problem = _animation_problem(name, element)
            if problem:
                return problem
    return None


def _animation_problem(name: str, element: "etree._Element") -> str | None:
    """An animation that sets a link (href, xlink:href) or moves any
    attribute to a URL that is not a local `#fragment`."""
    target = element.get("attributeName", "").strip()
    if target.rpartition(":")[2].lower() == "href":
        return f"SVG <{name}> animates a link ({target}); remove it"
    for attribute in _ANIMATED_VALUES:
        for value in element.get(attribute, "").split(";"):
            value = value.strip()
            if value and not value.startswith("#") and (":" in value or "/" in value):
                return f"SVG <{name}> {attribute}= names '{shown(value)}'; SVG images must be self-contained"
    return None
