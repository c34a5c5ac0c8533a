"""A long booklet laid out in parallel chunks is indistinguishable from one
laid out in one piece: pages, folios, labels, bookmarks, links, the EPUB's
page-list, and every page's rendering."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import ImageChops
from pypdf import PdfReader

from pipeline import build

WORDS = ("muscle recovery soreness gentle exercise evening body study practice relief season "
         "garden morning simple balance steady rest water walk stretch").split()


def _article(number: int) -> str:
    def sentence(k: int) -> str:
        words = [WORDS[(number * 7 + k * 3 + i) % len(WORDS)] for i in range(9 + (number + k) % 7)]
        return " ".join(words).capitalize() + "."

    sections = []
    for s in range(3):
        paragraphs = [" ".join(sentence(s * 10 + p * 3 + k) for k in range(5 + (number + p) % 4))
                      for p in range(2 + (number + s) % 3)]
        if s == 1:
            paragraphs[0] += "[^1]"
        sections.append(f"## Section {s + 1} of article {number}\n\n" + "\n\n".join(paragraphs))
    return (f"---\ntitle: \"Article {number}\"\nsummary: {sentence(99)}\n---\n\n" + "\n\n".join(sections)
            + f"\n\n[^1]: A note for article {number}.\n")


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("parallel")
    book = root / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Parallel"\ndate = "2026-01-01"\n', encoding="utf-8")
    for number in range(1, 19):
        (book / f"{number:02d}.md").write_text(_article(number), encoding="utf-8")
    from unittest import mock

    from pipeline.export import pdf_chunks

    serial = build(book, root / "serial", jobs=1)
    with mock.patch.object(pdf_chunks, "export_chunked", wraps=pdf_chunks.export_chunked) as spy:
        parallel = build(book, root / "parallel", jobs=2)
    assert spy.call_count == 1  # the parallel path was taken
    assert serial.diagnostics == () and parallel.diagnostics == (), parallel.diagnostics
    return serial.outputs, parallel.outputs


def _outline(reader: PdfReader, items=None, depth=0):
    found = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            found += _outline(reader, item, depth + 1)
        else:
            found.append((depth, item.title, reader.get_destination_page_number(item)))
    return found


def _links(reader: PdfReader):
    names = reader.named_destinations
    return [(index, str(a.get_object()["/Dest"]),
             reader.get_destination_page_number(names[str(a.get_object()["/Dest"])]))
            for index, page in enumerate(reader.pages) for a in page.get("/Annots") or []
            if "/Dest" in a.get_object()]


def test_same_pages_labels_bookmarks_and_links(both):
    (serial_pdf, _), (parallel_pdf, _) = both
    serial, parallel = PdfReader(serial_pdf), PdfReader(parallel_pdf)
    assert len(serial.pages) == len(parallel.pages) > 40
    assert serial.page_labels == parallel.page_labels
    assert serial.metadata == parallel.metadata
    assert serial.trailer["/ID"][0] == parallel.trailer["/ID"][0]  # the permanent identifier
    assert serial.trailer["/Root"]["/Lang"] == parallel.trailer["/Root"]["/Lang"] == "en"
    assert _outline(serial) == _outline(parallel)
    links = _links(serial)
    assert len(links) > 100 and _links(parallel) == links  # contents, in-article contents, footnotes


def test_every_page_renders_identically(both):
    (serial_pdf, _), (parallel_pdf, _) = both
    serial, parallel = pdfium.PdfDocument(serial_pdf), pdfium.PdfDocument(parallel_pdf)
    for index in range(len(serial)):
        a = serial[index].render(scale=1).to_pil().convert("RGB")
        b = parallel[index].render(scale=1).to_pil().convert("RGB")
        assert ImageChops.difference(a, b).getbbox() is None, f"page {index + 1} differs"


def test_the_epub_page_list_is_the_same(both):
    (_, serial_epub), (_, parallel_epub) = both
    assert serial_epub.read_bytes() == parallel_epub.read_bytes()
    with zipfile.ZipFile(parallel_epub) as archive:
        assert b'epub:type="page-list"' in archive.read("EPUB/text/front_nav.xhtml")


def test_merged_pdf_size_stays_reasonable(both):
    (serial_pdf, _), (parallel_pdf, _) = both
    # Each part embeds its own font subsets; a long book dilutes that.
    assert parallel_pdf.stat().st_size < 1.3 * serial_pdf.stat().st_size
