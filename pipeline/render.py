"""Render stage: Markdown -> sanitized, well-formed XHTML fragments.

One fresh `markdown.Markdown` per article (no state leaks between articles,
as in MkDocs). Python-Markdown does not sanitize, so its HTML is cleaned first
(`xhtml.sanitize`); the book-specific work is then done on the cleaned tree,
where raw HTML from the manuscript and Markdown's own output look the same:
- prefixes every id (and every `#fragment` link) with the article's slug, so
  articles joined into one booklet keep unique ids (the mdBook print problem);
- collects the section headings for the contents and the bookmarks;
- turns a paragraph holding only an image into a figure with a caption;
- checks every image (inside the book, an image by content, within limits)
  and every internal link, and records the images the article uses.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import markdown
from lxml import etree

from .diagnostics import Diagnostic, error, warning
from .images import ImageRejected, inspect_image
from .model import Article, Book, Heading, RenderedArticle, RenderedBook
from .quotes import smarten_text, smarten_tree
from .resources import ResourceRefused, inside
from .xhtml import XML_FORBIDDEN, parse_fragment, sanitize, serialize_children, to_xhtml

MAX_DEPTH = 48  # nested elements; deeper structures are not a booklet's


EXTENSIONS = ["extra", "sane_lists", "toc"]
EXTENSION_CONFIGS = {
    "footnotes": {"SEPARATOR": "-", "BACKLINK_TEXT": "↑"},
    "toc": {"permalink": False},
}


def render_book(book: Book, on_article: Callable[[], object] = lambda: None
                ) -> tuple[RenderedBook, list[Diagnostic]]:
    """Render every article; `on_article` is called after each (progress)."""
    diagnostics: list[Diagnostic] = []
    rendered = []
    for number, article in enumerate(book.articles, start=1):
        result, found = render_article(article, number, book.root, article.language or book.config.language)
        rendered.append(result)
        diagnostics += found
        on_article()
    return RenderedBook(book=book, articles=tuple(rendered)), diagnostics


def render_article(article: Article, number: int, root: Path,
                   language: str = "en") -> tuple[RenderedArticle, list[Diagnostic]]:
    body, diagnostics = _strip_forbidden(article.body, article)
    md = markdown.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="xhtml")
    try:
        html = sanitize(md.convert(body))
        container = lxml.html.fragment_fromstring(html, create_parent="div") if html.strip() else None
    except (RecursionError, etree.ParserError):
        container = None
        diagnostics.append(error("R005", "the manuscript nests lists or quotes too deeply to render",
                                 hint=f"keep nesting under {MAX_DEPTH} levels",
                                 path=article.source_path, line=article.body_line))
    processor = _ArticleProcessor(article, root)
    if container is not None:
        processor.run(container)
        smarten_tree(container, language)  # quotes of the text's language (pipeline/quotes.py)
    diagnostics += processor.diagnostics
    article = replace(article, title=smarten_text(article.title, language),
                      subtitle=smarten_text(article.subtitle, language))
    return RenderedArticle(
        article=article,
        number=number,
        anchor=article.slug,
        body_html=serialize_children(container) if container is not None else "",
        summary_html=render_inline(article.summary, language),
        blurb_html=render_inline(article.blurb, language),
        headings=tuple(processor.headings),
        resources=tuple(processor.resources),
    ), diagnostics


def render_inline(text: str, language: str = "en") -> str:
    """Render a front-matter paragraph (summary, blurb) to XHTML inline content."""
    if not text:
        return ""
    html = markdown.markdown(XML_FORBIDDEN.sub("", text), output_format="xhtml")
    html = html.removeprefix("<p>").removesuffix("</p>") if html.count("<p>") == 1 else html
    fragment = parse_fragment(to_xhtml(sanitize(html)))
    smarten_tree(fragment, language)
    return serialize_children(fragment)


def _strip_forbidden(body: str, article: Article) -> tuple[str, list[Diagnostic]]:
    diagnostics = []
    for index, line in enumerate(body.split("\n")):
        for match in XML_FORBIDDEN.finditer(line):
            diagnostics.append(warning(
                "R001", f"removed character U+{ord(match.group()):04X}, which XML does not allow",
                hint="delete the character; it is usually an invisible control character",
                path=article.source_path, line=article.body_line + index, column=match.start() + 1))
    return XML_FORBIDDEN.sub("", body), diagnostics


class _ArticleProcessor:
    """The book-specific pass over one article's sanitized tree (see module doc)."""

    def __init__(self, article: Article, root: Path):
        self.article = article
        self.root = root
        self.prefix = f"{article.slug}--"
        self.headings: list[Heading] = []
        self.resources: list[Path] = []
        self.diagnostics: list[Diagnostic] = []

    def run(self, root: etree._Element) -> None:
        if _depth(root) > MAX_DEPTH:
            self.diagnostics.append(error(
                "R005", f"the manuscript nests elements more than {MAX_DEPTH} levels deep",
                hint="flatten the nested lists or quotes", path=self.article.source_path,
                line=self.article.body_line))
            for child in list(root):
                root.remove(child)
            root.text = None
            return
        self._make_figures(root)
        ids = {element.get("id") for element in root.iter() if element.get("id")}
        for element in list(root.iter()):
            if element.get("id"):
                element.set("id", self.prefix + element.get("id"))
            href = element.get("href")
            if element.tag == "a" and href and href.startswith("#") and len(href) > 1:
                self._check_anchor(unquote(href[1:]), ids)
                element.set("href", "#" + self.prefix + href[1:])
            # An empty heading (a page separator in some manuscripts) has no place in the contents.
            if element.tag in ("h2", "h3") and element.get("id") and _heading_text(element):
                self.headings.append(Heading(int(element.tag[1]), _heading_text(element), element.get("id")))
            if element.tag == "img":
                self._check_image(element)

    def _check_anchor(self, target: str, ids: set[str]) -> None:
        if target not in ids:
            line, column = self._locate(f"#{target}")
            self.diagnostics.append(warning(
                "R004", f"link to '#{target}', which no heading or element of this article has",
                hint="link to a heading by its id (e.g. #my-section for '## My section')",
                path=self.article.source_path, line=line, column=column))

    def _make_figures(self, root: etree._Element) -> None:
        """<p><img alt title></p> -> <figure><img/><figcaption/></figure>."""
        for paragraph in list(root.iter("p")):
            if (len(paragraph) == 1 and paragraph[0].tag == "img"
                    and not (paragraph.text or "").strip() and not (paragraph[0].tail or "").strip()):
                image = paragraph[0]
                caption = image.get("title") or image.get("alt") or ""
                image.attrib.pop("title", None)
                figure = etree.Element("figure")
                figure.tail = paragraph.tail
                image.tail = None
                figure.append(image)
                if caption:
                    etree.SubElement(figure, "figcaption").text = caption
                paragraph.getparent().replace(paragraph, figure)

    def _check_image(self, image: etree._Element) -> None:
        src = image.get("src") or ""
        # The sanitizer empties unsafe URLs (file:, data:): then find the image by its alt text.
        line, column = self._locate(src) if src else self._locate(image.get("alt") or "<img")
        if not image.get("alt"):
            self.diagnostics.append(warning(
                "R003", f"image '{src}' has no alt text",
                hint="describe the image: ![what it shows](path)",
                path=self.article.source_path, line=line, column=column))
        parts = urlsplit(src)
        if not src:
            self._drop(image, "image address is empty or unsafe (file:, data: and script URLs are removed)",
                       line, column, "copy the image into the book folder and link it with a relative path")
            return
        if parts.scheme or parts.netloc or not parts.path:
            self._drop(image, f"image '{src}' is not a file in the book folder", line, column,
                       "remote and absolute images are not fetched; copy the image into the book folder")
            return
        relative = posixpath.normpath(posixpath.join(
            self.article.source_path.parent.relative_to(self.root).as_posix(), unquote(parts.path)))
        try:
            target = inside(self.root / relative, (self.root,))
        except ResourceRefused:
            self._drop(image, f"image '{src}' is outside the book folder", line, column,
                       "move the image into the book folder and link it with a relative path")
            return
        if not target.is_file():
            self._drop(image, f"image '{src}' does not exist", line, column,
                       "check the file name and its folder, relative to the manuscript")
        else:
            try:
                inspect_image(target)
            except ImageRejected as exc:
                self._drop(image, f"image '{src}' refused: {exc}", line, column,
                           "convert it to a PNG, JPEG or self-contained SVG within the size limits")
                return
            image.set("src", relative)
            self.resources.append(target)

    def _drop(self, image: etree._Element, message: str, line: int, column: int, hint: str) -> None:
        """Report the image and put its alt text in its place, so the build can go on."""
        self.diagnostics.append(error("R002", message, hint=hint, path=self.article.source_path,
                                      line=line, column=column))
        stand_in = etree.Element("span", {"class": "missing-image"})
        stand_in.text = f"[{image.get('alt') or 'image'}]"
        stand_in.tail = image.tail
        image.getparent().replace(image, stand_in)

    def _locate(self, needle: str) -> tuple[int, int]:
        """Line and column of `needle` in the manuscript (Markdown keeps no positions)."""
        for index, line in enumerate(self.article.body.split("\n")):
            column = line.find(needle) if needle else -1
            if column >= 0:
                return self.article.body_line + index, column + 1
        return self.article.body_line, 1


def _depth(element: etree._Element) -> int:
    """Deepest nesting below `element`, without recursion (the input is hostile)."""
    deepest, stack = 0, [(element, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node)
    return deepest


def _heading_text(element: etree._Element) -> str:
    """Heading text for contents and bookmarks, without footnote calls."""
    parts = [element.text or ""]
    for child in element:
        if child.tag != "sup" and isinstance(child.tag, str):
            parts.append(_heading_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())
