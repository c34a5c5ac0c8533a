"""Render stage: Markdown -> sanitized, well-formed XHTML fragments.

The parser step is `pipeline.text.markdown.to_html` (markdown-it-py, a fresh
parser per article, so no state leaks between articles, as in MkDocs). It does
not sanitize, so its HTML is cleaned first (`xhtml.sanitize`); the
book-specific work is then done on the cleaned tree, where raw HTML from the
manuscript and Markdown's own output look the same:
- gives every heading an id (its text, GitHub style), unique in the article;
- prefixes every id (and every `#fragment` link) with the article's slug, so
  articles joined into one booklet keep unique ids (the mdBook print problem);
- collects the section headings for the contents and the bookmarks;
- turns a paragraph holding only an image into a figure with a caption;
- typesets TeX math (math.py): MathML in the XHTML, an SVG of each formula
  beside it for the PDF; malformed TeX is reported and shown as code;
- numbers figures, tables, equations and sections and resolves references
  to them (`@fig-id`: xref.py), once every article is rendered;
- formats citations (`[@key]`) by the book's CSL style and closes each
  article with its reference list (citations.py), once every article is parsed;
- checks every image (inside the book, an image by content, within limits)
  and every internal link, and records the images the article uses.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from lxml import etree
from markupsafe import escape

from ..diagnostics import Diagnostic, did_you_mean, error, warning, with_suggestion
from ..text.callouts import fill_titles
from ..text.citemarks import Marks, marks_for
from ..text.markdown import CAPTION, to_html, to_inline_html
from ..text.quotes import smarten_text, smarten_tree
from ..text.sourcetext import positions
from ..model import Article, Book, BookConfig, Formula, Heading, RenderedArticle, RenderedBook
from ..styles import is_rtl, labels, words_for
from ..fetch import FetchRefused, cache_folder, fetching
from ..fetch import fetch as fetch_remote
from ..resources import (HardLinked, ImageRejected, ResourceRefused, book_images, deadline, inside, inspect_image,
                         resolve_path, resource_name)
from ..xhtml import XML_FORBIDDEN, parse_fragment, parse_html, sanitize, serialize_children, to_xhtml
from .citations import cite_book
from .code import highlight_code
from .dialects import Site, rewrite, site_of
from .math import TexError, typeset
from .xref import XREF_CLASS, Numbering, Reference, Target, mark_references, number_article, resolve

MAX_DEPTH = 48  # nested elements; deeper structures are not a booklet's


def render_book(book: Book, on_article: Callable[[], object] = lambda: None
                ) -> tuple[RenderedBook, list[Diagnostic]]:
    """Render every article; `on_article` is called after each (progress)."""
    diagnostics: list[Diagnostic] = []
    rendered = []
    manuscripts: dict[Path, list[Article]] = {}
    for article in book.articles:
        manuscripts.setdefault(article.source_path.resolve(), []).append(article)
    links: list[_CrossLink] = []
    site = site_of(book)
    numbering = Numbering(per_book=book.config.numbering == "book")
    numbered: list[_Numbered] = []
    cited: list[Marks | None] = []  # each article's citations (citations.py)
    sources = image_sources(book)
    for number, article in enumerate(book.articles, start=1):
        language = article.language or book.config.language
        words = words_for(article, book.config)  # the one rule for an article's fixed words
        citations = marks_for(book, article)
        try:
            with deadline(RENDER_SECONDS, _RenderTimeLimit):
                result, found, cross, marks = _render_article(article, number, book.root, manuscripts,
                                                              book.config.toc_depth, language, numbering, words,
                                                              site, images=sources, citations=citations)
        except _RenderTimeLimit:  # a stranger's pathological Markdown: located, the build stops
            diagnostics.append(error("X003", f"rendering {article.source_path.name} took more than "
                                             f"{RENDER_SECONDS:g} s", path=article.source_path, line=article.body_line,
                                     hint="look for thousands of unclosed brackets, emphasis marks or links"))
            continue
        rendered.append(result)
        diagnostics += found
        links += cross
        numbered.append(marks)
        cited.append(citations)
        on_article()
    rendered, found = _check_cross_links(rendered, links)
    rendered, resolved = _resolve_references(rendered, numbered, numbering.per_book)
    rendered, citing = cite_book(book, rendered, cited, [marks.words for marks in numbered])
    resolved += citing
    # The articles as rendered (site syntax given its meaning: dialects.py), so that
    # the fonts are planned for the characters printed (an emoji from `:tada:`).
    book = replace(book, articles=tuple(item.article for item in rendered))
    return RenderedBook(book=book, articles=tuple(rendered)), diagnostics + found + resolved + sources.warnings()


def render_article(article: Article, number: int, root: Path,
                   language: str = "en") -> tuple[RenderedArticle, list[Diagnostic]]:
    """One article on its own (links to other manuscripts are then outside the book)."""
    sources = ImageSources(root=root.resolve(), site_root=root.resolve())
    citations = marks_for(None, article)
    item, diagnostics, _, marks = _render_article(article, number, root, {article.source_path.resolve(): [article]},
                                                  language=language, words=labels(language), images=sources,
                                                  citations=citations)
    [item], found = _resolve_references([item], [marks], per_book=False)
    if citations is not None:  # a book of this one article, its bibliography its own
        alone = Book(root=root, slug=article.slug, config=BookConfig(title=article.title, language=language),
                     articles=(article,))
        [item], cited = cite_book(alone, [item], [citations], [marks.words])
        found += cited
    return item, diagnostics + found + sources.warnings()


@dataclass(frozen=True)
class _Numbered:
    """An article's numbered elements and the references it makes (xref.py)."""

    targets: tuple[Target, ...]
    references: tuple[Reference, ...]
    words: dict[str, str]  # the article's fixed words (styles.words_for)


def _resolve_references(rendered: list[RenderedArticle], numbered: list[_Numbered], per_book: bool
                        ) -> tuple[list[RenderedArticle], list[Diagnostic]]:
    """Every reference's words and link, once every article is numbered."""
    targets: dict[str, list[Target]] = {}
    for marks in numbered:
        for target in marks.targets:
            targets.setdefault(target.key, []).append(target)
    prefixes = {item.number: f"{item.article.slug}--" for item in rendered}
    diagnostics = []
    for index, (item, marks) in enumerate(zip(rendered, numbered)):
        if not marks.references:
            continue
        root = parse_fragment(item.body_html)
        diagnostics += resolve(root, list(marks.references), targets, item.number, prefixes, marks.words,
                               per_book, len(rendered) > 1, item.article.source_path)
        rendered[index] = replace(item, body_html=serialize_children(root))
    return rendered, diagnostics


@dataclass(frozen=True)
class _Remote:
    """A remote image left out, where it was written, and why if a fetch failed."""

    host: str
    url: str
    reason: str
    path: Path
    line: int
    column: int


PLACES_SHOWN = 3  # places a remote host's warning names


@dataclass
class ImageSources:
    """Where a book's images may come from besides its folder: a website's
    static folders (site-root paths, read inside `site_root`), and remote
    addresses, fetched when asked (`fetch`); `remote` collects those left
    out, for one warning per host."""

    root: Path
    site_root: Path
    static: tuple[Path, ...] = ()
    fetch: bool = False
    book_asks_fetch: bool = False  # [images] remote = "fetch": the book asks, the command line decides
    remote: list[_Remote] = field(default_factory=list)
    # In a website's content folder an image may live where the slice we read
    # does not reach (a theme, a plugin, the site's build): missing is a warning.
    missing_is_warning: bool = False
    site_url: str = ""  # the site's web address: a site-root link to a page not in the book leads there

    def warnings(self) -> list[Diagnostic]:
        """R018 once per host: how many images, where the first ones are."""
        hosts: dict[str, list[_Remote]] = {}
        for item in self.remote:
            hosts.setdefault(item.host, []).append(item)
        found = []
        for host, items in hosts.items():
            first = items[0]
            places = ", ".join(f"{_place_name(i.path, self.root)}:{i.line}" for i in items[:PLACES_SHOWN])
            more = f" and {len(items) - PLACES_SHOWN} more" if len(items) > PLACES_SHOWN else ""
            count = f"{len(items)} remote image{'s' if len(items) > 1 else ''} from {host}"
            if first.reason:
                each = "each" if len(items) > 1 else "it"
                message = f"{count} could not be fetched ({first.reason}); left out, the alt text linking to {each}"
                hint = "copy the images into the book folder, or check the address"
            else:
                message = f"{count} left out; the alt text links to {'each' if len(items) > 1 else 'it'}"
                hint = ("book.toml asks for them ([images] remote = \"fetch\"), but a book cannot fetch on its own: "
                        "pass --fetch-remote if you trust its addresses, or copy them into the book"
                        if self.book_asks_fetch else
                        "pass --fetch-remote to download them, or copy them into the book")
            found.append(warning("R018", f"{message} ({places}{more})", hint=hint,
                                 path=first.path, line=first.line, column=first.column))
        return found


def image_sources(book: Book) -> ImageSources:
    """A book's `ImageSources`: its site's static folders (the loader's), and
    whether remote images are fetched (--fetch-remote; [images] remote only asks)."""
    root = book.root.resolve()
    return ImageSources(root=root, site_root=(book.site_root or book.root).resolve(),
                        static=tuple(folder.resolve() for folder in book.static),
                        fetch=fetching(), book_asks_fetch=book.config.images_remote == "fetch",
                        missing_is_warning=book.flavour != "plain", site_url=book.site_url)


def _place_name(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.name


@dataclass(frozen=True)
class _CrossLink:
    """A link to another manuscript of the book, checked once all are rendered."""

    source: Article
    targets: tuple[Article, ...]  # the articles of the linked file
    fragment: str  # the id it names, as the author wrote it
    href: str  # the href it was given for now: the first article's id
    line: int
    column: int


def _check_cross_links(rendered: list[RenderedArticle], links: list[_CrossLink]
                       ) -> tuple[list[RenderedArticle], list[Diagnostic]]:
    """Point each link at the article of the linked file that has the id; a link
    to an id none has goes to the file's first article, with a warning."""
    ids = {match for item in rendered for match in _ID.findall(item.body_html)}
    diagnostics = []
    by_slug = {item.article.slug: index for index, item in enumerate(rendered)}
    for link in links:
        found = next((f"{target.slug}--{link.fragment}" for target in link.targets
                      if f"{target.slug}--{link.fragment}" in ids), None)
        if found is None:
            name = link.targets[0].source_path.name
            theirs = [i.removeprefix(f"{t.slug}--") for t in link.targets for i in ids if i.startswith(f"{t.slug}--")]
            diagnostics.append(warning(
                "R004", f"link to '#{link.fragment}' in {name}, which has no "
                        "such heading or element; it goes to the start of that file",
                hint=with_suggestion(did_you_mean(link.fragment, theirs, lambda i: f"'{name}#{i}'"),
                                     "link to a heading of the other manuscript by its id (e.g. other.md#my-section)"),
                path=link.source.source_path, line=link.line, column=link.column))
        home = next((t for t in link.targets if found and found.startswith(f"{t.slug}--")), link.targets[0])
        href = "#" + normalize_url(found) if found else f"#{home.slug}"
        if href == link.href:
            continue
        index = by_slug[link.source.slug]
        body = rendered[index].body_html.replace(f'href="{link.href}" {ARTICLE}="{link.targets[0].slug}"',
                                                 f'href="{href}" {ARTICLE}="{home.slug}"')
        body = body.replace(f'href="{link.href}"', f'href="{href}"')  # a link within its own article
        rendered[index] = replace(rendered[index], body_html=body)
    return _with_linked_targets(rendered), diagnostics


def _with_linked_targets(rendered: list[RenderedArticle]) -> list[RenderedArticle]:
    """An article's start or heading that another article links to is one of
    its `targets`, as a reference's figure is: the PDF finds its page and
    prints it after the link (export/pdf/booklet.py)."""
    linked = {unquote(match) for item in rendered for match in _ARTICLE_HREF.findall(item.body_html)}
    if not linked:
        return rendered
    for index, item in enumerate(rendered):
        own = sorted(linked & ({item.anchor} | set(_ID.findall(item.body_html))) - set(item.targets))
        if own:
            rendered[index] = replace(item, targets=item.targets + tuple(own))
    return rendered


_ARTICLE_HREF = re.compile(r'<a class="xref article-link[^"]*" href="#([^"]+)"')


_ID = re.compile(r'\sid="([^"]+)"')
RENDER_SECONDS = 60.0  # one article's render (a 2 MiB manuscript of prose: a few seconds)


class _RenderTimeLimit(BaseException):
    """Raised by the deadline in an article's render (a BaseException: no library catch-all swallows it)."""


def _render_article(article: Article, number: int, root: Path, manuscripts: dict[Path, list[Article]],
                    toc_depth: int = 2, language: str = "en", numbering: Numbering | None = None,
                    words: dict[str, str] | None = None, site: Site | None = None,
                    images: ImageSources | None = None, citations: Marks | None = None,
                    ) -> tuple[RenderedArticle, list[Diagnostic], list[_CrossLink], _Numbered]:
    # Site syntax (shortcodes, Liquid, MDX, tabs, :emoji:) given its meaning, lines kept (dialects.py).
    article, diagnostics = rewrite(article, site or Site(root=root, manuscripts=(article.source_path.resolve(),)))
    body, stripped = _strip_forbidden(article.body, article)
    diagnostics += stripped
    too_deep: list[tuple[int, int]] = []
    try:
        html = sanitize(_jsx_classes(to_html(body, captions=True, too_deep=too_deep, citations=citations)))
        container = parse_html(html) if html.strip() else None
        if container is not None:
            leave_out_dark_variants(container)
    except (RecursionError, etree.ParserError):
        container = None
        diagnostics.append(error("R005", "the manuscript nests lists or quotes too deeply to render",
                                 hint=f"keep nesting under {MAX_DEPTH} levels",
                                 path=article.source_path, line=article.body_line))
    for line, column in too_deep:
        diagnostics.append(warning(
            "R005", "quotes or lists nest deeper than the parser reads here; the deeper lines are printed "
                    "as plain paragraphs, their text kept",
            hint="flatten the nested lists or quotes (under 10 lists or 20 quotes deep)",
            path=article.source_path, line=article.body_line + line, column=column))
    words = words or labels(language)
    if article.image and not article.image.lower().startswith(("http://", "https://")):
        container = _with_lead_image(container, article)
    processor = _ArticleProcessor(article, root, manuscripts, toc_depth, number, numbering or Numbering(), words)
    processor.sources = images or ImageSources(root=root.resolve(), site_root=root.resolve())
    if container is not None:
        fill_titles(container, words)  # callouts: role, and the kind's word as an untitled one's title
        processor.run(container)
        highlight_code(container)  # line and token spans (code.py)
        smarten_tree(container, language)  # quotes of the text's language (text/quotes.py)
        if not is_rtl(language):
            _mark_right_to_left_blocks(container)
    diagnostics += processor.diagnostics
    article = replace(article, title=smarten_text(article.title, language),
                      subtitle=smarten_text(article.subtitle, language))
    return RenderedArticle(
        article=article,
        number=number,
        anchor=article.slug,
        body_html=serialize_children(container) if container is not None else "",
        summary_html="" if article.summary_in_body else render_inline(article.summary, language),
        blurb_html=render_inline(article.blurb, language),
        headings=tuple(processor.headings),
        resources=tuple(processor.resources),
        title_html=render_title(article, language),
        targets=tuple(f"{processor.prefix}{target.key}" for target in processor.targets),
        formulas=tuple(processor.formulas),
    ), diagnostics, processor.cross_links, _Numbered(tuple(processor.targets), tuple(processor.references), words)


# The image a site shows only in its dark theme: GitHub's and Material for
# MkDocs' address fragments, and the class names sites give it (react.dev's
# `dark-image`; Tailwind's `hidden dark:block`). A book is read in light.
DARK_FRAGMENTS = {"gh-dark-mode-only", "only-dark", "dark-mode-only"}
DARK_CLASSES = {"dark-image", "dark-only", "only-dark", "dark-mode-only", "image-dark", "img-dark", "show-dark",
                "theme-dark"}
_JSX_CLASS = re.compile(r"(<img\b[^<>]*?\s)className(\s*=\s*[\"'])", re.IGNORECASE)


def _jsx_classes(html: str) -> str:
    """An image's JSX `className="..."` (MDX, a React blog) as the `class`
    HTML reads (the sanitizer would drop it), for `leave_out_dark_variants`.
    The Markdown's code is escaped by then: only real tags match."""
    return _JSX_CLASS.sub(r"\1class\2", html)


def leave_out_dark_variants(root: etree._Element) -> None:
    """Leave out each image written for a site's dark theme beside its light
    one (GitHub: `![](logo-dark.png#gh-dark-mode-only)`), as the site in its
    light theme does: a book printed both, one after the other. The light
    one stays. A paragraph or link left holding nothing goes with it, and a
    figure left with only its caption."""
    for image in list(root.iter("img")):
        fragment = urlsplit(image.get("src") or "").fragment.lower()
        classes = set((image.get("class") or "").lower().split())
        tailwind_dark_only = "hidden" in classes and any(c.startswith("dark:") and c != "dark:hidden"
                                                         for c in classes)
        if fragment in DARK_FRAGMENTS or classes & DARK_CLASSES or tailwind_dark_only:
            parent = image.getparent()
            image.drop_tree()  # (its tail stays)
            while parent is not None and parent is not root and _holds_nothing(parent):
                grandparent = parent.getparent()
                parent.drop_tree()
                parent = grandparent


def _holds_nothing(element: etree._Element) -> bool:
    """A paragraph, link or span with nothing in it, or a figure with only its caption."""
    if (element.text or "").strip():
        return False
    if element.tag == "figure":
        return all(child.tag == "figcaption" and not (child.tail or "").strip() for child in element)
    return element.tag in ("p", "a", "span") and not len(element)


def _with_lead_image(container: etree._Element | None, article: Article) -> etree._Element:
    """The front matter's lead image (image, cover, heroImage…) first in the
    body, where the processor checks and resolves it as any image (the read
    gate, a site's static folders). A remote one is left out, as its address
    alone says nothing on paper."""
    if container is None:
        container = parse_html("<p></p>")
        container.remove(container[0])
    figure = etree.Element("figure", {"class": "lead-image"})
    etree.SubElement(figure, "img", {"src": article.image, "alt": article.title})
    container.insert(0, figure)
    figure.tail, container.text = container.text, None
    return container


def render_title(article: Article, language: str = "en") -> str:
    """The title as inline XHTML: a heading's code and emphasis kept, plain titles escaped."""
    if article.title_markdown:
        return render_inline(article.title_markdown, language)
    return str(escape(article.title))


def render_inline(text: str, language: str = "en") -> str:
    """Render a front-matter paragraph (summary, blurb) to XHTML inline content."""
    if not text:
        return ""
    fragment = parse_fragment(to_xhtml(sanitize(to_inline_html(XML_FORBIDDEN.sub("", text)))))
    _only_web_links(fragment)
    smarten_tree(fragment, language)  # quotes of the text's language (text/quotes.py)
    return serialize_children(fragment)


def _only_web_links(fragment: etree._Element) -> None:
    """A summary or blurb stands apart from its article (the opener, the
    manifest, a web page's description): a link in it keeps its target only
    when that is a full web address; a relative or #fragment link keeps its
    text, and an image its alt text (neither was resolved in the book)."""
    for element in list(fragment.iter("a", "img")):
        if element.tag == "img" or not urlsplit(element.get("href", "")).scheme:
            if element.tag == "img":
                element.text = element.get("alt") or ""
            element.attrib.clear()
            element.tag = "unwrapped"
    etree.strip_tags(fragment, "unwrapped")  # their content stays where they were


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

    def __init__(self, article: Article, root: Path, manuscripts: dict[Path, list[Article]], toc_depth: int = 2,
                 number: int = 1, numbering: Numbering | None = None, words: dict[str, str] | None = None):
        self.article = article
        self.number = number
        self.numbering = numbering or Numbering()
        self.words = words or labels("en")
        self.targets: list[Target] = []
        self.references: list[Reference] = []
        self.toc_depth = toc_depth
        self.root = root
        self.manuscripts = manuscripts
        self.cross_links: list[_CrossLink] = []
        self.empty_seen: dict[int, int] = {}
        self.prefix = f"{article.slug}--"
        self.headings: list[Heading] = []
        self.resources: list[Path] = []
        self.formulas: list[Formula] = []
        self.diagnostics: list[Diagnostic] = []
        self.math_seen: dict[str, int] = {}
        self.located: dict[tuple[str, str], int] = {}  # how often each needle was located (_locate)
        self.sources = ImageSources(root=root.resolve(), site_root=root.resolve())  # where images may come from

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
        self._typeset_math(root)
        self._make_figures(root)
        self._tables_as_text(root)
        _details_with_summary(root)
        _mark_wide_tables(root)
        _relative_levels(root, self.article.title_level)
        _give_headings_ids(root)
        repeated: list[str] = []
        ids = _unique_ids(root, repeated)
        for given in repeated:
            self._repeated_id(given)
        self.targets = number_article(root, self.number, self.numbering, self.words)
        self.references = mark_references(root, self.article.body, self.article.body_line)
        for element in list(root.iter()):
            if element.get("id"):
                element.set("id", self.prefix + element.get("id"))
            if element.tag == "a" and element.get("href") is not None:
                self._link(element, ids)
            if element.tag in HEADINGS and not _heading_text(element):
                self._empty_heading(element)
            elif element.tag in HEADINGS[1:self.toc_depth] and element.get("id"):
                self.headings.append(Heading(int(element.tag[1]), _heading_text(element), element.get("id")))
                element.set("class", " ".join(filter(None, [element.get("class"), f"toc-{element.tag[1]}"])))
            if element.tag == "img":
                self._check_image(element)
            if element.tag == "input" and "task-list-item" not in (element.getparent().get("class") or ""):
                element.drop_tree()  # only a task list's checkbox is more than a form field

    def _link(self, link: etree._Element, ids: set[str]) -> None:
        """Fragments get the article's prefix; links to other manuscripts become
        links into the booklet (`#slug--id`, split per document by the EPUB);
        a relative link to anything else loses its link, keeps its text, and
        is reported; URLs are percent-encoded where they hold illegal characters."""
        href = link.get("href").strip()
        if href.startswith("#"):
            target = unquote(href[1:])
            siblings = self.manuscripts.get(self.article.source_path.resolve(), [])
            if not target or target == heading_id(self.article.title):
                link.set("href", f"#{self.article.slug}")  # the top, or the title (not in the body)
            elif target not in ids and len(siblings) > 1:
                # A book in one file: '#chapter-ii' names another of its articles, or a heading in one.
                self._link_into(link, siblings, target, *self._locate(f"#{target}", _LINK_ADDRESS))
            elif self._check_anchor(target, ids):
                link.set("href", "#" + self.prefix + normalize_url(target))
            else:
                _unwrap(link)
            return
        parts = urlsplit(href)
        if parts.scheme or parts.netloc:
            link.set("href", normalize_url(href))
            return
        line, column, href = self._locate_address(href, _LINK_ADDRESS) if href else (*self._locate("]()"), href)
        problem = _name_problem(unquote(parts.path))
        try:
            targets = self._manuscript(unquote(parts.path)) if parts.path and not problem else []
        except (OSError, ValueError) as exc:
            targets, problem = [], _path_problem(exc)
        if not targets and self.sources.site_url and href.startswith("/") and not href.startswith("//") \
                and not problem:
            link.set("href", normalize_url(_page_address(self.sources.site_url, href)))  # the page on the site
            return
        if not targets:
            what = f"'{_shorten(href)}', which is not part of the book" if href else "an empty address"
            if problem:
                what = f"'{_shorten(href)}', which names no file: {problem}"
            self.diagnostics.append(warning(
                "R008", f"link to {what}; its text is kept without the link",
                hint=with_suggestion(self._nearest_manuscript(unquote(parts.path), parts.fragment),
                                     "link to a manuscript of the book (other.md#id), a heading (#id) "
                                     "or a full https:// URL"),
                path=self.article.source_path, line=line, column=column))
            _unwrap(link)
            return
        self._link_into(link, targets, unquote(parts.fragment), line, column)

    def _link_into(self, link: etree._Element, targets: list[Article], fragment: str, line: int, column: int) -> None:
        """Point a link at one of a manuscript's articles: its start when the
        fragment is empty or names the article's title, else the element with
        that id (checked once every article is rendered: `_check_cross_links`)."""
        titled = [target for target in targets if fragment and fragment == heading_id(target.title)]
        if not fragment or titled:
            target = (titled or targets)[0]
            _mark_article_link(link, f"#{target.slug}", target.slug, target.slug != self.article.slug)  # its start
            return
        href = "#" + normalize_url(f"{targets[0].slug}--{fragment}")
        _mark_article_link(link, href, targets[0].slug, any(t.slug != self.article.slug for t in targets))
        self.cross_links.append(_CrossLink(self.article, tuple(targets), fragment, href, line, column))

    def _repeated_id(self, given: str) -> None:
        """Two elements with one id: links and references reach the first only."""
        places = sorted(positions(self.article.body, f"#{given}") + positions(self.article.body, f'id="{given}"'))
        nth = self.located[(given, "id")] = self.located.get((given, "id"), 1) + 1
        line, column = places[min(nth, len(places)) - 1] if places else (1, 1)
        self.diagnostics.append(warning(
            "R017", f"the id '{given}' is given to an earlier element too; links and references go to the "
                    "first, and this one is renamed",
            hint="give each element its own id", path=self.article.source_path,
            line=self.article.body_line + line - 1, column=column))

    def _empty_heading(self, heading: etree._Element) -> None:
        """Kept in the text, left out of the contents, nav and bookmarks (print.css)."""
        heading.set("class", " ".join(filter(None, [heading.get("class"), "empty-heading"])))
        level = int(heading.tag[1])
        self.empty_seen[level] = self.empty_seen.get(level, 0) + 1
        line, column = self._empty_heading_line(level, self.empty_seen[level])
        self.diagnostics.append(warning(
            "R009", f"empty level-{heading.tag[1]} heading; it is left out of the contents and bookmarks",
            hint="give the heading a text, or delete the line", path=self.article.source_path,
            line=line, column=column))

    def _empty_heading_line(self, level: int, nth: int) -> tuple[int, int]:
        """Line of the nth empty heading of that level (Markdown or raw HTML)."""
        pattern = re.compile(r"^ {0,3}(" + "#" * level + r"(?:[ \t]+#*)?[ \t]*$|.*<h" + str(level) + r"\b)")
        for index, line in enumerate(self.article.body.split("\n")):
            if pattern.match(line):
                nth -= 1
                if not nth:
                    return self.article.body_line + index, 1
        return self.article.body_line, 1

    def _manuscript(self, path: str) -> list[Article]:
        """The articles of the book's manuscript a relative link names (mdBook's
        `x.html` for `x.md` too); none if it is not part of the book."""
        base = self.article.source_path.parent
        candidates = [base / path]
        if path.endswith(".html"):
            candidates.append(base / (path[: -len(".html")] + ".md"))
        for candidate in candidates:
            articles = self.manuscripts.get(candidate.resolve())
            if articles:
                return articles
        return []

    def _nearest_manuscript(self, written: str, fragment: str) -> str:
        """'did you mean '02-sleep-hygiene.md'?' for a link to a manuscript the
        book lacks (`02-sleep.md`), or to an article by its slug, as a website
        writes it (`sleep-hygiene`, `/sleep-hygiene/`, `sleep-hygiene.html`):
        the nearest manuscript, as this one would link it."""
        folder = self.article.source_path.resolve().parent.as_posix()
        names: dict[str, str] = {}  # a name the author may have meant -> the manuscript, as linked from here
        for path, articles in self.manuscripts.items():
            link = posixpath.relpath(path.as_posix(), folder)
            for name in (link, path.name, path.stem, *(article.slug for article in articles)):
                names.setdefault(name, link)
        hash_ = f"#{fragment}" if fragment else ""

        def quote(name: str) -> str:
            return f"'{names[name]}{hash_}'"

        bare = _SITE_PAGE.sub("", written.strip("/")).rsplit("/", 1)[-1]  # `/blog/sleep-hygiene/` -> its slug
        if bare in names and names[bare] != written:  # a slug or a name exactly, written as a site would
            return f"did you mean {quote(bare)}?"
        return did_you_mean(written, names, quote) if written else ""

    def _check_anchor(self, target: str, ids: set[str]) -> bool:
        """Is `target` an id of the article? If not, say where the link is (its text is kept)."""
        if target in ids:
            return True
        line, column = self._locate(f"#{target}", _LINK_ADDRESS)
        self.diagnostics.append(warning(
            "R004", f"link to '#{target}', which no heading or element of this article has; "
                    "its text is kept without the link",
            hint=with_suggestion(did_you_mean(target, ids, lambda i: f"'#{i}'"),
                                 "link to a heading by its id (e.g. #my-section for '## My section')"),
            path=self.article.source_path, line=line, column=column))
        return False

    def _tables_as_text(self, root: etree._Element) -> None:
        """A table of more than MAX_TABLE_COLUMNS columns or MAX_TABLE_CELLS
        cells becomes its rows as paragraphs (`_rows_as_text`), with a warning:
        a table's cell costs a PDF layout a box of its own (about 20 kB and
        1 ms each), so a table of 2 MiB of `|x` holds a million of them and
        no layout ends; as text, its cost is that of its words."""
        for table in list(root.iter("table")):
            rows = [row for row in table.iter("tr")]
            columns = max((sum(1 for cell in row if cell.tag in ("td", "th")) for row in rows), default=0)
            cells = sum(columns for _ in rows)
            if columns <= MAX_TABLE_COLUMNS and cells <= MAX_TABLE_CELLS:
                continue
            first = next((" ".join("".join(cell.itertext()).split()) for row in rows for cell in row
                          if cell.tag in ("td", "th") and "".join(cell.itertext()).strip()), "")
            line, column = self._locate(first, _FIRST_CELL) if first else (self.article.body_line, 1)
            self.diagnostics.append(warning(
                "R005", f"a table of {columns} columns and {len(rows)} rows is larger than a page can set "
                        f"(more than {MAX_TABLE_COLUMNS} columns or {MAX_TABLE_CELLS} cells); its rows are printed "
                        "as paragraphs, their text kept",
                hint="split the table into narrower tables, or attach the data as a file the text links to",
                path=self.article.source_path, line=line, column=column))
            _rows_as_text(table)

    def _make_figures(self, root: etree._Element) -> None:
        """<p><img alt title></p> -> <figure><img/><figcaption/></figure>: the
        caption is the image's title, else its description as rendered (with
        its emphasis, code and math: `markdown.CAPTION`), else its alt text."""
        for paragraph in list(root.iter("p")):
            rendered = [child for child in paragraph if child.tag == "span" and child.get("class") == CAPTION]
            if (len(paragraph) - len(rendered) == 1 and paragraph[0].tag == "img"
                    and not (paragraph.text or "").strip()
                    and not "".join(child.tail or "" for child in paragraph).strip()):
                image = paragraph[0]
                figure = etree.Element("figure")
                if image.get("id"):  # `{#fig-id}`: the figure is what is numbered and linked to
                    figure.set("id", image.attrib.pop("id"))
                figure.tail = paragraph.tail
                image.tail = None
                figure.append(image)
                caption = etree.SubElement(figure, "figcaption")
                if image.get("title") or not rendered:
                    caption.text = image.attrib.pop("title", None) or image.get("alt") or ""
                else:
                    caption.text = rendered[0].text
                    caption.extend(rendered[0])
                if not len(caption) and not caption.text:
                    figure.remove(caption)
                paragraph.getparent().replace(paragraph, figure)
        for span in list(root.iter("span")):  # an image within text has no caption
            if span.get("class") == CAPTION:
                span.drop_tree()  # (its tail stays)

    def _typeset_math(self, root: etree._Element) -> None:
        """The TeX the Markdown step left in `span.math` / `div.math` becomes
        MathML (and an SVG for the PDF); malformed TeX stays, as code."""
        for element in list(root.iter("span", "div")):
            classes = (element.get("class") or "").split()
            if "math" not in classes or not {"inline", "display"} & set(classes):
                continue
            tex = "".join(element.itertext()).strip()
            display = "display" in classes
            for child in list(element):
                element.remove(child)
            try:
                made = typeset(tex, display)
            except TexError as exc:
                line, column = self._locate_math(tex)
                self.diagnostics.append(error(
                    "R011", f"the formula '{_shorten(tex)}' cannot be typeset: {exc}",
                    hint="correct the TeX (balanced braces, known commands); it is printed as code meanwhile",
                    path=self.article.source_path, line=line, column=column))
                element.set("class", "math-error")
                element.text = None
                etree.SubElement(element, "code").text = tex
                continue
            element.text = None
            element.append(made.mathml)
            self.formulas.append(made.formula)

    def _locate_math(self, tex: str) -> tuple[int, int]:
        """Where the formula starts: its opening `$` (the nth formula with the same first line)."""
        first = next((line.strip() for line in tex.split("\n") if line.strip()), "")
        found = positions(self.article.body, first) if first else []
        if not found:
            return self.article.body_line, 1
        nth = self.math_seen[first] = self.math_seen.get(first, 0) + 1
        number, column = found[min(nth, len(found)) - 1]
        line = self.article.body.split("\n")[number - 1]
        opening = line.rfind("$", 0, column)
        while opening > 0 and line[opening - 1] == "$":
            opening -= 1
        return self.article.body_line + number - 1, (opening + 1 if opening >= 0 else column)

    def _check_image(self, image: etree._Element) -> None:
        src = image.get("src") or ""
        # The sanitizer empties unsafe URLs (file:, data:): then find the image by its alt text.
        line, column, src = (self._locate_address(src, _IMAGE_ADDRESS) if src
                             else (*self._locate(image.get("alt") or "<img", _IMAGE_ALT), src))
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
        if parts.scheme.lower() in ("http", "https") or (not parts.scheme and parts.netloc):
            self._remote(image, src if parts.scheme else f"https:{src}", line, column)
            return
        if parts.scheme or parts.netloc or not parts.path:
            self._drop(image, f"image '{src}' is not a file in the book folder", line, column,
                       "remote and absolute images are not fetched; copy the image into the book folder")
            return
        if "\\" in unquote(parts.path):
            self._drop(image, f"image '{src}' has a backslash in its path", line, column,
                       f"write '/' between folders: '{unquote(parts.path).replace(chr(92), '/')}'")
            return
        if parts.path.startswith("/"):
            self._site_image(image, src, unquote(parts.path), line, column)
            return
        relative = posixpath.normpath(posixpath.join(
            self.article.source_path.parent.relative_to(self.root).as_posix(), unquote(parts.path)))
        target = self._through_gate(image, src, line, column, self.root / relative, self.root,
                                    _name_problem(unquote(parts.path)),
                                    (f"image '{src}' is outside the book folder",
                                     "move the image into the book folder and link it with a relative path"))
        if target is None:
            return
        exists = target.is_file()
        if not exists:
            self._drop(image, f"image '{src}' does not exist", line, column, with_suggestion(
                self._nearest_image(unquote(parts.path)),
                "check the file name and its folder, relative to the manuscript"),
                severity=warning if self.sources.missing_is_warning else error)
        else:
            self._accept(image, target, src, line, column)

    def _accept(self, image: etree._Element, target: Path, src: str, line: int, column: int) -> None:
        """An image file the gate let through: checked by content, then used
        (its name in the outputs: `resources.resource_name`)."""
        try:
            inspect_image(target)
        except ImageRejected as exc:
            self._drop(image, f"image '{_shorten(src)}' refused: {exc}", line, column,
                       "convert it to a PNG, JPEG or self-contained SVG within the size limits")
            return
        except (OSError, ValueError) as exc:
            self._drop(image, f"image '{_shorten(src)}' cannot be read: {_path_problem(exc)}", line, column,
                       "check that the file is readable and has a short name of ordinary characters")
            return
        image.set("src", quote(resource_name(target, self.root)))
        self.resources.append(target)
        _keep_size(image)

    def _through_gate(self, image: etree._Element, src: str, line: int, column: int, path: Path, allowed: Path,
                      problem: str, outside: tuple[str, str]) -> Path | None:
        """`path`'s real path if the read gate lets it through (inside `allowed`,
        one link, a name the system takes); else the image is dropped and
        reported (`outside`: the message and hint for a path out of `allowed`)."""
        try:
            if problem:
                raise ValueError(problem)
            return inside(path, (allowed,))
        except (OSError, ValueError) as exc:  # a NUL byte, a name too long: whatever the gate does
            self._drop(image, f"image '{_shorten(src)}' cannot be read: {problem or _path_problem(exc)}",
                       line, column, "give the image a short file name of ordinary characters")
        except HardLinked as exc:  # one of its names may be a file outside the book: not read
            self._drop(image, str(exc), line, column, "copy the image into the book (cp, not ln or cp -l); "
                       "or, for a folder you trust, pass --trust-hard-links", code="C011")
        except ResourceRefused:
            self._drop(image, outside[0], line, column, outside[1])
        return None

    def _site_image(self, image: etree._Element, src: str, path: str, line: int, column: int) -> None:
        """`/img/x.png`, a site-root path: found in the site's static folders
        (Book.static), else in the book folder, through the read gate with
        the site's root (or the book's) as the allowed folder."""
        written = posixpath.normpath("/" + path).lstrip("/")
        problem = _name_problem(written)
        folders = self.sources.static or (self.root,)
        for folder in folders:
            target = self._through_gate(image, src, line, column, folder / written, self.sources.site_root, problem,
                                        (f"image '{src}' is outside the site's folder",
                                         "keep the image inside the site and link it from its static folder"))
            if target is None:
                return
            if target.is_file():
                self._accept(image, target, src, line, column)
                return
        where = ", ".join(f"'{_shorten(folder.name or str(folder))}'" for folder in folders)
        self._drop(image, f"image '{src}' is not in the site's static folder ({where})", line, column,
                   "a path starting with '/' is looked up in the site's static folders; check its name",
                   severity=warning if self.sources.missing_is_warning else error)

    def _remote(self, image: etree._Element, url: str, line: int, column: int) -> None:
        """An image at an http(s) address: fetched if the user asked (fetch.py),
        else (or if it cannot be) left out, its alt text a link to it, and
        counted for the warning of its host (`ImageSources.warnings`)."""
        reason = ""
        if self.sources.fetch:
            try:
                target = resolve_path(fetch_remote(url), (cache_folder(),))  # the gate: the cache folder only
            except FetchRefused as exc:
                reason = str(exc)
            except (ResourceRefused, OSError) as exc:
                reason = f"it could not be kept in the cache ({_path_problem(exc)})"
            else:
                self._accept(image, target, url, line, column)
                return
        host = (urlsplit(url).hostname or "").lower() or url
        self.sources.remote.append(_Remote(host, url, reason, self.article.source_path, line, column))
        if any(ancestor.tag == "a" for ancestor in image.iterancestors()):  # a badge's own link stays
            stand_in = etree.Element("span", {"class": "remote-image"})
        else:
            stand_in = etree.Element("a", {"class": "remote-image", "href": normalize_url(url)})
        stand_in.text = image.get("alt") or host
        stand_in.tail = image.tail
        image.getparent().replace(image, stand_in)

    def _nearest_image(self, written: str) -> str:
        """'did you mean 'images/tides.png'?' for the book's image nearest the
        name written, as the manuscript would link it (relative to its folder)."""
        folder = self.article.source_path.parent.relative_to(self.root).as_posix()
        names = [posixpath.relpath(name, folder) for name in book_images(self.root)]
        return did_you_mean(posixpath.normpath(written), names)

    def _drop(self, image: etree._Element, message: str, line: int, column: int, hint: str,
              code: str = "R002", severity=error) -> None:
        """Report the image and put its alt text in its place, so the build can go on."""
        self.diagnostics.append(severity(code, message, hint=hint, path=self.article.source_path,
                                         line=line, column=column))
        stand_in = etree.Element("span", {"class": "missing-image"})
        stand_in.text = f"[{image.get('alt') or 'image'}]"
        stand_in.tail = image.tail
        image.getparent().replace(image, stand_in)

    def _locate_address(self, url: str, context: re.Pattern[str]) -> tuple[int, int, str]:
        """Line, column and the text as written of a link's or an image's
        address: markdown-it percent-encodes it (`images\\pic.png` becomes
        `images%5Cpic.png`), so the decoded form is looked for too."""
        for written in dict.fromkeys((url, unquote(url))):
            if written and positions(self.article.body, written):
                return (*self._locate(written, context), written)
        return (*self._locate(url, context), url)

    def _locate(self, needle: str, context: re.Pattern[str] | None = None) -> tuple[int, int]:
        """Line and column of `needle` in the manuscript (the rendered tree keeps
        no positions): its nth place the nth time it is asked for, as the tree
        holds things in the order of the text. With `context`, places whose text
        before them does not match it (a link's address when an image's is
        wanted) are passed over, unless no place matches."""
        found = positions(self.article.body, needle) if needle else []
        if not found and needle and needle == self.article.image and self.article.image_place[0]:
            return self.article.image_place  # the lead image: its front matter's line (image: …)
        if context is not None:
            lines = self.article.body.split("\n")
            fitting = [(line, column) for line, column in found if context.search(lines[line - 1][:column - 1])]
            found = fitting or found
        if not found:
            return self.article.body_line, 1
        key = (needle, context.pattern if context else "")
        nth = self.located[key] = self.located.get(key, 0) + 1
        line, column = found[min(nth, len(found)) - 1]
        return self.article.body_line + line - 1, column


# What stands before an image's address: `![alt](`, `src="`, or a reference definition `[ref]:`.
_IMAGE_ADDRESS = re.compile(r"""(?:!\[[^\]]*\]\(\s*<?|\bsrc\s*=\s*["']?|^\s*\[[^\]]+\]:\s*<?)$""")
# Before an image's description: `![`, or raw HTML's `alt="` (not the same words in the prose above).
_IMAGE_ALT = re.compile(r"""(?:!\[|\balt\s*=\s*["']?)$""")
# A page's suffix on a website (`x.html`, `x/index.html`) or a manuscript's, left out to find its slug.
_SITE_PAGE = re.compile(r"(/index)?\.(html?|md|mdx|markdown)$", re.IGNORECASE)
# Before a link's address: `](`, `href="`, or a reference definition `[ref]:`.
_LINK_ADDRESS = re.compile(r"""(?:\]\(\s*<?|\bhref\s*=\s*["']?|^\s*\[[^\]]+\]:\s*<?)$""")


NAME_MAX = 255  # bytes of one file name (Linux, macOS)


def _name_problem(path: str) -> str:
    """Why a relative path written in a manuscript can name no file, or ''."""
    if "\0" in path:
        return "its name holds a NUL character (%00)"
    if any(len(part.encode("utf-8", "surrogatepass")) > NAME_MAX for part in path.split("/")):
        return f"a name in it is longer than {NAME_MAX} bytes"
    return ""


def _path_problem(exc: Exception) -> str:
    """What is wrong with a file name, in words (not the exception's repr)."""
    if isinstance(exc, ValueError) or "\0" in str(exc):
        return "its name holds a NUL character (%00)"
    if getattr(exc, "errno", None) == 36:  # ENAMETOOLONG
        return "its name is too long for the file system"
    return getattr(exc, "strerror", None) or exc.__class__.__name__

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _shorten(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def heading_id(text: str) -> str:
    """GitHub's heading ids ('My section' -> 'my-section'); 'section' when nothing is left."""
    slug = re.sub(r"[^\w\- ]", "", " ".join(text.split()).lower()).replace(" ", "-")
    return slug or "section"


def _relative_levels(root: etree._Element, title_level: int) -> None:
    """Sections count from the title: under a `##` title, `###` is a section (h2)."""
    if title_level <= 1:
        return
    for element in list(root.iter(*HEADINGS)):
        element.tag = f"h{max(2, int(element.tag[1]) - (title_level - 1))}"


def _page_address(site_url: str, path: str) -> str:
    """A site-root link's page on the web: the site's address and the path,
    a manuscript's suffix dropped (`/docs/cli.md#x` is served as `/docs/cli#x`)."""
    page, hash_, fragment = path.partition("#")
    page = re.sub(r"\.(md|mdx|markdown)$", "", page)
    return site_url.rstrip("/") + page + hash_ + fragment


def normalize_url(url: str) -> str:
    """Percent-encode what a URL may not hold (spaces, non-ASCII, a lone '%',
    a second '#': `https://matrix.to/#/#room` is not a URI, EPUBCheck's RSC-005)."""
    url = re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", url)
    head, hash_, fragment = url.partition("#")
    return quote(head, safe="/:?#[]@!$&'()*+,;=%~-._") + hash_ + quote(fragment, safe="/:?[]@!$&'()*+,;=%~-._")


_BLOCKS = ("p", "li", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "td", "th", "figcaption", "blockquote")


def _mark_right_to_left_blocks(root: etree._Element) -> None:
    """A paragraph in Arabic or Hebrew inside a left-to-right article gets
    `dir="rtl"`, as HTML's `dir="auto"` would give it (its first strong
    character decides): WeasyPrint does not implement `dir="auto"`, and
    without it the paragraph would be set from the left, its final stop at
    the wrong end."""
    for element in root.iter(*_BLOCKS):
        if element.get("dir") is None and _first_strong(element) == "rtl":
            element.set("dir", "rtl")


def _first_strong(element: etree._Element) -> str:
    """'rtl' or 'ltr' by the first letter with a strong direction, '' if none (code is skipped)."""
    import unicodedata

    for text in element.xpath(".//text()[not(ancestor::code) and not(ancestor::pre)]"):
        for character in text:
            kind = unicodedata.bidirectional(character)
            if kind in ("R", "AL"):
                return "rtl"
            if kind == "L":
                return "ltr"
    return ""


def _unique_ids(root: etree._Element, repeated_ids: list[str] | None = None) -> set[str]:
    """Each id once: a repeated one (raw HTML, `{#id}`) gets -1, -2 after the
    first, and is added to `repeated_ids` (the author gave it twice)."""
    taken: set[str] = set()
    repeated = []
    for element in root.iter():
        value = element.get("id") if isinstance(element.tag, str) else None
        if value is None:
            continue
        if value in taken or not value.strip():
            repeated.append(element)
        taken.add(value)
    for element in repeated:
        if repeated_ids is not None and element.get("id").strip():
            repeated_ids.append(element.get("id"))
        base = "-".join(element.get("id").split()) or "id"
        candidate, number = base, 1
        while candidate in taken:
            candidate, number = f"{base}-{number}", number + 1
        taken.add(candidate)
        element.set("id", candidate)
    return taken


def _details_with_summary(root: etree._Element) -> None:
    """A <details> opens with its <summary> (EPUB's schema requires it first:
    RSC-005). One written later is moved to the front; without one (mdBook's
    speaker notes) the block is a plain <div class="details">, its text kept."""
    for details in list(root.iter("details")):
        summary = next((child for child in details if child.tag == "summary"), None)
        if summary is None:
            details.tag = "div"
            details.attrib.pop("open", None)
            details.set("class", " ".join(filter(None, [details.get("class"), "details"])))
        elif details.index(summary) != 0 or (details.text or "").strip():
            tail, summary.tail = summary.tail, None
            previous = summary.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + (tail or "")
            else:
                details.text = (details.text or "") + (tail or "")
            details.remove(summary)
            lead, details.text = details.text, None
            details.insert(0, summary)
            summary.tail = lead


ARTICLE_LINK = "article-link"  # the class of a link to another article (print.css, export/crosslinks.py)
ARTICLE = "data-article"  # its target article's slug: a per-article download links there (export/crosslinks.py)


def _mark_article_link(link: etree._Element, href: str, slug: str, elsewhere: bool) -> None:
    """Point `link` at `href`; a link to another article is also marked as
    one (classes `xref article-link`, then `href`, then `data-article`, in
    this order): the PDF prints its target's page after it, as it does after
    a reference (export/pdf/booklet.py), and a per-article download, where
    the target is not in the file, sends it to that article's web address or
    download (export/crosslinks.py), all without reading Markdown again."""
    if not elsewhere:
        link.set("href", href)
        return
    others = {key: value for key, value in link.attrib.items() if key not in ("class", "href", ARTICLE)}
    classes = " ".join(dict.fromkeys([XREF_CLASS, ARTICLE_LINK, *(link.get("class") or "").split()]))
    link.attrib.clear()
    link.set("class", classes)
    link.set("href", href)
    link.set(ARTICLE, slug)
    for key, value in others.items():
        link.set(key, value)


def _unwrap(element: etree._Element) -> None:
    """Replace an element by its content (a dropped link keeps its text)."""
    element.drop_tag()


def _give_headings_ids(root: etree._Element) -> None:
    """An id for every heading without one, unique in the article: a repeated
    text gets -1, -2 (explicit `{#id}`s are kept and never reused)."""
    taken = {element.get("id") for element in root.iter() if element.get("id")}
    for element in root.iter(*HEADINGS):
        if element.get("id"):
            continue
        base = heading_id(_heading_text(element))
        candidate, number = base, 1
        while candidate in taken:
            candidate, number = f"{base}-{number}", number + 1
        taken.add(candidate)
        element.set("id", candidate)


_LENGTH = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(px|%|em|mm|cm|in|pt)?\s*")


def _keep_size(image: etree._Element) -> None:
    """`<img width="300">`, `{width=50%}` or `style="width: 50%"`: the size becomes
    a style both outputs read (WeasyPrint ignores the attributes, and HTML's
    attributes hold pixels only); anything but a plain length is dropped. With
    both a width and a height, the width wins and the height follows it."""
    sizes = {}
    for declaration in (image.get("style") or "").split(";"):
        name, _, value = declaration.partition(":")
        sizes[name.strip().lower()] = value
    for name in ("width", "height"):
        if image.get(name):
            sizes[name] = image.get(name)
        image.attrib.pop(name, None)
    image.attrib.pop("style", None)
    style = []
    for name in ("width", "height"):
        match = _LENGTH.fullmatch(sizes.get(name) or "")
        if match:
            style.append(f"{name}: {match.group(1)}{match.group(2) or 'px'}")
    if len(style) == 2:
        style[1] = "height: auto"
    if style:
        image.set("style", "; ".join(style))


WIDE_TABLE = 6  # columns from which a table is set in equal columns and smaller type (print.css)


def _mark_wide_tables(root: etree._Element) -> None:
    """`.wide-table` on a table of many columns: the PDF's measure holds it
    only with equal columns (the natural widths would break short words)."""
    for table in root.iter("table"):
        columns = max((sum(int(c.get("colspan") or 1) if (c.get("colspan") or "1").isdigit() else 1
                           for c in row if c.tag in ("td", "th")) for row in table.iter("tr")), default=0)
        if columns >= WIDE_TABLE:
            table.set("class", " ".join(filter(None, [table.get("class"), "wide-table"])))


MAX_TABLE_COLUMNS = 64  # more, or more cells than MAX_TABLE_CELLS: the rows are set as text (_tables_as_text)
MAX_TABLE_CELLS = 10000

# Before a table's first cell: a Markdown row's start, or raw HTML's <th>/<td>.
_FIRST_CELL = re.compile(r"(?:^\s*\|?\s*|<t[hd]\b[^>]*>\s*)$")


def _rows_as_text(table: etree._Element) -> None:
    """Replace `table` by a div of paragraphs, one a row: 'Header: cell; Header: cell; …'
    (the header row's texts before each cell, if it has one). The cells'
    own markup (emphasis, links, notes) is kept; the caption is a paragraph."""
    rows = list(table.iter("tr"))
    head = [row for row in rows if row.getparent() is not None and row.getparent().tag == "thead"]
    names = [" ".join("".join(cell.itertext()).split()) for cell in head[0] if cell.tag in ("td", "th")] if head else []
    block = etree.Element("div", {"class": "table-as-text"})
    if table.get("id"):
        block.set("id", table.get("id"))
    block.tail = table.tail
    caption = table.find("caption")
    if caption is not None:
        paragraph = etree.SubElement(block, "p", {"class": "caption"})
        paragraph.text = caption.text
        paragraph.extend(caption)
    for row in rows:
        if head and row is head[0]:
            continue
        paragraph = etree.SubElement(block, "p")
        for index, cell in enumerate(cell for cell in row if cell.tag in ("td", "th")):
            label = (f"{names[index]}: " if index < len(names) and names[index] else "")
            _append_text(paragraph, ("; " if index else "") + label + (cell.text or ""))
            for child in list(cell):
                paragraph.append(child)  # with its tail
    table.getparent().replace(table, block)


def _append_text(element: etree._Element, text: str) -> None:
    """Add `text` after everything `element` holds."""
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


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
        if child.tag != "sup" and isinstance(child.tag, str) and child.get("class") != "section-number":
            parts.append(_heading_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())
