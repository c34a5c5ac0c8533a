"""Rich content together (tests/fixtures/rich): math, highlighted code,
numbered figures, tables and equations with references, a long table, an
image. One build, no warning; the EPUB is EPUBCheck-silent with MathML,
token spans and a link for every reference; the PDF prints formulas (not
their TeX), numbered captions, references with page numbers and the long
table's header on every page it spans."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from conftest import epub_documents, epubcheck_messages
from pipeline import build

FIXTURE = Path(__file__).parent / "fixtures" / "rich"
MATHML = "http://www.w3.org/1998/Math/MathML"
XHTML = "http://www.w3.org/1999/xhtml"


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    result = build(FIXTURE, tmp_path_factory.mktemp("rich") / "out")
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    by_suffix = {path.suffix: path for path in result.outputs}
    return by_suffix[".pdf"], by_suffix[".epub"]


def test_the_epub_is_silent_and_carries_mathml_code_tokens_and_reference_links(rich):
    _, epub = rich
    assert epubcheck_messages(epub) == []
    documents = epub_documents(epub)
    maths = [m for root in documents.values() for m in root.iter(f"{{{MATHML}}}math")]
    assert len(maths) == 3 and all(m.get("alttext") for m in maths)
    assert any("10^{-6}" in m.get("alttext") for m in maths)  # the braces survive
    tokens = [s for root in documents.values() for s in root.iter(f"{{{XHTML}}}span") if s.get("class") == "k"]
    assert [t.text for t in tokens][:1] == ["def"]
    references = [a for root in documents.values() for a in root.iter(f"{{{XHTML}}}a")
                  if "xref" in (a.get("class") or "").split()]
    assert len(references) == 9 and all(a.get("href") for a in references)  # every @ref of both articles
    text = " ".join(" ".join(root.itertext()) for root in documents.values())
    assert "$5 and $10" in text  # a price is not math


def _pages(pdf: Path) -> list[str]:
    # Layout mode reads each line as it is seen: the page numbers the
    # furniture draws over the body land in their lines.
    return [" ".join(page.extract_text(extraction_mode="layout").replace("\xa0", " ").split())
            for page in PdfReader(pdf).pages]


def test_the_pdf_prints_formulas_captions_references_with_pages_and_repeated_headers(rich):
    pdf, _ = rich
    pages, labels = _pages(pdf), PdfReader(pdf).page_labels
    text = " ".join(pages)
    assert "\\frac" not in text and "\\sum" not in text and "10^{" not in text  # drawn, not TeX
    figure = next(i for i, page in enumerate(pages) if "Figure 1: The tides of the bay" in page)
    heights = next(i for i, page in enumerate(pages) if "Table 1: Heights at high water" in page)
    assert f"As Figure 1, page {labels[figure]}" in text
    assert f"Table 1, page {labels[heights]}" in text
    season = [i for i, page in enumerate(pages) if re.search(r"\bS(1|9|3\d)\b \d\.\d", page)]
    assert len(season) >= 2  # the long table spans pages...
    assert all(pages[i].count("Station Reading Note") == 1 for i in season)  # ...each with its header
    other = next(i for i, page in enumerate(pages) if "The figure of the first article" in page)
    assert "Figure 1 (Article 1)" in pages[other]
    drawn = pdfium.PdfDocument(pdf)[figure].get_objects()
    assert any(obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE for obj in drawn)  # the figure, and the formula's SVG
