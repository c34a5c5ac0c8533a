"""Each output embeds the faces its text is set in, and no other (#28).

The EPUB's faces are chosen by reading its documents under its stylesheets
(pipeline/export/epubfaces.py); here the expectations are written by hand
from epub.css (body text in Book Serif, headings in Book Sans bold, code in
Book Mono) and checked against the fonts' own character maps (fontTools).
The PDF's faces are WeasyPrint's, read back with pypdf.
"""

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

from pipeline import build
from pipeline.export import epubfaces

from conftest import epubcheck_messages, write_book

NOTO = Path("/usr/share/fonts/truetype/noto")
X = "{http://www.w3.org/1999/xhtml}"


def _fonts(epub: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(epub) as archive:
        return {Path(name).name: archive.read(name) for name in archive.namelist() if "/fonts/" in name}


def _css(epub: Path) -> str:
    with zipfile.ZipFile(epub) as archive:
        return archive.read("EPUB/style/book.css").decode("utf-8")


def _declared(css: str) -> set[str]:
    """The font files the stylesheet's @font-face rules name."""
    return {name for rule in re.findall(r"@font-face\s*\{[^}]*\}", css)
            for name in re.findall(r"\.\./fonts/([\w.-]+)", rule)}


def _pdf_fonts(pdf: Path) -> set[str]:
    names = set()
    for page in PdfReader(pdf).pages:
        for font in (page.get("/Resources", {}).get_object().get("/Font") or {}).values():
            names.add(str(font.get_object().get("/BaseFont")))
    return names


def _cmap(data: bytes) -> set[str]:
    return {chr(point) for point in TTFont(io.BytesIO(data)).getBestCmap()}


@pytest.fixture(scope="module")
def seed_build(tmp_path_factory):
    """The project's book (no code, no bold italic), whole and per article."""
    out = tmp_path_factory.mktemp("seed")
    result = build(Path(__file__).resolve().parent.parent / "manuscripts", out, per_article=True)
    assert result.ok, [d.format() for d in result.diagnostics]
    return out


def test_a_book_without_code_embeds_no_mono_face(seed_build):
    [epub] = seed_build.glob("*.epub")
    fonts, css = _fonts(epub), _css(epub)
    assert "SourceSerifPro-Regular.ttf" in fonts and "SourceSansPro-Semibold.ttf" in fonts
    assert not [name for name in fonts if "Mono" in name], sorted(fonts)
    assert "SourceSerifPro-BoldIt.ttf" not in fonts  # nothing is bold and italic
    assert not re.search(r'@font-face\s*\{[^}]*"Book Mono"', css)
    assert _declared(css) == set(fonts)  # a rule for each file, a file for each rule
    for pdf in [*seed_build.glob("*.pdf"), *seed_build.glob("articles/*.pdf")]:
        names = _pdf_fonts(pdf)
        assert names and not [name for name in names if "Mono" in name], (pdf.name, names)
    assert epubcheck_messages(epub) == []


def test_the_per_article_epub_carries_less_than_the_books(seed_build):
    """Each download's faces are subsets of the book's, to its own text. (Its
    cover image, with the article's longer title drawn on it, can outweigh
    the difference: the comparison leaves the cover out.)"""
    [book] = seed_build.glob("*.epub")
    singles = sorted(seed_build.glob("articles/*.epub"))
    assert len(singles) == 2

    def weight(epub: Path) -> tuple[int, int]:
        with zipfile.ZipFile(epub) as archive:
            items = archive.infolist()
            fonts = sum(i.compress_size for i in items if "/fonts/" in i.filename)
            cover = sum(i.compress_size for i in items if "/images/cover" in i.filename)
        return fonts, epub.stat().st_size - cover

    book_fonts, book_rest = weight(book)
    for single in singles:
        fonts, rest = weight(single)
        assert fonts < book_fonts and rest < book_rest, (single.name, fonts, book_fonts, rest, book_rest)
        assert set(_fonts(single)) <= set(_fonts(book))
        assert epubcheck_messages(single) == []


ARTICLE = """---
title: Setting type
---

Plain text with *emphasis*, **strength** and `inline code`; naïve façade — “quoted”.

## Über Schriften

```python
def shout(word):  # loud
    return word.upper()
```

Last words, Zebra.
"""


def test_every_embedded_face_covers_the_characters_it_draws(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "Type"\n', {"01-a.md": ARTICLE})
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    [epub] = result.outputs
    fonts = _fonts(epub)
    assert {"SourceSerifPro-Regular.ttf", "SourceSerifPro-It.ttf", "SourceSerifPro-Bold.ttf",
            "SourceSansPro-Semibold.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
            "DejaVuSansMono-Oblique.ttf"} == set(fonts)  # the highlighter's bold keywords, italic comments
    with zipfile.ZipFile(epub) as archive:
        article = etree.fromstring(archive.read("EPUB/text/a.xhtml"))
    paragraphs = article.findall(f".//{X}p")

    def own_text(element) -> str:  # its text outside child elements
        return (element.text or "") + "".join(child.tail or "" for child in element)

    drawn = {
        "SourceSerifPro-Regular.ttf": "".join(own_text(p) for p in paragraphs if p.get("class") is None),
        "SourceSerifPro-It.ttf": "".join(e.text for e in article.iter(f"{X}em")),
        "SourceSerifPro-Bold.ttf": "".join(e.text for e in article.iter(f"{X}strong")),
        "SourceSansPro-Semibold.ttf": "".join("".join(h.itertext()) for h in article.iter(f"{X}h1", f"{X}h2")),
        "DejaVuSansMono.ttf": "".join(c.text for p in paragraphs for c in p.iter(f"{X}code")),
        # (epub.css: keywords bold, comments italic)
        "DejaVuSansMono-Bold.ttf": "".join(e.text for e in article.iter(f"{X}span") if e.get("class") == "k"),
        "DejaVuSansMono-Oblique.ttf": "".join(e.text for e in article.iter(f"{X}span") if e.get("class") == "c1"),
    }
    assert "def" in drawn["DejaVuSansMono-Bold.ttf"] and "loud" in drawn["DejaVuSansMono-Oblique.ttf"]
    assert "Zebra" in drawn["SourceSerifPro-Regular.ttf"] and "Über" in drawn["SourceSansPro-Semibold.ttf"]
    for name, text in drawn.items():
        missing = {c for c in text if not c.isspace()} - _cmap(fonts[name])
        assert not missing, (name, sorted(missing))
    # subsets: the italic holds its few words, not the body's letters
    assert "Z" not in _cmap(fonts["SourceSerifPro-It.ttf"]) and "Z" in _cmap(fonts["SourceSerifPro-Regular.ttf"])
    again = build(book, tmp_path / "again", formats=("epub",), cache=False)
    assert _fonts(again.outputs[0]) == fonts  # the same bytes on every build
    assert epubcheck_messages(epub) == []


def test_code_without_highlighting_embeds_the_regular_mono_face_only(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "Plain"\n',
                      {"01-a.md": "---\ntitle: Plain\n---\n\nRun this:\n\n```text\nmake all\n```\n"})
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok
    fonts = _fonts(result.outputs[0])
    assert [name for name in fonts if "Mono" in name] == ["DejaVuSansMono.ttf"]
    assert set("makel") <= _cmap(fonts["DejaVuSansMono.ttf"])


def test_switching_text_font_leaves_the_old_family_out(tmp_path):
    faces = [NOTO / f"NotoSerif-{style}.ttf" for style in ("Regular", "Italic")]
    if not all(face.is_file() for face in faces):
        pytest.skip("fonts-noto-core is not installed")
    book = write_book(tmp_path / "book", '[book]\ntitle = "Noto"\n\n[style]\ntext-font = "Noto Serif"\n',
                      {"01-a.md": "---\ntitle: Alpha\nsubtitle: In italics\n---\n\nBody *text* of alpha.\n"})
    (book / "styles" / "fonts").mkdir(parents=True)
    for face in faces:
        shutil.copy(face, book / "styles" / "fonts")
    result = build(book, tmp_path / "out", per_article=True)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    out = tmp_path / "out"
    epubs, pdfs = ([*out.glob(f"*.{kind}"), *out.glob(f"articles/*.{kind}")] for kind in ("epub", "pdf"))
    assert len(epubs) == len(pdfs) == 2
    for epub in epubs:
        fonts = _fonts(epub)
        assert {"NotoSerif-Regular.ttf", "NotoSerif-Italic.ttf"} <= set(fonts), sorted(fonts)
        assert not [name for name in fonts if name.startswith("SourceSerif")], sorted(fonts)
        assert "SourceSerifPro" not in _css(epub)
        assert set("Bodyfalph") <= _cmap(fonts["NotoSerif-Regular.ttf"])
        assert set("text") <= _cmap(fonts["NotoSerif-Italic.ttf"]) and "x" not in _cmap(fonts["NotoSerif-Regular.ttf"])
        assert epubcheck_messages(epub) == []
    for pdf in pdfs:
        names = _pdf_fonts(pdf)
        assert any("Noto-Serif" in name for name in names) and not any("Book-Serif" in name for name in names), \
            (pdf.name, names)


# ---------- the matching itself ----------


def _faces(css: str) -> list[epubfaces.FaceRule]:
    return epubfaces.parse_sheet("s.css", css).faces


def test_font_matching_follows_css_fonts_style_then_weight():
    faces = _faces('@font-face { font-family: "F"; src: url(../fonts/r.ttf); font-weight: 400; }\n'
                   '@font-face { font-family: "F"; src: url(../fonts/b.ttf); font-weight: 700; }\n'
                   '@font-face { font-family: "F"; src: url(../fonts/i.ttf); font-style: italic; }\n'
                   '@font-face { font-family: "F"; src: url(../fonts/sb.ttf); font-weight: 600; }\n')
    chosen = {(weight, italic): epubfaces._matching(faces, weight, italic)[0].urls[0]
              for weight in (300, 400, 500, 600, 700, 900) for italic in (False, True)}
    assert chosen[400, False] == chosen[300, False] == chosen[500, False] == "../fonts/r.ttf"
    assert chosen[600, False] == "../fonts/sb.ttf" and chosen[900, False] == "../fonts/b.ttf"
    assert {chosen[w, True] for w in (300, 400, 700, 900)} == {"../fonts/i.ttf"}  # style first


def test_a_face_is_cut_from_the_stylesheet_and_the_rest_is_kept_as_written():
    css = ("/* head */\n@font-face { font-family: A; src: url(../fonts/a.ttf); }\n"
           "@font-face { font-family: B; src: URL(\"../fonts/b.ttf\"); }\n"
           "@media screen { @font-face { font-family: C; src: url(../fonts/c.ttf); } }\np { color: red }\n")
    [a, b, c] = _faces(css)
    pruned = epubfaces.prune(css, "s.css", {epubfaces.FaceUse.key(b)}, lambda face: True)
    assert pruned == ("/* head */\n@font-face { font-family: B; src: URL(\"../fonts/b.ttf\"); }\n"
                      "@media screen { @font-face { font-family: C; src: url(../fonts/c.ttf); } }\np { color: red }\n")
    assert not c.top and c.family == "c"
