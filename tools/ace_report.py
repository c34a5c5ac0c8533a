#!/usr/bin/env python3
"""Judge DAISY Ace reports: summarize them, fail on violations that matter.

    python tools/ace_report.py REPORT [REPORT ...]

Each REPORT is an Ace `report.json`, or the folder Ace wrote it to (`--outdir`).
Prints every violation (impact, rule, file, Ace's description, the offending
markup and the help page) and a count by impact; exits 1 when any report has a
critical, serious or moderate violation (or one with no impact stated), 0 when
there are at most minor ones. The test suite imports `violations()` too.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

IMPACTS = ("critical", "serious", "moderate", "minor")
FAILING = frozenset({"critical", "serious", "moderate", "unknown"})


def load(path: Path | str) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / "report.json"
    return json.loads(path.read_text(encoding="utf-8"))


def violations(report: dict) -> list[dict]:
    """Every failed assertion of an Ace report, flattened.

    Ace's report.json nests them: `assertions` holds one entry per file (the
    package document, each content document), whose own `assertions` are the
    failed checks, by Ace itself (e.g. epub-lang) or by axe-core (e.g. image-alt).
    """
    found = []
    for subject in report.get("assertions", []):
        where = subject.get("earl:testSubject", {}).get("url", "?")
        for assertion in subject.get("assertions", []):
            result = assertion.get("earl:result", {})
            if result.get("earl:outcome", "fail") != "fail":
                continue
            test = assertion.get("earl:test", {})
            found.append({
                "impact": test.get("earl:impact") or "unknown",
                "rule": test.get("dct:title", "?"),
                "file": where,
                "by": assertion.get("earl:assertedBy", "?"),
                "test": test.get("dct:description", ""),
                "result": result.get("dct:description", ""),
                "css": result.get("earl:pointer", {}).get("css", []),
                "html": result.get("html", ""),
                "help": test.get("help", {}).get("url", ""),
                "fix": test.get("help", {}).get("dct:description", ""),
            })
    order = {impact: index for index, impact in enumerate(("unknown",) + IMPACTS)}
    return sorted(found, key=lambda v: (order.get(v["impact"], 0), v["file"], v["rule"]))


def failing(found: list[dict]) -> list[dict]:
    return [v for v in found if v["impact"] in FAILING]


def describe(violation: dict) -> str:
    lines = [(f"{violation['impact'].upper()} {violation['rule']} in {violation['file']} "
              f"(by {violation['by']}): {violation['test']}")]
    for text in (violation["result"], violation["fix"] and f"fix: {violation['fix']}"):
        if text:
            lines += [f"    {line}" for line in text.splitlines()]
    if violation["css"]:
        lines.append(f"    at: {', '.join(dict.fromkeys(violation['css']))}")
    if violation["html"]:
        lines.append(f"    html: {violation['html']}")
    if violation["help"]:
        lines.append(f"    help: {violation['help']}")
    return "\n".join(lines)


def summary(found: list[dict]) -> str:
    counts = Counter(v["impact"] for v in found)
    parts = [f"{counts[impact]} {impact}" for impact in ("unknown",) + IMPACTS
             if counts[impact] or impact != "unknown"]
    return ", ".join(parts)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    worst = 0
    for path in argv:
        report = load(path)
        epub = Path(report.get("earl:testSubject", {}).get("url", "")).name
        found = violations(report)
        print(f"DAISY Ace report {path}" + (f" on {epub}" if epub else ""))
        for violation in found:
            print(describe(violation))
        bad = failing(found)
        verdict = "FAIL" if bad else "ok"
        print(f"{verdict}: {summary(found)} violation(s)\n")
        worst = max(worst, 1 if bad else 0)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
