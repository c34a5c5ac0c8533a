"""The book model: plain frozen values passed from stage to stage.

load -> `Book` (config + `Article`s with their source locations)
render -> `RenderedBook` (each article as a well-formed XHTML fragment)
export -> files, from the `RenderedBook` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .text.sourcetext import ConfigSource


# [pdf] page-size in book.toml -> the CSS `size` of the booklet's pages.
PAGE_SIZES = {"A5": "A5", "A4": "A4", "Letter": "letter", "6in 9in": "6in 9in"}
# The same sizes in inches (width, height): the print profile's nearest trim.
VERSION = "0.1.0"  # the tool's version (pyproject.toml reads it here: [tool.hatch.version])
POINTS = 72  # PDF units an inch
PAGE_INCHES = {"A5": (5.83, 8.27), "A4": (8.27, 11.69), "Letter": (8.5, 11.0), "6in 9in": (6.0, 9.0)}


@dataclass(frozen=True)
class PrintProfile:
    """A print-on-demand printer's rules, as its published guides give them
    (docs/guide, "PDF and print": "Printing a paperback", names each source)."""

    name: str
    trims: tuple[tuple[float, float], ...]  # standard trims, inches (width, height)
    papers: dict[str, float]  # paper -> thickness of one page (a leaf side), inches
    gutters: tuple[tuple[int, float], ...]  # (up to this many pages, inner margin at least), inches
    min_pages: int = 0  # padded with blank pages up to this
    spine_text_pages: int = 0  # title on the spine only for more pages than this
    no_links: bool = False  # no bookmarks, no annotations, no crop marks (KDP)
    bleed: float = 0.125  # inches


# KDP's paperback guide: trims, paper thickness, gutters by page count, 24 to 828 pages.
_KDP_TRIMS = ((5.0, 8.0), (5.06, 7.81), (5.25, 8.0), (5.5, 8.5), (6.0, 9.0), (6.14, 9.21), (6.69, 9.61),
              (7.0, 10.0), (7.44, 9.69), (7.5, 9.25), (8.0, 10.0), (8.25, 6.0), (8.25, 8.25), (8.5, 8.5),
              (8.5, 11.0), (8.27, 11.69))
_KDP_GUTTERS = ((150, 0.375), (300, 0.5), (500, 0.625), (700, 0.75), (10**6, 0.875))
_KDP_PAPERS = {"white": 0.002252, "cream": 0.0025}
PRINT_PROFILES = {
    "kdp": PrintProfile("kdp", _KDP_TRIMS, _KDP_PAPERS, _KDP_GUTTERS, min_pages=24, spine_text_pages=79,
                        no_links=True),
    # IngramSpark and Lulu: KDP's thickness and gutter figures (theirs are not encoded yet); groundwood
    # is taken as thick as cream. Their own rules (minimum pages, spine text) are not enforced.
    "ingramspark": PrintProfile("ingramspark", _KDP_TRIMS, {**_KDP_PAPERS, "groundwood": 0.0025}, _KDP_GUTTERS,
                                spine_text_pages=79),
    "lulu": PrintProfile("lulu", _KDP_TRIMS, _KDP_PAPERS, _KDP_GUTTERS, spine_text_pages=79),
    "generic": PrintProfile("generic", _KDP_TRIMS, _KDP_PAPERS, _KDP_GUTTERS, spine_text_pages=79),
}
PAPERS = ("white", "cream", "groundwood")
_UNITS = {"in": 1.0, "mm": 1 / 25.4, "cm": 1 / 2.54, "pt": 1 / 72}


def inches(length: str) -> float | None:
    """A CSS-like length ("0.125in", "3mm", "9pt") in inches; None if it is not one."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(in|mm|cm|pt)\s*", length)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


def trim_inches(trim: str) -> tuple[float, float] | None:
    """"5.5in 8.5in" -> (5.5, 8.5); None if it is not two lengths."""
    parts = trim.split()
    sizes = [inches(part) for part in parts]
    return (sizes[0], sizes[1]) if len(sizes) == 2 and None not in sizes else None


# The website generators whose content folders the loader reads (Book.flavour; [source] flavor).
FLAVOURS = ("hugo", "jekyll", "docusaurus", "astro", "mkdocs", "mdbook", "gfm", "plain")


@dataclass(frozen=True)
class BookConfig:
    """The `[book]`, `[pdf]`, `[epub]`, `[images]` and `[site]` tables of book.toml, validated."""

    title: str
    language: str = "en"
    subtitle: str = ""
    authors: tuple[str, ...] = ()
    publisher: str = ""
    identifier: str = ""
    isbn: str = ""  # [book] isbn: an ISBN-13, checked and hyphenated by load/config.py ("978-0-306-40615-7")
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
    # [pdf] variant set in book.toml or by --pdf-variant: a download is PDF/UA-1 unless it is (export/articles.py)
    pdf_variant_given: bool = False
    pdf_impose: bool = False
    pdf_engine: str = "weasyprint"  # [pdf] engine: "weasyprint" or "typst" (export/typst); --engine overrides
    epub_embed_fonts: bool = True
    accessibility_certified_by: str = ""  # [accessibility] certified-by: a11y:certifiedBy of the EPUB's claim
    epub_max_image_pixels: int = 4_000_000  # [epub] max-image-pixels: larger images downsampled (0: off)
    images_max_dpi: int = 300  # [images] max-dpi: the PDF's images at most this dense where printed (0: off)
    images_remote: str = "omit"  # [images] remote: "fetch" downloads remote images (pipeline/fetch.py)
    site_base_url: str = ""  # [site] base-url: where OUT_DIR is published (manifest URLs)
    site_article_url: str = ""  # [site] article-url: "https://…/{slug}/", an article's web address (load/addresses.py)
    labels: tuple[tuple[str, str], ...] = ()  # book.toml's [labels]: words that replace the language's
    # The book's styles/labels.toml, every language's table: an article in another language takes its own (styles.words_for)
    label_tables: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    # [style]: the common design choices, as CSS custom properties and template values (styles.design_css)
    accent: str = ""  # a CSS colour; print.css's var(--accent)
    text_font: str = ""  # a font family: the book's styles/fonts or a packaged one
    heading_font: str = ""
    logo: str = ""  # an image inside the book: cover and title page
    cover_background: str = ""  # a CSS colour; default the accent
    # [notice]: what the notice page prints besides [book] notice and rights
    notice_show_tool: bool = False  # "Made with pipeline x.y"; never in a download unless given
    notice_show_identifier: bool = True  # in the book; never in a download unless given
    notice_given: tuple[str, ...] = ()  # the [notice] keys book.toml sets (a download shows only those asked)
    notice_lines: tuple[str, ...] = ()  # free lines: copyright, licence...
    # [print]: print-on-demand files (export/pdf/printing.py); `pipeline build --print PROFILE` sets the profile
    print_profile: str = "generic"
    print_trim: str = ""  # "5.5in 8.5in"; "": the profile's standard trim nearest [pdf] page-size
    print_paper: str = "white"
    print_bleed: str = "0.125in"
    print_marks: bool = False  # crop marks (never for KDP)
    per_article_layout: str = "download"  # [per-article] layout: "download", "compact" or "booklet" (the book's)
    per_article_page_size: str = ""  # [per-article] page-size: the downloads' pages; "": [pdf] page-size
    # [source]: a website's content folder (load/sites.py): its flavour, if not the one detected, and its section
    source_flavor: str = ""
    source_section: str = ""
    # Citations (load/bibliography.py reads the sources, render/citations.py formats them):
    bibliography: tuple[str, ...] = ()  # [book] bibliography: files inside the book (.bib, .json, .yaml, .ris, .nbib)
    csl: str = "apa"  # [book] csl: a bundled style's name, or a .csl file in the book's styles/
    references_scope: str = "article"  # [book] references: a list closing each article, or one at the book's end


@dataclass(frozen=True)
class Reference:
    """One bibliography entry, as CSL-JSON (the form citeproc-py reads, and
    what BibTeX, RIS, NBIB and CSL-YAML are turned into at load), keyed by
    its citation key, and where it was written, for located messages."""

    key: str
    csl: Mapping[str, Any]  # a CSL-JSON item; csl["id"] == key
    path: Path
    line: int = 0


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
    # The summary is the body's own opening, as a site's `<!--more-->` marks it: it serves the
    # metadata and the downloads' manifest, but the opener does not print it before the same words.
    summary_in_body: bool = False
    slug_given: bool = False  # the author named the slug (front matter `slug`, a heading's `{#id}`), else it is the file name's
    language: str = ""  # the front matter's `language`, if not the book's
    # The title as written when it is inline Markdown (a heading's text), so
    # contents and running heads can set its code and emphasis; `title` is
    # its plain text (bookmarks, metadata).
    title_markdown: str = ""
    # Level of the heading the title came from: the article's sections are
    # counted from it (an mdBook chapter titled by `##` has `###` sections).
    title_level: int = 1
    date: str = ""  # from a pandoc title block, or the front matter's date (any site's key for it)
    # What a website's front matter says besides (pipeline/load/frontmatter.py maps each flavour's keys):
    tags: tuple[str, ...] = ()  # tags, categories, keywords: the EPUB's subjects
    image: str = ""  # the lead image as written (image, cover, heroImage, featured_image): on the opener
    image_place: tuple[int, int] = (0, 0)  # its line and column in the front matter (0: unknown), for messages
    url: str = ""  # the article's web address (url, permalink; or the site's base URL and its slug)
    order: float | None = None  # weight, order, sidebar_position, nav_order: its place in the book
    # Its own bibliography (front matter `bibliography:` files and inline `references:`), over the book's,
    # and `nocite:` keys ("@*": every entry) listed though not cited.
    references: tuple[Reference, ...] = ()
    nocite: tuple[str, ...] = ()


@dataclass(frozen=True)
class Book:
    root: Path
    slug: str
    config: BookConfig
    articles: tuple[Article, ...]
    config_path: Path | None = None
    config_source: ConfigSource | None = None  # book.toml's text, where a message finds a key's line
    cover: Path | None = None  # resolved cover image, if book.toml names one
    styles: Path | None = None  # the book's own styles/ folder (resolved, inside the book), layered over ours
    logo: Path | None = None  # resolved [style] logo
    compact: bool = False  # a per-article booklet in its compact form (export/articles.py)
    download: bool = False  # a per-article download: the article flows from a title block, no blank page
    # A website's content folder (pipeline/load/sites.py): which generator wrote it, the site's root
    # (where its config lies; reads stay inside it), and the folders a site-root path (/img/x.png) resolves in.
    flavour: str = "plain"  # hugo, jekyll, docusaurus, astro, mkdocs, mdbook, gfm, plain
    site_root: Path | None = None
    static: tuple[Path, ...] = ()
    site_url: str = ""  # the site's web address (its config's base URL): where a site-root link leads
    references: tuple[Reference, ...] = ()  # [book] bibliography's entries, every article's to cite
    csl_style: Path | None = None  # [book] csl naming a .csl file of the book (resolved, inside it); else BookConfig.csl names a bundled style


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
    # Its reference list (render/citations.py), which closes its body; with [book] references = "book" the
    # book's list holds the entries and this one is only its download's.
    references_html: str = ""
    back_matter: bool = False  # the book's reference list, an item after the last article: no number, no download


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
