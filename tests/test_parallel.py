"""A booklet laid out in parts (chunks of the body, each page once, the
folios and numbers laid over afterwards) is indistinguishable from one laid
out as one document: pages, folios, labels, bookmarks, links, the EPUB's
page-list, and every page's rendering."""

from __future__ import annotations

import shutil
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
        if s == 0 and number in (1, 18):  # links between the first and the last chunk
            paragraphs[0] += (" See [the last one](18.md#section-2-of-article-18)." if number == 1
                              else " Back to [the first one](01.md).")
        sections.append(f"## Section {s + 1} of article {number}\n\n" + "\n\n".join(paragraphs))
    return (f"---\ntitle: \"Article {number}\"\nsummary: {sentence(99)}\n---\n\n" + "\n\n".join(sections)
            + f"\n\n[^1]: A note for article {number}.\n")


def _book(root: Path, count: int = 18) -> Path:
    book = root / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Parallel"\ndate = "2026-01-01"\n', encoding="utf-8")
    for number in range(1, count + 1):
        (book / f"{number:02d}.md").write_text(_article(number), encoding="utf-8")
    return book


LAID_OUT: list[str] = []  # the kinds of parts a cold build laid out (in `both`)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """(one-document outputs, outputs in parts): the same book laid out both ways."""
    root = tmp_path_factory.mktemp("parallel")
    book = _book(root)
    from unittest import mock

    from pipeline.export import pdf

    with mock.patch.object(pdf, "one_document", return_value=True):  # the tagged variants' way
        serial = build(book, root / "serial", jobs=1)
    from pipeline.export.pdf import engine

    parallel = build(book, root / "parallel", jobs=2)
    with mock.patch.object(engine, "lay_out", wraps=engine.lay_out) as spy:
        one_job = build(book, root / "one-job", jobs=1)
    LAID_OUT[:] = _laid_out(spy.call_args_list)
    assert serial.diagnostics == () and parallel.diagnostics == () == one_job.diagnostics, parallel.diagnostics
    # The chunks do not depend on --jobs, so neither does the PDF.
    assert parallel.outputs[0].read_bytes() == one_job.outputs[0].read_bytes()
    return serial.outputs, parallel.outputs


@pytest.fixture(scope="module")
def cold(both):
    """(the book, a cold chunked build's folder with its layout cache): tests
    that need a first build start from a copy of it instead of building."""
    (_, _), (parallel_pdf, _) = both
    root = parallel_pdf.parent.parent
    return root / "book", root / "one-job"


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


def test_a_cold_build_lays_out_each_page_once(both):
    # Three chunks of six articles, each laid out once; then the front matter
    # and each chunk's furniture (folios, the openers' numbers), once each.
    assert LAID_OUT == ["body", "body", "body", "front", "furniture", "furniture", "furniture"]


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
    # Links between the first and the last article, laid out in different chunks
    # (slugs from the file names 01.md ... 18.md: ids may start with a digit).
    body = serial.page_labels.index("1")
    last = serial.get_destination_page_number(serial.named_destinations["18"])
    forward = [link for link in links if link[1] == "18--section-2-of-article-18" and body <= link[0] < last]
    back = [link for link in links if link[1] == "01" and link[0] >= last]
    # One link each way: the words and, after them, their page (", page 70"), two
    # annotations on one line, both leading to the other article.
    assert {link[:2] for link in forward} == {forward[0][:2]} and {link[:2] for link in back} == {back[0][:2]}
    assert len(forward) == len(back) == 2 and forward[0][2] > last


def _reference_boxes(reader: PdfReader, index: int) -> list[tuple[float, float, float, float]]:
    """Pixel boxes (at scale 1, from the top left) of the page's links to
    another article: each reference's words and the page after them."""
    page = reader.pages[index]
    height = float(page.mediabox.height)
    boxes = []
    for annotation in page.get("/Annots") or []:
        annotation = annotation.get_object()
        if "/Dest" in annotation and str(annotation["/Dest"]).startswith(("18--", "01")) \
                and not str(annotation["/Dest"]).startswith("01--"):
            x0, y0, x1, y1 = (float(v) for v in annotation["/Rect"])
            boxes.append((min(x0, x1), height - max(y0, y1), max(x0, x1), height - min(y0, y1)))
    return boxes


def test_every_page_renders_identically(both):
    """Identical but for one thing, by design: laid out in parts, a
    reference's page is printed into a slot as wide as the widest page
    number the book could reach (booklet.page_digits: the body's lines never
    depend on a page number), so ", page 70" may be spread across a slot for
    "888". Such a difference must stay on that reference's line, from the
    reference on; its page keeps the body's colour (the accent of a link to another article)."""
    (serial_pdf, _), (parallel_pdf, _) = both
    serial, parallel = pdfium.PdfDocument(serial_pdf), pdfium.PdfDocument(parallel_pdf)
    reader = PdfReader(parallel_pdf)
    spread = 0
    for index in range(len(serial)):
        a = serial[index].render(scale=1).to_pil().convert("RGB")
        b = parallel[index].render(scale=1).to_pil().convert("RGB")
        differs = ImageChops.difference(a, b).getbbox()
        if differs is None:
            continue
        boxes = _reference_boxes(reader, index)
        # Within a reference's line, from the reference on (what follows it on its line moves with the slot).
        assert any(box[0] - 1 <= differs[0] and box[1] - 1 <= differs[1] and differs[3] <= box[3] + 1
                   for box in boxes), f"page {index + 1} differs at {differs}, outside its references' lines {boxes}"
        crop = b.crop(differs)
        pixels = crop.get_flattened_data() if hasattr(crop, "get_flattened_data") else crop.getdata()  # Pillow < 12.1
        accent = [pixel for pixel in pixels if pixel[0] > pixel[2] + 60]
        assert accent, f"page {index + 1}: the reference's page is not in the accent"
        spread += 1
    assert spread <= 2  # the two pages with a link between the first and the last article


def test_the_epub_page_list_is_the_same(both):
    (_, serial_epub), (_, parallel_epub) = both
    assert serial_epub.read_bytes() == parallel_epub.read_bytes()
    with zipfile.ZipFile(parallel_epub) as archive:
        assert b'epub:type="page-list"' in archive.read("EPUB/text/front_nav.xhtml")


def test_merged_pdf_size_stays_reasonable(both):
    (serial_pdf, _), (parallel_pdf, _) = both
    # Each part embeds its own font subsets; a long book dilutes that.
    assert parallel_pdf.stat().st_size < 1.3 * serial_pdf.stat().st_size


def _laid_out(calls) -> list[str]:
    """Kinds of the parts a build laid out (not taken from the cache)."""
    return sorted(call.args[0].kind for call in calls)


def test_an_edit_lays_out_only_its_chunk_and_gives_a_cold_builds_bytes(tmp_path, cold):
    from unittest import mock

    from pipeline.export.pdf import engine

    reference_book, reference_out = cold
    book, out = tmp_path / "book", tmp_path / "out"
    shutil.copytree(reference_book, book)
    shutil.copytree(reference_out, out)  # a first build's outputs and layout cache
    with mock.patch.object(engine, "lay_out", wraps=engine.lay_out) as spy:
        last = book / "18.md"
        last.write_text(last.read_text(encoding="utf-8") + "\nOne more sentence at the end.\n", encoding="utf-8")
        edited = build(book, out, jobs=1)
        assert edited.ok
        assert _laid_out(spy.call_args_list) == ["body"]  # the last chunk only: its pages did not move
    cold_edit = build(book, tmp_path / "cold", jobs=1, cache=False)
    assert edited.outputs[0].read_bytes() == cold_edit.outputs[0].read_bytes()
    assert not (tmp_path / "cold" / ".pipeline-cache").exists()  # --no-cache writes no cache either


def test_a_damaged_layout_cache_is_ignored(tmp_path, cold):
    book, reference_out = cold
    out = tmp_path / "out"
    shutil.copytree(reference_out, out)
    entries = sorted((out / ".pipeline-cache" / "layout").glob("*.bin"))
    assert len(entries) >= 3  # two chunks and the front matter
    entries[0].write_bytes(b"%PDF-1.7 truncated")
    entries[1].unlink()
    (out / ".pipeline-cache" / "state.json").unlink()  # force a rebuild
    again = build(book, out, jobs=1)
    reference = next(reference_out.glob("*.pdf"))
    assert again.ok and again.outputs[0].read_bytes() == reference.read_bytes()


def test_a_book_without_identifier_prints_the_epubs_derived_one(both):
    (serial_pdf, _), (parallel_pdf, epub) = both  # book.toml names no identifier
    with zipfile.ZipFile(epub) as archive:
        opf = archive.read("EPUB/content.opf").decode()
    identifier = opf.split('<dc:identifier id="id">')[1].split("<")[0]
    assert identifier.startswith("urn:uuid:")
    front = [page.extract_text() for page in PdfReader(parallel_pdf).pages[:6]]
    notice = next(text for text in front if "Identifier" in text)
    assert identifier in notice.replace("\n", ""), notice


def test_a_garbled_page_number_guess_gives_a_cold_builds_bytes(tmp_path, cold):
    import json

    book, reference_out = cold
    out = tmp_path / "out"
    guess = out / ".pipeline-cache" / "pages-parallel.json"
    guess.parent.mkdir(parents=True)
    guess.write_text(json.dumps({"02": "abc", "10": "-3", "11": "", "12": "999", "13": {"x": 1}}), encoding="utf-8")
    again = build(book, out, jobs=1)
    assert again.ok and again.outputs[0].read_bytes() == next(reference_out.glob("*.pdf")).read_bytes()


def test_chunks_are_cut_by_article_count_and_still_number_their_articles(tmp_path):
    from pipeline.export import ExportContext, build_timestamp
    from pipeline.export.pdf.booklet import booklet_html as _html
    from pipeline.export.pdf.parts import partition
    from pipeline.load.manuscripts import load_book
    from pipeline.render.articles import render_book

    book, _ = load_book(_book(tmp_path))
    rendered, _ = render_book(book)
    chunks = partition(rendered.articles)
    assert [len(chunk) for chunk in chunks] == [6, 6, 6]  # whatever the articles' lengths
    context = ExportContext(timestamp=build_timestamp(book.config), version="test")
    alone = _html(rendered, context, {}, part="body", articles=rendered.articles[4:5])
    assert '<p class="article-number">Article 5</p>' in alone  # a one-article chunk of a longer book
