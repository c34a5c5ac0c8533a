"""The EPUB as e-readers and validators see it: EPUBCheck, navigation, the
page-list against the PDF's printed pages, accessibility metadata, fonts."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from lxml import etree
from pypdf import PdfReader

from conftest import epub_documents, epubcheck_messages, normalize, seed_sentences, write_book
from pipeline import build

NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
FIXTURE = Path(__file__).parent / "fixtures" / "features"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


def _opf(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as archive:
        return etree.fromstring(archive.read("EPUB/content.opf"))


def _meta(opf: etree._Element, name: str) -> list[str]:
    return [m.text for m in opf.iterfind(f".//opf:meta[@property='{name}']", NS)]


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.replace("\u2010\n", "").replace("-\n", ""))).lower()


def _pdf_pages(pdf: Path) -> dict[str, str]:
    """Printed page number -> the words of that page, in order."""
    reader = PdfReader(pdf)
    return {label: _words(page.extract_text()) for label, page in zip(reader.page_labels, reader.pages)}


def _marker_texts(epub: Path) -> list[tuple[str, str]]:
    """(label, the words that follow the marker) for every page-break marker."""
    documents = epub_documents(epub)
    opf = _opf(epub)
    hrefs = {item.get("id"): item.get("href") for item in opf.iterfind(".//opf:item", NS)}
    spine = [f"EPUB/{hrefs[ref.get('idref')]}" for ref in opf.iterfind(".//opf:itemref", NS)]
    found = []
    for root in (documents[name] for name in spine):
        for marker in root.iterfind(".//x:span[@role='doc-pagebreak']", NS):
            following = "".join(marker.xpath("following::text()[not(ancestor::x:aside)]", namespaces=NS))
            found.append((marker.get("aria-label"), _words(following)))
    return found


@pytest.mark.parametrize("which", ["book", "fixture"])
def test_page_list_numbers_are_the_pdfs_printed_pages(which, built_book, tmp_path):
    if which == "book":
        pdf, epub = built_book
    else:
        result = build(FIXTURE, tmp_path)
        assert result.diagnostics == ()
        pdf, epub = result.outputs
    pages = _pdf_pages(pdf)
    markers = _marker_texts(epub)
    body_labels = [label for label in PdfReader(pdf).page_labels if label.isdigit()]
    assert [label for label, _ in markers] == body_labels
    for label, following in markers:
        if not pages[label]:
            continue  # a blank page: its marker sits with the next page's
        first_words = " ".join(following.split()[:4])
        assert pages[label].startswith(first_words) or f" {first_words}" in pages[label][:200], \
            (label, first_words, pages[label][:120])
    nav = epub_documents(epub)["EPUB/text/front_nav.xhtml"]
    listed = [a.text for a in nav.iterfind(".//x:nav[@epub:type='page-list']//x:a", NS)]
    assert listed == body_labels


def test_book_epub_accessibility_metadata(built_book):
    opf = _opf(built_book[1])
    assert set(_meta(opf, "schema:accessMode")) == {"textual", "visual"}
    assert "textual" in _meta(opf, "schema:accessModeSufficient")
    assert {"tableOfContents", "readingOrder", "structuralNavigation", "printPageNumbers",
            "alternativeText"} <= set(_meta(opf, "schema:accessibilityFeature"))
    assert _meta(opf, "schema:accessibilityHazard") == ["none"]
    [summary] = _meta(opf, "schema:accessibilitySummary")
    assert summary.startswith("This publication meets the requirements of EPUB Accessibility 1.1")
    assert _meta(opf, "dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]  # #31
    assert _meta(opf, "a11y:certifiedBy") == ["The Editors"]
    assert opf.find(".//dc:source", NS).text.startswith("Kratom and Muscle Soreness")


def test_cover_title_notice_and_landmarks(built_book):
    epub = built_book[1]
    opf = _opf(epub)
    cover = opf.find(".//opf:item[@properties='cover-image']", NS)
    assert cover is not None and cover.get("media-type") == "image/png"
    with zipfile.ZipFile(epub) as archive:
        from PIL import Image

        image = Image.open(io.BytesIO(archive.read("EPUB/" + cover.get("href"))))
        assert image.size[1] > image.size[0] > 1000
    documents = epub_documents(epub)
    assert documents["EPUB/text/front_cover.xhtml"].find(".//x:img", NS).get("alt")
    nav = documents["EPUB/text/front_nav.xhtml"]
    landmarks = [a.get(EPUB_TYPE) for a in nav.iterfind(".//x:nav[@epub:type='landmarks']//x:a", NS)]
    assert landmarks == ["cover", "toc", "bodymatter"]
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)
    assert len(toc.findall("x:ol/x:li", NS)) == 2 and len(toc.findall("x:ol/x:li/x:ol/x:li", NS)) == 6
    for name, root in documents.items():
        assert root.get("lang") == "en", name
    assert documents["EPUB/text/front_title.xhtml"].find(".//*[@epub:type='titlepage']", NS) is not None
    assert documents["EPUB/text/front_notice.xhtml"].find(".//*[@epub:type='copyright-page']", NS) is not None
    chapters = [r for n, r in documents.items() if r.find(".//*[@role='doc-chapter']", NS) is not None]
    assert len(chapters) == 2
    with zipfile.ZipFile(epub) as archive:  # EPUB 2 readers show the NCX's title
        ncx = etree.fromstring(archive.read("EPUB/toc.ncx"))
    title = ncx.findtext("{http://www.daisy.org/z3986/2005/ncx/}docTitle/{http://www.daisy.org/z3986/2005/ncx/}text")
    assert title == opf.findtext(".//dc:title", namespaces={"dc": "http://purl.org/dc/elements/1.1/"})
    assert title


def test_fonts_are_subset_to_the_text_and_cover_it(built_book):
    epub = built_book[1]
    text = "".join("".join(root.itertext()) for root in epub_documents(epub).values())
    fonts_dir = Path(__file__).parent.parent / "styles" / "fonts"
    with zipfile.ZipFile(epub) as archive:
        fonts = {Path(n).name: archive.read(n) for n in archive.namelist() if n.endswith(".ttf")}
    assert "SourceSerifPro-Regular.ttf" in fonts
    for name, data in fonts.items():
        assert len(data) < (fonts_dir / name).stat().st_size / 2, name
    # Each face holds what it draws (tests/test_fonts_used.py checks which):
    # together they hold every character of the text the book's fonts have.
    cmap = set().union(*(TTFont(io.BytesIO(data)).getBestCmap() for data in fonts.values()))
    original = TTFont(fonts_dir / "SourceSerifPro-Regular.ttf").getBestCmap()
    needed = {ord(c) for c in text if not c.isspace() and ord(c) in original}
    assert needed <= cmap


def test_fixture_epub_passes_epubcheck_with_notes_as_popups(tmp_path):
    result = build(FIXTURE, tmp_path, formats=("epub",))
    assert result.diagnostics == ()
    [epub] = result.outputs
    assert epubcheck_messages(epub) == []
    documents = epub_documents(epub)
    article = documents["EPUB/text/footnotes-and-figures.xhtml"]
    refs = article.findall(".//x:a[@epub:type='noteref']", NS)
    notes = article.findall(".//x:aside[@epub:type='footnote']", NS)
    assert len(refs) == len(notes) == 3
    assert {r.get("href")[1:] for r in refs} == {n.get("id") for n in notes}
    assert all(n.find(".//x:a[@role='doc-backlink']", NS) is not None for n in notes)
    # An EPUB-only build has no print pagination: no page-list, no claim of one.
    opf = _opf(epub)
    assert "printPageNumbers" not in _meta(opf, "schema:accessibilityFeature")
    assert opf.find(".//dc:source", NS) is None
    assert documents["EPUB/text/front_nav.xhtml"].find(".//x:nav[@epub:type='page-list']", NS) is None
    figure = article.find(".//x:figure", NS)
    assert figure.find("x:img", NS).get("alt") and figure.find("x:figcaption", NS).text


def test_epub_without_fonts_and_with_an_image_lacking_alt(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(FIXTURE, book)
    toml = book / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[epub]\nembed-fonts = false\n", encoding="utf-8")
    second = book / "02-second.md"
    second.write_text(second.read_text(encoding="utf-8") + "\n![](images/soreness-chart.png)\n", encoding="utf-8")
    result = build(book, tmp_path / "out", formats=("epub",))
    [warning] = result.diagnostics
    assert warning.code == "R003" and warning.path.name == "02-second.md" and warning.line == 14
    [epub] = result.outputs
    with zipfile.ZipFile(epub) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".ttf")]
    opf = _opf(epub)
    assert "alternativeText" not in _meta(opf, "schema:accessibilityFeature")
    assert _meta(opf, "dcterms:conformsTo") == []
    [summary] = _meta(opf, "schema:accessibilitySummary")
    assert "table of contents" in summary and "WCAG" not in summary and "meets" not in summary
    assert epubcheck_messages(epub) == []


def test_every_seed_sentence_is_in_the_epub_text_once_markers_are_in(built_book):
    """Page-break markers split text nodes; the reading text must not change."""
    sentences = seed_sentences()
    documents = epub_documents(built_book[1])
    text = normalize(" ".join(" ".join(root.itertext()) for root in documents.values()))
    missing = [sentence for sentence in sentences if normalize(sentence) not in text]
    assert len(sentences) > 50 and missing == []


def test_articles_named_like_front_matter_or_starting_with_digits(tmp_path):
    """Slugs such as 'title', 'contents' or '2026-report' collide with nothing."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Names"\n', encoding="utf-8")
    for number, title in enumerate(["Title", "Contents", "Cover", "Notice", "Nav", "2026 Report"]):
        (book / f"{number:02d}.md").write_text(f"---\ntitle: {title!r}\n---\n\n## Section\n\nText.\n",
                                               encoding="utf-8")
    result = build(book, tmp_path / "out")
    assert result.diagnostics == (), [d.format() for d in result.diagnostics]
    pdf, epub = result.outputs
    assert epubcheck_messages(epub) == []
    reader = PdfReader(pdf)
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles[-6:] == ["Title", "Contents", "Cover", "Notice", "Nav", "2026 Report"]
    pages = [reader.get_destination_page_number(item) for item in reader.outline if not isinstance(item, list)]
    assert len(set(pages[-6:])) == 6  # each bookmark reaches its own article


def test_author_text_that_looks_like_a_namespace_prefix_survives(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "Prefixes"\n', {
        "01-a.md": "---\ntitle: A\n---\n\nThe tag ns0:thing and xmlns:ns0 stay as written.[^1]\n\n"
                   "[^1]: A note about ns0:other.\n"})
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok, [d.format() for d in result.diagnostics]
    [document] = [d for name, d in epub_documents(result.outputs[0]).items() if "a.xhtml" in name]
    text = normalize("".join(document.itertext()))
    assert "The tag ns0:thing and xmlns:ns0 stay as written." in text and "A note about ns0:other." in text
    assert document.find(".//x:a[@epub:type='noteref']", NS) is not None
    assert document.find(".//x:aside[@epub:type='footnote']", NS) is not None
    assert epubcheck_messages(result.outputs[0]) == []
