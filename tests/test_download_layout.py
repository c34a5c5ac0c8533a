"""Per-article downloads (`pipeline build --per-article`, [per-article]
layout = "download", the default): no blank page, as many pages as the text
takes, the page size of [per-article] page-size, the article's web address
on page 1 and in the metadata, no tool name or identifier unless asked;
judged on the real files (pypdfium2 pixels and text boxes, pypdf, EPUBCheck)."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import SEEDS, epubcheck_messages, write_book
from pipeline import build
from pipeline.load.addresses import article_web_address
from pipeline.load.config import load_config
from pipeline.model import Article, Book, BookConfig

MM = 72 / 25.4  # PDF units a millimetre
SENTENCE = "The harbour wakes before the town does, and the boats go out on the grey water while the gulls wait. "
SHORT = "---\ntitle: A Morning at the Harbour\n---\n\n" + "\n\n".join([SENTENCE * 4] * 10) + "\n"
LONG = ("---\ntitle: The Long Watch\nsummary: A night on the breakwater, hour by hour.\n"
        "url: https://harbour.example/watch/\n---\n\n"
        + "\n\n".join(f"## Hour {hour}\n\n" + "\n\n".join([SENTENCE * 5] * 4)
                      + "\n\n- the lamp\n- the rope\n- the tide table\n\n```python\nprint('hour', %d)\n```" % hour
                      for hour in range(1, 9)) + "\n")
TOML = """[book]
title = "Harbour Notes"
authors = ["A. Keeper"]
rights = "© 2026 A. Keeper"
notice = "Not a navigation guide."
{extra}
[site]
article-url = "https://example.org/articles/{{slug}}/"
"""


@pytest.fixture(scope="module")
def a5(tmp_path_factory):
    """Downloads on the book's page size (A5), with default [notice] options."""
    root = tmp_path_factory.mktemp("download-a5")
    book = write_book(root / "book", TOML.format(extra=""), {"01-short.md": SHORT, "02-long.md": LONG})
    result = build(book, root / "out", per_article=True, book=False, jobs=1)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    return root / "out" / "articles"


@pytest.fixture(scope="module")
def a4(tmp_path_factory):
    """Downloads on A4 while the book stays A5; [notice] asks for the tool and identifier."""
    root = tmp_path_factory.mktemp("download-a4")
    extra = '\n[per-article]\npage-size = "A4"\n\n[notice]\nshow-tool = true\nshow-identifier = true\n'
    book = write_book(root / "book", TOML.format(extra=extra), {"01-short.md": SHORT})
    result = build(book, root / "out", per_article=True, formats=("pdf",), jobs=1)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    return root / "out"


def _blank_pages(pdf: Path) -> list[int]:
    """Pages with (almost) nothing drawn on them, 1-based."""
    import pypdfium2 as pdfium

    blank = []
    for index, page in enumerate(pdfium.PdfDocument(pdf)):
        image = page.render(scale=0.5).to_pil().convert("L")
        if sum(1 for value in image.tobytes() if value < 200) < 20:
            blank.append(index + 1)
    return blank


def _body_bottoms(pdf: Path) -> list[float]:
    """How high above the paper's lower edge each page's text ends, in mm:
    the article's lines only (the running head, folio and page 1's foot left out)."""
    import pypdfium2 as pdfium

    bottoms = []
    for page in pdfium.PdfDocument(pdf):
        text = page.get_textpage()
        head = page.get_height() - 17 * MM  # the running head stands above the page area (18 mm, 22 on A4)
        lines = [text.get_rect(i) for i in range(text.count_rects())]
        body = [r for r in lines if r[1] < head and not _furniture(text.get_text_bounded(*r).strip())]
        bottoms.append(min(r[1] for r in body) / MM if body else float("inf"))
    return bottoms


def _furniture(line: str) -> bool:
    """The folio, and page 1's foot (the rights line, the address, what [notice] asks for)."""
    return line.isdigit() or line.startswith(("Read online", "©", "Made with", "Identifier", "https://"))


def _text(pdf: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(pdf).pages]


@pytest.mark.parametrize("slug", ["short", "watch"])
def test_a_download_has_no_blank_page_and_as_many_pages_as_its_text(a5, slug):
    pdf = a5 / f"{slug}.pdf"
    assert _blank_pages(pdf) == []
    bottoms = _body_bottoms(pdf)
    # Every page but the last is full: its text runs down to the foot of the
    # page area (A5: 20 mm, page 1 30 mm, above the paper's edge), give or
    # take the few lines a heading kept with its text may leave; the last
    # page holds text. So the count is the text's pages, rounded up.
    assert all(bottom < 30 + 4 * 5 for bottom in bottoms[:-1]), bottoms
    assert bottoms[-1] < 210 - 20, bottoms
    labels = PdfReader(pdf).page_labels
    assert labels[0] == "1"  # no front matter


def test_one_and_a_half_pages_of_text_make_two_pages(a5):
    reader = PdfReader(a5 / "short.pdf")
    assert len(reader.pages) == 2  # the compact form made 4: a title page, a blank page, then the text
    title, *_ = _text(a5 / "short.pdf")[0].split("\n")
    assert title == "A Morning at the Harbour"  # the title block opens page 1, no title page
    assert all("Contents" not in text and "In this article" not in text for text in _text(a5 / "watch.pdf"))


def test_page_one_says_where_to_read_it_online_and_so_does_the_metadata(a5):
    for slug, address in (("short", "https://example.org/articles/short/"),  # [site] article-url
                          ("watch", "https://harbour.example/watch/")):  # the front matter's url
        reader = PdfReader(a5 / f"{slug}.pdf")
        first = reader.pages[0].extract_text()
        assert f"Read online: {address}" in first, first
        assert all("Read online" not in page.extract_text() for page in reader.pages[1:])
        assert reader.metadata["/URL"] == address
        # no /URI base: it would send the relative links to the other downloads to the website
        assert "/URI" not in reader.trailer["/Root"]
        links = [a.get_object()["/A"]["/URI"] for a in reader.pages[0].get("/Annots", [])
                 if "/A" in a.get_object()]
        assert address in links
        assert reader.pages[0].mediabox.width == pytest.approx(148 * MM, abs=1)  # the book's A5


def test_the_notice_of_a_download_is_its_disclaimer_and_rights_line(a5):
    """The book's notice (a disclaimer: a reader of one article needs it as
    much as a reader of the book) and the rights line; no tool, no identifier."""
    for pdf in a5.glob("*.pdf"):
        text = "\n".join(_text(pdf))
        assert "© 2026 A. Keeper" in _text(pdf)[0] and "Not a navigation guide." in _text(pdf)[0], pdf.name
        assert "Made with" not in text and "pipeline 0" not in text and "urn:uuid" not in text, pdf.name
        assert "Identifier" not in text and text.count("Not a navigation guide") == 1, pdf.name


def test_the_download_epubs_pass_epubcheck_and_carry_the_address(a5):
    for slug, address in (("short", "https://example.org/articles/short/"),
                          ("watch", "https://harbour.example/watch/")):
        epub = a5 / f"{slug}.epub"
        assert epubcheck_messages(epub) == [], slug
        with zipfile.ZipFile(epub) as archive:
            opf = archive.read("EPUB/content.opf").decode("utf-8")
            text = " ".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xhtml"))
        assert f'<dc:source id="web-source">{address}</dc:source>' in opf
        assert f'<a href="{address}">{address}</a>' in text and "Read online:" in text
        assert "Made with" not in text and "urn:uuid" not in text and text.count("Not a navigation guide") == 1


def test_a_download_has_its_own_page_size_and_shows_what_notice_asks_for(a4):
    [book] = [p for p in a4.glob("*.pdf")]
    assert PdfReader(book).pages[0].mediabox.width == pytest.approx(148 * MM, abs=1)  # the book stays A5
    pdf = a4 / "articles" / "short.pdf"
    reader = PdfReader(pdf)
    assert all((page.mediabox.width, page.mediabox.height) == (pytest.approx(210 * MM, abs=1),
                                                             pytest.approx(297 * MM, abs=1)) for page in reader.pages)
    assert len(reader.pages) == 2 and _blank_pages(pdf) == []  # larger type on a wider measure
    assert all(bottom < 30 + 4 * 5 for bottom in _body_bottoms(pdf)[:-1])
    first = reader.pages[0].extract_text()
    assert "Made with pipeline" in first and "urn:uuid:" in first  # asked for in [notice]
    assert "Read online: https://example.org/articles/short/" in first



def _tagging(pdf: Path) -> dict:
    """What makes a PDF a tagged, accessible one (PDF/UA-1), read from the file."""
    reader = PdfReader(pdf)
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8") if "/Metadata" in root else ""
    part = re.search(r"pdfuaid:part(?:>|=\")(\d)", xmp)
    return {"structure": "/StructTreeRoot" in root, "marked": bool(root.get("/MarkInfo", {}).get("/Marked")),
            "lang": str(root.get("/Lang", "")),
            "title_shown": bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle")),
            "pdfua": part.group(1) if part else None, "title": reader.metadata.title if reader.metadata else None}


@pytest.mark.parametrize("slug, title", [("short", "A Morning at the Harbour"), ("watch", "The Long Watch")])
def test_a_download_is_tagged_pdf_ua_1_by_default(a5, slug, title):
    assert _tagging(a5 / f"{slug}.pdf") == {"structure": True, "marked": True, "lang": "en", "title_shown": True,
                                            "pdfua": "1", "title": title}


def test_the_book_s_own_pdf_keeps_its_default_variant(a4):
    [book] = [p for p in a4.glob("*.pdf")]
    tagging = _tagging(book)
    assert not tagging["structure"] and not tagging["marked"] and tagging["pdfua"] is None  # [pdf] variant: none
    assert _tagging(a4 / "articles" / "short.pdf")["pdfua"] == "1"  # while its download is tagged


@pytest.mark.parametrize("toml, override", [('\n[pdf]\nvariant = "none"\n', None), ("", "none")],
                         ids=["book.toml", "--pdf-variant"])
def test_a_variant_named_in_so_many_words_gives_untagged_downloads(tmp_path, toml, override):
    book = write_book(tmp_path / "book", TOML.format(extra=toml), {"01-short.md": SHORT})
    result = build(book, tmp_path / "out", per_article=True, book=False, formats=("pdf",), jobs=1,
                   pdf_variant=override)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    tagging = _tagging(tmp_path / "out" / "articles" / "short.pdf")
    assert (tagging["structure"], tagging["marked"], tagging["pdfua"]) == (False, False, None)


def test_a_download_s_variant_follows_only_a_variant_given(tmp_path):
    from pipeline.export.articles import download_variant

    path = tmp_path / "book.toml"
    for given, book, download in (("", "none", "pdf/ua-1"), ('variant = "none"', "none", "none"),
                                  ('variant = "pdf/a-3b"', "pdf/a-3b", "pdf/a-3b"),
                                  ('variant = "pdf/ua-1"', "pdf/ua-1", "pdf/ua-1")):
        path.write_text(f'[book]\ntitle = "T"\n\n[pdf]\n{given}\n', encoding="utf-8")
        config, found = load_config(path, "T")
        assert found == [] and (config.pdf_variant, download_variant(config)) == (book, download), given


def test_the_compact_and_booklet_forms_stay_on_request(tmp_path):
    book = write_book(tmp_path / "book", TOML.format(extra='\n[per-article]\nlayout = "compact"\n'),
                      {"01-short.md": SHORT})
    result = build(book, tmp_path / "out", per_article=True, book=False, formats=("pdf",), jobs=1)
    assert result.ok, [d.format() for d in result.diagnostics]
    pages = _text(tmp_path / "out" / "articles" / "short.pdf")
    assert "Not a navigation guide" in pages[0] and "A Morning at the Harbour" in pages[0]  # the title page
    assert "Read online" not in "".join(pages) and "Made with" not in "".join(pages)  # show-tool: false by default


def test_article_url_must_be_an_https_address_with_the_slug(tmp_path):
    for value, problem in (('"http://example.org/{slug}/"', "absolute https URL"),
                           ('"https://example.org/articles/"', "{slug}"),
                           ('"/articles/{slug}/"', "absolute https URL"),
                           ('"https://example.org/{year}/{slug}/"', "no other")):
        path = tmp_path / "book.toml"
        path.write_text(f'[book]\ntitle = "T"\n\n[site]\narticle-url = {value}\n', encoding="utf-8")
        config, found = load_config(path, "T")
        assert [(d.code, d.line) for d in found] == [("C003", 5)] and problem in found[0].message, found
        assert config.site_article_url == ""
    path.write_text('[book]\ntitle = "T"\n\n[site]\narticle-url = "https://example.org/a/{slug}/"\n')
    assert load_config(path, "T") == (BookConfig(title="T", identifier=load_config(path, "T")[0].identifier,
                                                 site_article_url="https://example.org/a/{slug}/"), [])


def _article(path: str, **values) -> Article:
    return Article(slug=values.pop("slug", "x"), title="T", source_path=Path(path), body="", body_line=1, **values)


def test_an_articles_web_address(tmp_path):
    site = "https://site.example/base"

    def address(flavour: str, path: str, **values) -> str:
        book = Book(root=Path("/s"), slug="b", config=BookConfig(title="T"), articles=(), flavour=flavour,
                    site_root=Path("/s"), site_url=site)
        return article_web_address(book, _article(path, **values))

    assert address("hugo", "/s/content/posts/first-light.md") == f"{site}/posts/first-light/"
    assert address("hugo", "/s/content/posts/bundle/index.md") == f"{site}/posts/bundle/"
    assert address("hugo", "/s/content/posts/a.md", slug="given", slug_given=True) == f"{site}/posts/given/"
    assert address("jekyll", "/s/_posts/2024-05-01-hello.md") == f"{site}/2024/05/01/hello.html"
    assert address("docusaurus", "/s/blog/2024-05-01-hi.md") == f"{site}/blog/2024/05/01/hi"
    assert address("docusaurus", "/s/docs/intro/start.mdx") == f"{site}/docs/intro/start"
    assert address("mkdocs", "/s/docs/guide/index.md") == f"{site}/guide/"
    assert address("mdbook", "/s/src/ch1.md") == f"{site}/ch1.html"
    assert address("astro", "/s/src/content/blog/first.md") == f"{site}/blog/first/"
    assert address("hugo", "/s/content/x.md", url="/about/") == f"{site}/about/"  # a site-root url
    assert address("hugo", "/s/content/x.md", url="https://elsewhere.example/x") == "https://elsewhere.example/x"
    ours = Book(root=Path("/s"), slug="b", config=BookConfig(title="T"), articles=())
    assert article_web_address(ours, _article("/s/x.md")) == ""  # a book of ours names no address by itself
    templated = Book(root=Path("/s"), slug="b", config=BookConfig(title="T", site_article_url="https://e.org/{slug}/"),
                     articles=())
    assert article_web_address(templated, _article("/s/x.md", slug="tides")) == "https://e.org/tides/"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the shared seeds are not here")
def test_the_seed_articles_as_downloads(tmp_path):
    book = tmp_path / "book"
    seeds = sorted(SEEDS.glob("*.txt"))[:2]
    subprocess.run([sys.executable, "-m", "pipeline", "import", "--into", str(book), *map(str, seeds)],
                   check=True, capture_output=True)
    (book / "book.toml").write_text('[book]\ntitle = "Seeds"\nrights = "© 2026 The Editors"\n\n[site]\n'
                                    'article-url = "https://example.org/{slug}/"\n', encoding="utf-8")
    result = build(book, tmp_path / "out", per_article=True, book=False, formats=("pdf",), jobs=1)
    assert result.ok, [d.format() for d in result.diagnostics]
    pdfs = sorted((tmp_path / "out" / "articles").glob("*.pdf"))
    assert len(pdfs) == len(seeds)
    for pdf in pdfs:
        reader = PdfReader(pdf)
        assert _blank_pages(pdf) == [], pdf.name
        bottoms = _body_bottoms(pdf)
        assert all(bottom < 30 + 4 * 5 for bottom in bottoms[:-1]), (pdf.name, bottoms)
        first = reader.pages[0].extract_text()
        assert re.search(r"Read online: https://example\.org/[a-z0-9-]+/", first), first
        assert "Made with" not in first and "urn:uuid" not in first


def test_a_books_own_notice_and_opener_templates_still_make_downloads(tmp_path):
    book = write_book(tmp_path / "book", TOML.format(extra=""), {"01-short.md": SHORT})
    templates = book / "styles" / "templates"
    templates.mkdir(parents=True)
    (templates / "_notice.html").write_text(
        "{% macro notice(book, labels, identifier, generator) %}<p>Our imprint</p>{% endmacro %}\n", encoding="utf-8")
    (templates / "_opener.html").write_text(
        '{% macro opener(item, labels, numbered, pages=none) %}<h1 class="article-title">Ours: '
        "{{ item.article.title }}</h1>{% endmacro %}\n", encoding="utf-8")
    result = build(book, tmp_path / "out", per_article=True, book=False, jobs=1)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    first = _text(tmp_path / "out" / "articles" / "short.pdf")[0]
    assert "Ours: A Morning at the Harbour" in first and "Read online: https://example.org/articles/short/" in first
