"""Numbered figures, tables, equations and sections, references to them
(`@fig-id`), figures with sizes, and tables in the PDF: rendered markup, then
one book built to a PDF (pypdf: text, links, page labels) and an EPUB
(EPUBCheck)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from pipeline import build
from pipeline.load.manuscripts import load_book
from pipeline.render.articles import render_book

from conftest import epub_documents, epubcheck_messages, glyphs_outside_the_text_block, pdf_link_targets, write_book

ONE = """---
title: Tides and tables
---

As @fig-tides shows, and @tbl-long lists (see @sec-method and @eq-energy), write to me@fig-tree.com
or @someone. The other article has @fig-other; a wide one is @tbl-wide.

![The tides of the bay](tides.png){#fig-tides width=60%}

## Method {#sec-method}

Text about the method.

<div class="math display" id="eq-energy">E = mc²</div>

### Details

Back to @sec-method and `@fig-tides` in code.

| Column heading 1 | Column heading 2 | Column heading 3 | Column heading 4 | Column heading 5 | Column heading 6 | Column heading 7 |
|---|---|---|---|---|---|---|
| Supercalifragilisticexpialidocious | 123456789012345678901234567890 | short | Supercalifragilisticexpialidocious | 123456789012345678901234567890 | short | a few words that wrap |

: A wide table {#tbl-wide}

## Data

| Number | Station | Height | Remark |
|---|---|---|---|
{rows}

: A long table of stations {#tbl-long}
"""

TWO = """---
title: Another article
---

Back to @fig-tides and @sec-method.

![Another figure](tides.png){#fig-other}

See @fig-other.
"""


def _image(path: Path) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 350), "white")
    ImageDraw.Draw(image).rectangle((40, 40, 560, 310), outline=(40, 90, 160), width=12)
    image.save(path)


def _book(folder: Path, toml: str = '[book]\ntitle = "Cross references"\nlanguage = "en"\n',
          one: str = ONE, two: str = TWO) -> Path:
    rows = "\n".join(f"| {i} | Station {i} | {i * 3.7:.1f} | {'calm' if i % 3 else 'a long remark that wraps'} |"
                     for i in range(1, 61))
    write_book(folder, toml, {"01-one.md": one.replace("{rows}", rows), "02-two.md": two})
    _image(folder / "tides.png")
    return folder


def _render(folder: Path):
    book, found = load_book(folder)
    rendered, more = render_book(book)
    return rendered, found + more


def _body(rendered, index: int = 0) -> etree._Element:
    return etree.fromstring(f"<div>{rendered.articles[index].body_html}</div>")


def _references(root: etree._Element) -> list[tuple[str, str]]:
    return [(a.get("href"), a.text) for a in root.iter("a") if a.get("class") == "xref"]


def test_elements_are_numbered_and_references_become_links_with_words(tmp_path):
    rendered, found = _render(_book(tmp_path / "book"))
    assert [d.format() for d in found] == []
    one, two = _body(rendered, 0), _body(rendered, 1)
    nbsp = "\u00a0"
    assert _references(one) == [
        ("#one--fig-tides", f"Figure{nbsp}1"), ("#one--tbl-long", f"Table{nbsp}2"),
        ("#one--sec-method", f"Section{nbsp}1"), ("#one--eq-energy", f"Equation{nbsp}1"),
        ("#two--fig-other", f"Figure{nbsp}1{nbsp}(Article{nbsp}2)"), ("#one--tbl-wide", f"Table{nbsp}1"),
        ("#one--sec-method", f"Section{nbsp}1")]
    assert _references(two) == [("#one--fig-tides", f"Figure{nbsp}1{nbsp}(Article{nbsp}1)"),
                                ("#one--sec-method", f"Section{nbsp}1{nbsp}(Article{nbsp}1)"),
                                ("#two--fig-other", f"Figure{nbsp}1")]
    text = "".join(one.itertext())
    assert "me@fig-tree.com" in text and "@someone" in text and "`@fig-tides`" not in text
    assert one.find(".//code").text == "@fig-tides"  # code is never a reference
    figure = one.find(".//figure")
    assert figure.get("id") == "one--fig-tides" and figure.find("img").get("id") is None
    assert figure.find("img").get("style") == "width: 60%"  # {width=50%} as pandoc writes it
    assert "".join(figure.find("figcaption").itertext()) == f"Figure{nbsp}1: The tides of the bay"
    captions = ["".join(c.itertext()) for c in one.iter("caption")]
    assert captions == [f"Table{nbsp}1: A wide table", f"Table{nbsp}2: A long table of stations"]
    assert one.find(".//table").get("class") == "wide-table"
    assert one.find(".//div[@id='one--eq-energy']/span").text == "(1)"
    assert ["".join(h.itertext()) for h in one.iter("h2", "h3")] == ["1 Method", "1.1 Details", "2 Data"]
    assert [h.text for h in rendered.articles[0].headings] == ["Method", "Data"]  # the contents' own numbers
    assert rendered.articles[0].targets == ("one--fig-tides", "one--eq-energy", "one--tbl-wide",
                                            "one--tbl-long", "one--sec-method")


def test_numbering_through_the_book_and_words_in_the_books_language(tmp_path):
    toml = ('[book]\ntitle = "Querverweise"\nlanguage = "de"\nnumbering = "book"\n\n'
            '[labels]\ntable = "Tab. {n}"\n')
    rendered, found = _render(_book(tmp_path / "book", toml))
    # The fixture's prose is English under language = "de": the language check
    # says so (C012), rightly; what this test is about is the fixed words.
    assert [d.code for d in found] == ["C012"], [d.format() for d in found]
    nbsp = "\u00a0"
    assert _references(_body(rendered, 1)) == [("#one--fig-tides", f"Abbildung{nbsp}1"),
                                               ("#one--sec-method", f"Abschnitt{nbsp}1.1"),
                                               ("#two--fig-other", f"Abbildung{nbsp}2")]
    assert ("#one--tbl-long", f"Tab.{nbsp}2") in _references(_body(rendered, 0))  # [labels] wins


def test_an_unknown_id_is_a_located_error_with_the_id_meant(tmp_path):
    two = TWO.replace("See @fig-other.", "See @fig-othr, and again @fig-othr.")
    rendered, found = _render(_book(tmp_path / "book", two=two))
    assert [(d.code, d.severity.value, d.path.name, d.line, d.column) for d in found] == [
        ("R014", "error", "02-two.md", 9, 5), ("R014", "error", "02-two.md", 9, 26)]
    assert "did you mean '@fig-other'?" in found[0].hint and "{#fig-othr}" in found[0].hint
    assert "@fig-othr" in "".join(_body(rendered, 1).itertext())  # the author's text stays
    config = tmp_path / "book" / "book.toml"
    config.write_text(config.read_text() + 'numbering = "chapter"\n')
    assert [d.code for d in load_book(tmp_path / "book")[1]] == ["C003"]


def test_table_captions_before_after_or_under_the_last_row():
    from pipeline.text.markdown import to_html

    table = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    for source in (f"Table: Before {{#tbl-x}}\n\n{table}", f"{table}\n: After {{#tbl-x}}\n",
                   f"{table}: Under {{#tbl-x}}\n"):
        root = etree.fromstring(f"<div>{to_html(source)}</div>")
        assert root.find("table").get("id") == "tbl-x", source
        assert root.find("table/caption").text in ("Before", "After", "Under")
        assert len(root.findall(".//tr")) == 2 and root.find("p") is None
    assert "<dl>" in to_html("Term\n: definition\n")  # a definition list stays one


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = _book(tmp_path_factory.mktemp("xref") / "book")
    result = build(folder, folder.parent / "out", per_article=True)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    return result.outputs


def _pages(pdf: Path) -> tuple[list[str], list[str], object]:
    import pypdf

    reader = pypdf.PdfReader(pdf)
    # Layout mode reads the text in its lines: the furniture's page numbers,
    # drawn over the body, land where the reader sees them.
    texts = [" ".join(page.extract_text(extraction_mode="layout").replace("\u00a0", " ").split())
             for page in reader.pages]
    return texts, list(reader.page_labels), reader


def test_pdf_references_are_links_with_the_page_of_their_target(built):
    texts, labels, reader = _pages(built[0])
    figure = next(i for i, t in enumerate(texts) if "Figure 1: The tides of the bay" in t)
    other = next(i for i, t in enumerate(texts) if "Figure 1: Another figure" in t)
    long_table = next(i for i, t in enumerate(texts) if "Table 2: A long table of stations" in t)
    first = next(i for i, t in enumerate(texts) if "As Figure 1" in t)
    assert f"Figure 1, page {labels[figure]}" in texts[first]
    assert f"Table 2, page {labels[long_table]}" in texts[first]
    assert f"Figure 1 (Article 2), page {labels[other]}" in texts[first]
    back = next(i for i, t in enumerate(texts) if "Back to Figure 1" in t)
    assert f"Figure 1 (Article 1), page {labels[figure]}" in texts[back] and back != figure
    links = {(page, name): target for page, name, target in pdf_link_targets(reader)}
    assert links[(first, "one--fig-tides")] == figure and links[(first, "two--fig-other")] == other
    assert links[(back, "one--fig-tides")] == figure
    assert "page 88" not in " ".join(texts)  # the slots' measure is never printed


def test_a_booklet_of_one_article_keeps_references_elsewhere_as_text(built):
    """(No WeasyPrint warning either: the fixture's build has no diagnostic.)"""
    [two] = [path for path in built if path.name == "two.pdf"]
    texts, labels, _ = _pages(two)
    figure = next(i for i, t in enumerate(texts) if "Figure 1: Another figure" in t)
    page = next(t for t in texts if "Back to" in t)
    assert "Back to Figure 1 (Article 1) and Section 1 (Article 1)." in page
    assert f"See Figure 1, page {labels[figure]}" in page


def test_pdf_long_table_repeats_its_header_and_wide_table_stays_in_the_measure(built):
    texts, _, _ = _pages(built[0])
    rows = [i for i, t in enumerate(texts) if re.search(r"\bStation \d+\b", t)]
    assert len(rows) >= 2  # the long table spans pages
    for index in rows:
        assert "Number Station Height Remark" in texts[index], index
    assert "Station 60" in texts[rows[-1]]
    outside, checked = glyphs_outside_the_text_block(built[0])
    assert checked > 1000 and outside == []


def test_epub_references_are_links_across_documents_and_epubcheck_is_silent(built):
    epub = built[1]
    assert epubcheck_messages(epub) == []
    documents = epub_documents(epub)
    xhtml = "{http://www.w3.org/1999/xhtml}"
    links = {(name.rsplit("/", 1)[-1], a.get("href"), a.text) for name, doc in documents.items()
             for a in doc.iter(f"{xhtml}a") if a.get("class") == "xref"}
    assert ("two.xhtml", "one.xhtml#one--fig-tides", "Figure\u00a01\u00a0(Article\u00a01)") in links
    assert ("one.xhtml", "two.xhtml#two--fig-other", "Figure\u00a01\u00a0(Article\u00a02)") in links
    ids = {(name.rsplit("/", 1)[-1], e.get("id")) for name, doc in documents.items() for e in doc.iter()
           if e.get("id")}
    for name, href, _ in links:
        home, _, target = href.rpartition("#")
        assert (home or name, target) in ids


def test_a_tagged_pdf_laid_out_as_one_document_prints_the_pages_too(tmp_path):
    folder = _book(tmp_path / "book", two=TWO.replace("See @fig-other.", "See @tbl-long."))
    result = build(folder, tmp_path / "out", formats=("pdf",), pdf_variant="pdf/ua-1")
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    texts, labels, _ = _pages(result.outputs[0])
    table = next(i for i, t in enumerate(texts) if "Table 2: A long table of stations" in t)
    back = next(i for i, t in enumerate(texts) if "Back to Figure 1" in t)
    assert f"See Table 2 (Article 1), page {labels[table]}." in texts[back]


def test_the_body_leaves_a_slot_for_the_page_and_the_furniture_fills_it(tmp_path):
    """The body's HTML holds no page number, only a hidden measure ("88",
    or "888" for a book that may pass page 99); the furniture prints the
    number, set tighter where it is longer than its room."""
    from datetime import datetime, timezone
    from dataclasses import replace

    from pipeline.export import ExportContext
    from pipeline.export.pdf.booklet import page_digits
    from pipeline.export.pdf.furniture import FurniturePage, Slot
    from pipeline.export.pdf.parts import body_parts
    from pipeline.styles import render_template

    rendered, _ = _render(_book(tmp_path / "book"))
    context = ExportContext(timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc), version="t")
    [body] = body_parts(rendered, context)
    slots = re.findall(r'<a class="xref" href="[^"]*" data-page="([^"]*)" data-page-text="([^"]*)">', body.html)
    assert len(slots) == 10 and set(slots) == {("", ",\u00a0page\u00a088")}
    assert page_digits(rendered) == 2
    long_book = replace(rendered, articles=rendered.articles * 20)
    assert page_digits(long_book) == 3
    slot = Slot(0, "one--fig-tides", 10.0, 20.0, 40.0, "xref", "font-size: 14px; line-height: 18px")
    html = render_template("furniture.html", config=rendered.book.config, direction="ltr", font_css="",
                           page_reference=", page {n}", digits=2,
                           articles=[{"item": rendered.articles[0],
                                      "pages": [FurniturePage(((slot, "7"), (slot, "123")))]}])
    assert 'class="furniture-slot xref-slot" ' in html and 'data-page="7" data-page-text=", page 7"' in html
    assert 'class="furniture-slot xref-slot xref-slot-tight" ' in html and 'data-page-text=", page 123"' in html
