"""The European Accessibility Act target: what stands between a book and
the claim "EPUB Accessibility 1.1 - WCAG 2.2 Level AA" in its package
(`dcterms:conformsTo`, with `a11y:certifiedBy`), which the W3C's mapping of
EPUB Accessibility to the EAA asks an e-book sold in the EU to make.

Where the claim is judged, and why there:
- The build makes the claim (export/epub.py) when the static checks pass
  on the documents it writes (`blockers`): every image has alt text or is
  marked decorative (alt="" with role="presentation"), headings do not skip
  a level, and someone certifies it ([accessibility] certified-by, else
  [book] publisher, else the authors: a self-published book is certified by
  those who publish it). These need only the documents, cost nothing, and
  are what a book's author controls; the rest of the markup is ours, and
  the tests hold it to EPUBCheck and DAISY Ace.
- The build does not run EPUBCheck (a JVM, seconds) or Ace (a browser, a
  minute), and a build must not depend on a browser being installed.
  `pipeline check --target eaa` runs both on the built EPUB, with the static
  checks and the discovery metadata, and reports what stands between the
  book and the claim (T011, a warning, when the EPUB makes no claim), or a
  claim the checks contradict (T012, an error). Where Ace or EPUBCheck is
  not installed it says so (T013): the claim then rests on the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lxml import etree

from . import rules
from .package import XHTML_NS, EpubPackage
from .rules import Context, Finding, Rule
from .stores import Target

CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"
A11Y = "W3C, EPUB Accessibility 1.1 (Recommendation, 2023), §2 discovery metadata, §4 conformance reporting"
EAA_MAPPING = "W3C, EPUB Accessibility – EU Accessibility Act Mapping (Group Note)"
DISCOVERY = ("schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
             "schema:accessibilityHazard", "schema:accessibilitySummary")
DECORATIVE_ROLES = frozenset({"presentation", "none"})


@dataclass(frozen=True)
class Blocker:
    """A problem of one content document that forbids the claim: where, and
    text to find its place in the manuscript by."""

    kind: str  # "alt" or "heading"
    member: str
    line: int
    message: str
    needle: tuple[str, ...] = ()


def has_text_alternative(image: etree._Element) -> bool:
    """Alt text, or marked decorative (alt="" and role="presentation" or "none")."""
    alt = image.get("alt")
    return bool(alt and alt.strip()) or (alt == "" and image.get("role", "") in DECORATIVE_ROLES)


def blockers(documents: Iterable[tuple[str, etree._Element]]) -> list[Blocker]:
    """What the static checks find in these content documents (name, root)."""
    found = []
    for name, root in documents:
        for image in root.iter(f"{{{XHTML_NS}}}img"):
            if not has_text_alternative(image):
                source = image.get("src", "")
                found.append(Blocker("alt", name, image.sourceline or 0,
                                     f"image {source} has no alt text and is not marked decorative",
                                     (source.rsplit("/", 1)[-1],)))
        found += _skipped_headings(name, root)
    return found


def _skipped_headings(name: str, root: etree._Element) -> Iterator[Blocker]:
    previous = None
    for element in root.iter(*(f"{{{XHTML_NS}}}h{level}" for level in range(1, 7))):
        level = int(element.tag[-1])
        if previous is not None and level > previous + 1:
            text = " ".join("".join(element.itertext()).split())
            yield Blocker("heading", name, element.sourceline or 0,
                          f"heading '{text[:60]}' is <h{level}> after <h{previous}>: a level is skipped",
                          (text[:40],) if text else ())
        previous = level


def certifier(config) -> str:
    """Who certifies the claim: [accessibility] certified-by, else the publisher, else the authors."""
    return (getattr(config, "accessibility_certified_by", "") or config.publisher
            or ", ".join(config.authors)).strip()


# The target's rules: each yields what stands between the EPUB and the claim. -----------------------------------


def _static(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    spine = _spine(epub)
    for blocker in blockers((name, epub.documents[name]) for name in spine if name in epub.documents):
        if blocker.kind == rule.limit:
            yield Finding(blocker.message, blocker.member, blocker.line, needle=blocker.needle)


def _spine(epub: EpubPackage) -> list[str]:
    ids = {item.id: item.name for item in epub.items}
    names = [ids.get(ref.get("idref", ""), "") for ref in epub.opf.iter("{http://www.idpf.org/2007/opf}itemref")]
    navs = [item.name for item in epub.items if "nav" in item.properties]
    return list(dict.fromkeys([name for name in names if name] + navs))


def _discovery(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    metadata = epub.opf.find("{http://www.idpf.org/2007/opf}metadata")
    line = metadata.sourceline if metadata is not None else 0
    for name in DISCOVERY:
        if not epub.properties(name):
            yield Finding(f"the package has no {name} metadata", epub.opf_name, line)


def _claim(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    claims = [(m.text or "").strip() for m in epub.properties("dcterms:conformsTo")]
    metadata = epub.opf.find("{http://www.idpf.org/2007/opf}metadata")
    line = metadata.sourceline if metadata is not None else 0
    if claims and CONFORMANCE not in claims:
        yield Finding(f"the package claims '{claims[0]}', not '{CONFORMANCE}'", epub.opf_name, line)
    if claims and not any((m.text or "").strip() for m in epub.properties("a11y:certifiedBy")):
        yield Finding("the package claims conformance but names no a11y:certifiedBy", epub.opf_name, line,
                      source=getattr(context.sources, "config", None), needle=("publisher",))


def _ace(epub: EpubPackage, context: Context, rule: Rule) -> Iterator[Finding]:
    from .validators import AceFailed, ace

    try:
        found = ace(epub.path)
    except AceFailed as exc:
        yield Finding(f"DAISY Ace could not check the EPUB: {exc}", code="T013", severity="warning")
        return
    if found is None:
        yield Finding("DAISY Ace is not installed (tools/ace.sh --install-only, or set PIPELINE_ACE); the claim "
                      "was not checked by it", code="T013", severity="warning")
        return
    for violation in found:
        if violation.failing:
            html = f": {violation.html[:80]}" if violation.html else ""
            yield Finding(f"DAISY Ace: {violation.impact} {violation.rule} ({violation.text}){html}",
                          _member(epub, violation.member))


def _member(epub: EpubPackage, url: str) -> str:
    """An Ace subject URL as a member name of the EPUB."""
    for name in epub.names:
        if url and (url == name or url.endswith("/" + name) or name.endswith("/" + url)):
            return name
    return ""


EAA = Target("eaa", "European Accessibility Act (EPUB Accessibility 1.1, WCAG 2.2 AA)", (
    Rule("alt-text", "every image has alt text, or is marked decorative (alt=\"\", role=\"presentation\")",
         f"{A11Y}; WCAG 2.2 1.1.1", "T011", _static, "warning", "alt",
         "write what the image shows: ![What it shows](image.png)"),
    Rule("headings", "headings do not skip a level", f"{A11Y}; WCAG 2.2 1.3.1 (as Ace and the EAA mapping read it)",
         "T011", _static, "warning", "heading", "give the headings in order (## then ###)"),
    Rule("discovery-metadata", "accessMode, accessModeSufficient, accessibilityFeature, accessibilityHazard, "
         "accessibilitySummary", A11Y, "T011", _discovery, "warning", None, "build the EPUB with pipeline"),
    Rule("claim", f"dcterms:conformsTo '{CONFORMANCE}' with a11y:certifiedBy", f"{A11Y}; {EAA_MAPPING}",
         "T011", _claim, "warning", None, "set [accessibility] certified-by (or [book] publisher), and build again"),
    Rule("epubcheck", "passes EPUBCheck", A11Y + " (an EPUB 3 publication first)", "T011", rules.epubcheck_clean,
         "warning", None, "fix what EPUBCheck reports; report it if pipeline made it"),
    Rule("ace", "DAISY Ace reports nothing above minor", f"{EAA_MAPPING}; DAISY Ace (daisy.github.io/ace)",
         "T011", _ace, "warning", None, "fix what Ace reports; report it if pipeline made it"),
))


def claimed(epub: EpubPackage) -> bool:
    """Whether the package makes a conformance claim."""
    return bool(epub.properties("dcterms:conformsTo"))
