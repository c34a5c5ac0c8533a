"""Code blocks: Pygments' token spans in the XHTML (EPUB and PDF alike), the
code's text kept exact and escaped, long lines wrapped inside the text block
with a drawn continuation mark, page breaks that never leave one line of a
block alone, and R016 for a fence whose language Pygments does not know."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from lxml import etree

from pipeline import build
from pipeline.render.code import highlight_code
from pipeline.render.lint import unknown_languages
from pipeline.text.markdown import to_html
from pipeline.xhtml import parse_html, sanitize, serialize_children

from conftest import epub_documents, epubcheck_messages, glyphs_outside_the_text_block, write_book

XHTML = "{http://www.w3.org/1999/xhtml}"

PYTHON = '''import math

@cache
def area(radius: float) -> float:
    """The area of a circle."""
    return math.pi * radius ** 2  # a comment long enough to wrap onto a second row in the booklet's narrow measure
'''
WRAPPED = "# a comment long enough to wrap onto a second row in the booklet's narrow measure"


def _highlighted(markdown: str) -> etree._Element:
    root = parse_html(sanitize(to_html(markdown)))
    highlight_code(root)
    return root


def test_tokens_get_pygments_classes_and_the_text_stays_exact():
    root = _highlighted(f"```python\n{PYTHON}```\n")
    code = root.find("pre/code")
    assert "".join(code.itertext()) == PYTHON
    lines = code.findall("span")
    assert [line.get("class") for line in lines] == ["line"] * PYTHON.count("\n")
    assert ["".join(line.itertext()) for line in lines] == PYTHON.splitlines(keepends=True)
    tokens = {(span.get("class"), span.text) for span in code.iter("span") if span.get("class") != "line"}
    assert tokens >= {("kn", "import"), ("k", "def"), ("k", "return"), ("nf", "area"), ("nd", "@cache"),
                      ("mi", "2"), ("c1", WRAPPED), ("sd", '"""The area of a circle."""')}


def test_code_that_looks_like_markup_stays_text():
    source = '</code></pre><script>alert(1)</script><b onclick="x()">&amp;</b>\n'
    for fence in ("```html\n", "```\n", "```nosuchlanguage\n"):
        root = _highlighted(f"{fence}{source}```\n")
        assert not root.findall(".//script") and not root.findall(".//b")
        assert "".join(root.find("pre/code").itertext()) == source
        assert "<script>" not in serialize_children(root)


def test_a_token_over_several_lines_is_cut_at_each_newline():
    root = _highlighted('```python\nx = """one\n\ntwo"""\n```\n')
    lines = root.findall("pre/code/span")
    assert ["".join(line.itertext()) for line in lines] == ['x = """one\n', "\n", 'two"""\n']
    assert [span.text for line in lines for span in line if span.get("class") == "s2"] == ['"""one', 'two"""']


def test_unknown_and_missing_languages_are_plain_lines():
    for fence in ("```\n", "```nosuchlanguage\n"):
        code = _highlighted(f"{fence}a = 1\nb = 2\n```\n").find("pre/code")
        assert [(line.get("class"), line.text, len(line)) for line in code] == [("line", "a = 1\n", 0),
                                                                               ("line", "b = 2\n", 0)]


def _article(tmp_path: Path, body: str):
    from pipeline.load.manuscripts import load_book

    book_dir = write_book(tmp_path / "book", '[book]\ntitle = "T"\n', {"01-a.md": f"---\ntitle: A\n---\n\n{body}"})
    book, _ = load_book(book_dir)
    return book.articles[0]


def test_an_unknown_language_is_located_with_a_suggestion(tmp_path):
    article = _article(tmp_path, "Text.\n\n```pyhton\nx\n```\n\n> ~~~ {.jsonn .numberLines}\n> {}\n> ~~~\n\n"
                                 "```\nplain\n```\n\n```Python\nx\n```\n\n```rust,ignore\nfn f() {}\n```\n")
    found = unknown_languages(article)
    assert [(d.code, d.line, d.column) for d in found] == [("R016", 7, 4), ("R016", 11, 7)]
    assert "'pyhton'" in found[0].message and "did you mean 'python'?" in found[0].hint
    assert "did you mean 'json'?" in found[1].hint
    assert all(d.path.name == "01-a.md" and not d.is_error for d in found)


# One end-to-end build: the first article has the Python above and a fence of
# an unknown language; the second has many short blocks between paragraphs of
# one to four sentences, so that blocks meet page ends at many offsets (without
# the rules of print.css, some pages end or start with one line of a block).
BLOCKS = 40


def _lines(block: int) -> int:
    return 5 + block * 3 % 7  # 5 to 11


def _long_blocks() -> str:
    parts = []
    for block in range(BLOCKS):
        parts.append(" ".join(["A sentence that moves the next block down the page."] * (block % 3 + 1)))
        lines = []
        for line in range(_lines(block)):
            tail = " + another_term" * 6 if line == 3 else ""  # wraps: one line, two rows
            lines.append(f"    b{block:02d}l{line:02d} = compute({line}){tail}  # e{block:02d}l{line:02d}")
        parts.append("```python\n" + "\n".join(lines) + "\n```")
    return "\n\n".join(parts) + "\n"


@pytest.fixture(scope="module")
def code_book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("code")
    book = write_book(folder / "book", '[book]\ntitle = "Code"\ndate = "2026-01-02"\n', {
        "01-short.md": f"---\ntitle: Short code\n---\n\n## Python\n\n```python\n{PYTHON}```\n\n"
                       "```pyhton\nprint('plain')\n```\n",
        "02-long.md": f"---\ntitle: Long code\n---\n\n{_long_blocks()}",
    })
    result = build(book, folder / "out", jobs=1)
    assert result.ok
    return result


def _output(result, suffix: str) -> Path:
    return next(path for path in result.outputs if path.suffix == suffix)


def test_the_build_warns_once_located_on_the_unknown_language(code_book):
    found = [d for d in code_book.diagnostics if d.code == "R016"]
    assert [(d.path.name, d.line, d.column) for d in found] == [("01-short.md", 16, 4)]


def test_the_epub_has_token_spans_and_passes_epubcheck(code_book):
    epub = _output(code_book, ".epub")
    assert epubcheck_messages(epub) == []
    document = next(doc for name, doc in epub_documents(epub).items() if "short" in name)
    code = document.find(f".//{XHTML}pre/{XHTML}code")
    assert "".join(code.itertext()) == PYTHON
    assert {span.get("class") for span in code.iter(f"{XHTML}span")} >= {"line", "kn", "k", "nf", "c1", "mi"}
    with zipfile.ZipFile(epub) as archive:
        css = archive.read("EPUB/style/book.css").decode()
        fonts = {Path(name).name for name in archive.namelist()}
    assert "prefers-color-scheme: dark" in css and "code > .line > .k" in css
    assert {"DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf"} <= fonts


def _pages(pdf: Path) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    return [document[index].get_textpage().get_text_range() for index in range(len(document))]


def test_the_pdf_keeps_the_code_text_and_no_mark_in_it(code_book):
    text = "\n".join(_pages(_output(code_book, ".pdf")))
    rows = [" ".join(row.split()) for row in text.splitlines()]
    # Indentation is not in a PDF's text (WeasyPrint places each row); the
    # words are, each line as written, and a wrapped line as two rows.
    for line in PYTHON.splitlines()[:-1]:
        assert " ".join(line.split()) in rows
    last = " ".join(PYTHON.splitlines()[-1].split())
    first = next(index for index, row in enumerate(rows) if row.startswith("return math.pi"))
    assert rows[first] != last and f"{rows[first]} {rows[first + 1]}" == last
    assert not re.search("[\u21aa\u21b3\u2937]", text)


def test_long_lines_wrap_inside_the_text_block(code_book):
    outside, checked = glyphs_outside_the_text_block(_output(code_book, ".pdf"))
    assert checked > 5000 and outside == []


def test_a_block_never_leaves_one_line_alone_and_a_line_never_breaks(code_book):
    pages = _pages(_output(code_book, ".pdf"))
    split = 0
    for block in range(BLOCKS):
        where = {}
        for line in range(_lines(block)):
            starts = [i for i, page in enumerate(pages) if f"b{block:02d}l{line:02d}" in page]
            ends = [i for i, page in enumerate(pages) if f"e{block:02d}l{line:02d}" in page]
            assert len(starts) == 1 and starts == ends  # a wrapped line stays on one page
            where.setdefault(starts[0], []).append(line)
        if len(where) > 1:
            split += 1
            assert all(len(lines) >= 2 for lines in where.values()), (block, where)
    assert split >= 3  # the test saw blocks broken across pages


def _dark_pixels(image, box) -> int:
    crop = image.crop(tuple(round(v) for v in box)).convert("L")
    return sum(crop.histogram()[:180])


def test_a_continued_row_has_a_drawn_mark_and_a_first_row_none(code_book):
    document = pdfium.PdfDocument(_output(code_book, ".pdf"))
    index = next(i for i in range(len(document)) if "return math.pi" in document[i].get_textpage().get_text_range())
    page = document[index]
    text = page.get_textpage()
    whole = text.get_text_range()
    scale = 4
    image = page.render(scale=scale).to_pil()
    height = page.get_height()

    def left_of(needle: str):
        """The 9pt left of the first character of `needle`, on its row, in pixels."""
        x0, y0, _, y1 = text.get_charbox(whole.index(needle))
        return ((x0 - 9) * scale, (height - y1) * scale, (x0 - 1) * scale, (height - y0) * scale)

    rows = whole.splitlines()
    continued = rows[next(i for i, row in enumerate(rows) if "return math.pi" in row) + 1].strip()
    assert continued and continued in WRAPPED
    assert _dark_pixels(image, left_of(continued)) > 20
    assert _dark_pixels(image, left_of("return math.pi")) == 0
