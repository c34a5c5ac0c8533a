"""EPUB 3 exporter: one XHTML document per article, packaged with ebooklib.

Our templates (styles/templates/epub/) make every content document, the nav
included; ebooklib writes the package document, the NCX and the zip. Two
things ebooklib does not do for us: exact control of the XHTML (its EpubHtml
re-templates content, so `_Document` serves ours verbatim) and reproducible
zips (entries get the build timestamp, `mimetype` first and stored).
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ebooklib import epub
from lxml import etree

from ..diagnostics import Diagnostic, error
from ..model import BookConfig, RenderedArticle, RenderedBook
from ..styles import font_files, labels, render_template, styles_dir
from ..xhtml import parse_fragment, serialize_children
from . import ExportContext

EPUB_NS = "http://www.idpf.org/2007/ops"
TEXT_DIR = "text"
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}


@dataclass(frozen=True)
class TocEntry:
    title: str
    href: str
    children: tuple["TocEntry", ...] = ()


class EpubExporter:
    name = "epub"
    suffix = ".epub"

    def export(self, book: RenderedBook, target: Path, context: ExportContext) -> list[Diagnostic]:
        config = book.book.config
        words = labels(config.language)
        package = epub.EpubBook()
        _metadata(package, config, context)
        page = {"book": config, "labels": words, "css_href": "../style/book.css"}

        css = epub.EpubItem(uid="css", file_name="style/book.css", media_type="text/css",
                            content=(styles_dir() / "epub.css").read_bytes())
        package.add_item(css)
        if config.epub_embed_fonts:
            for font in font_files():
                package.add_item(epub.EpubItem(uid=f"font-{font.stem}", file_name=f"fonts/{font.name}",
                                               media_type="font/ttf", content=font.read_bytes()))

        title = _document("title-page", "title", words["title_page"],
                          render_template("epub/title.xhtml", **page))
        notice = _document("notice", "notice", words["notice"], render_template(
            "epub/notice.xhtml", identifier=_identifier(config), generator=f"pipeline {context.version}",
            **page))
        chapters = [
            _document(item.anchor, item.anchor, item.article.title,
                      render_template("epub/article.xhtml", item=item, body=_epub_body(item, words), **page))
            for item in book.articles
        ]
        toc = [TocEntry(item.article.title, f"{chapter.file_name.split('/')[-1]}#{item.anchor}", tuple(
            TocEntry(h.text, f"{chapter.file_name.split('/')[-1]}#{h.id}")
            for h in item.headings if h.level == 2)) for item, chapter in zip(book.articles, chapters)]
        landmarks = [{"type": "toc", "href": "nav.xhtml#toc", "title": words["contents"]}]
        if chapters:
            landmarks.append({"type": "bodymatter", "href": chapters[0].file_name.split("/")[-1],
                              "title": book.articles[0].article.title})
        nav = _Nav(file_name=f"{TEXT_DIR}/nav.xhtml", uid="nav", title=words["contents"])
        nav.content = render_template("epub/nav.xhtml", toc=toc, landmarks=landmarks, **page).encode()

        for document in (title, notice, nav, *chapters):
            package.add_item(document)
        for resource in sorted({r for item in book.articles for r in item.resources}):
            relative = resource.relative_to(book.book.root.resolve()).as_posix()
            package.add_item(epub.EpubItem(uid=f"img-{len(package.items)}", file_name=f"{TEXT_DIR}/{relative}",
                                           media_type=MEDIA_TYPES.get(resource.suffix.lower(),
                                                                      "application/octet-stream"),
                                           content=resource.read_bytes()))
        package.add_item(epub.EpubNcx())
        package.toc = [_ncx_entry(entry, TEXT_DIR) for entry in toc]
        package.spine = [title, notice, nav, *chapters]
        try:
            target.write_bytes(_write(package, context))
        except Exception as exc:  # ebooklib raises bare exceptions on bad packages
            return [error("X002", f"could not write the EPUB: {exc}")]
        return []


class _Document(epub.EpubHtml):
    """An XHTML content document served exactly as our template rendered it."""

    def get_content(self, default=None) -> bytes:
        return self.content


class _Nav(epub.EpubNav):
    pass


class _Writer(epub.EpubWriter):
    """ebooklib's writer, serving our own nav document instead of generating one."""

    def _get_nav(self, item):
        return item.content


def _document(uid: str, name: str, title: str, xhtml: str) -> _Document:
    document = _Document(uid=uid, file_name=f"{TEXT_DIR}/{name}.xhtml", title=title,
                         lang=None)
    document.content = xhtml.encode("utf-8")
    return document


def _epub_body(item: RenderedArticle, words: dict[str, str]) -> str:
    """Mark footnotes up as EPUB pop-up notes: noterefs and <aside> footnotes."""
    if "footnote-ref" not in item.body_html:
        return item.body_html
    root = parse_fragment(item.body_html)
    for link in root.iterfind(".//a[@class='footnote-ref']"):
        link.set(f"{{{EPUB_NS}}}type", "noteref")
        link.set("role", "doc-noteref")
    for block in root.iterfind(".//div[@class='footnote']"):
        section = etree.Element("section", {"class": "footnotes", "aria-label": words["footnotes"]})
        for li in block.iterfind("ol/li"):
            aside = etree.SubElement(section, "aside", {"id": li.get("id"), "class": "footnote"})
            aside.set(f"{{{EPUB_NS}}}type", "footnote")
            aside.set("role", "doc-footnote")
            aside.text = li.text
            for child in list(li):
                aside.append(child)
        for back in section.iterfind(".//a[@class='footnote-backref']"):
            back.set("role", "doc-backlink")
            back.set("aria-label", words["back_to_text"])
            back.attrib.pop("title", None)
        section.tail = block.tail
        block.getparent().replace(block, section)
    return serialize_children(root).replace(f' xmlns:ns0="{EPUB_NS}"', "").replace("ns0:", "epub:")


def _ncx_entry(entry: TocEntry, folder: str):
    link = epub.Link(f"{folder}/{entry.href}", entry.title, entry.href.replace("#", "-").replace(".", "-"))
    if not entry.children:
        return link
    return (epub.Section(entry.title, f"{folder}/{entry.href}"), [_ncx_entry(c, folder) for c in entry.children])


def _identifier(config: BookConfig) -> str:
    """The book's identifier, or one derived from its title (stable across builds)."""
    return config.identifier or f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'pipeline:' + config.title)}"


def _metadata(package: epub.EpubBook, config: BookConfig, context: ExportContext) -> None:
    package.set_identifier(_identifier(config))
    package.set_language(config.language)
    package.add_metadata("DC", "title", config.title, {"id": "title"})
    package.add_metadata(None, "meta", "main", {"refines": "#title", "property": "title-type"})
    if config.subtitle:
        package.add_metadata("DC", "title", config.subtitle, {"id": "subtitle"})
        package.add_metadata(None, "meta", "subtitle", {"refines": "#subtitle", "property": "title-type"})
    for index, author in enumerate(config.authors, start=1):
        package.add_metadata("DC", "creator", author, {"id": f"creator{index}"})
        package.add_metadata(None, "meta", "aut", {"refines": f"#creator{index}", "property": "role",
                                                   "scheme": "marc:relators"})
    for name, value in (("publisher", config.publisher), ("description", config.description),
                        ("rights", config.rights), ("date", config.date)):
        if value:
            package.add_metadata("DC", name, value)
    for keyword in config.keywords:
        package.add_metadata("DC", "subject", keyword)


def _write(package: epub.EpubBook, context: ExportContext) -> bytes:
    """Write with ebooklib, then re-pack reproducibly: fixed dates, fixed order."""
    raw = io.BytesIO()
    writer = _Writer(raw, package, {"epub3_pages": False, "play_order": {"enabled": False},
                                   "mtime": context.timestamp, "raise_exceptions": True})
    writer.process()
    writer.write()
    return _reproducible_zip(raw.getvalue(), context.timestamp.timetuple()[:6])


def _reproducible_zip(data: bytes, date_time: tuple[int, ...]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        names = ["mimetype"] + [n for n in source.namelist() if n != "mimetype"]
        for name in names:
            info = zipfile.ZipInfo(name, date_time=max(date_time, (1980, 1, 1, 0, 0, 0)))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(name), compresslevel=9)
    return out.getvalue()
