"""The Typst engine over real input (issue #30): the books of
../shared/corpus-books and the stories of ../shared/corpus-world, built with
`--engine typst` (PDF and EPUB), each checked on what it wrote:

- no error; every letter the EPUB shows is in the PDF's text, and the PDF
  shows no .notdef glyph (a box);
- page labels (roman front matter, then 1, 2, 3), bookmarks for the
  articles, tagged (PDF/UA-1), the reading direction of the language;
- the EPUB beside it EPUBCheck-clean, its page-list the PDF's folios.

By default: both books, the eighteen stories together as one book (each
in its own language), and three stories (Arabic, Japanese, Hindi) each as
its own book. PIPELINE_TYPST_PARITY=full builds each story as its own book.
Skipped without ../shared.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import ContentStream

from pipeline import build
from pipeline.build import BuildOptions
from pipeline.styles import is_rtl

from conftest import SHARED, epubcheck_messages

WORLD = SHARED / "corpus-world"
BOOKS = SHARED / "corpus-books"
# corpus-world folder -> its language tag (as tests/test_world.py)
LANGUAGES = {"ar": "ar", "bn": "bn", "bo": "bo", "ckb": "ckb", "de": "de", "el": "el", "fa": "fa", "hi": "hi",
             "ja": "ja", "km": "km", "ko": "ko", "my": "my", "ru": "ru", "tr": "tr", "ur": "ur", "vi": "vi",
             "yue": "yue", "zh": "zh-Hans"}
FULL = os.environ.get("PIPELINE_TYPST_PARITY") == "full"
SAMPLE = sorted(LANGUAGES) if FULL else ["ar", "hi", "ja"]


def notdef_glyphs(pdf: Path) -> tuple[list[tuple[int, str]], int]:
    """(page, font) of each .notdef glyph (code 0 of a Type0 font: a box)
    the PDF shows, and how many glyphs were read. Typst writes its text as
    literal strings in TJ arrays (tests/pdfglyphs.py reads hex strings),
    read here with pypdf's content-stream parser."""
    reader = PdfReader(pdf)
    bad, checked = [], 0
    for index, page in enumerate(reader.pages):
        fonts = page["/Resources"].get("/Font", {})
        current = None
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                current = operands[0] if fonts[operands[0]].get_object().get("/Subtype") == "/Type0" else None
            elif operator in (b"TJ", b"Tj") and current is not None:
                for item in operands[0] if operator == b"TJ" else [operands[0]]:
                    if isinstance(item, (str, bytes)):
                        raw = item.original_bytes if hasattr(item, "original_bytes") else bytes(item)
                        codes = [raw[i:i + 2] for i in range(0, len(raw) - 1, 2)]
                        checked += len(codes)
                        bad += [(index, str(current)) for code in codes if code == b"\0\0"]
    return bad, checked


def _letters(text: str) -> set[str]:
    return {c for c in unicodedata.normalize("NFKC", text) if c.isalpha()}


def _epub_letters(epub: Path) -> set[str]:
    """The letters of the EPUB's articles (what both formats print)."""
    found: set[str] = set()
    with zipfile.ZipFile(epub) as archive:
        for name in archive.namelist():
            if name.startswith("EPUB/text/") and name.endswith(".xhtml") and "/front_" not in name:
                root = etree.fromstring(archive.read(name))
                body = root.find("{http://www.w3.org/1999/xhtml}body")
                found |= _letters("".join(body.itertext()))
    return found


def _pdf_text(pdf: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        return "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def _bookmark_titles(reader: PdfReader) -> list[str]:
    titles = []

    def walk(items):
        for item in items:
            walk(item) if isinstance(item, list) else titles.append(" ".join(item.title.split()))

    walk(reader.outline)
    return titles


def _check(book: Path, out: Path, language: str) -> None:
    result = build(book, out, BuildOptions(pdf_engine="typst", cache=False))
    assert result.ok, [d.format() for d in result.diagnostics if d.is_error]
    pdf, epub = (next(p for p in result.outputs if p.suffix == suffix) for suffix in (".pdf", ".epub"))
    bad, checked = notdef_glyphs(pdf)
    assert bad == [] and checked > 100, (bad[:5], checked)
    text = _pdf_text(pdf)
    printed, parts = _letters(text), {c for c in unicodedata.normalize("NFD", text) if c.isalpha()}
    # (a letter with a mark may come back decomposed, its mark first in right-to-left text: its base is there)
    missing = {c for c in _epub_letters(epub) - printed
               if not {b for b in unicodedata.normalize("NFD", c) if b.isalpha()} <= parts}
    assert not missing, sorted(missing)[:20]
    reader = PdfReader(pdf)
    root = reader.trailer["/Root"]
    labels = reader.page_labels
    front = labels.index("1")
    assert front and all(re.fullmatch(r"[ivxlc]+", label) for label in labels[:front])
    assert labels[front:] == [str(n) for n in range(1, len(labels) - front + 1)]
    titles = _bookmark_titles(reader)
    articles = [path for path in book.glob("*.md")]
    assert len(titles) > len(articles)  # the book's title, the contents, each article and its sections
    assert "/StructTreeRoot" in root and root["/Lang"] == language
    assert root["/ViewerPreferences"]["/Direction"] == ("/R2L" if is_rtl(language) else "/L2R")
    assert epubcheck_messages(epub) == []
    nav = zipfile.ZipFile(epub).read("EPUB/text/front_nav.xhtml").decode("utf-8")
    listed = re.findall(r'href="[^"]+#page-([0-9]+)"', nav)
    assert listed == labels[front:front + len(listed)] and len(listed) >= len(labels) - front - 1


def _world() -> Path:
    if not WORLD.is_dir():
        pytest.skip("../shared/corpus-world is not available")
    return WORLD


@pytest.mark.parametrize("folder", ["rust-book", "embedded-book"])
def test_corpus_books(folder, tmp_path):
    if not (BOOKS / folder).is_dir():
        pytest.skip("../shared/corpus-books is not available")
    book = tmp_path / "book"
    shutil.copytree(BOOKS / folder, book)
    (book / "book.toml").write_text(f'[book]\ntitle = "{folder}"\nlanguage = "en"\ndate = "2026-01-01"\n',
                                    encoding="utf-8")
    _check(book, tmp_path / "out", "en")


@pytest.mark.parametrize("folder", SAMPLE)
def test_each_story_as_its_own_book(folder, tmp_path):
    book = tmp_path / "book"
    shutil.copytree(_world() / folder, book)
    language = LANGUAGES[folder]
    (book / "book.toml").write_text(f'[book]\ntitle = "World {folder}"\nlanguage = "{language}"\n'
                                    'date = "2026-01-01"\n', encoding="utf-8")
    _check(book, tmp_path / "out", language)


def test_all_stories_in_one_book(tmp_path):
    """Eighteen articles, each in its language (front matter), in an English book."""
    book = tmp_path / "world"
    book.mkdir()
    for number, (folder, language) in enumerate(sorted(LANGUAGES.items()), start=1):
        for story in sorted((_world() / folder).glob("*.md")):
            text = story.read_text(encoding="utf-8")
            (book / f"{number:02d}-{folder}-{story.name}").write_text(f"---\nlanguage: {language}\n---\n{text}",
                                                                      encoding="utf-8")
    (book / "book.toml").write_text('[book]\ntitle = "World"\nlanguage = "en"\ndate = "2026-01-01"\n',
                                    encoding="utf-8")
    _check(book, tmp_path / "out", "en")
