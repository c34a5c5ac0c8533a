"""TeX math -> MathML (for the EPUB) and SVG (for the PDF), made once, here.

The Markdown step (text/markdown.py, mdit-py-plugins' dollarmath) leaves each
formula as its TeX source in `<span class="math inline">` or `<div class=
"math display">`. `typeset` turns that source into the two forms the
exporters need, so that no exporter parses TeX:

- MathML by latex2mathml, filtered through an allowlist (the TeX is the
  author's, so is what a converter makes of it), with the TeX as `alttext`;
- an SVG by ziamath from that same MathML, drawn with the STIX Two Math font
  ziamath ships (SIL OFL), as paths: WeasyPrint does not render MathML, and
  an SVG of paths needs no font in the PDF and puts no TeX in its text.

latex2mathml forgives much (`\\frac{1}{2` is a fraction, `\\foo` an
identifier), so unbalanced braces and unknown commands are checked here
and reported like the converter's own errors: the build goes on with the
TeX shown as code.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from ..model import Formula
from ..resources import deadline
from ..xhtml import MATH_ATTRIBUTES, MATH_ELEMENTS

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
EM = 20.0  # ziamath's base size (SVG units per em); sizes are given in em
MAX_TEX = 4000  # characters of one formula (ziamath's time grows faster than its length)
MAX_SECONDS = 3.0  # to draw one formula

_COMMAND = re.compile(r"\\[A-Za-z]+")


class TexError(ValueError):
    """The TeX cannot be typeset; the message says what is wrong."""


@dataclass(frozen=True)
class Typeset:
    mathml: etree._Element  # <math> in the MathML namespace, alttext set
    formula: Formula  # the same formula as an SVG, for the PDF


def typeset(tex: str, display: bool) -> Typeset:
    """MathML and SVG of `tex`, or TexError. A formula met again (the same
    TeX, the same display) is not drawn again."""
    made = _typeset(tex.strip(), display)
    if isinstance(made, TexError):
        raise TexError(str(made))
    markup, formula = made
    return Typeset(etree.fromstring(markup), formula)


@lru_cache(maxsize=4096)
def _typeset(tex: str, display: bool) -> tuple[str, Formula] | TexError:
    try:
        if not tex:
            raise TexError("the formula is empty")
        if len(tex) > MAX_TEX:
            raise TexError(f"the formula has {len(tex):,} characters; the limit is {MAX_TEX:,}")
        _check_braces(tex)
        mathml = to_mathml(tex, display)
        return etree.tostring(mathml, encoding="unicode"), to_formula(mathml, tex, display)
    except TexError as exc:
        return exc


# What pandoc's and Quarto's authors write that latex2mathml 3.81 does not
# read: `aligned` (read as `align*`, which it draws the same way inside a
# display), `alignedat{n}`, and numbering commands that mean nothing here
# (numbers come from `{#eq-id}`: xref.py).
_REWRITES = (
    (re.compile(r"\\(begin|end)\{aligned\}"), r"\\\1{align*}"),
    (re.compile(r"\\begin\{alignedat\}\{\d+\}"), r"\\begin{align*}"),
    (re.compile(r"\\end\{alignedat\}"), r"\\end{align*}"),
    (re.compile(r"\\label\{[^{}]*\}|\\nonumber\b|\\notag\b"), ""),
)


def _for_converter(tex: str) -> str:
    for pattern, replacement in _REWRITES:
        tex = pattern.sub(replacement, tex)
    return tex


def to_mathml(tex: str, display: bool) -> etree._Element:
    from latex2mathml.converter import convert

    try:
        markup = convert(_for_converter(tex), display="block" if display else "inline")
        root = etree.fromstring(markup, etree.XMLParser(resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, RecursionError):
        why = " (an & outside a matrix or an alignment?)" if "&" in tex else ""
        raise TexError(f"the formula cannot be converted{why}") from None
    except Exception as exc:  # latex2mathml's errors share no base class
        raise TexError(_explain(exc)) from None
    _allow(root)
    unknown = sorted({text for node in root.iter() if isinstance(node.tag, str)
                      for text in _COMMAND.findall(node.text or "")})
    if unknown:
        raise TexError(f"unknown TeX command{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    root.set("alttext", tex)
    return root


def to_formula(mathml: etree._Element, tex: str, display: bool) -> Formula:
    """The SVG of a <math> element, with its size and depth in em."""
    with warnings.catch_warnings():  # ziamath 0.13 finds its font with a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        import ziamath

    try:
        with deadline(MAX_SECONDS, _TooSlow):  # ziamath's time doubles with each level of nesting
            drawing = ziamath.Math(etree.tostring(mathml, encoding="unicode"), size=EM, margin=0)
            svg = drawing.svg()
            box = drawing.node.bbox
    except _TooSlow:
        raise TexError(f"the formula takes more than {MAX_SECONDS:g} s to draw (nested too deeply?); "
                       "simplify it or split it") from None
    except Exception as exc:  # ziamath raises whatever its nodes raise
        raise TexError(f"the formula cannot be drawn ({exc.__class__.__name__})") from None
    return Formula(tex=tex, display=display, svg=svg, width=round((box.xmax - box.xmin) / EM, 3),
                   height=round((box.ymax - box.ymin) / EM, 3), depth=round(-box.ymin / EM, 3))


class _TooSlow(BaseException):
    """Not an Exception: ziamath's own handlers must not swallow it."""


def _check_braces(tex: str) -> None:
    """latex2mathml reads `\\frac{1}{2` and `x}` without complaint; TeX would not."""
    depth, escaped = 0, False
    for character in tex:
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "{":
            depth += 1
        elif character == "}":
            depth -= 1
            if depth < 0:
                raise TexError("a '}' closes no '{'")
    if depth:
        raise TexError(f"{depth} '{{' never closed" if depth > 1 else "a '{' is never closed")


def _explain(exc: Exception) -> str:
    """latex2mathml's exception names say the problem ('MissingSuperScriptOrSubscriptError')."""
    name = exc.__class__.__name__.removesuffix("Error")
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()
    return f"{words}{': ' + str(exc) if str(exc) else ''}"


def _allow(root: etree._Element) -> None:
    """Keep only allowlisted MathML elements and attributes."""
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or etree.QName(element).namespace != MATHML_NS \
                or etree.QName(element).localname not in MATH_ELEMENTS:
            if element is root:
                raise TexError("the formula cannot be converted")
            element.getparent().remove(element)  # the tail too: a converter's text, not the author's
            continue
        for name in list(element.attrib):
            if name not in MATH_ATTRIBUTES:
                del element.attrib[name]
