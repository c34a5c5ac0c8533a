"""Messages that suggest the fix: each mistake a user commonly makes gets a
hint naming what they most likely meant, and still names file, line and column."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.commands.check import check_book
from pipeline.commands.importer import import_files
from pipeline.load.config import load_config
from pipeline.load.manuscripts import load_article
from pipeline.text.sourcetext import NotUtf8, decode, likely_encoding

# A short text in Windows' Western encoding: accents and a typographic apostrophe (0x92).
CP1252_TEXT = ("---\ntitle: Café au lait\n---\n\nThe harbourmaster’s café served crème brûlée "
               "to naïve guests.\n")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _config(tmp_path: Path, text: str):
    _, diagnostics = load_config(_write(tmp_path / "book.toml", text), "fallback")
    return diagnostics


# --- book.toml --------------------------------------------------------------------------------


def test_a_misspelt_book_key_suggests_the_key(tmp_path):
    [d] = _config(tmp_path, '[book]\ntitle = "T"\nautors = ["Me"]\n')
    assert (d.code, d.line, d.column) == ("C002", 3, 0) and d.location().endswith("book.toml:3:1")
    assert d.hint.startswith("did you mean 'authors'? valid keys in [book]: title, subtitle, authors,")


def test_a_key_of_another_table_says_where_it_belongs(tmp_path):
    [d] = _config(tmp_path, '[book]\ntitle = "T"\npage-size = "a5"\n')
    assert d.code == "C002" and d.hint.startswith("'page-size' belongs in [pdf]. valid keys in [book]:")


def test_a_misspelt_table_and_label_suggest_theirs(tmp_path):
    table, label = _config(tmp_path, '[book]\ntitle = "T"\n[bok]\nx = 1\n[labels]\ncontent = "Inhalt"\n')
    assert (table.code, table.line) == ("C002", 3)
    from pipeline.load.config import SCHEMA

    tables = ", ".join(f"[{name}]" for name in sorted({o.table for o in SCHEMA} | {"labels"}))
    assert table.hint == f"did you mean [book]? valid tables: {tables}"
    assert (label.code, label.line) == ("C002", 6)
    assert label.hint.startswith("did you mean 'contents'? valid keys in [labels]: ")


def test_nothing_near_gives_the_plain_list(tmp_path):
    [d] = _config(tmp_path, '[book]\ntitle = "T"\nzzz = 1\n')
    assert d.hint.startswith("valid keys in [book]: title,")


@pytest.mark.parametrize("written, code, line, column, hint", [
    # Not TOML at all: located by tomllib, the same day offered in the right form.
    ("date = 1 March 2026", "C001", 3, 10, 'write the date as YYYY-MM-DD in quotes: date = "2026-03-01"'),
    ("date = 2026-3-1", "C001", 3, 12, 'write the date as YYYY-MM-DD in quotes: date = "2026-03-01"'),
    ("date = 2026-13-01", "C001", 3, 12,
     'write the date as YYYY-MM-DD in quotes, with a real month and day, e.g. date = "2026-03-01"'),
    # TOML, but not the quoted YYYY-MM-DD the schema asks for.
    ('date = "1 March 2026"', "C003", 3, 0, 'write the date as YYYY-MM-DD in quotes: date = "2026-03-01"'),
    ('date = "March 1, 2026"', "C003", 3, 0, 'write the date as YYYY-MM-DD in quotes: date = "2026-03-01"'),
    ("date = 2026-03-01", "C003", 3, 0, 'write the date as YYYY-MM-DD in quotes: date = "2026-03-01"'),
    ('date = "2026-02-30"', "C003", 3, 0,
     'write the date as YYYY-MM-DD in quotes, with a real month and day, e.g. date = "2026-03-01"'),
])
def test_a_date_written_another_way_gets_the_expected_form(tmp_path, written, code, line, column, hint):
    [d] = _config(tmp_path, f'[book]\ntitle = "T"\n{written}\n')
    assert (d.code, d.line, d.column, d.hint) == (code, line, column, hint)


def test_a_date_like_value_of_another_key_is_to_be_quoted(tmp_path):
    [d] = _config(tmp_path, '[book]\ntitle = 1 March 2026\n')
    assert (d.code, d.line, d.hint) == ("C001", 2, 'quote the value: title = "1 March 2026"')


def test_a_quoted_iso_date_is_accepted(tmp_path):
    assert _config(tmp_path, '[book]\ntitle = "T"\ndate = "2026-03-01"\n') == []


def test_an_underscore_language_tag_is_an_error_naming_the_tag(tmp_path):
    [d] = _config(tmp_path, '[book]\ntitle = "T"\nlanguage = "en_GB"\n')
    assert (d.code, d.line, d.is_error) == ("C003", 3, True)
    assert d.message == "[book] language: 'en_GB' is not a BCP 47 language tag"
    assert d.hint == "did you mean 'en-GB'? e.g. \"en\", \"de-CH\", \"zh-Hant\", \"ar\""


@pytest.mark.parametrize("tag", ["xx", "notalanguage", "en-"])
def test_an_unregistered_language_is_an_error_without_a_guess(tmp_path, tag):
    [d] = _config(tmp_path, f'[book]\ntitle = "T"\nlanguage = "{tag}"\n')
    assert d.code == "C003" and d.hint == "e.g. \"en\", \"de-CH\", \"zh-Hant\", \"ar\""


@pytest.mark.parametrize("name, tag", [("english", "en"), ("Deutsch", "de"), ("Français", "fr")])
def test_a_language_name_is_an_error_suggesting_its_tag(tmp_path, name, tag):
    [d] = _config(tmp_path, f'[book]\ntitle = "T"\nlanguage = "{name}"\n')
    assert d.code == "C003" and d.hint == f"did you mean '{tag}'? e.g. \"en\", \"de-CH\", \"zh-Hant\", \"ar\""


@pytest.mark.parametrize("tag", ["en-GB", "de-ch", "zh-Hant", "sr-Latn-RS", "ar"])
def test_valid_language_tags_pass(tmp_path, tag):
    found = _config(tmp_path, f'[book]\ntitle = "T"\nlanguage = "{tag}"\n')
    assert [d.code for d in found] in ([], ["C008"])  # C008: valid, but no words for it in labels.toml


def test_a_valid_language_without_words_keeps_its_warning(tmp_path):
    [d] = _config(tmp_path, '[book]\ntitle = "T"\nlanguage = "tlh"\n')
    assert (d.code, d.is_error) == ("C008", False)


# --- front matter -----------------------------------------------------------------------------


def test_a_misspelt_front_matter_key_suggests_the_key(tmp_path):
    _, [d] = load_article(_write(tmp_path / "a.md", "---\ntitle: A\nauthrs: [Me]\n---\n\nText.\n"))
    assert (d.code, d.line, d.column) == ("M003", 3, 1)
    assert d.hint == ("did you mean 'authors'? known keys: title, subtitle, summary, blurb, authors, slug, "
                      "language, date, tags, image, url, order, draft, bibliography, references, nocite")


def test_a_front_matter_language_with_an_underscore_suggests_the_tag(tmp_path):
    _, [d] = load_article(_write(tmp_path / "a.md", "---\ntitle: A\nlanguage: de_CH\n---\n\nText.\n"))
    assert (d.code, d.line, d.column, d.is_error) == ("M002", 3, 11, True)
    assert d.hint == "did you mean 'de-CH'? e.g. language: de, language: zh-Hant"


# --- the rendered body ------------------------------------------------------------------------


@pytest.fixture
def book(tmp_path) -> Path:
    root = tmp_path / "book"
    _write(root / "book.toml", '[book]\ntitle = "T"\n')
    (root / "images").mkdir()
    for name in ("tides.png", "harbour.jpg"):  # only their names are looked at
        (root / "images" / name).write_bytes(b"")
    _write(root / "b.md", "---\ntitle: B\n---\n\n## Section two\n\nText.\n")
    return root


def _found(root: Path, code: str):
    return [d for d in check_book(root) if d.code == code]


def test_a_missing_image_suggests_the_nearest_image_of_the_book(book):
    _write(book / "a.md", "---\ntitle: A\n---\n\nText.\n\n![Tides](images/tide.png)\n\n![Harbour](harbor.jpg)\n")
    tide, harbour = _found(book, "R002")
    assert (tide.line, tide.column) == (7, 10) and tide.path == book / "a.md"
    assert tide.hint == ("did you mean 'images/tides.png'? check the file name and its folder, relative to "
                         "the manuscript")
    assert (harbour.line, harbour.column) == (9, 12)
    assert harbour.hint.startswith("did you mean 'images/harbour.jpg'?")


def test_an_image_suggestion_is_relative_to_the_manuscript(book):
    _write(book / "book.toml", '[book]\ntitle = "T"\narticles = ["part/a.md", "b.md"]\n')
    _write(book / "part" / "a.md", "---\ntitle: A\n---\n\n![Tides](images/tides.png)\n")
    [d] = _found(book, "R002")
    assert d.hint.startswith("did you mean '../images/tides.png'?")


def test_nothing_near_gives_no_suggestion(book):
    _write(book / "a.md", "---\ntitle: A\n---\n\n![A chart](zzz/qqq.svg)\n")
    [d] = _found(book, "R002")
    assert d.hint == "check the file name and its folder, relative to the manuscript"


def test_a_broken_anchor_suggests_the_nearest_heading_id(book):
    _write(book / "a.md", "---\ntitle: A\n---\n\n## The Painted Post\n\nSee [the post](#the-painted-posts).\n")
    [d] = _found(book, "R004")
    assert (d.line, d.column) == (7, 16) and d.path == book / "a.md"
    assert d.hint == ("did you mean '#the-painted-post'? link to a heading by its id "
                      "(e.g. #my-section for '## My section')")


def test_a_broken_anchor_in_another_manuscript_suggests_its_id(book):
    _write(book / "a.md", "---\ntitle: A\n---\n\nSee [two](b.md#secton-two).\n")
    [d] = _found(book, "R004")
    assert (d.line, d.column) == (5, 11)
    assert d.hint == ("did you mean 'b.md#section-two'? link to a heading of the other manuscript by its id "
                      "(e.g. other.md#my-section)")


# --- encodings --------------------------------------------------------------------------------


def test_a_cp1252_manuscript_names_its_encoding_and_the_iconv_command(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes(CP1252_TEXT.encode("cp1252"))
    _, [d] = load_article(path)
    assert (d.code, d.line, d.column) == ("M005", 2, 11)
    assert d.message == ("not valid UTF-8 (byte 0xe9); it looks like CP1252, in which line 5 reads "
                         "'The harbourmaster’s café served crème brûlée to naïve guests.'")
    assert d.hint == (f"convert it to UTF-8: iconv -f CP1252 -t UTF-8 {path} > {path}.utf8 "
                      f"&& mv {path}.utf8 {path}")


@pytest.mark.skipif(shutil.which("iconv") is None, reason="iconv is not installed")
def test_the_suggested_iconv_command_converts_the_file(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes(CP1252_TEXT.encode("cp1252"))
    _, [d] = load_article(path)
    subprocess.run(d.hint.removeprefix("convert it to UTF-8: "), shell=True, check=True, cwd=tmp_path)
    article, diagnostics = load_article(path)
    assert diagnostics == [] and article.title == "Café au lait" and "harbourmaster’s" in article.body
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]


@pytest.mark.parametrize("text, encoding, expected", [
    ("Привет, как дела? Это короткий текст на русском языке.\n", "cp1251", "CP1251"),
    ("Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.\n", "iso8859_2", "ISO-8859-2"),
    ("Über die Brücke gehen größere Füße als je zuvor.\n", "cp1252", "CP1252"),
    ("Hello, café\n", "utf_16", "UTF-16"),
    ("Привет, как дела? Это короткий текст на русском языке.\n", "koi8_r", "KOI8-R"),
    ("これは日本語のテキストです。よろしくお願いします。\n", "shift_jis", "CP932"),
    ("Summary of the café.\n“A blurb.”\n- One\nOne\nText.\n", "cp1252", "CP1252"),
    ("Le garçon est très sûr de lui. Une crème brûlée.\n", "latin_1", "CP1252"),
])
def test_likely_encodings(text, encoding, expected):
    raw = text.encode(encoding)
    with pytest.raises(NotUtf8) as caught:
        decode(raw)
    assert likely_encoding(raw) == caught.value.encoding == expected


def test_a_close_guess_names_the_common_encoding_too_and_shows_the_text_as_it_would_read(tmp_path):
    """French in Latin-1 reads best as CP1257 to charset-normalizer: the message names CP1252 beside
    it and shows the line with the most accents as CP1257 reads it, so the damage shows before
    the file is converted by the wrong one."""
    path = tmp_path / "a.md"
    path.write_bytes('---\ntitle: "Café by the quay"\n---\n\n## Menu\n\nA crème brûlée and a naïve déjà vu.\n'
                     .encode("latin_1"))
    _, [d] = load_article(path)
    assert d.message == ("not valid UTF-8 (byte 0xe9); it looks like CP1257 (or CP1252), in which line 7 reads "
                         "'A crčme brūlée and a naļve déją vu.'")


def test_a_book_toml_not_in_utf8_names_its_encoding_and_check_goes_on(tmp_path):
    (tmp_path / "book.toml").write_bytes('[book]\ntitle = "Café crème"\n'.encode("cp1252"))
    _write(tmp_path / "a.md", "---\ntitle: A\n---\n\nText.\n")
    [d] = check_book(tmp_path)
    assert (d.code, d.line, d.column) == ("C001", 2, 13)
    assert d.message == ("book.toml is not valid UTF-8 (byte 0xe9); it looks like CP1252, in which line 2 reads "
                         "'title = \"Café crème\"'")
    assert d.hint.startswith(f"convert it to UTF-8: iconv -f CP1252 -t UTF-8 {tmp_path / 'book.toml'} > ")


def test_a_text_to_import_not_in_utf8_names_its_encoding(tmp_path):
    source = tmp_path / "article.txt"
    source.write_bytes("Summary of the café.\n“A blurb.”\n- One\nOne\nText.\n".encode("cp1252"))
    written, [d] = import_files([source], tmp_path / "book", None, force=False)
    assert written == [] and (d.code, d.line, d.column) == ("I001", 1, 19)
    assert d.message.endswith("; it looks like CP1252, in which line 2 reads '“A blurb.”'")
    assert d.hint == (f"convert it to UTF-8: iconv -f CP1252 -t UTF-8 {source} > {source}.utf8 "
                      f"&& mv {source}.utf8 {source}, then import it again")
