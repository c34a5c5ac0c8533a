"""End to end: the project's own book, judged by EPUBCheck and pypdf."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from conftest import MANUSCRIPTS, epub_documents, epubcheck_messages, fold_quotes, normalize, seed_sentences
from pipeline.load.manuscripts import load_book


FOLIO = re.compile(r"^(?:[ivxlc]+|\d+|\d+\.)$")  # folios, and list markers pypdf puts last


def _page_body(text: str, heads: set[str]) -> str:
    """A page's text without its running head and folio, which pypdf
    extracts after the body."""
    lines = text.split("\n")
    while lines and (FOLIO.match(lines[-1].strip()) or lines[-1].strip() in heads):
        lines.pop()
    return "\n".join(lines)


def _without_hyphens(text: str) -> str:
    """Text with every hyphen removed and whitespace collapsed. The font maps
    U+002D and U+2010 to one glyph, so the PDF cannot tell a manuscript's own
    hyphen from one WeasyPrint added to break a word; comparing both sides
    without hyphens keeps every word and its order in the check."""
    text = re.sub(r"[-\u2010]\s*\n", "", text)
    return normalize(re.sub(r"[-\u2010]", "", text))


def _pdf_text(reader: PdfReader) -> str:
    heads = {item.title for item in reader.outline if not isinstance(item, list)}
    heads.add(reader.metadata.title)
    return _without_hyphens("\n".join(_page_body(page.extract_text(), heads) for page in reader.pages))


def test_epub_passes_epubcheck_with_no_message(built_book):
    _, epub = built_book
    assert epubcheck_messages(epub) == []


def test_every_seed_sentence_is_in_the_epub(built_book):
    _, epub = built_book
    text = normalize(" ".join(" ".join(root.itertext()) for root in epub_documents(epub).values()))
    missing = [s for s in seed_sentences() if normalize(s) not in text]
    assert missing == []


def test_every_seed_sentence_is_in_the_pdf(built_book):
    pdf, _ = built_book
    text = fold_quotes(_pdf_text(PdfReader(pdf)))
    missing = [s for s in seed_sentences() if fold_quotes(_without_hyphens(s)) not in text]
    assert missing == []


def test_pdf_bookmarks_hold_articles_and_sections(built_book):
    pdf, _ = built_book
    reader = PdfReader(pdf)
    outline = reader.outline
    titles = [item.title for item in outline if not isinstance(item, list)]
    assert "How Kratom May Ease Muscle Soreness: The Prolactin Connection" in titles
    assert "Kratom for Muscle Soreness: Relief, Dopamine and Safe Dosage" in titles
    nested = [[child.title for child in item] for item in outline if isinstance(item, list)]
    assert ["Understanding Muscle Soreness and Its Causes",
            "Kratom and its Potential Benefits for Muscle Relief",
            "Prolactin and Kratom: The Science Behind the Relief"] in nested
    assert ["Understanding Muscle Soreness and Its Causes",
            "Exploring Kratom: A Natural Relief Option",
            "Dosage and Safety Considerations for Optimal Results"] in nested


def test_pdf_metadata(built_book):
    pdf, _ = built_book
    meta = PdfReader(pdf).metadata
    assert meta.title == "Kratom and Muscle Soreness"
    assert meta.author == "The Editors"
    assert meta.subject.startswith("Two articles on kratom")
    assert "prolactin" in meta["/Keywords"]
    assert meta["/Creator"].startswith("pipeline ")
    assert meta.creation_date.year == 2026  # from the book's date, not the clock


def test_pdf_language(built_book):
    pdf, _ = built_book
    assert PdfReader(pdf).trailer["/Root"]["/Lang"] == "en"


def test_pdf_is_a5_with_roman_front_matter_and_arabic_body(built_book):
    pdf, _ = built_book
    reader = PdfReader(pdf)
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (148, 210)
    labels = reader.page_labels
    first_body = labels.index("1")
    assert labels[:first_body] == ["i", "ii", "iii", "iv", "v", "vi"][:first_body]
    assert labels[first_body:] == [str(n) for n in range(1, len(labels) - first_body + 1)]


def test_contents_page_numbers_match_the_article_pages(built_book):
    pdf, _ = built_book
    reader = PdfReader(pdf)
    labels = reader.page_labels
    contents = next(page.extract_text() for page in reader.pages if "Contents" in page.extract_text())
    for item in reader.outline:
        if isinstance(item, list) or item.title in ("Contents", "Kratom and Muscle Soreness"):
            continue
        printed = labels[reader.get_destination_page_number(item)]
        # The contents line for this article ends with its page number.
        title_words = item.title.split()[-1]
        assert re.search(rf"{re.escape(title_words)}\W*\.*\s*{printed}\b", contents), (item.title, printed)


def test_each_article_opens_on_a_right_hand_page(built_book):
    pdf, _ = built_book
    reader = PdfReader(pdf)
    book, _ = load_book(MANUSCRIPTS)
    opening = {item.title: reader.get_destination_page_number(item)
               for item in reader.outline if not isinstance(item, list)}
    pages = [opening.get(article.title) for article in book.articles]
    assert len(pages) == 2 and None not in pages, (opening, [a.title for a in book.articles])
    assert all(page % 2 == 0 for page in pages), pages  # 0-based even = a right-hand page


def test_pdf_fonts_are_embedded(built_book):
    pdf, _ = built_book
    reader = PdfReader(pdf)
    fonts = {}
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"] \
                if "/DescendantFonts" in font else font.get("/FontDescriptor")
            fonts[font["/BaseFont"]] = descriptor is not None and any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert fonts and all(fonts.values()), fonts
    # Subset fonts carry a six-letter tag; our body face is "Book Serif".
    assert all(re.match(r"/[A-Z]{6}\+", name) for name in fonts), fonts
    assert any("Book-Serif" in name for name in fonts)


@pytest.mark.parametrize("name", ["text/front_title.xhtml", "text/front_notice.xhtml", "text/front_nav.xhtml"])
def test_epub_front_matter_documents_exist(built_book, name):
    _, epub = built_book
    assert f"EPUB/{name}" in epub_documents(epub)


def test_epub_has_one_document_per_article_in_reading_order(built_book):
    import zipfile

    _, epub = built_book
    with zipfile.ZipFile(epub) as archive:
        opf = archive.read("EPUB/content.opf").decode()
    spine = re.findall(r'<itemref idref="([^"]+)"', opf)
    assert spine == ["cover", "title-page", "notice", "nav",
                     "a-kratom-prolactin-and-muscle-soreness",
                     "a-kratom-dosage-and-safety-for-muscle-soreness"]
    assert "<dc:language>en</dc:language>" in opf
    assert "dcterms:modified" in opf and "<dc:creator" in opf and "<dc:description" in opf
