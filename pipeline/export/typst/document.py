"""The Typst document of a book: main.typ (the book's data and its
articles' markup, calling the template), the files it reads, the fonts.

The template (`styles/typst/booklet.typ`, or the book's own) does the
design; this module only hands it values, each written as a Typst literal
(`markup.string`), and the articles as markup (`markup.Converter`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ...fonts import book_faces, book_fonts, font_choice
from lxml import etree

from ...model import PageBreak, RenderedArticle, RenderedBook
from ...styles import book_labels, cover_ink, direction, render_template, styles_dir, words_for
from .compiler import FACTS_LABEL
from .markup import BREAK_LABEL, Converter, Images, label, language_arguments, linked_ids, string, text

# [pdf] page-size -> the page's arguments.
PAPERS = {"A5": '(paper: "a5")', "A4": '(paper: "a4")', "Letter": '(paper: "us-letter")',
          "6in 9in": "(width: 6in, height: 9in)"}
MARGINS = {"A5": "(inside: 19mm, outside: 15mm, top: 18mm, bottom: 20mm)",
           "A4": "(inside: 28mm, outside: 24mm, top: 25mm, bottom: 28mm)",
           "Letter": "(inside: 28mm, outside: 24mm, top: 25mm, bottom: 28mm)",
           "6in 9in": "(inside: 20mm, outside: 16mm, top: 18mm, bottom: 20mm)"}
SIZES = {"A5": "9.5pt", "A4": "10.5pt", "Letter": "10.5pt", "6in 9in": "10pt"}
DEFAULT_ACCENT = "#7a2e1f"  # print.css's --accent
# The packaged families, as Typst knows them (by the name in the font file).
TYPST_FAMILIES = {"Book Serif": "Source Serif Pro", "Book Sans": "Source Sans Pro", "Book Mono": "DejaVu Sans Mono"}


@dataclass(frozen=True)
class Document:
    source: str  # main.typ
    files: dict[str, bytes | Path]  # what main.typ reads, by name under the root
    fonts: tuple[Path, ...]  # the font files the compile may use, and only those


def document(rendered: RenderedBook, template: str, breaks: bool = True) -> Document:
    """main.typ and what it reads, for `book`; `template`: booklet.typ's text.
    `breaks`: with the markers that find where pages break (PAGINATION),
    which only an EPUB's page-list reads; a PDF alone is written without
    them (a quarter less markup, and no EPUB opener rendered to count its blocks)."""
    config = rendered.book.config
    words = book_labels(config)
    images = Images()
    fonts, stacks = font_files(rendered, words)
    parts = ['#import "booklet.typ": *', f"#let book = {_book_data(rendered, words, stacks, images)}",
             "#show: booklet.with(book)", "#let pageref = pageref.with(book)",
             "#let callout = callout.with(book)", '#set page(numbering: "i")', "#front-matter(book)",
             '#pagebreak(to: "odd", weak: true)', '#set page(numbering: "1")', "#counter(page).update(1)"]
    known = linked_ids([item.body_html for item in rendered.articles]) | {item.anchor for item in rendered.articles} \
        | {heading.id for item in rendered.articles for heading in item.headings}
    emitted: set[str] = set()
    numbered = len(rendered.articles) > 1
    shapes: dict[tuple, int] = {}  # the opener's block count by its parts (opener_blocks)
    for index in range(len(rendered.articles)):
        parts.append(_article(rendered, index, words, numbered, known, emitted, images, shapes, breaks))
    parts.append(_facts(rendered, emitted, breaks))
    files: dict[str, bytes | Path] = {"booklet.typ": template.encode("utf-8"), **images.files}
    return Document("\n\n".join(parts) + "\n", files, fonts)


def _article(rendered: RenderedBook, index: int, words: dict[str, str], numbered: bool,
             known: set[str], emitted: set[str], images: Images, shapes: dict[tuple, int], breaks: bool) -> str:
    """One article's markup, with page-break markers if `breaks` (`shapes`: opener_blocks' counts)."""
    item = rendered.articles[index]
    article = item.article
    marked = {"article": index, "first_block": opener_blocks(rendered, item, words, shapes)} if breaks else {}
    converter = Converter(known, emitted, images, item.resources, article.source_path.parent, item.formulas, **marked)
    emitted.add(label(item.anchor))
    title_fragment = _fragment(item.title_html) if item.title_html else None
    title = converter.inline_content(title_fragment) if title_fragment is not None else text(article.title)
    heading = f"[{converter.opener_marker()}#heading(level: 1, outlined: true, bookmarked: true)[{title}] <{label(item.anchor)}>]"
    own = words_for(article, rendered.book.config)  # an article in another language: its language's words
    number = string(own["article"].replace("{n}", str(item.number))) if numbered and not item.back_matter \
        else "none"
    head = " ".join("".join(title_fragment.itertext()).split()) if title_fragment is not None else article.title
    info = (f"(number: {number}, head: {string(head)}, subtitle: {string(article.subtitle)}, "
            f"authors: {string(', '.join(article.authors))}, date: {string(article.date)}, "
            f"in-brief: {string(own['in_brief'])}, in-this-article: {string(own['in_this_article'])})")
    brief = f"[{converter.inline_content(_fragment(item.summary_html))}]" if item.summary_html else "none"
    pull = f"[{converter.inline_content(_fragment(item.blurb_html))}]" if item.blurb_html else "none"
    body = converter.body(item.body_html)  # before the sections: it sets their labels
    sections = ", ".join(f"([{text(h.text)}], <{label(h.id)}>)" for h in item.headings
                         if h.level == 2 and label(h.id) in emitted)
    sections = f"({sections},)" if sections else "()"
    opener = f"#opener(book, {info}, {heading}, {brief}, {pull}, {sections})"
    language = language_arguments(article.language, with_direction=True) if article.language else ""
    if language and article.language.lower() != rendered.book.config.language.lower():
        return f"#[\n#set text({language})\n{opener}\n\n{body}\n\n#article-end()\n]"
    return f"{opener}\n\n{body}\n\n#article-end()"


def opener_blocks(rendered: RenderedBook, item: RenderedArticle, words: dict[str, str],
                  known: dict[tuple, int] | None = None) -> int:
    """How many block elements the EPUB's opener of `item` holds (its
    number, title, "In brief"…): the article's body blocks are numbered
    after them, as pipeline.export.pagebreaks numbers the EPUB's. Our
    opener's count depends only on which parts it has: `known` keeps the
    count of each such shape (a book's own templates are rendered each time)."""
    from ..pagebreaks import block_elements

    own = rendered.book.styles is not None and (rendered.book.styles / "templates").is_dir()
    shape = None if own or known is None else (
        item.back_matter, bool(item.article.subtitle), bool(item.article.authors), bool(item.article.date),
        _blocks_in(item.summary_html), _blocks_in(item.blurb_html), sum(h.level == 2 for h in item.headings))
    if shape is not None and shape in known:
        return known[shape]
    config = rendered.book.config
    xhtml = render_template("epub/article.xhtml", book=rendered.book, item=item, body="", config=config, labels=words,
                            articles=rendered.articles, css_href="", direction=direction(config.language),
                            page_language=item.article.language or config.language)
    root = etree.fromstring(xhtml.encode("utf-8"))
    container = next(element for element in root.iter() if element.get("id") == item.anchor)
    count = len(block_elements(container, "footnotes"))
    if shape is not None:
        known[shape] = count
    return count


def _blocks_in(xhtml: str) -> tuple[bool, int]:
    return bool(xhtml), len(_BLOCK_TAG.findall(xhtml or ""))


_BLOCK_TAG = re.compile(r"<(?:p|h[1-6]|li|dt|dd|td|th|pre|figcaption|caption|blockquote)[\s>/]")


def _facts(rendered: RenderedBook, emitted: set[str], breaks: bool = True) -> str:
    """The metadata the compile's process queries, in one (each query is a
    pass over the laid-out document): `pages`, the printed page of each
    article and section (PAGE_NUMBERS, as the WeasyPrint exporter gives
    them); `breaks`, each page-break marker's value and page and the page
    where the body's numbering begins (see `breaks`), none without articles
    or markers."""
    anchors = [item.anchor for item in rendered.articles] + [heading.id for item in rendered.articles
                                                           for heading in item.headings]
    pairs = "".join(f"({string(a)}, <{label(a)}>), " for a in dict.fromkeys(anchors) if label(a) in emitted)
    pages = f"({pairs}).map(((id, target)) => (id, str(counter(page).at(target).first()))).to-dict()"
    markers = "none"
    if rendered.articles and breaks:
        first = label(rendered.articles[0].anchor)
        markers = (f"(start: locate(<{first}>).page(), "
                   f"markers: query(<{BREAK_LABEL}>).map(m => (m.value, m.location().page())))")
    return f"#context [#metadata((pages: {pages}, breaks: {markers})) <{FACTS_LABEL}>]"


def breaks(found: dict) -> tuple[PageBreak, ...]:
    """The PDF's page breaks (PAGINATION: the EPUB's page-list) from the
    queried markers: each body page begins at its first marker; a page with
    none (a blank verso) takes the position of the page after it, as the
    WeasyPrint exporter does."""
    start = int(found["start"])
    first: dict[int, tuple[int, int, int]] = {}
    for value, page in found["markers"]:
        first.setdefault(int(page), tuple(int(part) for part in str(value).split(".")))
    result, waiting = [], []
    for page in range(start, max(first, default=start - 1) + 1):
        waiting.append(str(page - start + 1))
        if page in first:
            result += [PageBreak(name, *first[page]) for name in waiting]
            waiting = []
    return tuple(result)


def _fragment(xhtml: str):
    from ...xhtml import parse_fragment

    return parse_fragment(str(xhtml))


def _book_data(rendered: RenderedBook, words: dict[str, str], stacks: dict[str, list[str]], images: Images) -> str:
    config = rendered.book.config
    root = rendered.book.root
    language = _language(config.language)
    accent = config.accent or DEFAULT_ACCENT
    background = config.cover_background or accent
    cover = images.add(rendered.book.cover, rendered.book.cover.suffix.lower(), rendered.book.cover) \
        if rendered.book.cover is not None and rendered.book.cover.suffix.lower() in (".png", ".jpg", ".jpeg") else None
    logo = images.add(rendered.book.logo, rendered.book.logo.suffix.lower(), rendered.book.logo) \
        if rendered.book.logo is not None and rendered.book.logo.suffix.lower() in (".png", ".jpg", ".jpeg", ".svg") else None
    imprint = [(words["rights"], config.rights), (words["publisher"], config.publisher),
               (words["date"], config.date), ("ISBN", config.isbn)]
    if config.notice_show_identifier and config.identifier:
        imprint.append((words["identifier"], config.identifier))
    fields = {
        "title": string(config.title), "subtitle": string(config.subtitle),
        "authors": _array(config.authors), "keywords": _array(config.keywords),
        "description": string(config.description), "publisher": string(config.publisher),
        "notice": string(config.notice), "notice-lines": _array(config.notice_lines),
        "imprint": "(" + "".join(f"({string(a)}, {string(b)}), " for a, b in imprint if b) + ")",
        "lang": string(language[0]), "region": string(language[1]) if language[1] else "none",
        "dir": string(direction(config.language)),
        "paper": PAPERS.get(config.pdf_page_size, PAPERS["A5"]),
        "margins": MARGINS.get(config.pdf_page_size, MARGINS["A5"]),
        "size": SIZES.get(config.pdf_page_size, SIZES["A5"]),
        "accent": string(accent), "cover-background": string(background), "cover-ink": string(cover_ink(background)),
        "fonts": "(" + "".join(f"{role}: {_array(names)}, " for role, names in stacks.items()) + ")",
        "words": "(" + "".join(f"{key}: {string(value)}, " for key, value in sorted(words.items())) + ")",
        "toc-depth": str(max(1, min(config.toc_depth, 6))),
        "cover": string(cover) if cover else "none", "logo": string(logo) if logo else "none",
        "download": "true" if rendered.book.download else "false",
    }
    del root
    return "(" + ", ".join(f"{key}: {value}" for key, value in fields.items()) + ")"


def _array(values) -> str:
    return "(" + "".join(f"{string(str(v))}, " for v in values) + ")"


def _language(tag: str) -> tuple[str, str]:
    match = re.match(r"^([A-Za-z]{2,3})(?:-(?:[A-Za-z]{4}-)?([A-Za-z]{2})\b)?", tag or "")
    return (match.group(1).lower(), (match.group(2) or "").upper()) if match else ("en", "")


# --- fonts -----------------------------------------------------------------------------------


def font_files(rendered: RenderedBook, words: dict[str, str]) -> tuple[tuple[Path, ...], dict[str, list[str]]]:
    """The font files the compile may read (ours, the Noto faces of the
    scripts the book uses, the book's own), and the family stacks of each
    role: the chosen family first, then each script's."""
    plan = book_fonts(rendered.book, words)
    choice = font_choice(rendered.book)
    packaged = sorted(p for p in (styles_dir() / "fonts").glob("*.ttf"))
    own = [face.path for face in book_faces(rendered.book.root)] if rendered.book.styles is not None else []
    noto: list[Path] = []
    stacks: dict[str, list[str]] = {"serif": [], "sans": [], "mono": []}
    for group in plan.groups:
        for role in ("serif", "sans"):
            faces = plan.faces(group, role)
            paths = [face.path for face in faces if face.path is not None]
            noto += paths
            if paths:
                stacks[role].append(_family(paths[0], plan.index(group)))
    text_font = TYPST_FAMILIES.get(choice.text, choice.text) or "Source Serif Pro"
    heading_font = TYPST_FAMILIES.get(choice.heading, choice.heading) or "Source Sans Pro"
    scripts_serif, scripts_sans = stacks["serif"], stacks["sans"]
    stacks = {"serif": _unique([text_font, "Source Serif Pro", *scripts_serif]),
              "sans": _unique([heading_font, "Source Sans Pro", *scripts_sans]),
              "mono": _unique(["DejaVu Sans Mono", *scripts_sans])}
    return tuple(dict.fromkeys([*packaged, *noto, *own])), stacks


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(name for name in names if name))


@lru_cache(maxsize=256)
def _family(path: Path, index: int = 0) -> str:
    """A font file's family name, as Typst matches it (the typographic family, else the family)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True, fontNumber=index) as font:
        names = font["name"]
        return str(names.getDebugName(16) or names.getDebugName(1) or "").strip()

