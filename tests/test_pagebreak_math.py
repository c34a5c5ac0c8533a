"""Page-break markers and MathML (#27): a printed page that begins inside a
formula gets its EPUB marker before the formula, never inside `<math>`
(EPUBCheck's RSC-005), and the letters of a formula are not counted, as the
PDF, which draws formulas as pictures, has none."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from pipeline import build
from pipeline.export.pagebreaks import block_elements, insert_markers
from pipeline.model import PageBreak

from conftest import epub_documents, epubcheck_messages, write_book

MATHML = "http://www.w3.org/1998/Math/MathML"
XHTML = "http://www.w3.org/1999/xhtml"


def _marker(page_break: PageBreak) -> etree._Element:
    return etree.Element(f"{{{XHTML}}}span", {"id": f"page-{page_break.label}"})


def _paragraph(xml: str) -> etree._Element:
    return etree.fromstring(f'<p xmlns="{XHTML}" xmlns:m="{MATHML}">{xml}</p>')


def test_a_break_in_a_formula_goes_before_it_and_its_letters_are_not_counted() -> None:
    paragraph = _paragraph("ab <m:math><m:mi>x</m:mi><m:mo>+</m:mo><m:mi>y</m:mi></m:math> cd")
    # The third letter as the PDF counts them (a, b, then c: the formula has none).
    insert_markers(paragraph, [PageBreak("7", 0, 0, 2)], _marker)
    marker = paragraph.find(f"{{{XHTML}}}span")
    assert marker is not None and marker.tail == "cd"
    assert marker.getprevious().tag == f"{{{MATHML}}}math"
    assert not list(paragraph.find(f"{{{MATHML}}}math").iter(f"{{{XHTML}}}span"))


def test_a_break_past_the_text_of_a_formula_only_paragraph_is_not_put_in_the_formula() -> None:
    paragraph = _paragraph("<m:math><m:mi>x</m:mi></m:math>")
    insert_markers(paragraph, [PageBreak("3", 0, 0, 0)], _marker)
    math = paragraph.find(f"{{{MATHML}}}math")
    assert not list(math.iter(f"{{{XHTML}}}span"))
    assert paragraph.find(f"{{{XHTML}}}span") is not None


def test_blocks_inside_svg_or_math_are_not_blocks() -> None:
    container = etree.fromstring(f'<div xmlns="{XHTML}"><p>a</p><svg xmlns="http://www.w3.org/2000/svg">'
                                 f'<foreignObject><p xmlns="{XHTML}">b</p></foreignObject></svg></div>')
    assert [block.text for block in block_elements(container, "footnotes")] == ["a"]


def test_a_break_at_the_end_of_a_table_row_goes_into_its_last_cell() -> None:
    table = etree.fromstring(f'<table xmlns="{XHTML}"><tr><td>x</td><td></td></tr></table>')
    insert_markers(table.find(f"{{{XHTML}}}tr"), [PageBreak("2", 0, 0, 5)], _marker)
    assert table.findall(f".//{{{XHTML}}}td")[1].find(f"{{{XHTML}}}span") is not None


PROSE = ("The tide rises twice a day, and the moon, whose pull is unequal across the earth, "
         "draws the water into two bulges that the planet turns under. ")


def _article() -> str:
    """Pages of paragraphs dense with inline math (more letters in formulas
    than in words), and display formulas between them: some seven printed pages."""
    parts = ["---\ntitle: Tides in formulas\n---\n"]
    for number in range(24):
        formulas = ", ".join(f"$abc_{{{k}}} + xyz^{{{number}}}$" for k in range(12))
        parts.append(f"{PROSE}Here {formulas} hold. {PROSE}\n")
        parts.append(f"$$\n\\sum_{{k=0}}^{{{number}}} \\frac{{k^2}}{{k+1}} = \\int_0^1 f_{number}(t)\\,dt\n$$\n")
    return "\n".join(parts)


def test_a_book_of_formulas_across_pages_passes_epubcheck(tmp_path: Path) -> None:
    book = write_book(tmp_path / "book", '[book]\ntitle = "Formulas"\nauthors = ["A. Tester"]\nlanguage = "en"\n',
                      {"tides.md": _article()})
    result = build(book, tmp_path / "out")
    assert result.ok, [d.format() for d in result.diagnostics]
    epub = next(path for path in result.outputs if path.suffix == ".epub")
    markers = 0
    for name, root in epub_documents(epub).items():
        for math in root.iter(f"{{{MATHML}}}math"):
            assert not [span for span in math.iter() if span.get("role") == "doc-pagebreak"], name
        markers += sum(1 for span in root.iter(f"{{{XHTML}}}span") if span.get("role") == "doc-pagebreak")
    assert markers >= 5  # the article runs over several printed pages
    assert epubcheck_messages(epub) == []
