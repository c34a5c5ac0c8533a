"""What a template may do: read plain data, do bounded work, write safe markup.

A book may carry its own templates (styles/templates/), and a book is
untrusted. Jinja's sandbox alone is not enough: a template given a `Path`
can call `.read_text()` on it, and one given any object with methods can
reach what those methods reach. So every template, ours and the book's,

- renders in Jinja's `ImmutableSandboxedEnvironment` and gets **data, not
  objects**: `template_data` turns the model's dataclasses into dicts, paths
  into strings, tuples into lists (`item.article.title` reads the same);
- does **bounded work**: every `for` loop and every call counts against a
  budget of steps and a deadline, `*`, `**` and `%` refuse results beyond a
  size, the output is capped, and, on Linux, the process's address space is
  capped for the time of the render (a `MemoryError` instead of an
  exhausted machine);
- when the book brings templates of its own, has its **output checked**
  (`markup_problems`): the elements and attributes manuscripts may hold,
  those of the document frame, MathML and our formula SVGs; no script, no
  handler, no URL with a scheme except on `<a href>`, no CSS that loads
  anything. A refusal is an error (C009), never a silent fix: the designer
  learns what the template wrote.

Any failure is a `TemplateFailed` located at the template's file and line.
"""

from __future__ import annotations

import contextvars
import dataclasses
import enum
import re
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path, PurePath

from functools import lru_cache
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:  # jinja2 is imported when something renders: a no-op build never does
    import jinja2

MAX_SECONDS = 20.0  # one template's render (the booklet of 300 articles renders in well under 1 s)
MAX_STEPS = 2_000_000  # loop iterations and calls of one render
MAX_OUTPUT = 256 * 2**20  # characters a render may write (the 300-article booklet: about 30 MB)
MAX_VALUE = 16 * 2**20  # characters or items a `*` may make
MAX_WIDTH = 10_000  # a `%` format's field width or precision
MAX_BITS = 4096  # an integer a template computes with (a huge one's `//` is one long C call)
MEMORY_HEADROOM = 384 * 2**20  # bytes of address space a render may add (Linux)


class TemplateFailed(Exception):
    """A template that could not be rendered, or whose output is refused."""

    def __init__(self, message: str, path: Path | None = None, line: int = 0):
        super().__init__(message)
        self.path, self.line = path, line

    def diagnostic(self):
        """The failure as the error a build and `check` report (C009)."""
        from .diagnostics import error

        return error("C009", str(self), path=self.path, line=self.line,
                     hint="fix the book's template (styles/templates/), or remove it to use ours")


class _Late(BaseException):
    """Raised by the render's deadline (a BaseException: Jinja's own handlers do not swallow it)."""


class _OverBudget(Exception):
    """Raised inside a render that went past one of its limits."""


def template_data(value: object) -> object:
    """`value` as plain data: str, numbers, booleans, None, lists and dicts
    of them. Markup stays Markup (it is a str, and marks sanitized XHTML)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, enum.Enum):
        return template_data(value.value)
    if isinstance(value, PurePath):
        return value.name  # a file's name: where the book lies on the machine is none of the outputs' business
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: template_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): template_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [template_data(item) for item in value]
    raise TypeError(f"a template gets plain data, not {type(value).__name__}")


class _Budget:
    """What one render may still spend."""

    def __init__(self) -> None:
        self.steps = 0
        self.ends = time.monotonic() + MAX_SECONDS

    def spend(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _OverBudget(f"the template does more than {MAX_STEPS:,} loop steps and calls")
        if self.steps % 1024 == 0 and time.monotonic() > self.ends:
            raise _OverBudget(f"the template took longer than {MAX_SECONDS:.0f} s")


_budget: contextvars.ContextVar[_Budget] = contextvars.ContextVar("template_budget")


def _spend() -> None:
    budget = _budget.get(None)
    if budget is not None:
        budget.spend()


_WIDE_FORMAT = re.compile(r"%[-#0 +]*(?:\*|\d{5,})|%[-#0 +]*\d*\.(?:\*|\d{5,})|\{[^{}]*:[^{}]*\d{5,}")


@lru_cache(maxsize=1)
def _guarded_class() -> type:
    """The environment's class, made on first use (jinja2 is imported then)."""
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class GuardedEnvironment(ImmutableSandboxedEnvironment):
        """Jinja's immutable sandbox, with a budget on loops and calls and a cap
        on the values `*`, `**` and `%` make."""

        intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

        def _parse(self, source, name, filename):
            """The template's tree, each `for` loop's iterable wrapped so that
            every step counts (Jinja has no hook on iteration)."""
            tree = super()._parse(source, name, filename)
            for loop in tree.find_all(nodes.For):
                loop.iter = nodes.Call(nodes.EnvironmentAttribute("bounded"), [loop.iter], [], None, None,
                                       lineno=loop.lineno)
            return tree

        @staticmethod
        def bounded(iterable):
            """`iterable`, each item counted against the render's budget."""
            for item in iterable:
                _spend()
                yield item

        def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
            _spend()
            return super().call(__context, __obj, *args, **kwargs)

        def call_binop(self, context, operator, left, right):
            _spend()
            if any(isinstance(n, int) and n.bit_length() > MAX_BITS for n in (left, right)):
                raise _OverBudget(f"'{operator}' on a number of more than {MAX_BITS} bits")
            if operator == "*" and isinstance(left, int) and isinstance(right, int) \
                    and left.bit_length() + right.bit_length() > MAX_BITS:
                raise _OverBudget(f"'*' would make a number of more than {MAX_BITS} bits")
            if operator == "*":
                for sized, times in ((left, right), (right, left)):
                    if isinstance(sized, (str, list, tuple)) and isinstance(times, int) \
                            and len(sized) * times > MAX_VALUE:
                        raise _OverBudget(f"'*' would make a value of {len(sized) * times:,} items")
            elif operator == "**" and isinstance(left, int) and isinstance(right, int):
                if abs(left) > 1 and right * abs(left).bit_length() > MAX_BITS:
                    raise _OverBudget(f"'**' would make a number of more than {MAX_BITS} bits")
            elif operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
                raise _OverBudget(f"a '%' format asks for a field wider than {MAX_WIDTH:,}")
            return super().call_binop(context, operator, left, right)

        def wrap_str_format(self, value):
            """str.format and format_map, refused when the string asks for a huge field."""
            if isinstance(getattr(value, "__self__", None), str) and _WIDE_FORMAT.search(value.__self__):
                raise _OverBudget(f"a format asks for a field wider than {MAX_WIDTH:,}")
            return super().wrap_str_format(value)

    return GuardedEnvironment


def guarded_environment(loader: "jinja2.BaseLoader") -> "jinja2.Environment":
    """The environment every template renders in."""
    import jinja2

    environment = _guarded_class()(
        loader=loader,
        autoescape=True,  # text from book.toml is escaped; sanitized XHTML is passed as Markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    for name in ("lipsum", "cycler", "joiner", "namespace"):  # state or bulk a template needs none of
        environment.globals.pop(name, None)
    for name in ("center", "indent", "wordwrap", "truncate", "format"):
        environment.filters[name] = _bounded_filter(environment.filters[name])
    return environment


def _bounded_filter(function):
    """A filter whose numeric arguments (widths, lengths) are at most MAX_WIDTH."""
    def bounded(*args, **kwargs):
        numbers = [v for v in (*args[1:], *kwargs.values()) if isinstance(v, int) and not isinstance(v, bool)]
        if any(abs(n) > MAX_WIDTH for n in numbers):
            raise _OverBudget(f"the filter {function.__name__.removeprefix('do_')} was given a width over "
                              f"{MAX_WIDTH:,}")
        if args and isinstance(args[0], str) and function.__name__ == "do_format" and _WIDE_FORMAT.search(args[0]):
            raise _OverBudget(f"a format asks for a field wider than {MAX_WIDTH:,}")
        return function(*args, **kwargs)

    for attribute in ("jinja_pass_arg",):  # Jinja reads how to call a filter from this mark
        if hasattr(function, attribute):
            setattr(bounded, attribute, getattr(function, attribute))
    bounded.__name__ = function.__name__
    return bounded


def render(template: "jinja2.Template", context: dict[str, object], folders: tuple[Path, ...],
           checked: bool = False) -> str:
    """`template` rendered with `context` as plain data, within the limits
    above; TemplateFailed, located in the template, if it fails. `folders`:
    where templates live (for the location of a failure). `checked`: the
    book brings templates, so the output is checked (`markup_problems`)
    before it is used."""
    data = {name: template_data(value) for name, value in context.items()}
    tokens = _Tokens()
    if checked:  # our sanitized XHTML and CSS stand in as inert tokens while the template's own output is checked
        data = {name: tokens.swap(value, name) for name, value in data.items()}
    import jinja2

    from .resources import deadline

    token = _budget.set(_Budget())
    try:
        with _memory_ceiling(), deadline(MAX_SECONDS, _Late):  # also one long C call (main thread only)
            output = _generate(template, data)
    except _Late:
        raise TemplateFailed(f"template {template.name} took longer than {MAX_SECONDS:.0f} s",
                             Path(template.filename) if template.filename else None, 0) from None
    except (jinja2.TemplateError, _OverBudget, RecursionError, OverflowError, MemoryError, TypeError, ValueError,
            ArithmeticError, LookupError, AttributeError, SyntaxError) as exc:
        raise _failure(exc, template, folders) from None
    finally:
        _budget.reset(token)
    if checked:
        xml = template.name.endswith(".xhtml") if template.name else False
        problems = markup_problems(output, xml, fetched=not xml and template.name not in SERVED) \
            + tokens.misplaced(output, xml)
        if problems:
            listed = ", ".join(problems[:4]) + (f" and {len(problems) - 4} more" if len(problems) > 4 else "")
            path = Path(template.filename) if template.filename else None
            if path is None or not path.is_relative_to(folders[-1]):  # ours, with the book's parts in it
                path = folders[-1]  # the book's templates folder: one of its files wrote it
            raise TemplateFailed(f"template {template.name} (with the book's templates) writes {listed}, "
                                 "which a book's outputs may not hold", path, 0)
        output = tokens.restore(output)
    return output


def _generate(template: "jinja2.Template", data: dict[str, object]) -> str:
    parts, size = [], 0
    for chunk in template.generate(**data):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise _OverBudget(f"the template writes more than {MAX_OUTPUT // 2**20} MiB")
        parts.append(chunk)
    return "".join(parts)


class _Tokens:
    """Our Markup (sanitized XHTML, our CSS) swapped for inert tokens while
    a book's template renders, so that the check sees only what the
    template itself wrote, then put back where it may go. The tokens carry
    a random nonce: text of the book cannot forge one."""

    def __init__(self) -> None:
        import secrets

        self.nonce = secrets.token_hex(8)
        self.pattern = re.compile(f"\ue000{self.nonce}:(\\d+)\ue001")
        self.trusted: list[tuple[str, Markup]] = []

    def swap(self, value: object, key: str) -> object:
        """`value` with each Markup in it swapped for a token; its kind is
        "css" for a key ending in _css, else "html"."""
        if isinstance(value, Markup):
            self.trusted.append(("css" if key.endswith("_css") else "html", value))
            return Markup(f"\ue000{self.nonce}:{len(self.trusted) - 1}\ue001")
        if isinstance(value, dict):
            return {name: self.swap(item, name) for name, item in value.items()}
        if isinstance(value, list):
            return [self.swap(item, key) for item in value]
        return value

    def restore(self, output: str) -> str:
        return self.pattern.sub(lambda match: self.trusted[int(match.group(1))][1], output)

    def misplaced(self, output: str, xml: bool) -> list[str]:
        """Our markup may go back only where it was meant to: XHTML into
        text between elements, CSS into a <style>. A token anywhere else
        (an attribute, a comment, the doctype) is refused."""
        expected = len(self.pattern.findall(output))
        if not expected:
            return []
        root = _parse(output, xml)
        if root is None:
            return []
        placed, found = 0, []
        for node in root.iter():
            element = isinstance(node.tag, str)
            in_style = element and node.tag.rsplit("}", 1)[-1] == "style"
            for where, text in (("text", node.text), ("tail", node.tail)):
                for match in self.pattern.finditer(text or ""):
                    placed += 1
                    kind = self.trusted[int(match.group(1))][0]
                    if not element and where == "text":
                        found.append("an article's text inside a comment")
                    elif (kind == "css") != (in_style and where == "text"):
                        found.append("our XHTML or CSS where it does not belong (in or out of <style>)")
            if element and any(self.pattern.search(value) for value in node.attrib.values()):
                found.append("an article's XHTML inside an attribute")
        if placed != expected and not found:
            found.append("an article's XHTML where it cannot be checked")
        return found


_WHAT = {RecursionError: "it calls or extends itself without end", MemoryError: "it needs more memory than "
         f"a template may use ({MEMORY_HEADROOM // 2**20} MiB)", OverflowError: "a number or range is too large"}


def _failure(exc: BaseException, template: "jinja2.Template", folders: tuple[Path, ...]) -> TemplateFailed:
    """The failure as a located TemplateFailed: the innermost frame of a
    template file (Jinja maps its code's frames to the template's lines)."""
    path, line = Path(template.filename) if template.filename else None, 0
    for frame in traceback.extract_tb(exc.__traceback__):
        if any(frame.filename.startswith(str(folder)) for folder in folders):
            path, line = Path(frame.filename), frame.lineno or 0
    what = _WHAT.get(type(exc)) or str(exc)
    return TemplateFailed(f"template {path.name if path else template.name} failed: {what}"[:400], path, line)


_ceiling_lock = threading.Lock()
_ceiling = {"users": 0, "before": 0}  # renders under the ceiling now; the soft limit it replaced


@contextmanager
def _memory_ceiling():
    """The process's address space capped at its size now plus
    MEMORY_HEADROOM while a template renders (Linux; the soft limit only,
    put back after). Renders in several threads share one ceiling."""
    try:
        import resource

        size = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    except (ImportError, OSError, ValueError):
        yield
        return
    with _ceiling_lock:
        _ceiling["users"] += 1
        if _ceiling["users"] == 1:
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            _ceiling["before"] = soft
            limit = size + MEMORY_HEADROOM
            if (soft == resource.RLIM_INFINITY or limit < soft) and (hard == resource.RLIM_INFINITY or limit < hard):
                resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        with _ceiling_lock:
            _ceiling["users"] -= 1
            if _ceiling["users"] == 0:
                resource.setrlimit(resource.RLIMIT_AS, (_ceiling["before"], resource.getrlimit(resource.RLIMIT_AS)[1]))


# ---------------------------------------------------------------------------
# The output of a book's own templates.

_DOCUMENT = {"html", "head", "body", "title", "meta", "link", "style", "main", "template"} - {"template"}
_SVG = {"svg", "g", "path", "rect", "use", "defs", "symbol", "line", "polyline", "polygon", "circle", "ellipse",
        "text", "tspan", "title", "desc", "clipPath", "mask", "linearGradient", "radialGradient", "stop"}
_ATTRIBUTES = {"id", "class", "title", "lang", "dir", "role", "hidden", "style", "href", "src", "alt", "width",
               "height", "colspan", "rowspan", "scope", "start", "reversed", "datetime", "value", "cite",
               "checked", "disabled", "type", "charset", "name", "content", "rel", "media", "viewBox",
               "xmlns", "version", "d", "fill", "stroke", "stroke-width", "transform", "x", "y", "x1", "x2",
               "y1", "y2", "cx", "cy", "r", "rx", "ry", "points", "opacity", "fill-rule", "clip-rule",
               "preserveAspectRatio", "focusable", "colspan", "span", "open", "loading", "decoding"}
_NAMESPACED = {"xml:lang", "epub:type", "xlink:href", "epub:prefix"}
_CLIMBS = re.compile(r"^\s*[/\\]|(^|[/\\])\.\.([/\\]|$)|%2e%2e|%2f", re.IGNORECASE)
_FETCHING = {"src", "href", "xlink:href", "poster", "srcset", "data", "background", "action", "formaction"}
_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):|^\s*//")
_SUSPECT_CSS = re.compile(r"url\s*\(|@import|expression\s*\(|\\", re.IGNORECASE)  # escapes: refused outright


def _css_loads(css: str) -> bool:
    """Whether CSS written by a book's template could load anything: a
    load tinycss2 reads (pipeline/csscheck.py, whatever its spelling) or,
    stricter, any escape, url( or @import in its text."""
    from .csscheck import loads

    return bool(_SUSPECT_CSS.search(css)) or next(loads(css), None) is not None


def allowed_elements() -> set[str]:
    from .xhtml import MATH_ELEMENTS, TAGS

    return TAGS | _DOCUMENT | MATH_ELEMENTS | _SVG


# Pages a browser reads from the preview's own server, where "/style/…" names
# its route, not a file: no path of theirs is fetched from the disk.
SERVED = frozenset({"preview.html"})


def markup_problems(html: str, xml: bool, fetched: bool = False) -> list[str]:
    """What in a book template's output is refused (empty: nothing): an
    element or attribute outside the allowlist, a handler, a URL with a
    scheme (only `<a href>` may be http, https or mailto; images may be
    data:image), CSS that could load something; where paths are `fetched`
    from the disk, a path out of the book."""
    from lxml import etree

    root = _parse(html, xml)
    if root is None:
        return ["markup that does not parse"]
    found: list[str] = []
    elements = allowed_elements()
    for element in root.iter():
        if not isinstance(element.tag, str):
            if isinstance(element, etree._ProcessingInstruction) and not xml:
                found.append("a processing instruction")
            continue
        name = etree.QName(element).localname
        if name not in elements:
            found.append(f"<{name}>")
            continue
        if name == "style" and _css_loads(element.text or ""):
            found.append("a <style> that loads something (url(), @import) or escapes its CSS")
        if name == "meta" and element.get("http-equiv") is not None:
            found.append("<meta http-equiv>")
        found += _attribute_problems(element, name, fetched)
    return list(dict.fromkeys(found))


def _parse(html: str, xml: bool):
    """The tree of a template's output as its reader builds it, or None if it
    does not parse: XML for an EPUB document; for HTML (the booklet, the
    preview) the HTML5 parser that WeasyPrint uses (tinyhtml5), as browsers
    parse, so markup that libxml2 would read as `<style>` text inside
    `<svg>` (and a browser as an `<img onerror>`) is seen as what it is."""
    from xml.etree import ElementTree

    from lxml import etree

    try:
        if xml:
            return etree.fromstring(html.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True,
                                                                           load_dtd=False))
        import tinyhtml5

        return etree.fromstring(ElementTree.tostring(tinyhtml5.parse(html)))
    except (etree.XMLSyntaxError, etree.ParserError, ValueError, RecursionError):
        return None


def _as_browser_reads(url: str) -> str:
    """A URL as the WHATWG URL parser reads it: leading controls and spaces
    gone, tabs and newlines removed anywhere (`java&#9;script:` is
    `javascript:`), a backslash a slash (`\\\\host` is `//host`)."""
    return re.sub(r"[\t\n\r]", "", url).lstrip("".join(map(chr, range(0x21)))).replace("\\", "/")


def _attribute_problems(element, name: str, fetched: bool) -> list[str]:
    """The attributes of `element` that are refused. Where the paths are
    `fetched` from the disk (the booklet's HTML: WeasyPrint reads every file
    it names, relative to the book folder) one may not be absolute or climb
    with '..'; in an EPUB document such a path names a file of the package,
    in the preview a route of its server, never a file of the machine."""
    from lxml import etree

    found = []
    for key, value in element.attrib.items():
        qname = etree.QName(key)
        prefix = {"http://www.w3.org/XML/1998/namespace": "xml:", "http://www.idpf.org/2007/ops": "epub:",
                  "http://www.w3.org/1999/xlink": "xlink:"}.get(qname.namespace or "", "")
        attribute = prefix + qname.localname
        if qname.namespace and not prefix:
            found.append(f"the attribute {attribute} of <{name}>")
        elif not (attribute in _ATTRIBUTES or attribute in _NAMESPACED or attribute.startswith(("aria-", "data-"))):
            found.append(f"the attribute {attribute} of <{name}>")
        elif attribute in _FETCHING and fetched and name != "a" and _CLIMBS.search(_as_browser_reads(value)):
            found.append(f"<{name} {attribute}=\"{value[:60]}\"> (a path out of the book folder)")
        elif attribute in _FETCHING and _SCHEME.match(_as_browser_reads(value)):
            scheme = (_SCHEME.match(_as_browser_reads(value)).group(1) or "").lower()
            if not ((name == "a" and scheme in ("http", "https", "mailto"))
                    or (attribute == "src" and value.strip().lower().startswith("data:image/"))):
                found.append(f"<{name} {attribute}=\"{value[:60]}\">")
        elif attribute == "style" and _css_loads(value):
            found.append(f"a style attribute of <{name}> that loads something (url(), @import) or escapes")
    return found
