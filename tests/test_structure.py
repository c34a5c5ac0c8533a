"""Book structure, titles, links and ids, in both outputs, from one fixture
(tests/fixtures/structure): a file holding an opening article and two `#`
chapters, an mdBook chapter titled by `##`, links between the two files,
repeated and empty headings, a missing file, a URL with a space, an mdBook
`{{#include}}`, and `toc-depth = 3`."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import epub_documents, epubcheck_messages, pdf_link_targets
from pipeline import build

FIXTURE = Path(__file__).parent / "fixtures" / "structure"
NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
DEEP = "chapter--deep-section"


@pytest.fixture(scope="module")
def structure(tmp_path_factory):
    out = tmp_path_factory.mktemp("structure")
    result = build(FIXTURE, out)
    assert result.ok, [d.format() for d in result.diagnostics]
    pdf, epub = result.outputs
    return result.diagnostics, pdf, epub


def _where(diagnostics, code):
    return [(d.path.name, d.line) for d in diagnostics if d.code == code]


def test_diagnostics_name_file_and_line(structure):
    diagnostics, _, _ = structure
    assert _where(diagnostics, "R008") == [("01-whole-book.md", 24)]  # changelog.md: not in the book
    assert _where(diagnostics, "R009") == [("01-whole-book.md", 18)]  # the empty heading
    assert _where(diagnostics, "R010") == [("02-chapter.md", 11)]  # {{#include}}
    assert [d.message for d in diagnostics if d.code == "M004" and "file name" in d.message] == [
        "no front matter; the title 'Whole book' is taken from the file name"]
    assert not [d for d in diagnostics if d.code in ("R004", "X001")]


def test_one_file_with_several_chapters_gives_several_articles(structure):
    _, pdf, epub = structure
    documents = epub_documents(epub)
    titles = [documents[name].findtext(".//x:h1[@class='article-title']", namespaces=NS)
              for name in sorted(documents) if "/text/front_" not in name]
    # In spine order: the opening text, two chapters of the first file, the second file.
    spine = [name.rsplit("/", 1)[1] for name in _spine(epub)]
    assert spine[-4:] == ["whole-book.xhtml", "whole-book-the-box-t-type-and-you.xhtml", "second-chapter.xhtml",
                          "chapter.xhtml"]
    assert len(titles) == 5
    outline = [item.title for item in PdfReader(pdf).outline if not isinstance(item, list)]
    assert outline[-4:] == ["Whole book", "The Box<T> type and you", "Second chapter",
                            "Chapter two, titled like mdBook"]


def test_inline_markdown_in_titles_is_set_in_the_contents_and_plain_in_bookmarks(structure):
    _, pdf, epub = structure
    nav = epub_documents(epub)["EPUB/text/front_nav.xhtml"]
    [link] = [a for a in nav.iterfind(".//x:nav[@id='toc']//x:a", NS)
              if "".join(a.itertext()).startswith("The Box")]
    assert link.find("x:code", NS).text == "Box<T>" and link.find("x:em", NS).text == "you"
    article = epub_documents(epub)["EPUB/text/whole-book-the-box-t-type-and-you.xhtml"]
    assert article.find(".//x:h1[@class='article-title']/x:code", NS).text == "Box<T>"
    [contents] = [page.extract_text() for page in PdfReader(pdf).pages[:8] if "Contents" in page.extract_text()]
    assert "The Box<T> type and you" in " ".join(contents.split()) and "`" not in contents


def test_sections_count_from_the_title_and_the_contents_go_three_levels_deep(structure):
    _, pdf, epub = structure
    chapter = epub_documents(epub)["EPUB/text/chapter.xhtml"]
    assert chapter.find(f".//x:h2[@id='{DEEP}']", NS).text == "Deep section"  # ### under a ## title
    nav = epub_documents(epub)["EPUB/text/front_nav.xhtml"]
    [box] = [li for li in nav.iterfind(".//x:nav[@id='toc']/x:ol/x:li", NS)
             if "".join(li.find("x:a", NS).itertext()).startswith("The Box")]
    sections = [(a.text, a.get("href")) for a in box.iterfind("x:ol/x:li/x:a", NS)]
    assert sections == [("Same", "whole-book-the-box-t-type-and-you.xhtml#whole-book-the-box-t-type-and-you--same"),
                        ("Same", "whole-book-the-box-t-type-and-you.xhtml#whole-book-the-box-t-type-and-you--same-1")]
    assert [a.text for a in box.iterfind("x:ol/x:li/x:ol/x:li/x:a", NS)] == ["Deeper"]
    outline = PdfReader(pdf).outline
    index = [i for i, item in enumerate(outline) if not isinstance(item, list)
             and item.title == "The Box<T> type and you"][0]
    children = outline[index + 1]
    assert [c.title for c in children if not isinstance(c, list)] == ["Same", "Same"]
    assert [c.title for c in children[-1]] == ["Deeper"]  # level 3 under the second "Same"


def test_empty_headings_stay_out_of_nav_and_bookmarks(structure):
    _, pdf, epub = structure
    nav = epub_documents(epub)["EPUB/text/front_nav.xhtml"]
    assert all("".join(a.itertext()).strip() for a in nav.iterfind(".//x:a", NS))

    def titles(items):
        for item in items:
            yield from titles(item) if isinstance(item, list) else [item.title]

    assert all(title.strip() for title in titles(PdfReader(pdf).outline))


def test_links_between_manuscripts_in_both_outputs(structure):
    _, pdf, epub = structure
    documents = epub_documents(epub)
    opening = documents["EPUB/text/whole-book.xhtml"]
    hrefs = [a.get("href") for a in opening.iterfind(".//x:a", NS)]
    assert f"chapter.xhtml#{DEEP}" in hrefs
    assert "chapter.xhtml#chapter" in hrefs
    back = [a.get("href") for a in documents["EPUB/text/chapter.xhtml"].iterfind(
        ".//x:a", NS)]
    assert "whole-book.xhtml#whole-book" in back and "second-chapter.xhtml#second-chapter" in back
    assert epubcheck_messages(epub) == []
    reader = PdfReader(pdf)
    pages = {name: target for _, name, target in pdf_link_targets(reader)}
    deep_page = [i for i, page in enumerate(reader.pages) if "Deep section" in page.extract_text()
                 and "Intro of the second file" in page.extract_text()]
    assert pages[DEEP] == deep_page[0]
    assert pages["second-chapter"] == _outline_page(reader, "Second chapter")


def test_a_link_to_a_file_outside_the_book_keeps_its_text_and_urls_are_encoded(structure):
    _, pdf, epub = structure
    second = epub_documents(epub)["EPUB/text/second-chapter.xhtml"]
    paragraph = [p for p in second.iterfind(".//x:p", NS) if "missing file" in "".join(p.itertext())][0]
    assert [a.get("href") for a in paragraph.iterfind("x:a", NS)] == ["https://example.org/a%20b"]
    assert "a missing file" in "".join(paragraph.itertext())


def test_repeated_heading_texts_get_unique_ids(structure):
    _, _, epub = structure
    ids = [element.get("id") for document in epub_documents(epub).values() for element in document.iter()
           if element.get("id")]
    assert len(ids) == len(set(ids))


def _spine(epub: Path) -> list[str]:
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(epub) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    ns = {"o": "http://www.idpf.org/2007/opf"}
    hrefs = {item.get("id"): item.get("href") for item in opf.iterfind(".//o:manifest/o:item", ns)}
    return [hrefs[ref.get("idref")] for ref in opf.iterfind(".//o:spine/o:itemref", ns)]


def _outline_page(reader: PdfReader, title: str) -> int:
    for item in reader.outline:
        if not isinstance(item, list) and item.title == title:
            return reader.get_destination_page_number(item)
    raise AssertionError(title)


def test_each_extension_of_the_dialect_reaches_both_outputs(structure):
    _, pdf, epub = structure
    document = epub_documents(epub)["EPUB/text/dialect.xhtml"]
    assert document.find(".//x:s", NS).text == "struck"
    assert document.find(".//x:a[@href='http://www.example.org']", NS) is not None
    boxes = document.findall(".//x:li[@class='task-list-item']/x:input[@type='checkbox']", NS)
    assert [box.get("checked") is not None for box in boxes] == [True, False]
    assert [document.find(f".//x:dl/x:{tag}", NS).text for tag in ("dt", "dd")] == ["Term", "Its definition."]
    table = document.find(".//x:table[@id='dialect--prices']", NS)
    assert table.get("class") == "small" and table.find(".//x:td", NS).text == "1"
    [note] = document.findall(".//x:aside[@epub:type='footnote']", NS)
    assert "The inline note’s own text." in "".join(note.itertext())
    image = document.find(".//x:img", NS)
    assert image.get("style") == "width: 40%" and image.get("src") == "square.svg"
    # Its title, authors and date come from a pandoc title block.
    assert document.findtext(".//x:p[@class='article-authors']", namespaces=NS) == "A. Writer, B. Writer"
    assert document.findtext(".//x:p[@class='article-date']", namespaces=NS) == "2026-11-26"
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    assert "The dialect A. Writer, B. Writer 2026-11-26" in text
    assert "struck" in text and "Its definition." in text and "The inline note’s own text." in text


def test_a_first_heading_that_says_other_words_than_the_front_matter_title_is_kept():
    """MkDocs and Docusaurus show a page's `# heading` as its title and use
    front matter `title:` in the navigation: when the two differ, the
    heading stays the first line of the body (it was dropped, its words lost);
    when they say the same (case and punctuation aside), it is the title's."""
    from pipeline.load.structure import split_articles

    [kept] = split_articles("\n# Setting up the system\n\nBody.\n", 5, "Setup", whole=True)
    assert kept.title == "Setup" and kept.body.lstrip().startswith("# Setting up the system")
    [same] = split_articles("\n# Setting Up the System!\n\nBody.\n", 5, "Setting up the system", whole=True)
    assert same.title == "Setting up the system" and "Setting Up" not in same.body and "Body." in same.body
    [plain] = split_articles("# A longer visible heading\n\nBody.\n", 5, "Short")
    assert plain.title == "Short" and "# A longer visible heading" in plain.body
