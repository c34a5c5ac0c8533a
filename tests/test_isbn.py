"""[book] isbn (#28): checked where it is written, then carried into the
EPUB's identifiers, the PDF's metadata and the notice page."""

from __future__ import annotations

import zipfile

import pikepdf
import pytest
from lxml import etree
from pypdf import PdfReader

from pipeline import build
from pipeline.load.config import load_config

from conftest import epubcheck_messages, write_book

OPF = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
ARTICLE = {"01-a.md": "---\ntitle: Alpha\n---\n\nThe text of alpha.\n"}


def _config(tmp_path, line: str):
    path = tmp_path / "book.toml"
    path.write_text(f'[book]\ntitle = "T"\n{line}\n', encoding="utf-8")
    return load_config(path, "fallback")


@pytest.mark.parametrize("written", ["978-0-306-40615-7", "9780306406157", "978 0 306 40615 7",
                                     "ISBN 978-0-306-40615-7", "978-03064-06157"])
def test_an_isbn_13_is_accepted_however_it_is_spaced_and_kept_hyphenated(tmp_path, written):
    config, diagnostics = _config(tmp_path, f'isbn = "{written}"')
    assert diagnostics == []
    assert config.isbn == "978-0-306-40615-7"  # hyphenated by its registration group, not as written
    assert config.identifier == "urn:isbn:9780306406157"  # no identifier given: the ISBN is the book's


@pytest.mark.parametrize("written, message, hint", [
    ("0-306-40615-2", "is an ISBN-10", 'did you mean isbn = "978-0-306-40615-7"?'),
    ("0-8044-2957-X", "is an ISBN-10", 'did you mean isbn = "978-0-8044-2957-3"?'),
    ("978-0-306-40615-8", "check digit of '978-0-306-40615-8' is wrong", "a digit is mistyped, or two are swapped"),
    ("978-0-306-46015-7", "check digit", "two are swapped"),  # two digits swapped
    ("0-306-40615-3", "ISBN-10 whose check digit is wrong", "copy the number again"),
    ("978-0-306-4061", "is not an ISBN-13: 13 digits", 'e.g. isbn = "978-0-306-40615-7"'),
    ("977-0-306-40615-7", "starts with 978 or 979", 'e.g. isbn = "978-0-306-40615-7"'),
    ("urn:isbn:9780306406157", "is not an ISBN-13", "13 digits the ISBN agency issued"),
])
def test_a_wrong_isbn_is_located_at_its_value_with_a_fix(tmp_path, written, message, hint):
    config, diagnostics = _config(tmp_path, f'isbn =  "{written}"')
    [found] = diagnostics
    assert (found.code, found.path.name, found.line, found.column) == ("C003", "book.toml", 3, 9), found.format()
    assert found.is_error and message in found.message and hint in found.hint, found.format()
    assert config.isbn == "" and config.identifier.startswith("urn:uuid:")  # refused: no ISBN anywhere


def test_an_isbn_that_is_not_a_string_is_a_type_error(tmp_path):
    _, [found] = _config(tmp_path, "isbn = 9780306406157")
    assert (found.code, found.line) == ("C003", 3) and "expected a string" in found.message


def _opf(epub) -> etree._Element:
    with zipfile.ZipFile(epub) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".opf"))
        return etree.fromstring(archive.read(name))


def _epub_text(epub) -> str:
    with zipfile.ZipFile(epub) as archive:
        return "".join("".join(etree.fromstring(archive.read(n)).itertext())
                       for n in archive.namelist() if n.endswith(".xhtml"))


def _pdf_text(pdf) -> str:
    # (the PDF's text gives the hyphen glyph as U+2010, the character it also draws)
    return "\n".join(page.extract_text() for page in PdfReader(pdf).pages).replace("\u2010", "-")


def test_the_isbn_is_the_epubs_identifier_the_pdfs_metadata_and_on_the_notice_page(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "Numbered"\nisbn = "9780306406157"\n', ARTICLE)
    result = build(book, tmp_path / "out", per_article=True)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    out = tmp_path / "out"
    [pdf], [epub] = out.glob("*.pdf"), out.glob("*.epub")
    opf = _opf(epub)
    unique = opf.get("unique-identifier")
    identifiers = opf.findall(".//dc:identifier", OPF)
    assert [(i.get("id"), i.text) for i in identifiers] == [(unique, "urn:isbn:9780306406157")]
    [kind] = opf.xpath(f".//opf:meta[@refines='#{unique}'][@property='identifier-type']", namespaces=OPF)
    assert (kind.get("scheme"), kind.text) == ("onix:codelist5", "15")  # ONIX: ISBN-13
    assert "ISBN978-0-306-40615-7" in _epub_text(epub)  # the notice's <dt>ISBN</dt><dd>…</dd>
    assert "urn:isbn" not in _epub_text(epub)  # printed once, as ISBN, not again as the identifier
    assert "ISBN 978-0-306-40615-7" in _pdf_text(pdf)
    with pikepdf.open(pdf) as document:
        assert str(document.docinfo["/ISBN"]) == "978-0-306-40615-7"
    assert epubcheck_messages(epub) == []
    # A download of one article is not the book: it has its own identifier, no ISBN.
    [single_pdf], [single_epub] = out.glob("articles/*.pdf"), out.glob("articles/*.epub")
    assert "urn:isbn" not in etree.tostring(_opf(single_epub)).decode()
    assert "978-0-306-40615-7" not in _epub_text(single_epub) + _pdf_text(single_pdf)
    with pikepdf.open(single_pdf) as document:
        assert "/ISBN" not in document.docinfo
    assert epubcheck_messages(single_epub) == []


def test_with_an_identifier_given_the_isbn_is_a_second_identifier(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "Both"\nidentifier = "urn:uuid:6f0c2b8e-3d4a-5b1e-9c7f-'
                                         '2a8d4e6b1c90"\nisbn = "979-8-88645-174-0"\n', ARTICLE)
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    [epub] = result.outputs
    opf = _opf(epub)
    unique = opf.get("unique-identifier")
    found = {i.get("id"): i.text for i in opf.findall(".//dc:identifier", OPF)}
    assert found[unique] == "urn:uuid:6f0c2b8e-3d4a-5b1e-9c7f-2a8d4e6b1c90"  # one unique identifier: the book's
    assert found["isbn"] == "urn:isbn:9798886451740" and len(found) == 2
    assert opf.xpath(".//opf:meta[@refines='#isbn'][@property='identifier-type']", namespaces=OPF)
    text = _epub_text(epub)
    assert "ISBN979-8-88645-174-0" in text and "urn:uuid:6f0c2b8e" in text  # both on the notice page
    assert epubcheck_messages(epub) == []
