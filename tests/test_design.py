"""A book's own design: its styles/ folder layered over ours, [style],
[notice] and the per-article downloads, judged on the real outputs
(pypdf text and fonts, pypdfium2 pixels, EPUBCheck)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from conftest import epubcheck_messages, write_book
from pipeline import BuildOptions, build
from pipeline.load.manuscripts import load_book

ACCENT = (0x2A, 0x6F, 0x97)
LOGO = (0xFF, 0xC8, 0x28)  # the logo's disc
NOTO_SERIF = Path("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf")

TOML = """[book]
title = "Harbour Notes"
authors = ["A. Keeper"]
rights = "© 2026 A. Keeper"
date = "2026-03-01"

[style]
accent = "#2a6f97"
logo = "images/logo.png"

[notice]
show-tool = false
lines = ["Licensed under CC BY 4.0", "Set in the harbour office"]

[site]
base-url = "https://example.org/downloads/"
"""

TIDES = """---
title: Reading the Tides
summary: How the harbourmaster reads the water.
---

## High water

The harbourmaster's table of the week, kept on the wall by the door.

| Day | High water | Low water |
|-----|------------|-----------|
| Monday | 06:12 | 12:30 |
| Tuesday | 06:58 | 13:15 |
| Wednesday | 07:44 | 14:02 |

> The sea keeps its own hours; we only write them down.

""" + "A paragraph about the tides and the boats that wait for them. " * 60 + """

## Low water

""" + "When the water is low the mud flats shine and the birds come down. " * 50 + "\n"

LAMPS = """---
title: The Painted Post
---

## The post

""" + "The painted post marks the channel for boats coming in at dusk. " * 40 + "\n"


def _logo(path: Path) -> None:
    """A logo: a yellow disc and a white bar on a transparent ground."""
    from PIL import ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGBA", (400, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 150, 150), fill=(*LOGO, 255))
    draw.rectangle((180, 50, 390, 110), fill=(255, 255, 255, 255))
    image.save(path)


def _design_book(root: Path) -> Path:
    book = write_book(root / "book", TOML, {"01-tides.md": TIDES, "02-post.md": LAMPS})
    _logo(book / "images" / "logo.png")
    (book / "styles").mkdir()
    # The book's own print.css, after ours: article titles in capitals.
    (book / "styles" / "print.css").write_text(".article-title { text-transform: uppercase; }\n", encoding="utf-8")
    return book


def _pixel(pdf: Path, page: int, x: float, y: float) -> tuple[int, int, int]:
    """The colour at (x, y), fractions of the page's width and height from its top left."""
    import pypdfium2 as pdfium

    image = pdfium.PdfDocument(pdf)[page].render(scale=1).to_pil().convert("RGB")
    return image.getpixel((int(x * image.width), int(y * image.height)))


def _close(colour, expected, tolerance=6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


def _font_names(resources, seen=None) -> set[str]:
    """The /BaseFont of every font under `resources`, its form XObjects' included
    (the booklet's parts are joined as forms)."""
    seen = set() if seen is None else seen
    names: set[str] = set()
    if resources is None or id(resources) in seen:
        return names
    seen.add(id(resources))
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        if "/BaseFont" in font:
            names.add(str(font["/BaseFont"]))
    for xobject in (resources.get("/XObject") or {}).values():
        names |= _font_names(xobject.get_object().get("/Resources"), seen)
    return names


def _epub_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return " ".join(archive.read(name).decode("utf-8") for name in archive.namelist()
                        if name.endswith(".xhtml"))


@pytest.fixture(scope="module")
def designed(tmp_path_factory):
    root = tmp_path_factory.mktemp("design")
    book = _design_book(root)
    out = root / "out"
    result = build(book, out, per_article=True)
    assert result.diagnostics == (), [d.format() for d in result.diagnostics]
    return book, out


def test_the_accent_the_logo_and_the_book_css_reach_the_pdf(designed):
    _, out = designed
    pdf = out / "harbour-notes.pdf"
    assert _close(_pixel(pdf, 0, 0.5, 0.02), ACCENT)  # the cover's background is the accent
    cover = PdfReader(pdf).pages[0]
    assert len(cover.images) == 1  # the logo, at the foot of the cover...
    assert _close(_pixel(pdf, 0, 0.17, 0.85), LOGO, 20)  # ...where print.css puts it (18 mm from left and foot)
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "READING THE TIDES" in text  # the book's styles/print.css, after ours


def test_the_notice_follows_notice_options(designed):
    _, out = designed
    for pdf in [out / "harbour-notes.pdf", *sorted((out / "articles").glob("*.pdf"))]:
        text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
        assert "Made with" not in text and "pipeline 0" not in text, pdf.name
        assert "Licensed under CC BY 4.0" in text and "Set in the harbour office" in text, pdf.name
        # show-identifier is true by default in the book; a download prints it only when [notice] asks
        assert ("urn:uuid:" in text) == (pdf.parent == out), pdf.name
    for epub in [out / "harbour-notes.epub", *sorted((out / "articles").glob("*.epub"))]:
        text = _epub_text(epub)
        assert "Made with" not in text and "Licensed under CC BY 4.0" in text, epub.name


def test_per_article_downloads(designed):
    _, out = designed
    [pdf] = (out / "articles").glob("*tides.pdf")  # the slug: from the title, or the file name
    reader = PdfReader(pdf)
    assert reader.page_labels[0] == "1"  # no front matter: page 1 opens the article
    first = reader.pages[0].extract_text()
    # The title block opens the article, the notice lines at the foot of page 1; no cover, no contents.
    assert "READING THE TIDES" in first and "Licensed under CC BY 4.0" in first
    assert all("Contents" not in page.extract_text() for page in reader.pages)
    # The short table is on one page.
    rows = [index for index, page in enumerate(reader.pages) for day in ("Monday", "Wednesday")
            if day in page.extract_text()]
    assert len(rows) == 2 and rows[0] == rows[1], rows


def test_the_manifest_lists_the_downloads_with_urls(designed):
    import json

    _, out = designed
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = [entry for article in manifest["articles"] for entry in article["files"]]
    assert len(files) == 4 and all(entry["url"].startswith("https://example.org/downloads/articles/")
                                   for entry in files)
    for entry in files:
        if entry["path"].endswith(".pdf"):
            reader = PdfReader(out / entry["path"])
            assert entry["pages"] == len(reader.pages) and reader.page_labels[0] == "1"  # no front matter


def test_the_epubs_pass_epubcheck_and_carry_the_design(designed):
    _, out = designed
    [single] = (out / "articles").glob("*tides.epub")
    assert epubcheck_messages(out / "harbour-notes.epub") == []
    assert epubcheck_messages(single) == []
    with zipfile.ZipFile(single) as archive:
        names = archive.namelist()
        cover = Image.open(archive.open("EPUB/images/cover.png")).convert("RGB")
        opf = archive.read("EPUB/content.opf").decode("utf-8")
    assert "EPUB/images/logo.png" in names
    assert _close(cover.getpixel((cover.width // 2, 10)), ACCENT)  # the cover image in the accent
    assert _close(cover.getpixel((int(cover.width * 0.17), int(cover.height * 0.85))), LOGO, 20)
    spine = opf[opf.index("<spine"):]
    assert "front_nav" not in spine and "notice" not in spine  # compact: no contents page, notice on the title page


def test_a_book_font_labels_and_templates_of_its_own(tmp_path):
    if not NOTO_SERIF.is_file():
        pytest.skip("fonts-noto-core is not installed")
    book = write_book(tmp_path / "book", '[book]\ntitle = "Own"\n\n[style]\ntext-font = "Noto Serif"\n',
                      {"01-a.md": "---\ntitle: Alpha\n---\n\n## One\n\nBody text of alpha.\n",
                       "02-b.md": "---\ntitle: Beta\n---\n\nBody text of beta.\n"})
    (book / "styles" / "fonts").mkdir(parents=True)
    shutil.copy(NOTO_SERIF, book / "styles" / "fonts")
    (book / "styles" / "labels.toml").write_text('[en]\ncontents = "In this issue"\n', encoding="utf-8")
    (book / "styles" / "templates").mkdir()
    (book / "styles" / "templates" / "_notice.html").write_text(
        '{% macro notice(book, labels, identifier, generator) %}<p class="notice">Our own imprint of '
        "{{ book.title }}</p>{% endmacro %}\n", encoding="utf-8")
    result = build(book, tmp_path / "out")
    assert result.diagnostics == (), [d.format() for d in result.diagnostics]
    pdf, epub = result.outputs
    reader = PdfReader(pdf)
    fonts = {name for page in reader.pages for name in _font_names(page.get("/Resources"))}
    assert any(name.endswith("+Noto-Serif") for name in fonts), fonts  # the text in the book's own font
    assert not any("Book-Serif" in name for name in fonts), fonts  # instead of ours
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "In this issue" in text and "Our own imprint of Own" in text and "Identifier" not in text
    assert "Our own imprint of Own" in _epub_text(epub) and "In this issue" in _epub_text(epub)
    with zipfile.ZipFile(epub) as archive:
        assert "EPUB/fonts/NotoSerif-Regular.ttf" in archive.namelist()
        assert '"Noto Serif"' in archive.read("EPUB/style/book.css").decode("utf-8")
    assert epubcheck_messages(epub) == []


@pytest.mark.parametrize("line, code, message", [
    ('accent = "blurple"', "C003", "not a CSS colour"),
    ('cover-background = "rgb(1 2 3 / 50%)"', "C003", "not a CSS colour"),
    ('text-font = "Nowhere Sans"', "C003", "no font family 'Nowhere Sans'"),
    ('logo = "images/missing.png"', "R002", "logo"),
])
def test_style_values_are_checked_and_located(tmp_path, line, code, message):
    book = write_book(tmp_path / "book", f'[book]\ntitle = "T"\n\n[style]\n{line}\n', {"a.md": "---\ntitle: A\n---\n\nText.\n"})
    _, diagnostics = load_book(book)
    [found] = [d for d in diagnostics if d.is_error]
    assert (found.code, found.line) == (code, 5) and message in found.message, found.format()


def test_the_books_templates_are_checked_and_sandboxed(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "T"\n', {"a.md": "---\ntitle: A\n---\n\nText.\n"})
    templates = book / "styles" / "templates"
    templates.mkdir(parents=True)
    (templates / "_notice.html").write_text("{% macro notice(a, b, c, d) %}\n{% if %}\n{% endmacro %}\n",
                                            encoding="utf-8")
    (templates / "booklet.html").write_text("<p onclick=\"x()\">hi</p>\n", encoding="utf-8")
    (book / "styles" / "labels.toml").write_text("[en]\nconents = 'typo'\n", encoding="utf-8")
    _, diagnostics = load_book(book)
    found = {(d.code, d.path.name, d.line) for d in diagnostics}
    assert ("C009", "_notice.html", 2) in found  # a syntax error, located
    assert ("C009", "booklet.html", 1) in found  # scripting: never reaches an output
    assert ("C009", "labels.toml", 0) in found
    # A template that reaches for Python's internals is stopped by the sandbox, reported, and nothing is written.
    (templates / "_notice.html").write_text(
        "{% macro notice(a, b, c, d) %}{{ a.__class__.__mro__ }}{% endmacro %}\n", encoding="utf-8")
    (templates / "booklet.html").unlink()
    (book / "styles" / "labels.toml").unlink()
    result = build(book, tmp_path / "out", formats=("epub",))
    assert not result.ok and result.outputs == () and not (tmp_path / "out" / "t.epub").exists()
    [failure] = [d for d in result.diagnostics if d.is_error]
    assert failure.code == "C009" and failure.path.name == "_notice.html" and failure.line == 1, failure.format()


def test_the_books_styles_stay_inside_the_book(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "print.css").write_text("body { color: red; }\n", encoding="utf-8")
    book = write_book(tmp_path / "book", '[book]\ntitle = "T"\n', {"a.md": "---\ntitle: A\n---\n\nText.\n"})
    (book / "styles").mkdir()
    (book / "styles" / "print.css").symlink_to(outside / "print.css")
    _, diagnostics = load_book(book)
    [refused] = diagnostics
    assert refused.code == "C009" and str(outside / "print.css") in refused.message
    (book / "styles" / "print.css").unlink()
    (book / "styles").rmdir()
    (book / "styles").symlink_to(outside, target_is_directory=True)
    _, diagnostics = load_book(book)
    assert [d.code for d in diagnostics] == ["C009"]


def test_the_layout_cache_key_covers_the_books_styles(tmp_path):
    from datetime import datetime, timezone

    from pipeline.export import ExportContext
    from pipeline.export.pdf.runner import Keys
    from pipeline.model import RenderedBook

    book = write_book(tmp_path / "book", '[book]\ntitle = "T"\n', {"a.md": "---\ntitle: A\n---\n\nText.\n"})
    (book / "styles").mkdir()
    context = ExportContext(timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc), version="test")

    def salt() -> bytes:
        loaded, _ = load_book(book)
        return Keys(RenderedBook(loaded, ()), context, {}).salt

    from pipeline.cache import fingerprint

    before, no_op = salt(), fingerprint(book, {})
    (book / "styles" / "print.css").write_text("p { color: teal; }\n", encoding="utf-8")
    after = salt()
    assert fingerprint(book, {}) != no_op  # and the no-op check rebuilds
    (book / "book.toml").write_text('[book]\ntitle = "T"\n[style]\naccent = "teal"\n', encoding="utf-8")
    assert len({before, after, salt()}) == 3


def test_the_full_form_of_per_article_booklets_is_kept_on_request(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "T"\n\n[per-article]\nlayout = "booklet"\n'
                      '\n[notice]\nshow-identifier = false\nshow-tool = true\n',
                      {"01-alpha.md": "---\ntitle: Alpha\n---\n\n## One\n\nText of alpha.\n",
                       "02-beta.md": "---\ntitle: Beta\n---\n\nText of beta.\n"})
    result = build(book, tmp_path / "out", per_article=True, formats=("pdf",))
    assert result.ok, [d.format() for d in result.diagnostics]
    [pdf] = (tmp_path / "out" / "articles").glob("*alpha.pdf")  # (show-tool = true: asked for in so many words)
    reader = PdfReader(pdf)
    text = [page.extract_text() for page in reader.pages]
    assert any("Contents" in page for page in text) and any("Made with" in page for page in text)
    assert not any("urn:uuid" in page or "Identifier" in page for page in text)  # [notice] show-identifier


def test_the_undrawable_character_hint_names_the_books_fonts_folder(tmp_path):
    from pipeline.commands.check import check_book

    book = write_book(tmp_path / "book", '[book]\ntitle = "T"\n', {"a.md": "# A\n\nCuneiform 𒀀.\n"})
    [found] = [d for d in check_book(book) if d.code == "R007"]
    assert str(book / "styles" / "fonts") in found.hint


def test_the_books_labels_follow_its_language(tmp_path):
    from pipeline.styles import book_labels

    words = '[en]\ncontents = "In this issue"\n\n[de]\nin_brief = "Auf einen Blick"\n\n[sw]\ncontents = "Yaliyomo"\n'
    found = {}
    for language in ("de", "en", "sw", "fr"):
        book = write_book(tmp_path / language, f'[book]\ntitle = "T"\nlanguage = "{language}"\n',
                          {"a.md": "---\ntitle: A\n---\n\nText.\n"})
        (book / "styles").mkdir()
        (book / "styles" / "labels.toml").write_text(words, encoding="utf-8")
        loaded, diagnostics = load_book(book)
        found[language] = book_labels(loaded.config)
        # sw: the book gives its contents; C008 names the words it does not give, contents not among them
        assert [d.code for d in diagnostics] == (["C008"] if language == "sw" else []), language
        assert not any("contents" in d.message.split(": ", 1)[-1].split(", ") for d in diagnostics)
    assert (found["de"]["in_brief"], found["de"]["contents"]) == ("Auf einen Blick", "Inhalt")
    assert found["en"]["contents"] == "In this issue" and found["sw"]["contents"] == "Yaliyomo"
    assert found["fr"]["contents"] == "Sommaire"  # the book's [en] words are not French ones


def test_a_light_cover_background_gets_dark_type_on_the_epub_cover(tmp_path):
    import io

    from pipeline.export.cover import cover_png

    book = write_book(tmp_path / "book", '[book]\ntitle = "Pale Harbour"\n\n[style]\ncover-background = "#f0e6d2"\n',
                      {"a.md": "---\ntitle: A\n---\n\nText.\n"})
    loaded, diagnostics = load_book(book)
    assert diagnostics == [] and loaded.config.cover_background == "#f0e6d2"
    image = Image.open(io.BytesIO(cover_png(loaded))).convert("RGB")
    assert image.getpixel((5, 5)) == (0xF0, 0xE6, 0xD2)
    darkest, _ = image.convert("L").getextrema()
    assert darkest < 0x40  # the title is set in dark ink on the pale cover


def test_a_folio_with_the_page_total_and_a_running_head_in_one_box(tmp_path):
    """`string(article-title) " · " counter(page) " of " counter(pages)`: the
    furniture (a chunk's pages, without their text) cannot print that, so
    such a design is laid out in one piece, and every page says it right:
    each body verso with text (the rule is `:left`) prints its article's
    title, its own number and the document's total, and no other page does."""
    book = write_book(tmp_path / "book", '[book]\ntitle = "Harbour"\nlanguage = "en"\n',
                      {"01-tides.md": TIDES + "\n\nThe tide turns twice a day, and the harbour waits.\n" * 40,
                       "02-post.md": LAMPS})
    (book / "styles").mkdir()
    (book / "styles" / "print.css").write_text(
        '@page :left { @bottom-left { content: string(article-title) " · " counter(page) " of "'
        ' counter(pages); } }\n', encoding="utf-8")
    result = build(book, tmp_path / "out", BuildOptions(formats=("pdf",)))
    assert result.ok, [d.format() for d in result.diagnostics]
    reader = PdfReader(result.outputs[0])
    total = len(reader.pages)
    starts = {reader.get_destination_page_number(item): item.title for item in reader.outline
              if not isinstance(item, list) and item.title in ("Reading the Tides", "The Painted Post")}
    expected, printed, title = {}, {}, ""
    for index, page in enumerate(reader.pages):
        title = starts.get(index, title)
        lines = [" ".join(line.split()) for line in page.extract_text().splitlines()]
        printed[index] = [line for line in lines if " of " in line and " · " in line]
        label = reader.page_labels[index]
        # A body verso (the book's :left rule; the front matter keeps its own) with text, not an opener.
        if label.isdigit() and int(label) % 2 == 0 and index not in starts and any(lines):
            expected[index] = [f"{title} · {label} of {total}"]
    assert len(starts) == 2 and len(expected) >= 3, (starts, expected)
    assert {index: lines for index, lines in printed.items() if lines} == expected


def test_an_epub_css_url_that_is_not_a_font_is_located(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "T"\n', {"a.md": "---\ntitle: A\n---\n\nText.\n"})
    (book / "styles").mkdir()
    (book / "styles" / "epub.css").write_text("p { color: black; }\n\nh1 {\n  background: url(../images/x.png);\n}\n",
                                              encoding="utf-8")
    result = build(book, tmp_path / "out", BuildOptions(formats=("epub",)))
    [refused] = [d for d in result.diagnostics if d.code == "C009"]
    assert (refused.path.name, refused.line, refused.column) == ("epub.css", 4, 15) and not result.ok
