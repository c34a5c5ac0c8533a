"""TeX math: MathML with alttext in the EPUB (EPUBCheck silent, `mathml`
declared), formulas drawn as SVG in the PDF (no TeX in its text, on the
text's baseline), pandoc's rules for what opens math, located errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

from conftest import epub_documents, epubcheck_messages, write_book
from pipeline import build
from pipeline.load.manuscripts import load_book
from pipeline.render.articles import render_book
from pipeline.text.markdown import to_html

MATHML = "{http://www.w3.org/1998/Math/MathML}"
NS = {"x": "http://www.w3.org/1999/xhtml", "m": "http://www.w3.org/1998/Math/MathML",
      "opf": "http://www.idpf.org/2007/opf"}
TOML = '[book]\ntitle = "Formulas"\nlanguage = "en"\n'
MATH = """---
title: Orbits
---

Kepler wrote $x = \\frac{-b}{2a}$ nowhere, and prices stay prices: $5 and $10.
Einstein: $E = mc^2$. The roots of $ax^2 + bx + c = 0$ are $x = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}$.

$$
\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}
$$ {#eq-sum}

A sign alone sits on the baseline: $=$.

The error stays below $10^{-6}$:

$$\\varepsilon < 10^{-6}$$

A note holds math too.[^1]

[^1]: Where $\\alpha_i \\geq 0$.
"""
TEX = ["x = \\frac{-b}{2a}", "E = mc^2", "ax^2 + bx + c = 0", "x = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}",
       "\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}", "=", "10^{-6}", "\\varepsilon < 10^{-6}", "\\alpha_i \\geq 0"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    folder = write_book(tmp_path_factory.mktemp("math") / "book", TOML, {"orbits.md": MATH})
    result = build(folder, folder.parent / "out")
    assert [d for d in result.diagnostics if d.is_error] == []
    # No renderer warning: a formula above the baseline ('=') once gave 'vertical-align: --0.1em'.
    assert [d.message for d in result.diagnostics if d.code == "X001"] == []
    return (next(p for p in result.outputs if p.suffix == ".epub"),
            next(p for p in result.outputs if p.suffix == ".pdf"))


def test_dollars_follow_pandocs_rules():
    assert to_html("Costs $5 and $10 today.") == "<p>Costs $5 and $10 today.</p>\n"
    assert "math" not in to_html("From $x$5 on, and $ y $ too.")  # closing before a digit; spaces inside
    assert to_html("Escaped \\$x$ here.") == "<p>Escaped $x$ here.</p>\n"
    assert '<span class="math inline">a_{i}</span>' in to_html("Then $a_{i}$.")
    tree = etree.fromstring(to_html("$$\n10^{-6}\n$$ {#eq-tiny}\n"))
    assert (tree.tag, tree.get("class"), tree.get("id"), tree.text) == ("div", "math display", "eq-tiny",
                                                                       "10^{-6}")
    single = etree.fromstring(to_html("$$ a+b $$ {#eq-one}\n"))
    assert (single.get("id"), single.text) == ("eq-one", "a+b")


def test_epub_has_mathml_with_alttext_and_passes_epubcheck(built):
    epub, _ = built
    assert epubcheck_messages(epub) == []
    documents = epub_documents(epub)
    article = documents["EPUB/text/orbits.xhtml"]
    maths = article.findall(f".//{MATHML}math")
    assert [m.get("alttext") for m in maths] == TEX
    assert all(m.find(f"{MATHML}mrow") is not None for m in maths)
    display = article.find(".//x:div[@class='math display']", NS)
    assert display.get("id") == "orbits--eq-sum"  # prefixed like every id of the article
    assert display.find(f"{MATHML}math").get("display") == "block"
    # 10^{-6}: the braces group the exponent, not printed, not lost.
    tiny = next(m for m in maths if m.get("alttext") == "10^{-6}")
    assert "".join(tiny.find(f".//{MATHML}msup").itertext()) == "10\u22126"
    with zipfile.ZipFile(epub) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    properties = {item.get("href"): (item.get("properties") or "").split()
                  for item in opf.iterfind(".//opf:item", NS)}
    assert "mathml" in properties["text/orbits.xhtml"]
    assert not [href for href, p in properties.items() if "mathml" in p and href != "text/orbits.xhtml"]
    features = [m.text for m in opf.iterfind(".//opf:meta[@property='schema:accessibilityFeature']", NS)]
    assert "MathML" in features


def test_pdf_draws_formulas_without_their_tex(built):
    _, pdf = built
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "$5 and $10" in text
    assert "Kepler wrote" in text
    for source in ("mc^2", "\\frac", "10^{-6}", "\\sum", "\\alpha", "eq-sum"):
        assert source not in text
    assert "mc2" not in text.replace(" ", "")  # nor the MathML's text: the formulas are drawings


def test_inline_formula_sits_on_the_baseline_at_text_size(built):
    """`$x = \\frac{-b}{2a}$` is drawn (vector paths) between 'wrote' and
    'nowhere': its x (the leftmost glyph) on the text's baseline, so the
    fraction hangs below it by its depth, at the text's size."""
    import pypdfium2 as pdfium

    _, pdf = built
    document = pdfium.PdfDocument(pdf)
    page = next(document[i] for i in range(len(document))
                if "Kepler" in document[i].get_textpage().get_text_range())
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    capital = textpage.get_charbox(text.index("Kepler"))  # 'K': the text's baseline and capital height
    end_of_wrote = textpage.get_charbox(text.index("wrote") + 4)[2]
    start_of_nowhere = textpage.get_charbox(text.index("nowhere"))[0]
    drawn = [obj.get_bounds() for obj in page.get_objects(max_depth=3)
             if obj.type == pdfium.raw.FPDF_PAGEOBJ_PATH]
    cap_height = capital[3] - capital[1]
    formula = [b for b in drawn if b[0] >= end_of_wrote - 0.5 and b[2] <= start_of_nowhere + 0.5
               and capital[1] - 0.9 * cap_height < (b[1] + b[3]) / 2 < capital[3] + cap_height]  # its line
    assert formula, "no path drawn where the formula is"
    x = min(formula, key=lambda b: b[0])
    print(f"text baseline {capital[1]:.2f}, cap height {cap_height:.2f}; x {x[1]:.2f}-{x[3]:.2f}, "
          f"formula {min(b[1] for b in formula):.2f}-{max(b[3] for b in formula):.2f}")
    assert abs(x[1] - capital[1]) < 0.15 * cap_height  # the x stands on the baseline
    assert 0.5 * cap_height < x[3] - x[1] < 0.9 * cap_height  # an x-height of the text's size
    assert min(b[1] for b in formula) < capital[1] - 0.3 * cap_height  # the denominator below it


def test_malformed_tex_is_a_located_error_and_shown_as_code(tmp_path):
    manuscript = "---\ntitle: Broken\n---\n\nFirst $a^2$ fine.\n\nThen $\\frac{1}{$ and $\\foo{x}$ here.\n"
    folder = write_book(tmp_path / "book", TOML, {"broken.md": manuscript})
    result = build(folder, tmp_path / "out", formats=("epub",))
    found = sorted((d.code, d.line, d.column) for d in result.diagnostics if d.code == "R011")
    assert found == [("R011", 7, 6), ("R011", 7, 22)]
    messages = [d.message for d in result.diagnostics if d.code == "R011"]
    assert any("never closed" in m for m in messages) and any("\\foo" in m for m in messages)
    assert all(d.path.resolve() == (folder / "broken.md").resolve()
               for d in result.diagnostics if d.code == "R011")
    assert result.outputs == ()  # an error: nothing written, as for a missing image
    # The render went on: the TeX is shown as code, the good formula is MathML.
    book, _ = load_book(folder)
    rendered, _ = render_book(book)
    body = etree.fromstring(f"<div>{rendered.articles[0].body_html}</div>")
    assert [c.text for c in body.iterfind(".//*[@class='math-error']/code")] == ["\\frac{1}{", "\\foo{x}"]
    assert [m.get("alttext") for m in body.iter(f"{MATHML}math")] == ["a^2"]


def test_formulas_that_would_take_too_long_are_errors_not_hangs(tmp_path):
    """ziamath's time doubles with each level of nesting: a formula is drawn
    within MAX_SECONDS or reported; a huge one is refused before any drawing."""
    from pipeline.render.math import MAX_TEX

    nested = "\\left(" * 14 + "x" + "\\right)" * 14
    manuscript = f"---\ntitle: Deep\n---\n\nDeep: ${nested}$.\n\nLong: ${'a+' * MAX_TEX}b$.\n"
    folder = write_book(tmp_path / "book", TOML, {"deep.md": manuscript})
    book, _ = load_book(folder)
    _, diagnostics = render_book(book)
    found = [(d.code, d.line, d.message) for d in diagnostics]
    assert [(code, line) for code, line, _ in found] == [("R011", 5), ("R011", 7)]
    assert "more than 3 s" in found[0][2] and "the limit is 4,000" in found[1][2]


def test_the_pdfs_data_uris_are_checked_as_svg_images():
    """The PDF's fetcher serves a data: URI only as a safe SVG (resources.check_svg):
    the renderer's formulas pass, a script or a reference out does not."""
    import base64

    from pipeline.render.math import typeset
    from pipeline.resources import ImageRejected, svg_data_uri

    def uri(svg: str, kind: str = "image/svg+xml") -> str:
        return f"data:{kind};base64," + base64.b64encode(svg.encode()).decode()

    formula = typeset("\\sqrt{x^2 + y^2}", False).formula
    assert svg_data_uri(uri(formula.svg)).startswith(b"<svg")
    assert formula.width > formula.height > formula.depth > 0
    for bad in (uri('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
                uri('<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>'),
                uri("<p>html</p>", "text/html"), "data:image/svg+xml,<svg/>", "data:image/svg+xml;base64,!!"):
        with pytest.raises(ImageRejected):
            svg_data_uri(bad)


def test_tagged_pdf_gives_each_formula_its_tex_as_alt_text(tmp_path):
    """PDF/UA: each formula is a Figure whose /Alt is its TeX (what a screen reader reads)."""
    folder = write_book(tmp_path / "book", TOML, {"orbits.md": MATH})
    result = build(folder, tmp_path / "out", formats=("pdf",), pdf_variant="pdf/ua-1")
    assert result.diagnostics == (), [d.format() for d in result.diagnostics]
    alts, stack = [], [PdfReader(result.outputs[0]).trailer["/Root"]["/StructTreeRoot"]]
    while stack:
        node = stack.pop().get_object()
        if not hasattr(node, "get"):
            continue
        if node.get("/S") == "/Figure":
            alts.append(str(node.get("/Alt")))
        kids = node.get("/K")
        stack.extend(reversed(kids if isinstance(kids, list) else [kids] if kids is not None else []))
    assert alts == TEX


def test_a_heading_with_a_formula_keeps_it_in_its_bookmark(tmp_path):
    folder = write_book(tmp_path / "book", TOML, {"sets.md": "---\ntitle: Sets\n---\n\n## The set $\\mathbb{R}$ and its order\n\nText.\n"})
    result = build(folder, tmp_path / "out", formats=("pdf",))
    assert result.ok
    outline = PdfReader(result.outputs[0]).outline
    titles = [item.title for entry in outline for item in (entry if isinstance(entry, list) else [entry])]
    assert "The set \\mathbb{R} and its order" in titles
