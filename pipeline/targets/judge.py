"""Judging a built EPUB by the targets' rules: each finding located in the
EPUB and, where the author's file made it, in that file (see __init__).
Imported only when a target is checked: it reads the EPUB with lxml."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..diagnostics import Diagnostic, error, warning
from .package import EpubPackage, Sources, Unreadable, line_in, sources_of, toml_key_line
from .rules import Context, Finding, Rule
from .stores import STORES, Target

__all__ = ["check_targets", "sources_of", "target"]


def target(name: str) -> Target:
    if name == "eaa":
        from .eaa import EAA

        return EAA
    return STORES[name]


def check_targets(epub: Path, names: Iterable[str], sources: Sources | None = None, isbn: str = "",
                  shown: Path | None = None) -> list[Diagnostic]:
    """Every target's findings on the EPUB at `epub` (messages name it
    `shown`), as diagnostics; identical ones once."""
    sources = sources or Sources()
    try:
        package = EpubPackage(epub, shown)
        package.opf  # noqa: B018 - read now: an EPUB without one is reported, not raised
    except Unreadable as exc:
        return [error("T010", str(exc), hint="build it again with pipeline build", path=Path(shown or epub))]
    context = Context(isbn=isbn, sources=sources)
    found: dict[str, Diagnostic] = {}
    try:
        for name in names:
            for diagnostic in _target(package, target(name), context):
                found.setdefault(diagnostic.format(), diagnostic)
    except Unreadable as exc:
        return [error("T010", str(exc), hint="build it again with pipeline build", path=package.shown)]
    finally:
        package.close()
    return list(found.values())


def _target(package: EpubPackage, rules_of: Target, context: Context) -> list[Diagnostic]:
    if rules_of.name == "eaa":
        return _eaa(package, rules_of, context)
    return [_diagnostic(package, rules_of, rule, finding, context, rule.code, rule.severity, finding.message)
            for rule in rules_of.rules for finding in rule.findings(package, context)]


def _eaa(package: EpubPackage, rules_of: Target, context: Context) -> list[Diagnostic]:
    """The EAA target: each finding stands between the book and its claim
    (T011, a warning), or contradicts the claim the EPUB makes (T012, an error)."""
    from .eaa import CONFORMANCE, claimed

    claim = claimed(package)
    code, severity = ("T012", "error") if claim else ("T011", "warning")
    prefix = "the EPUB claims conformance, but " if claim else "stands between the book and the EPUB Accessibility claim: "
    found = [_diagnostic(package, rules_of, rule, finding, context, code, severity, prefix + finding.message)
             for rule in rules_of.rules for finding in rule.findings(package, context)]
    if not claim and not any(d.code == "T011" for d in found):
        found.append(warning("T011", f"the EPUB does not claim '{CONFORMANCE}', though nothing found stands "
                                     "in the way", hint="build it again with this version of pipeline",
                             path=package.shown))
    return found


def _diagnostic(package: EpubPackage, rules_of: Target, rule: Rule, finding: Finding, context: Context,
                code: str, severity: str, message: str) -> Diagnostic:
    """A finding as a diagnostic: at the author's file where one made it
    (the place in the EPUB then in the message), else at the EPUB's member."""
    code, severity = finding.code or code, finding.severity or severity
    inside = f"{package.shown}/{finding.member}" if finding.member else ""
    path, line = _source(finding, context.sources)
    if path is not None and inside:
        message += f" (in the EPUB: {finding.member}" + (f":{finding.line})" if finding.line else ")")
    elif inside:
        path, line = Path(inside), finding.line
    else:
        path = package.shown
    hint = (f"{rule.fix}; {rules_of.title}: {rule.says} ({rule.source})" if code != "T013"
            else "install it to check this rule")
    make = error if severity == "error" else warning
    return make(code, f"[{rules_of.name}] {message}", hint=hint, path=path, line=line)


def _source(finding: Finding, sources: Sources) -> tuple[Path | None, int]:
    """The author's file (and line) that made what the finding is about: the
    one the check named, else the manuscript of the chapter it is in."""
    path = finding.source or sources.manuscripts.get(finding.member)
    if path is None:
        return None, 0
    if finding.source_line:
        return path, finding.source_line
    if path.name == "book.toml" and finding.needle:
        return path, toml_key_line(path, finding.needle[0])
    return path, line_in(path, *finding.needle)
