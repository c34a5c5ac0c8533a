"""The book model: plain frozen values passed from stage to stage.

load -> `Book` (config + `Article`s with their source locations)
render -> `RenderedBook` (each article as a well-formed XHTML fragment)
export -> files, from the `RenderedBook` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


# [pdf] page-size in book.toml -> the CSS `size` of the booklet's pages.
PAGE_SIZES = {"A5": "A5", "A4": "A4", "Letter": "letter", "6in 9in": "6in 9in"}


@dataclass(frozen=True)
class BookConfig:
    """The `[book]`, `[pdf]`, `[epub]`, `[images]` and `[site]` tables of book.toml, validated."""

    title: str
    language: str = "en"
    subtitle: str = ""
    authors: tuple[str, ...] = ()
    publisher: str = ""
    identifier: str = ""
    date: str = ""
    description: str = ""
    keywords: tuple[str, ...] = ()
    notice: str = ""
    rights: str = ""
    articles: tuple[str, ...] = ()
    toc_depth: int = 2
    numbering: str = "article"  # figures, tables, equations: "article" (1, 2… in each) or "book" (through it)
    cover: str = ""
    pdf_page_size: str = "A5"
    pdf_variant: str = "none"
    pdf_impose: bool = False
    epub_embed_fonts: bool = True
    epub_max_image_pixels: int = 4_000_000  # [epub] max-image-pixels: larger images downsampled (0: off)
    images_max_dpi: int = 300  # [images] max-dpi: the PDF's images at most this dense where printed (0: off)
    site_base_url: str = ""  # [site] base-url: where OUT_DIR is published (manifest URLs)
    labels: tuple[tuple[str, str], ...] = ()  # book.toml's [labels]: words that replace the language's
    # [style]: the common design choices, as CSS custom properties and template values (styles.design_css)
    accent: str = ""  # a CSS colour; print.css's var(--accent)
    text_font: str = ""  # a font family: the book's styles/fonts or a packaged one
    heading_font: str = ""
    logo: str = ""  # an image inside the book: cover and title page
    cover_background: str = ""  # a CSS colour; default the accent
    # [notice]: what the notice page prints besides [book] notice and rights
    notice_show_tool: bool = True  # "Made with pipeline x.y"
    notice_show_identifier: bool = True
    notice_lines: tuple[str, ...] = ()  # free lines: copyright, licence...
    per_article_layout: str = "compact"  # [per-article] layout: "compact" or "booklet" (the book's full form)


@dataclass(frozen=True)
class Article:
    """One manuscript, as loaded: front matter split off, body untouched."""

    slug: str
    title: str
    source_path: Path
    body: str
    # 1-based line in the source file where `body` starts, so that renderer
    # diagnostics can point at the real line.
    body_line: int
    summary: str = ""
    blurb: str = ""
    subtitle: str = ""
    authors: tuple[str, ...] = ()
    slug_given: bool = False  # the author named the slug (front matter `slug`, a heading's `{#id}`), else it is the file name's
    language: str = ""  # the front matter's `language`, if not the book's
    # The title as written when it is inline Markdown (a heading's text), so
    # contents and running heads can set its code and emphasis; `title` is
    # its plain text (bookmarks, metadata).
    title_markdown: str = ""
    # Level of the heading the title came from: the article's sections are
    # counted from it (an mdBook chapter titled by `##` has `###` sections).
    title_level: int = 1
    date: str = ""  # from a pandoc title block


@dataclass(frozen=True)
class Book:
    root: Path
    slug: str
    config: BookConfig
    articles: tuple[Article, ...]
    config_path: Path | None = None
    cover: Path | None = None  # resolved cover image, if book.toml names one
    styles: Path | None = None  # the book's own styles/ folder (resolved, inside the book), layered over ours
    logo: Path | None = None  # resolved [style] logo
    compact: bool = False  # a per-article booklet in its compact form (export/articles.py)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    id: str


@dataclass(frozen=True)
class Formula:
    """A formula typeset for print: the renderer makes it (render/math.py) beside
    the MathML it puts in the XHTML; the PDF draws this SVG in place of the
    <math> whose alttext and display it has. Sizes in em of the text."""

    tex: str
    display: bool
    svg: str  # self-contained: paths only, no font, no external reference
    width: float
    height: float
    depth: float  # below the baseline


@dataclass(frozen=True)
class RenderedArticle:
    """An article as XHTML fragments; ids are prefixed with the article slug."""

    article: Article
    number: int
    anchor: str  # id of the article's own element in the joined booklet
    body_html: str
    summary_html: str
    blurb_html: str
    headings: tuple[Heading, ...]  # those the contents show ([book] toc-depth), empty ones never
    resources: tuple[Path, ...] = field(default=())  # files the body uses (images)
    title_html: str = ""  # the title as inline XHTML (code, emphasis)
    targets: tuple[str, ...] = ()  # ids of its numbered elements (figures, tables…), which references name
    formulas: tuple[Formula, ...] = field(default=())  # the body's math, drawn for the PDF


@dataclass(frozen=True)
class RenderedBook:
    book: Book
    articles: tuple[RenderedArticle, ...]


@dataclass(frozen=True)
class PageBreak:
    """Where a printed page of the PDF begins, in terms any export can find:
    see `pipeline.export.pagebreaks`."""

    label: str  # the printed page number ("7")
    article: int  # index of the article in the book
    block: int  # ordinal of the block element within the article
    offset: int  # letters and digits of that block before the break
