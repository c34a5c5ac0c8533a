"""What each consumer parses is the tree we built.

The rendered body is an XHTML fragment. WeasyPrint reads the booklet with an
HTML5 parser, for which `<h2 id="x"/>` is an open tag (the rest of the
article would become the heading); the EPUB's reading systems read XML. For
every fixture and corpus manuscript, the body is parsed from what each
consumer receives, by the consumer's own parser, and compared with ours.

Each folder is rendered as one book (so that links between its files are
cross-document links), and goes through the exporters' own chain: the PDF
exporter's `prepared` (math as images, embeds, footnotes at their calls,
short tables kept, HTML5 serialization) and `body_parts`; the EPUB
exporter itself, with a page break in every block, so its page-break
markers, pop-up notes and cross-document links are all in the documents
read back. "Ours" is the tree each chain built just before it serialized
it, taken by wrapping the public function it serializes with.
"""

from __future__ import annotations

import tempfile
import zipfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from pipeline.export import ExportContext
from pipeline.load.manuscripts import load_article
from pipeline.model import Book, BookConfig, RenderedBook
from pipeline.export.pagebreaks import block_elements
from pipeline.render.articles import render_book
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


def _folder_book(folder: Path) -> RenderedBook:
    """The folder's manuscripts rendered as one book, once per folder."""
    if folder not in _RENDERED:
        paths = sorted(path for path in folder.glob("*.md") if path.is_file())
        articles = tuple(article for path in paths for article in [load_article(path, folder)[0]] if article)
        book = Book(root=folder, slug="consumers", config=BookConfig(title="Consumers"), articles=articles)
        _RENDERED[folder], _ = render_book(book)
    return _RENDERED[folder]


_RENDERED: dict[Path, RenderedBook] = {}
CONTEXT = ExportContext(timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc), version="t")


def _items(book: RenderedBook, path: Path) -> list[int]:
    indexes = [i for i, item in enumerate(book.articles) if item.article.source_path.resolve() == path.resolve()]
    assert indexes, f"{path.name} rendered no article"
    return indexes


@contextmanager
def _wrapped(module, name: str, wrapper):
    """`module.name` wrapped by `wrapper(original, *args, **kwargs)` while
    the block runs: a spy on the shipped path, which it leaves unchanged."""
    original = getattr(module, name)
    setattr(module, name, lambda *args, **kwargs: wrapper(original, *args, **kwargs))
    try:
        yield
    finally:
        setattr(module, name, original)


_PDF: dict[Path, tuple[dict[str, str], list]] = {}


def _pdf_bodies(folder: Path) -> tuple[dict[str, str], list]:
    """For the folder's book, through the PDF exporter's chain (`prepared`,
    then `body_parts`): each article's body as the chain built it before
    serializing it for an HTML parser, by anchor; and the article bodies
    WeasyPrint parsed from the booklet's HTML, in order."""
    if folder not in _PDF:
        from weasyprint import HTML

        from pipeline.export import pdf
        from pipeline.export.pdf.parts import body_parts

        built = {}

        def keep(original, item):
            built[item.anchor] = item.body_html
            return original(item)

        with _wrapped(pdf, "article_for_html_parser", keep):
            prepared = pdf.prepared(_folder_book(folder))
        parsed = [element for part in body_parts(prepared, CONTEXT)
                  for element in HTML(string=part.html).etree_element.iter("div")
                  if element.get("class") == "article-body"]
        _PDF[folder] = built, parsed
    return _PDF[folder]


@pytest.mark.parametrize("path", _manuscripts(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_weasyprint_parses_the_booklet_body_we_built(path):
    book = _folder_book(path.parent)
    built, parsed = _pdf_bodies(path.parent)
    assert len(parsed) == len(book.articles)
    for index in _items(book, path):
        ours = built[book.articles[index].anchor]
        assert _canonical(parsed[index]) == _canonical(parse_fragment(ours))


_EPUB: dict[Path, tuple[dict[str, str], dict[str, bytes], dict[str, int]]] = {}


def _epub(book: RenderedBook, breaks: tuple) -> tuple[dict[str, str], dict[str, bytes]]:
    from pipeline.export import PAGINATION, epub

    bodies = {}

    def keep(original, name, **values):
        if name == "epub/article.xhtml":
            bodies[values["item"].anchor] = values["body"]
        return original(name, **values)

    with _wrapped(epub, "render_template", keep), tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "book.epub"
        exported = epub.EpubExporter().export(book, target, CONTEXT.knowing({PAGINATION: breaks}))
        assert not [d for d in exported.diagnostics if d.is_error], [d.format() for d in exported.diagnostics]
        with zipfile.ZipFile(target) as archive:
            documents = {name.rsplit("/", 1)[-1]: archive.read(name) for name in archive.namelist()
                         if name.endswith(".xhtml")}
    return bodies, documents


def _section(document: bytes, anchor: str) -> etree._Element:
    return etree.fromstring(document).find(f".//{XHTML}section[@id='{anchor}']")


def _epub_documents(folder: Path) -> tuple[dict[str, str], dict[str, bytes], dict[str, int]]:
    """The folder's book through the EPUB exporter, given a page break at
    every block of every article (as the PDF's would be, one letter in):
    each article's body as the exporter gave it to its template, by anchor;
    the EPUB's documents, by file name; and the breaks each article got."""
    if folder not in _EPUB:
        from pipeline.model import PageBreak

        book = _folder_book(folder)
        _, plain = _epub(book, ())
        blocks = {item.anchor: len(block_elements(_section(plain[f"{item.anchor}.xhtml"], item.anchor), "footnotes"))
                  for item in book.articles}
        breaks = tuple(PageBreak(f"{index}-{block}", index, block, 1) for index, item in enumerate(book.articles)
                       for block in range(blocks[item.anchor]))
        _EPUB[folder] = (*_epub(book, breaks), blocks)
    return _EPUB[folder]


def _without_markers(section: etree._Element) -> int:
    """Take the page-break markers out (their tails kept); how many there were."""
    markers = section.findall(f".//{XHTML}span[@role='doc-pagebreak']")
    for marker in markers:
        parent, tail = marker.getparent(), marker.tail or ""
        previous = marker.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
        parent.remove(marker)
    return len(markers)


@pytest.mark.parametrize("path", _manuscripts(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_epub_document_holds_the_body_we_built(path):
    book = _folder_book(path.parent)
    bodies, documents, blocks = _epub_documents(path.parent)
    for index in _items(book, path):
        item = book.articles[index]
        section = _section(documents[f"{item.anchor}.xhtml"], item.anchor)
        assert _without_markers(section) == blocks[item.anchor]  # every page break found its place
        header = section.find(f"{XHTML}header")
        section.remove(header)  # what the template adds; the body follows it
        section.text = header.tail
        ours = etree.fromstring(f'<div xmlns:epub="http://www.idpf.org/2007/ops">{bodies[item.anchor]}</div>')
        assert _canonical(section) == _canonical(ours)
