"""DAISY Ace, the EPUB accessibility checker: no critical, serious or moderate
violation in the book or the fixtures, and a known-bad EPUB (an image without
alt text) does get one, so a quiet report means Ace looked.

Every report is read only if it has the shape we know (an EARL report with
one subject per content document, each with an outcome): a report of another
shape (a new Ace, an empty run) fails instead of reading as "no violation".

Runs where Ace is installed (`tools/ace.sh --install-only`, or `make
check-a11y`: Ace from npm into .tools/, Debian's chromium); skipped, and says
so, elsewhere (.ci/run fails when it cannot install them). Minor violations
are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from pipeline import build

ROOT = Path(__file__).resolve().parent.parent
ACE_SH = ROOT / "tools" / "ace.sh"
ACE = ROOT / ".tools" / "node_modules" / ".bin" / "ace-cli"
FIXTURE = Path(__file__).parent / "fixtures" / "features"
SKIP_REASON = "DAISY Ace is not installed: run make check-a11y (needs npm and Debian's chromium)"


def _chromium() -> str | None:
    path = os.environ.get("PUPPETEER_EXECUTABLE_PATH")
    return path if path and os.access(path, os.X_OK) else shutil.which("chromium")


needs_ace = pytest.mark.skipif(not (ACE.exists() and _chromium()), reason=SKIP_REASON)


def _ace_report():
    spec = importlib.util.spec_from_file_location("ace_report", ROOT / "tools" / "ace_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_ace(epub: Path, out: Path) -> dict:
    """Ace's report on `epub`, once its shape is known (`shape_problems`)."""
    run = subprocess.run(["bash", str(ACE_SH), "--silent", "--outdir", str(out), str(epub)],
                         check=False, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0 and (out / "report.json").exists(), \
        f"Ace failed on {epub.name} (exit {run.returncode}):\n{run.stdout}\n{run.stderr}"
    report = _ace_report().load(out)
    problems = shape_problems(report, epub)
    assert not problems, f"Ace's report on {epub.name} is not of the shape this test reads: {problems}"
    return report


def _check(epub: Path, out: Path) -> None:
    ace_report = _ace_report()
    found = ace_report.violations(_run_ace(epub, out))
    for violation in found:
        print(ace_report.describe(violation))
    print(f"DAISY Ace on {epub.name}: {ace_report.summary(found)} violation(s)")
    bad = ace_report.failing(found)
    assert not bad, (f"DAISY Ace on {epub.name}: {ace_report.summary(found)} violation(s)\n"
                     + "\n".join(ace_report.describe(v) for v in bad))


OUTCOMES = ("pass", "fail", "cantTell", "inapplicable", "untested")


def shape_problems(report: object, epub: Path) -> list[str]:
    """What in `report` is not the EARL report Ace 1.x writes: the report's
    outcome; one subject per content document of `epub`, each with its
    outcome and its list of failed checks (`earl:test` with an impact); and
    a report that fails exactly when one of its subjects does."""
    if not isinstance(report, dict) or report.get("@type") != "earl:report":
        return ["not an earl:report"]
    problems = []
    outcome = (report.get("earl:result") or {}).get("earl:outcome")
    if outcome not in OUTCOMES:
        problems.append(f"report outcome {outcome!r}")
    subjects = report.get("assertions")
    if not isinstance(subjects, list) or not subjects:
        return problems + ["no subjects (assertions)"]
    checked = set()
    for subject in subjects:
        url = (subject.get("earl:testSubject") or {}).get("url") if isinstance(subject, dict) else None
        if not url or (subject.get("earl:result") or {}).get("earl:outcome") not in OUTCOMES \
                or not isinstance(subject.get("assertions"), list):
            problems.append(f"subject of unknown shape: {str(subject)[:120]}")
            continue
        checked.add(url.rsplit("/", 1)[-1])
        for assertion in subject["assertions"]:
            test, result = assertion.get("earl:test"), assertion.get("earl:result")
            if not isinstance(test, dict) or not test.get("earl:impact") or not isinstance(result, dict) \
                    or result.get("earl:outcome") not in OUTCOMES:
                problems.append(f"assertion of unknown shape in {url}: {str(assertion)[:120]}")
    with zipfile.ZipFile(epub) as archive:
        documents = {name.rsplit("/", 1)[-1] for name in archive.namelist() if name.endswith(".xhtml")}
    if documents - checked:
        problems.append(f"documents Ace did not report on: {sorted(documents - checked)}")
    failed = any((s.get("earl:result") or {}).get("earl:outcome") == "fail" for s in subjects if isinstance(s, dict))
    if (outcome == "fail") != failed:
        problems.append(f"report outcome {outcome!r} but a subject failed: {failed}")
    return problems


@pytest.fixture(scope="module")
def features_epub(tmp_path_factory) -> Path:
    result = build(FIXTURE, tmp_path_factory.mktemp("features"), formats=("epub",))
    assert result.ok, [d.format() for d in result.diagnostics]
    (epub,) = result.outputs
    return epub


@needs_ace
def test_book_has_no_serious_accessibility_violation(built_book, tmp_path):
    """The real book, built with its PDF (conftest), so its EPUB has print page numbers and a page-list."""
    _pdf, epub = built_book
    _check(epub, tmp_path / "ace")


@needs_ace
def test_features_fixture_has_no_serious_accessibility_violation(features_epub, tmp_path):
    """Footnotes, a figure, a table, code: the markup the book does not exercise."""
    _check(features_epub, tmp_path / "ace")


@needs_ace
def test_an_image_without_alt_text_is_a_violation_ace_reports(features_epub, tmp_path):
    """The known-bad control: the features fixture's EPUB with its chart's
    alt attribute taken out must give a critical image-alt violation."""
    bad = tmp_path / "no-alt.epub"
    with zipfile.ZipFile(features_epub) as source, zipfile.ZipFile(bad, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("footnotes-and-figures.xhtml"):
                data, count = re.subn(rb'(<img[^>]*?) alt="[^"]*"', rb"\1", data)
                assert count == 1
            target.writestr(info, data)
    ace_report = _ace_report()
    found = ace_report.failing(ace_report.violations(_run_ace(bad, tmp_path / "ace")))
    assert [(v["impact"], v["rule"], v["file"].rsplit("/", 1)[-1]) for v in found] == [
        ("critical", "image-alt", "footnotes-and-figures.xhtml")]


@needs_ace
def test_rich_fixture_has_no_serious_accessibility_violation(tmp_path):
    """Math (MathML with alttext), highlighted code, numbered figures and tables, references."""
    result = build(Path(__file__).parent / "fixtures" / "rich", tmp_path / "dist", formats=("epub",))
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    (epub,) = result.outputs
    _check(epub, tmp_path / "ace")


def test_a_report_of_unexpected_shape_is_not_read_as_clean(features_epub):
    """Runs without Ace: what `shape_problems` refuses (an empty report, one
    without subjects, one that left a document out, one whose failed check
    has no impact), so an Ace that writes another shape fails the tests
    above instead of passing them."""
    document = "footnotes-and-figures.xhtml"
    with zipfile.ZipFile(features_epub) as archive:
        names = [n.rsplit("/", 1)[-1] for n in archive.namelist() if n.endswith(".xhtml")]

    def subject(name, outcome="pass", assertions=()):
        return {"earl:testSubject": {"url": f"text/{name}"}, "earl:result": {"earl:outcome": outcome},
                "assertions": list(assertions)}

    good = {"@type": "earl:report", "earl:result": {"earl:outcome": "pass"},
            "assertions": [subject(name) for name in names]}
    assert shape_problems(good, features_epub) == []
    failed = {"earl:test": {"earl:impact": "critical"}, "earl:result": {"earl:outcome": "fail"}}
    broken = [{}, {"@type": "earl:report", "earl:result": {"earl:outcome": "pass"}, "assertions": []},
              {**good, "assertions": good["assertions"][1:]},
              {**good, "assertions": [subject(n, "fail", [{"earl:result": {"earl:outcome": "fail"}}])
                                      if n == document else subject(n) for n in names]},
              {**good, "assertions": [subject(n, "fail", [failed]) if n == document else subject(n)
                                      for n in names]}]  # a failing subject in a passing report
    assert all(shape_problems(report, features_epub) for report in broken)
