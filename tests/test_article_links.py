"""Links between articles: in the book PDF a link in the accent followed by
its target's page (pypdf: text, link annotations; pypdfium2: the colour),
in the book EPUB a link to the chapter's document (EPUBCheck); in the
per-article downloads a link to the other article's web address, or its
download beside it (`<slug>.pdf`), or, in an EPUB without an address, its
text; and the R008 warning for a link to a manuscript the book lacks names
the one meant."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

from pipeline import build
from pipeline.load.manuscripts import load_book
from pipeline.render.articles import render_book

from conftest import epub_documents, epubcheck_messages, pdf_link_targets, write_book

TOML = '[book]\ntitle = "Links between articles"\nlanguage = "en"\n'
WEB = '\n[site]\narticle-url = "https://example.org/articles/{slug}/"\n'

INTRO = """---
title: Introduction
---

Read [Sleep Hygiene](02-sleep-hygiene.md) first, then [the part on caffeine](02-sleep-hygiene.md#caffeine
"About coffee") and [a deep heading](02-sleep-hygiene.md#deep-heading). See also @fig-lamp.
"""

# Long enough that its "Caffeine" section starts on a page of its own.
SLEEP = """---
title: Sleep Hygiene
---

{filler}

![A lamp](lamp.png){{#fig-lamp}}

## Caffeine

No coffee after noon. Back to [the introduction](01-intro.md).

### Deep heading

Deep.
"""

FILLER = "\n\n".join(f"Paragraph {n} of the article, about a regular bedtime, dark rooms and cool air. " * 4
                     for n in range(1, 13))
ACCENT = (0x7A, 0x2E, 0x1F)  # print.css --accent


def _book(folder: Path, toml: str = TOML) -> Path:
    from PIL import Image

    write_book(folder, toml, {"01-intro.md": INTRO, "02-sleep-hygiene.md": SLEEP.format(filler=FILLER)})
    Image.new("RGB", (300, 200), (40, 90, 160)).save(folder / "lamp.png")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    folder = _book(tmp_path_factory.mktemp("links") / "book")
    result = build(folder, folder.parent / "out", per_article=True)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    return {path.name: path for path in result.outputs}


def _texts(pdf: Path):
    import pypdf

    reader = pypdf.PdfReader(pdf)
    texts = [" ".join(page.extract_text(extraction_mode="layout").replace("\u00a0", " ").split())
             for page in reader.pages]
    return texts, list(reader.page_labels), reader


def _uris(reader) -> list[str]:
    return [str(annotation.get_object()["/A"]["/URI"]) for page in reader.pages
            for annotation in page.get("/Annots") or [] if "/A" in annotation.get_object()]


def test_book_pdf_link_is_followed_by_the_page_of_its_target_and_jumps_there(built):
    texts, labels, reader = _texts(built["links-between-articles.pdf"])
    start = next(i for i, t in enumerate(texts) if "Paragraph 1 of the article" in t)
    caffeine = next(i for i, t in enumerate(texts) if "No coffee after noon" in t)
    deep = next(i for i, t in enumerate(texts) if "Deep heading" in t and "Deep." in t)
    intro = next(i for i, t in enumerate(texts) if "Read Sleep Hygiene" in t)
    assert caffeine > start > intro
    assert f"Read Sleep Hygiene, page {labels[start]} first, then" in texts[intro]
    assert f"the part on caffeine, page {labels[caffeine]} and" in texts[intro]
    assert f"a deep heading, page {labels[deep]}." in texts[intro]  # a heading the contents leave out
    assert f"the introduction, page {labels[intro]}." in texts[caffeine]  # and back
    links = {(page, name): target for page, name, target in pdf_link_targets(reader)}
    assert links[(intro, "sleep-hygiene")] == start
    assert links[(intro, "sleep-hygiene--caffeine")] == caffeine
    assert links[(intro, "sleep-hygiene--deep-heading")] == deep
    assert links[(caffeine, "intro")] == intro


def test_the_typst_pdf_prints_the_page_of_a_linked_article_too(tmp_path):
    """The Typst engine (--engine typst) prints a link to another article,
    or to a heading of it, followed by its target's page, as WeasyPrint does."""
    from pipeline.build import BuildOptions

    folder = _book(tmp_path / "book")
    result = build(folder, tmp_path / "out", BuildOptions(formats=("pdf",), pdf_engine="typst", cache=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    texts, labels, _ = _texts(result.outputs[0])
    start = next(i for i, t in enumerate(texts) if "Paragraph 1 of the article" in t)
    caffeine = next(i for i, t in enumerate(texts) if "No coffee after noon" in t)
    intro = next(i for i, t in enumerate(texts) if "Read Sleep Hygiene" in t)
    assert caffeine > start > intro
    assert f"Read Sleep Hygiene, page {labels[start]} first" in texts[intro]
    assert f"the part on caffeine, page {labels[caffeine]}" in texts[intro]
    assert f"the introduction, page {labels[intro]}" in texts[caffeine]


def test_book_pdf_link_is_set_in_the_accent(built, tmp_path):
    """Looked at: the link's words are drawn in the accent, the text around it in black."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(built["links-between-articles.pdf"])
    index = next(i for i in range(len(pdf)) if "Read Sleep" in pdf[i].get_textpage().get_text_bounded())
    page = pdf[index]
    scale = 4
    image = page.render(scale=scale).to_pil().convert("RGB")
    image.save(tmp_path / "page.png")
    textpage = page.get_textpage()
    height = page.get_height()

    def ink(words: str) -> tuple[int, int, int]:
        searcher = textpage.search(words)
        start, count = searcher.get_next()
        boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
        left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
        bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
        crop = image.crop((int(left * scale), int((height - top) * scale),
                           int(right * scale), int((height - bottom) * scale)))
        return min(crop.get_flattened_data(), key=sum)  # the darkest ink

    link, text = ink("Sleep Hygiene"), ink("Read")
    assert all(abs(a - b) < 40 for a, b in zip(link, ACCENT)), link
    assert max(text) - min(text) < 30 and sum(text) < 200, text  # black, not the accent


def test_book_epub_link_names_the_chapter_and_epubcheck_is_silent(built):
    epub = built["links-between-articles.epub"]
    assert epubcheck_messages(epub) == []
    documents = epub_documents(epub)
    xhtml = "{http://www.w3.org/1999/xhtml}"
    links = {a.text: a.get("href") for name, doc in documents.items() if name.endswith("intro.xhtml")
             for a in doc.iter(f"{xhtml}a")}
    assert links["Sleep Hygiene"] == "sleep-hygiene.xhtml#sleep-hygiene"
    assert links["the part on caffeine"] == "sleep-hygiene.xhtml#sleep-hygiene--caffeine"
    ids = {e.get("id") for name, doc in documents.items() if name.endswith("sleep-hygiene.xhtml")
           for e in doc.iter() if e.get("id")}
    assert {"sleep-hygiene", "sleep-hygiene--caffeine", "sleep-hygiene--deep-heading"} <= ids


def _download_links(epub: Path) -> list[etree._Element]:
    xhtml = "{http://www.w3.org/1999/xhtml}"
    return [a for name, doc in epub_documents(epub).items() if "/text/" in name for a in doc.iter(f"{xhtml}a")]


def test_a_download_without_web_addresses_links_the_download_beside_it(built):
    _, _, reader = _texts(built["intro.pdf"])
    uris = _uris(reader)
    assert "sleep-hygiene.pdf" in uris
    assert "sleep-hygiene.pdf#sleep-hygiene--caffeine" in uris  # a named destination of that PDF
    assert not [uri for uri in uris if uri.startswith("file:") or "pipeline" in uri]
    target = _texts(built["sleep-hygiene.pdf"])[2]
    assert "sleep-hygiene--caffeine" in target.named_destinations  # where the fragment leads
    assert "intro.pdf" in _uris(target)
    texts = _texts(built["intro.pdf"])[0]
    assert "Read Sleep Hygiene first, then the part on caffeine and" in texts[0]  # no page: another file
    # The EPUB may not link outside itself (RSC-007): the words stay, without a link.
    epub = built["intro.epub"]
    assert epubcheck_messages(epub) == []
    assert all(a.get("href") for a in _download_links(epub))
    assert not [a for a in _download_links(epub) if "sleep-hygiene" in (a.get("href") or "")]
    with zipfile.ZipFile(epub) as archive:
        page = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("text/intro.xhtml"))
    assert "Read Sleep Hygiene first, then the part on caffeine" in " ".join(page.split())
    assert "See also Figure" in page  # a reference to another article's figure: its words, no link


def test_a_download_links_the_other_articles_web_address(tmp_path):
    folder = _book(tmp_path / "book", TOML + WEB)
    result = build(folder, tmp_path / "out", per_article=True, book=False)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    outputs = {path.name: path for path in result.outputs}
    uris = _uris(_texts(outputs["intro.pdf"])[2])
    assert "https://example.org/articles/sleep-hygiene/" in uris
    assert "https://example.org/articles/sleep-hygiene/#caffeine" in uris  # the id as the author wrote it
    assert "https://example.org/articles/sleep-hygiene/#deep-heading" in uris
    assert "https://example.org/articles/intro/" in _uris(_texts(outputs["sleep-hygiene.pdf"])[2])
    epub = outputs["intro.epub"]
    assert epubcheck_messages(epub) == []
    hrefs = {a.text: a.get("href") for a in _download_links(epub)}
    assert hrefs["Sleep Hygiene"] == "https://example.org/articles/sleep-hygiene/"
    assert hrefs["the part on caffeine"] == "https://example.org/articles/sleep-hygiene/#caffeine"


@pytest.mark.parametrize(("written", "meant"), [
    ("02-sleep.md", "'02-sleep-hygiene.md'"),
    ("02-sleep.md#caffeine", "'02-sleep-hygiene.md#caffeine'"),
    ("sleep-hygiene", "'02-sleep-hygiene.md'"),
    ("/sleep-hygiene/", "'02-sleep-hygiene.md'"),
    ("sleep-hygiene.html", "'02-sleep-hygiene.md'"),
    ("../posts/02-sleep-hygien.md", "'02-sleep-hygiene.md'"),
])
def test_a_link_to_a_missing_manuscript_or_a_slug_names_the_manuscript_meant(tmp_path, written, meant):
    intro = f"---\ntitle: Introduction\n---\n\nFirst line.\nSee [the other one]({written}) now.\n"
    folder = write_book(tmp_path / "book", TOML, {"01-intro.md": intro, "02-sleep-hygiene.md": "# Sleep Hygiene\n"})
    book, _ = load_book(folder)
    _, found = render_book(book)
    [warning] = [d for d in found if d.code == "R008"]
    assert (warning.path.name, warning.line, warning.column) == ("01-intro.md", 6, 21)
    assert warning.hint.startswith(f"did you mean {meant}?"), warning.hint


def test_a_link_to_a_file_like_no_manuscript_suggests_nothing(tmp_path):
    intro = "---\ntitle: Introduction\n---\n\nSee [the notes](appendix-of-tables.md).\n"
    folder = write_book(tmp_path / "book", TOML, {"01-intro.md": intro, "02-sleep-hygiene.md": "# Sleep Hygiene\n"})
    book, _ = load_book(folder)
    _, found = render_book(book)
    [warning] = [d for d in found if d.code == "R008"]
    assert "did you mean" not in warning.hint
