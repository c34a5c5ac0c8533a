"""Layout quality, measured (#28): no body page left mostly empty while its
article goes on, no blank page the book form does not ask for, no line past
the text block; a figure that does not fit at a page's foot shrinks or lets
text pass; opener numbers in one column; notes at the text's measure.
Judged by tests/layoutcheck.py on real builds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as raw
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

import layoutcheck
from conftest import MM, ROOT, SEEDS, SHARED, write_book
from pipeline import build

PARAGRAPH = ("Measured text flows across the page in even lines, one sentence after another, "
             "so that the page fills from top to foot before the next one starts. ") * 3
BOOKS = SHARED / "corpus-books"


def _fixture(folder: Path, before_figure: int) -> Path:
    """A figure too tall for the room left after `before_figure` paragraphs
    of the first article; a short article whose tail ends on a recto, then
    a third article (a recto opener); a long note."""
    picture = Image.new("RGB", (800, 900), "#dde6ee")
    ImageDraw.Draw(picture).rectangle((40, 40, 760, 860), outline="#123456", width=12)
    (folder / "images").mkdir(parents=True)
    picture.save(folder / "images" / "tall.png")
    first = ("---\ntitle: A Figure at the Foot\n---\n\n## First section\n\n" + "\n\n".join([PARAGRAPH] * before_figure)
             + "\n\n![A tall chart](images/tall.png)\n\n" + "\n\n".join([PARAGRAPH] * 6)
             + "\n\n## Second section\n\n" + "\n\n".join([PARAGRAPH] * 3) + "\n")
    note = ("A claim with a long note.[^long]\n\n[^long]: This note is long enough to wrap over several lines, so "
            "that its measure can be compared with the measure of the text above it, edge to edge, as the "
            "paragraphs are set, and no narrower than they are, over three lines or four.\n")
    return write_book(folder, '[book]\ntitle = "Layout Fixture"\nlanguage = "en"\n', {
        "01-figure.md": first,
        "02-short.md": "---\ntitle: A Short Article\n---\n\n" + "\n\n".join([PARAGRAPH] * 9) + "\n",
        "03-next.md": "---\ntitle: The Next Article\n---\n\n" + PARAGRAPH + "\n\n" + note,
    })


def _pdf(folder: Path, out: Path) -> Path:
    result = build(folder, out, formats=("pdf",))
    assert result.ok, [d.format() for d in result.diagnostics]
    return result.outputs[0]


def _picture_heights(pdf: Path) -> list[tuple[int, float]]:
    document = pdfium.PdfDocument(pdf)
    return [(index, top - bottom) for index, page in enumerate(document)
            for image in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE])
            for _, bottom, _, top in [image.get_bounds()]]


@pytest.mark.parametrize("before_figure", [5, 4])
def test_a_figure_that_does_not_fit_leaves_no_empty_page(tmp_path, before_figure):
    """5 paragraphs: the figure fits once shrunk; 4: too little shrinking
    would do, and the text after it fills the room instead."""
    pdf = _pdf(_fixture(tmp_path / "book", before_figure), tmp_path / "out")
    found = layoutcheck.findings(pdf)
    assert found == [], [str(finding) for finding in found]
    [(index, height)] = _picture_heights(pdf)
    natural = 120 * MM * 0.999  # print.css: at most 120 mm high, and as wide as the measure allows
    book = layoutcheck.read(pdf)
    assert book.pages[index - 1].fill > 0.9 and not book.pages[index - 1].blank
    if before_figure == 5:
        assert 0.7 * natural * 0.9 <= height < natural * 0.99  # shrunk, not below 70 % of its height (+ its width cap)


def test_the_blank_verso_is_there_only_before_a_recto_opener(tmp_path):
    pdf = _pdf(_fixture(tmp_path / "book", 5), tmp_path / "out")
    book = layoutcheck.read(pdf)
    blanks = [page.index for page in book.pages if page.blank]
    assert blanks and all(layoutcheck.required_blank(book, index) for index in blanks), blanks
    assert all(index % 2 == 0 for index in book.openers) and len(book.openers) == 3
    # The short article's tail ends on a recto: the next opener needs the blank verso between.
    tail = max(i for i in book.last_pages if book.openers[1] <= i < book.openers[2])
    assert tail % 2 == 0 and book.pages[tail + 1].blank and tail + 2 == book.openers[2]


def test_opener_numbers_stand_in_one_right_aligned_column(tmp_path):
    pdf = _pdf(_fixture(tmp_path / "book", 5), tmp_path / "out")
    book = layoutcheck.read(pdf)
    page = pdfium.PdfDocument(pdf)[book.openers[0]]
    width, _ = page.get_size()
    text = page.get_textpage()
    rights = []
    for row, words in enumerate(text.get_text_range().splitlines()):
        if words.strip() in ("1", "2", "3", "4", "5"):
            rights.append(words.strip())
    chars = [text.get_charbox(i) for i in range(text.count_chars()) if text.get_text_range(i, 1).isdigit()]
    # The section numbers' digits (the last ones on the page's list) end at the text block's right edge.
    edge = width - 15 * MM
    column = [x1 for _, _, x1, _ in chars if x1 > edge - 3 * MM]
    assert len(column) == 2 and max(column) - min(column) < 0.5 and edge - max(column) < 1.5, (column, edge)


def test_a_long_note_is_set_at_the_text_measure(tmp_path):
    pdf = _pdf(_fixture(tmp_path / "book", 5), tmp_path / "out")
    document = pdfium.PdfDocument(pdf)
    page = document[len(document) - 1]
    width, _ = page.get_size()
    text = page.get_textpage()
    start = text.get_text_range().index("This note is long")
    note_top = text.get_charbox(start, loose=True)[3]
    lines: dict[int, float] = {}
    for i in range(start, text.count_chars()):
        x0, y0, x1, y1 = text.get_charbox(i, loose=True)
        if text.get_text_range(i, 1).strip() and y1 <= note_top + 0.5:
            lines[round(y0)] = max(lines.get(round(y0), 0), x1)
    edge = width - (15 if (len(document) - 1) % 2 == 0 else 21) * MM
    ends = [lines[y] for y in sorted(lines, reverse=True)][:-1]  # every line but the note's last
    assert len(ends) >= 2 and all(abs(end - edge) < 1.0 for end in ends), (ends, edge)


def _synthetic_pdf(path: Path, pages: list[str]) -> Path:
    """A5 pages drawn with Pillow ('' blank, 'N%' ink down to N % of the text
    block), arabic labels, a level-1 bookmark on each page marked '*'."""
    size = (420, 595)
    images = []
    for spec in pages:
        image = Image.new("RGB", size, "white")
        if spec:
            top, bottom = 19 * MM, size[1] - 21 * MM
            depth = float(spec.strip("*%")) / 100
            ImageDraw.Draw(image).rectangle((70, top + 2, 340, top + (bottom - top) * depth), fill="black")
        images.append(image)
    images[0].save(path, save_all=True, append_images=images[1:], resolution=72)
    writer = PdfWriter(clone_from=path)
    for index, spec in enumerate(pages):
        if spec.startswith("*"):
            writer.add_outline_item(title=f"Article {index}", page_number=index)
    writer._root_object[NameObject("/PageLabels")] = DictionaryObject({NameObject("/Nums"): ArrayObject(
        [NumberObject(0), DictionaryObject({NameObject("/S"): NameObject("/D")})])})
    writer.write(path)
    return path


def test_the_checker_names_each_blemish_and_spares_what_the_form_asks(tmp_path):
    # 0 opener 30 % (its article goes on: underfull); 1 full; 2 a blank recto (unasked);
    # 3 a blank verso before the recto opener 4 (asked); 4 opener, 40 %, its article's last page.
    pdf = _synthetic_pdf(tmp_path / "s.pdf", ["*30%", "100%", "", "", "*40%"])
    found = layoutcheck.findings(pdf)
    assert [(f.folio, f.kind) for f in found] == [("1", "underfull"), ("3", "blank")], [str(f) for f in found]
    assert "filled 3" in found[0].why and "recto" in found[1].why


def test_the_checker_reports_a_line_past_the_text_block(tmp_path):
    long_word = "Unbreakable" * 12
    folder = write_book(tmp_path / "book", '[book]\ntitle = "Wide"\nlanguage = "en"\n',
                        {"01-a.md": f"---\ntitle: Wide\n---\n\n{PARAGRAPH}\n"})
    # The book's own stylesheet lets a word run past the measure, as a careless design would.
    (folder / "styles").mkdir()
    (folder / "styles" / "print.css").write_text("html { overflow-wrap: normal; } .article-body p { hyphens: none; }")
    (folder / "01-a.md").write_text(f"---\ntitle: Wide\n---\n\n{PARAGRAPH} {long_word}\n")
    pdf = _pdf(folder, tmp_path / "out")
    found = [f for f in layoutcheck.findings(pdf) if f.kind == "overflow"]
    assert found and found[0].folio == "1" and "past the text block" in found[0].why, [str(f) for f in found]


def _clean(pdf: Path) -> list[str]:
    return [str(finding) for finding in layoutcheck.findings(pdf)]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is absent")
def test_the_seed_book_is_clean(tmp_path):
    folder = tmp_path / "seeds"
    imported = subprocess.run([sys.executable, "-m", "pipeline", "import", "--into", str(folder),
                               *map(str, sorted(SEEDS.glob("*.txt")))], capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    assert _clean(_pdf(folder, tmp_path / "out")) == []


@pytest.mark.skipif(not BOOKS.is_dir(), reason="../shared/corpus-books is absent")
@pytest.mark.parametrize("name", ["rust-book", "embedded-book"])
def test_the_corpus_books_are_clean(tmp_path, name):
    if not (BOOKS / name).is_dir():
        pytest.skip(f"{name} is absent")
    folder = tmp_path / name
    shutil.copytree(BOOKS / name, folder)
    (folder / "book.toml").write_text(f'[book]\ntitle = "{name}"\nlanguage = "en"\n')
    result = build(folder, tmp_path / "out", formats=("pdf",))
    assert result.outputs, [d.format() for d in result.diagnostics]
    assert _clean(result.outputs[0]) == []


def test_a_generated_book_is_clean(tmp_path):
    """The benchmark's generator (benchmarks/generate.py), 12 articles: two chunks laid out apart."""
    generated = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "12", str(tmp_path / "g")],
                               capture_output=True, text=True)
    assert generated.returncode == 0, generated.stderr
    assert _clean(_pdf(tmp_path / "g", tmp_path / "out")) == []
