"""Render stage: Markdown -> sanitized, well-formed XHTML fragments.

One fresh `markdown.Markdown` per article (no state leaks between articles,
as in MkDocs). A small treeprocessor, running after the built-in ones, does
the book-specific work on the ElementTree rather than with regexes:
- prefixes every id (and every `#fragment` link) with the article's slug, so
  articles joined into one booklet keep unique ids (the mdBook print problem);
- collects the section headings for the contents and the bookmarks;
- turns a paragraph holding only an image into a figure with a caption;
- records the images the article uses, relative to the book folder.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from .diagnostics import Diagnostic, error, warning
from .images import ImageRejected, inspect_image
from .model import Article, Book, Heading, RenderedArticle, RenderedBook
from .xhtml import XML_FORBIDDEN, sanitize, to_xhtml

EXTENSIONS = ["extra", "sane_lists", "toc"]
EXTENSION_CONFIGS = {
    "footnotes": {"SEPARATOR": "-", "BACKLINK_TEXT": "↑"},
    "toc": {"permalink": False},
}


def render_book(book: Book) -> tuple[RenderedBook, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    rendered = []
    for number, article in enumerate(book.articles, start=1):
        result, found = render_article(article, number, book.root)
        rendered.append(result)
        diagnostics += found
    return RenderedBook(book=book, articles=tuple(rendered)), diagnostics


def render_article(article: Article, number: int, root: Path) -> tuple[RenderedArticle, list[Diagnostic]]:
    body, diagnostics = _strip_forbidden(article.body, article)
    collector = _BookTreeprocessor(article, root)
    md = markdown.Markdown(extensions=[*EXTENSIONS, _BookExtension(collector)],
                           extension_configs=EXTENSION_CONFIGS, output_format="xhtml")
    body_html = to_xhtml(sanitize(md.convert(body)))
    diagnostics += collector.diagnostics
    return RenderedArticle(
        article=article,
        number=number,
        anchor=article.slug,
        body_html=body_html,
        summary_html=render_inline(article.summary),
        blurb_html=render_inline(article.blurb),
        headings=tuple(collector.headings),
        resources=tuple(collector.resources),
    ), diagnostics


def render_inline(text: str) -> str:
    """Render a front-matter paragraph (summary, blurb) to XHTML inline content."""
    if not text:
        return ""
    html = markdown.markdown(XML_FORBIDDEN.sub("", text), output_format="xhtml")
    html = html.removeprefix("<p>").removesuffix("</p>") if html.count("<p>") == 1 else html
    return to_xhtml(sanitize(html))


def _strip_forbidden(body: str, article: Article) -> tuple[str, list[Diagnostic]]:
    diagnostics = []
    for index, line in enumerate(body.split("\n")):
        for match in XML_FORBIDDEN.finditer(line):
            diagnostics.append(warning(
                "R001", f"removed character U+{ord(match.group()):04X}, which XML does not allow",
                hint="delete the character; it is usually an invisible control character",
                path=article.source_path, line=article.body_line + index, column=match.start() + 1))
    return XML_FORBIDDEN.sub("", body), diagnostics


class _BookExtension(Extension):
    def __init__(self, processor: "_BookTreeprocessor"):
        super().__init__()
        self.processor = processor

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        self.processor.md = md
        # After 'toc' (5) has made heading ids, before 'unescape' (0).
        md.treeprocessors.register(self.processor, "book", 3)


class _BookTreeprocessor(Treeprocessor):
    def __init__(self, article: Article, root: Path):
        super().__init__()
        self.article = article
        self.root = root
        self.prefix = f"{article.slug}--"
        self.headings: list[Heading] = []
        self.resources: list[Path] = []
        self.diagnostics: list[Diagnostic] = []

    def run(self, root: ET.Element) -> None:
        self._make_figures(root)
        parents = {child: parent for parent in root.iter() for child in parent}
        for element in list(root.iter()):
            if element.get("id"):
                element.set("id", self.prefix + element.get("id"))
            href = element.get("href")
            if element.tag == "a" and href and href.startswith("#") and len(href) > 1:
                element.set("href", "#" + self.prefix + href[1:])
            if element.tag in ("h2", "h3") and element.get("id"):
                text = _heading_text(element)
                self.headings.append(Heading(int(element.tag[1]), text, element.get("id")))
            if element.tag == "img":
                self._check_image(element, parents[element])

    def _make_figures(self, root: ET.Element) -> None:
        """<p><img alt title></p> -> <figure><img/><figcaption/></figure>."""
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if (child.tag == "p" and len(child) == 1 and child[0].tag == "img"
                        and not (child.text or "").strip() and not (child[0].tail or "").strip()):
                    image = child[0]
                    caption = image.get("title") or image.get("alt") or ""
                    figure = ET.Element("figure")
                    figure.tail = child.tail
                    image.tail = None
                    figure.append(image)
                    if caption:
                        ET.SubElement(figure, "figcaption").text = caption
                    parent.remove(child)
                    parent.insert(index, figure)

    def _check_image(self, image: ET.Element, parent: ET.Element) -> None:
        src = image.get("src") or ""
        line, column = self._locate(src)
        if not image.get("alt"):
            self.diagnostics.append(warning(
                "R003", f"image '{src}' has no alt text",
                hint="describe the image: ![what it shows](path)",
                path=self.article.source_path, line=line, column=column))
        parts = urlsplit(src)
        if parts.scheme or parts.netloc or not parts.path:
            self._drop(image, parent, f"image '{src}' is not a file in the book folder", line, column,
                       "remote and absolute images are not fetched; copy the image into the book folder")
            return
        relative = posixpath.normpath(posixpath.join(
            self.article.source_path.parent.relative_to(self.root).as_posix(), unquote(parts.path)))
        target = (self.root / relative).resolve()
        if relative.startswith("../") or posixpath.isabs(relative) or not target.is_relative_to(self.root.resolve()):
            self._drop(image, parent, f"image '{src}' is outside the book folder", line, column,
                       "move the image into the book folder and link it with a relative path")
        elif not target.is_file():
            self._drop(image, parent, f"image '{src}' does not exist", line, column,
                       "check the file name and its folder, relative to the manuscript")
        else:
            try:
                inspect_image(target)
            except ImageRejected as exc:
                self._drop(image, parent, f"image '{src}' refused: {exc}", line, column,
                           "convert it to a PNG, JPEG or self-contained SVG within the size limits")
                return
            image.set("src", relative)
            self.resources.append(target)

    def _drop(self, image: ET.Element, parent: ET.Element, message: str, line: int, column: int,
              hint: str) -> None:
        """Report the image and put its alt text in its place, so the build can go on."""
        self.diagnostics.append(error("R002", message, hint=hint, path=self.article.source_path,
                                      line=line, column=column))
        stand_in = ET.Element("span", {"class": "missing-image"})
        stand_in.text = f"[{image.get('alt') or 'image'}]"
        stand_in.tail = image.tail
        parent.insert(list(parent).index(image), stand_in)
        parent.remove(image)

    def _locate(self, needle: str) -> tuple[int, int]:
        """Line and column of `needle` in the manuscript (Markdown keeps no positions)."""
        for index, line in enumerate(self.article.body.split("\n")):
            column = line.find(needle) if needle else -1
            if column >= 0:
                return self.article.body_line + index, column + 1
        return self.article.body_line, 1


def _heading_text(element: ET.Element) -> str:
    """Heading text for contents and bookmarks, without footnote calls."""
    parts = [element.text or ""]
    for child in element:
        if child.tag != "sup":
            parts.append(_heading_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())
