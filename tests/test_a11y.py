"""DAISY Ace, the EPUB accessibility checker: no critical, serious or moderate
violation in the book or the features fixture.

Runs where Ace is installed (`tools/ace.sh --install-only`, or `make
check-a11y`: Ace from npm into .tools/, Debian's chromium); skipped, and says
so, elsewhere. Minor violations are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
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


pytestmark = pytest.mark.skipif(not (ACE.exists() and _chromium()), reason=SKIP_REASON)


def _ace_report():
    spec = importlib.util.spec_from_file_location("ace_report", ROOT / "tools" / "ace_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check(epub: Path, out: Path) -> None:
    run = subprocess.run(["bash", str(ACE_SH), "--silent", "--outdir", str(out), str(epub)],
                         check=False, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0 and (out / "report.json").exists(), \
        f"Ace failed on {epub.name} (exit {run.returncode}):\n{run.stdout}\n{run.stderr}"
    ace_report = _ace_report()
    found = ace_report.violations(ace_report.load(out))
    for violation in found:
        print(ace_report.describe(violation))
    print(f"DAISY Ace on {epub.name}: {ace_report.summary(found)} violation(s)")
    bad = ace_report.failing(found)
    assert not bad, (f"DAISY Ace on {epub.name}: {ace_report.summary(found)} violation(s)\n"
                     + "\n".join(ace_report.describe(v) for v in bad))


def test_book_has_no_serious_accessibility_violation(built_book, tmp_path):
    """The real book, built with its PDF (conftest), so its EPUB has print page numbers and a page-list."""
    _pdf, epub = built_book
    _check(epub, tmp_path / "ace")


def test_features_fixture_has_no_serious_accessibility_violation(tmp_path):
    """Footnotes, a figure, a table, code: the markup the book does not exercise."""
    result = build(FIXTURE, tmp_path / "dist", formats=("epub",))
    assert result.ok, [d.format() for d in result.diagnostics]
    (epub,) = result.outputs
    _check(epub, tmp_path / "ace")


def test_rich_fixture_has_no_serious_accessibility_violation(tmp_path):
    """Math (MathML with alttext), highlighted code, numbered figures and tables, references."""
    result = build(Path(__file__).parent / "fixtures" / "rich", tmp_path / "dist", formats=("epub",))
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    (epub,) = result.outputs
    _check(epub, tmp_path / "ace")
