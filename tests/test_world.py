"""The stories of ../shared/corpus-world (18 languages and scripts), each
folder built as a book in its language, and all of them as one book: every
character drawn with a real glyph, EPUBCheck silent, the book's words in its
language (styles/labels.toml: printed, never the English ones), right-to-left
books marked so, ASCII slugs. Skipped where the shared folder is absent."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import SHARED, epub_documents, epubcheck_messages
from pdfglyphs import bad_glyphs
from pipeline import build
from pipeline.styles import english_words, is_rtl, label_language, labels
from test_labels import ENGLISH, TABLES

WORLD = SHARED / "corpus-world"
LANGUAGES = {"ar": "ar", "bn": "bn", "bo": "bo", "ckb": "ckb", "de": "de", "el": "el", "fa": "fa", "hi": "hi",
             "ja": "ja", "km": "km", "ko": "ko", "my": "my", "ru": "ru", "tr": "tr", "ur": "ur", "vi": "vi",
             "yue": "yue", "zh": "zh-Hans"}
# The stories have no front matter (M004: the title is their first heading), and
# their pages are separated by empty `##` headings (R009: left out of the
# contents); nothing else may be said, no glyph warning (R007) above all.
ALLOWED = {"M004", "R009"}


def _world() -> Path:
    if not WORLD.is_dir():
        pytest.skip("../shared/corpus-world is not available")
    return WORLD


def _check_book(result, language: str) -> None:
    assert result.ok, [d.format() for d in result.diagnostics]
    english = english_words(language)  # C008 once, naming the words a table lacks (tests/test_labels.py)
    allowed = ALLOWED | ({"C008"} if english else set())
    assert {d.code for d in result.diagnostics} <= allowed, [d.format() for d in result.diagnostics]
    assert all(d.message.endswith(", ".join(english)) for d in result.diagnostics if d.code == "C008")
    pdf, epub = result.outputs
    assert "untitled" not in pdf.name and pdf.name.isascii()
    bad, checked = bad_glyphs(pdf)
    assert bad == [] and checked > 100, (bad[:5], checked)
    assert epubcheck_messages(epub) == []
    documents = epub_documents(epub)
    assert not any("untitled" in name for name in documents)
    nav = "".join(documents["EPUB/text/front_nav.xhtml"].itertext())
    assert labels(language)["contents"] in nav
    direction = "rtl" if is_rtl(language) else "ltr"
    assert {root.get("dir") for root in documents.values()} == {direction}
    opf = zipfile.ZipFile(epub).read("EPUB/content.opf").decode()
    assert ('page-progression-direction="rtl"' in opf) == (direction == "rtl")
    root = PdfReader(pdf).trailer["/Root"]
    assert ("/ViewerPreferences" in root and root["/ViewerPreferences"]["/Direction"] == "/R2L") == \
        (direction == "rtl")


@pytest.fixture(scope="module")
def story_books(tmp_path_factory):
    """Each folder built once as a book in its language (with a publisher
    and rights, whose words the notice page prints), for the tests below."""
    built = {}

    def book_of(folder: str):
        if folder not in built:
            book = tmp_path_factory.mktemp(folder) / folder
            shutil.copytree(_world() / folder, book)
            (book / "book.toml").write_text(f'[book]\ntitle = "World {folder}"\nlanguage = "{LANGUAGES[folder]}"\n'
                                            'date = "2026-01-01"\npublisher = "P"\nrights = "R"\n', encoding="utf-8")
            built[folder] = build(book, book.parent / "out")
        return built[folder]
    return book_of


@pytest.mark.parametrize("folder", sorted(LANGUAGES))
def test_each_language_builds_as_its_own_book(folder, story_books):
    _check_book(story_books(folder), LANGUAGES[folder])


# Words the booklet of a story prints whatever the story: the contents and the notice page.
PRINTED = ("contents", "notice", "publisher", "rights", "made_with", "identifier")


@pytest.mark.parametrize("folder", sorted(LANGUAGES))
def test_the_stories_print_their_language_s_words_not_english_ones(folder, story_books):
    language = LANGUAGES[folder]
    result = story_books(folder)
    assert result.ok, [d.format() for d in result.diagnostics]
    c008 = [d for d in result.diagnostics if d.code == "C008"]
    assert len(c008) == (1 if english_words(language) else 0)
    text = "\n".join(page.extract_text() for page in PdfReader(result.outputs[0]).pages)
    table = {name.lower(): words for name, words in TABLES.items()}[label_language(language)]
    for key in PRINTED:
        if key in table:  # its source gives it: never English
            assert ENGLISH[key] not in text, (folder, key)
    nav = zipfile.ZipFile(result.outputs[1]).read("EPUB/text/front_nav.xhtml").decode()
    assert f">{labels(language)['contents']}<" in nav, folder  # (the PDF's text of Khmer drops some letters)
    if folder not in ("km", "my", "bo"):
        assert _letters(labels(language)["contents"]) in _letters(text), folder


def _letters(text: str) -> str:
    """Base letters only: text extraction drops or reorders some vowel signs
    of complex scripts (Khmer, Myanmar)."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFC", text) if unicodedata.category(c).startswith("L"))


def test_all_languages_build_together_each_article_in_its_language(tmp_path):
    """One book of 18 articles (laid out in chunks), each story with a
    `language` key of its own in front matter."""
    book = tmp_path / "world"
    book.mkdir()
    for number, (folder, language) in enumerate(sorted(LANGUAGES.items()), start=1):
        for story in sorted((_world() / folder).glob("*.md")):
            text = story.read_text(encoding="utf-8")
            (book / f"{number:02d}-{folder}-{story.name}").write_text(f"---\nlanguage: {language}\n---\n{text}",
                                                                      encoding="utf-8")
    (book / "book.toml").write_text('[book]\ntitle = "World"\nlanguage = "en"\ndate = "2026-01-01"\n',
                                    encoding="utf-8")
    result = build(book, tmp_path / "out")
    assert result.ok and {d.code for d in result.diagnostics} <= ALLOWED - {"M004"}, \
        [d.format() for d in result.diagnostics]
    pdf, epub = result.outputs
    bad, checked = bad_glyphs(pdf)
    assert bad == [] and checked > 2000, (bad[:5], checked)
    assert epubcheck_messages(epub) == []
    documents = epub_documents(epub)
    articles = {root.get("lang"): root.get("dir") for root in documents.values()
                if root.find(".//{http://www.w3.org/1999/xhtml}section[@class='article']") is not None}
    assert set(articles) == set(LANGUAGES.values())
    assert {lang for lang, direction in articles.items() if direction == "rtl"} == {"ar", "ckb", "fa", "ur"}
    slugs = [name for name in documents if name.startswith("EPUB/text/") and "front_" not in name]
    assert len(slugs) == len(set(slugs)) >= 18 and not any("untitled" in name for name in slugs)
