"""Quotes in the language of the text, and articles in a language of their
own: the rules on strings, then both outputs of a small book."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from conftest import epub_documents, epubcheck_messages, write_book
from pipeline import build
from pipeline.text.quotes import smarten_text


@pytest.mark.parametrize("language, text, expected", [
    ("en", '"Hi," she said. It\'s \'fine\'.', "“Hi,” she said. It’s ‘fine’."),
    ("de", 'Er sagte "ja" und ging.', "Er sagte „ja“ und ging."),
    ("fr", 'Il a dit "oui" et l\'été.', "Il a dit «\u202foui\u202f» et l’été."),
    ("ja", '彼は"はい"と言った。', "彼は「はい」と言った。"),
    ("zh-Hant", '他說"好"。', "他說「好」。"),
    ("zh-Hans", '他说"好"。', "他说“好”。"),
    ("ru", 'Он сказал "да".', "Он сказал «да»."),
    ("pl", 'Powiedział "tak".', "Powiedział „tak”."),
])
def test_straight_quotes_become_the_languages(language, text, expected):
    assert smarten_text(text, language) == expected


def test_an_article_in_its_own_language_in_both_outputs(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "Zitate"\nlanguage = "de"\n', {
        "01-de.md": '---\ntitle: "Ein Artikel"\n---\n\nEr sagte "ja". Code: `"x"`.\n',
        "02-fr.md": '---\ntitle: "Un article"\nlanguage: fr\n---\n\nIl a dit "oui".\n',
        "03-ar.md": '---\ntitle: "مقال"\nlanguage: ar\n---\n\nقال "نعم".\n'})
    result = build(book, tmp_path / "out")
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    pdf, epub = result.outputs
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "„ja“" in text and '"x"' in text and "« oui »" in text.replace("\u202f", " ")
    documents = epub_documents(epub)
    roots = {name.rsplit("/", 1)[-1]: root for name, root in documents.items()}
    assert [(roots[n].get("lang"), roots[n].get("dir")) for n in ("de.xhtml", "fr.xhtml", "ar.xhtml")] \
        == [("de", "ltr"), ("fr", "ltr"), ("ar", "rtl")]
    assert "„ja“" in "".join(roots["de.xhtml"].itertext())
    assert epubcheck_messages(epub) == []


def test_an_article_language_must_be_a_tag(tmp_path):
    (tmp_path / "book.toml").write_text('[book]\ntitle = "T"\n', encoding="utf-8")
    (tmp_path / "01.md").write_text('---\ntitle: A\nlanguage: "not a tag!"\n---\n\nText.\n', encoding="utf-8")
    result = build(tmp_path, tmp_path.parent / "out-bad", formats=("epub",))
    assert [(d.code, d.line) for d in result.diagnostics] == [("M002", 3)] and not result.ok
