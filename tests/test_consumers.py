"""What each consumer parses is the tree we built.

The rendered body is an XHTML fragment. WeasyPrint reads the booklet with an
HTML5 parser, for which `<h2 id="x"/>` is an open tag (the rest of the
article would become the heading); the EPUB's reading systems read XML. For
every fixture and corpus manuscript, the body is parsed from what each
consumer receives, by the consumer's own parser, and compared with ours.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from pipeline.export import ExportContext
from pipeline.load.manuscripts import load_article
from pipeline.model import Book, BookConfig, RenderedBook
from pipeline.render.articles import render_article
from pipeline.xhtml import article_for_html_parser
from pipeline.styles import labels, render_template
from pipeline.xhtml import parse_fragment

from conftest import MANUSCRIPTS, ROOT, SHARED

XHTML = "{http://www.w3.org/1999/xhtml}"


def _manuscripts() -> list[Path]:
    folders = [MANUSCRIPTS, *sorted((ROOT / "tests" / "fixtures").iterdir())]
    files = [path for folder in folders for path in sorted(folder.glob("*.md"))]
    for corpus in (SHARED / "corpus", SHARED / "corpus-books"):
        if corpus.is_dir():
            files += sorted(p for p in corpus.rglob("*.md") if p.is_file())
    return files


def _canonical(container: etree._Element) -> list[tuple]:
    """The content of `container` as (tag, attributes, text, tail) in document
    order; namespaces dropped, the container's outer whitespace ignored.
    Works on lxml trees and on WeasyPrint's ElementTree ones."""
    items: list[tuple] = [("text", (container.text or "").lstrip())]
    children = list(container)
    for index, child in enumerate(children):
        for element in child.iter():
            if not isinstance(element.tag, str):
                continue
            # `xmlns` (on MathML) declares a namespace in XML; an HTML parser keeps it as an attribute.
            # The booklet gives references the slot of their page (data-page*, booklet.py) on purpose.
            attrs = tuple(sorted((_local(k), v) for k, v in element.attrib.items()
                                 if k != "xmlns" and not k.startswith("data-page")))
            tail = element.tail or "" if element is not child else ""
            items.append((_local(element.tag), attrs, element.text or "", tail))
        tail = child.tail or ""
        items.append(("tail", tail.rstrip() if index == len(children) - 1 else tail))
    if not children:
        items[0] = ("text", items[0][1].rstrip())
    return items


def _local(name: str) -> str:
    """A tag or attribute name without its namespace (lxml and ElementTree alike)."""
    return name.rpartition("}")[2]


def _render(path: Path):
    article, _ = load_article(path)
    assert article is not None
    item, _ = render_article(article, 1, path.parent)
    config = BookConfig(title="Consumers")
    return RenderedBook(Book(root=path.parent, slug="consumers", config=config, articles=(article,)), (item,))


@pytest.mark.parametrize("path", _manuscripts(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_weasyprint_parses_the_booklet_body_we_built(path):
    from weasyprint import HTML

    from pipeline.export.pdf.booklet import booklet_html as _html, with_footnotes_at_calls as _with_footnotes_at_calls
    from pipeline.export.pdf.booklet import with_math_images

    book = _render(path)
    ours = _with_footnotes_at_calls(with_math_images(book.articles[0]))  # as the PDF exporter does
    booklet = replace(book, articles=(article_for_html_parser(ours),))
    html = _html(booklet, ExportContext(timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc), version="t"), {})
    parsed = HTML(string=html).etree_element
    [body] = [element for element in parsed.iter("div") if element.get("class") == "article-body"]
    assert _canonical(body) == _canonical(parse_fragment(ours.body_html))


@pytest.mark.parametrize("path", _manuscripts(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_epub_document_holds_the_body_we_built(path):
    from pipeline.export.epub import _epub_body

    book = _render(path)
    item = book.articles[0]
    words = labels("en")
    body = _epub_body(item, words)
    document = render_template("epub/article.xhtml", item=item, body=body, book=book.book.config,
                               labels=words, css_href="../style/book.css", articles=book.articles, direction="ltr")
    parsed = etree.fromstring(document.encode("utf-8"))
    section = parsed.find(f".//{XHTML}section[@id='{item.anchor}']")
    header = section.find(f"{XHTML}header")
    section.remove(header)  # what the template adds; the body follows it
    section.text = header.tail
    ours = etree.fromstring(f'<div xmlns:epub="http://www.idpf.org/2007/ops">{body}</div>')
    assert _canonical(section) == _canonical(ours)
