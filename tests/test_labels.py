"""styles/labels.toml, the book's fixed words in 60+ languages (#31): every
table complete or declaring the words it leaves English (`fallback`), every
table naming its sources and which words each gave, C008 naming exactly the
English words once a book, and the corpus-world stories printing their
language's words, not English ones (skipped where ../shared is absent)."""

from __future__ import annotations

import re
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import SHARED
from pipeline import build
from pipeline.load.config import load_config
from pipeline.styles import english_words, label_language, labels, styles_dir

LABELS = styles_dir() / "labels.toml"
TABLES = tomllib.loads(LABELS.read_text(encoding="utf-8"))
ENGLISH = TABLES["en"]
WORLD = SHARED / "corpus-world"
LICENCES = ("(MIT)", "(Apache-2.0)", "(public domain)", "(BSD-2-Clause)")


def _is_word(english: str) -> bool:
    """A word, not punctuation alone ("{label}: " is not one)."""
    return bool(re.search(r"[A-Za-z]", re.sub(r"\{\w+\}", "", english)))


def _comments_above() -> dict[str, list[str]]:
    """Each table's name -> the comment lines just above its header."""
    found, block = {}, []
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        header = re.fullmatch(r'\["?([A-Za-z-]+)"?\]', line)
        if header:
            found[header.group(1)] = block
        block = block + [line] if line.startswith("#") else []
    return found


def test_the_file_loads_and_has_sixty_languages_or_more():
    assert len(TABLES) >= 60, sorted(TABLES)
    for language, table in TABLES.items():
        assert set(table) - {"fallback"} <= set(ENGLISH), (language, set(table) - set(ENGLISH))
        assert all(isinstance(word, str) and word.strip() for key, word in table.items() if key != "fallback"), language
        assert label_language(language) == language.lower()  # every table is reachable by its own tag


def test_every_table_is_complete_or_declares_its_english_words():
    for language, table in TABLES.items():
        if language == "en":
            assert "fallback" not in table
            continue
        missing = [key for key, english in ENGLISH.items() if key not in table and _is_word(english)]
        assert table.get("fallback") == missing, (language, set(missing) ^ set(table.get("fallback", ())))
        assert english_words(language) == tuple(missing)


def test_every_table_names_its_sources_and_what_each_gave():
    comments = _comments_above()
    assert set(comments) == set(TABLES)
    for language, table in TABLES.items():
        said = "\n".join(comments[language])
        assert "Source" in said, language
        lines = [line for line in comments[language] if any(licence in line for licence in LICENCES)]
        given = [word for line in lines for word in line.split(": ", 1)[1].split(", ")]
        assert all(re.search(r" \S+/\S+\.(yml|txt|py|js)[ :]", line) for line in lines), lines  # the file
        if "written for this project" in said:  # (bo took a few words from Typst)
            assert set(given) <= set(table), (language, set(given) - set(table))
            continue
        assert lines, language  # a licensed source, with its file
        assert sorted(given) == sorted(set(table) - {"fallback"}), (language, set(given) ^ set(table))


def test_languages_by_script_and_macrolanguage():
    assert label_language("sr-Latn-RS") == "sr-latn" and label_language("sr-RS") == "sr"
    assert labels("sr-Latn")["contents"] != labels("sr")["contents"]
    assert label_language("prs") == "fa" and label_language("fa-AF") == "fa"  # Dari
    assert label_language("pt-BR") == "pt" and label_language("zh-TW") == "zh-hant"
    assert label_language("ps") is None and label_language("mnw") is None  # no source has their words yet


def _config(tmp_path: Path, language: str, extra: str = ""):
    (tmp_path / "book.toml").write_text(f'[book]\ntitle = "T"\nlanguage = "{language}"\n{extra}', encoding="utf-8")
    return load_config(tmp_path / "book.toml", "T")


def test_c008_names_exactly_the_english_words_once(tmp_path):
    config, found = _config(tmp_path, "gu")
    [warning] = found
    assert (warning.code, warning.line) == ("C008", 3)
    named = warning.message.split("printed in English: ", 1)[1].split(", ")
    assert named == list(english_words("gu")) and "table" not in named and "contents" in named
    assert "[labels]" in warning.hint and 'references = "…"' in warning.hint
    lines = "".join(f'{key} = "x"\n' for key in named[:-1])
    config, found = _config(tmp_path, "gu", f"\n[labels]\n{lines}")
    [warning] = found
    assert warning.message.endswith(f"printed in English: {named[-1]}")
    config, found = _config(tmp_path, "gu", f'\n[labels]\n{lines}{named[-1]} = "x"\n')
    assert found == []
    assert _config(tmp_path, "de")[1] == [] and _config(tmp_path, "prs")[1] == []
    [warning] = _config(tmp_path, "ps")[1]  # no table: one line, not forty words
    assert warning.code == "C008" and "no words for the language 'ps'" in warning.message


def test_a_word_falls_back_alone_never_the_table():
    words = labels("gu")
    assert words["table"] == "ટેબલ {n}" and words["contents"] == "Contents"
    assert labels("ur")["contents"] == "فہرست" and labels("ur")["callout_note"] == "Note"


# corpus-world folder -> its language tag (as tests/test_world.py)
WORLD_LANGUAGES = {"ar": "ar", "bn": "bn", "bo": "bo", "ckb": "ckb", "de": "de", "el": "el", "fa": "fa", "hi": "hi",
                   "ja": "ja", "km": "km", "ko": "ko", "my": "my", "ru": "ru", "tr": "tr", "ur": "ur", "vi": "vi",
                   "yue": "yue", "zh": "zh-Hans"}
# Words the booklet of a story prints whatever the story: the contents and
# the notice page.
PRINTED = ("contents", "notice", "publisher", "rights", "made_with", "identifier")


@pytest.mark.parametrize("folder", sorted(WORLD_LANGUAGES))
def test_the_stories_print_their_language_s_words_not_english_ones(folder, tmp_path):
    if not WORLD.is_dir():
        pytest.skip("../shared/corpus-world is not available")
    language = WORLD_LANGUAGES[folder]
    book = tmp_path / folder
    book.mkdir()
    story = sorted((WORLD / folder).glob("*.md"))[0]
    shutil.copy(story, book / story.name)
    (book / "book.toml").write_text(f'[book]\ntitle = "World {folder}"\nlanguage = "{language}"\n'
                                    'date = "2026-01-01"\npublisher = "P"\nrights = "R"\n', encoding="utf-8")
    result = build(book, tmp_path / "out", formats=("pdf", "epub"))
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
