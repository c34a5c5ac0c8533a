"""EPUB 3 exporter: one XHTML document per article, packaged with ebooklib.

Our templates (styles/templates/epub/) make every content document, the nav
included; ebooklib writes the package document, the NCX and the zip. Two
things ebooklib does not do for us: exact control of the XHTML (its EpubHtml
re-templates content, so `_Document` serves ours verbatim) and reproducible
zips (entries get the build timestamp, `mimetype` first and stored).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from ebooklib import epub
from lxml import etree

from ..diagnostics import error
from ..fonts import (CJK_NAMES, EpubFont, FontChoice, as_runs, book_face_rules, book_fonts, epub_css,
                     epub_fonts, font_characters, font_choice)
from ..cache import Store
from ..csscheck import loads, shown
from ..resources import image_bytes, inspect_image, resource_name
from ..styles import direction, is_rtl
from ..model import BookConfig, PageBreak, RenderedArticle, RenderedBook
from .pagebreaks import block_elements, insert_markers
from ..styles import book_file, book_labels, render_template, styles_dir
from ..xhtml import footnote_backlinks, footnote_blocks, footnote_calls, has_footnotes, serialize_content
from . import PAGINATION, ExportContext, Exported
from .cover import cover_png
from .epubfaces import SAFE, FaceRule, FaceUse, Sheet, face_use, file_of, normalised, parse_sheet, prune
from .images import epub_images
from ..render.citations import REFERENCES_MARK, mark_references

EPUB_NS = "http://www.idpf.org/2007/ops"
XHTML_NS = "http://www.w3.org/1999/xhtml"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
TEXT_DIR = "text"
# Front-matter documents have an underscore in their names, which article
# slugs never have: no article can collide with them. Manifest ids of
# articles start with "a-", as XML ids must not start with a digit.


@dataclass(frozen=True)
class TocEntry:
    title: str
    href: str
    children: tuple["TocEntry", ...] = ()
    title_html: str = ""  # inline XHTML (code, emphasis) for the nav; the NCX takes `title`


class EpubExporter:
    name = "epub"
    suffix = ".epub"
    provides = ()
    uses = (PAGINATION,)  # the PDF's printed pages, for the page-list

    def export(self, rendered: RenderedBook, target: Path, context: ExportContext) -> Exported:
        config = rendered.book.config
        words = book_labels(config)
        pagination = context.facts.get(PAGINATION, ())
        package = epub.EpubBook()
        page = {"config": config, "labels": words, "css_href": "../style/book.css", "articles": rendered.articles,
                "direction": direction(config.language), "book": rendered.book}
        plan = book_fonts(rendered.book, words)
        script_fonts = epub_fonts(plan)
        # Articles in another CJK language than the book's get its faces from a
        # stylesheet of their own, after book.css (later @font-face rules win).
        cjk_sheets = {index: epub.EpubItem(uid=f"css-cjk-{CJK_NAMES[index]}",
                                           file_name=f"style/cjk-{CJK_NAMES[index]}.css", media_type="text/css")
                      for _, index in plan.cjk_articles} if config.epub_embed_fonts else {}
        cjk_hrefs = {tag: f"../{cjk_sheets[index].file_name}" for tag, index in plan.cjk_articles if index in cjk_sheets}
        stylesheet = epub.EpubItem(uid="css", file_name="style/book.css", media_type="text/css")
        package.add_item(stylesheet)  # its content once the documents are made: see below

        store = Store(context.image_cache) if context.image_cache else None
        pictures = epub_images(sorted({r for item in rendered.articles for r in item.resources}
                                      | ({rendered.book.cover.resolve()} if rendered.book.cover else set())),
                               config.epub_max_image_pixels, store, context.version)
        cover_image, cover_page = _cover(rendered, page, pictures)
        imprint = {"identifier": config.identifier, "generator": f"pipeline {context.version}"}
        logo = _logo(rendered)
        compact = rendered.book.compact  # a compact per-article booklet: the notice on the title page
        title = _document("title-page", "front_title", words["title_page"], render_template(
            "epub/title.xhtml", logo_href=f"../{logo.file_name}" if logo else "", compact=compact,
            download=rendered.book.download, url=web_address(rendered),
            **imprint, **page))
        notice = None if compact else _document("notice", "front_notice", words["notice"], render_template(
            "epub/notice.xhtml", **imprint, **page))
        breaks = _breaks_by_article(pagination)
        homes = _homes(rendered)
        chapters = [
            _document(f"a-{item.anchor}", item.anchor, item.article.title, _with_page_breaks(
                render_template("epub/article.xhtml", item=item,
                                body=_across_documents(_epub_body(item, words), item, homes),
                                **_article_page(page, item, config), cjk_css_href=cjk_hrefs.get(item.article.language, "")),
                item.anchor, breaks.get(index, []), words))
            for index, item in enumerate(rendered.articles)
        ]
        toc = _toc(rendered, chapters)
        nav = _Nav(file_name=f"{TEXT_DIR}/front_nav.xhtml", uid="nav", title=words["contents"])
        nav.content = render_template(
            "epub/nav.xhtml", toc=toc, landmarks=_landmarks(rendered, chapters, words, listed=not compact),
            pages=_page_list(rendered, chapters, pagination), **page).encode()

        # A compact booklet of one article shows no contents page: its nav is
        # in the package (reading systems' own contents), not in the spine.
        documents = [cover_page, title, *([] if compact else [notice, nav]), *chapters]
        packaged = [*documents, *([nav] if compact else [])]  # every content document
        _declare_mathml(packaged)
        for item in (cover_image, *([logo] if logo else []), *packaged):
            package.add_item(item)
        images = _add_images(package, rendered, pictures)
        # The script faces are subset to the characters of the documents, and
        # their unicode-range says exactly which (a short stylesheet).
        text = "".join("".join(etree.fromstring(d.content).itertext()) for d in packaged)
        script_fonts = [replace(font, runs=_runs_within(font.runs, set(text))) for font in script_fonts]
        choice = font_choice(rendered.book)
        try:
            css = book_stylesheet(rendered, config.epub_embed_fonts, script_fonts, choice)
        except CssRefused as exc:
            return Exported((error("C009", str(exc), path=rendered.book.styles / "epub.css", line=exc.line,
                                   column=exc.column,
                                   hint="an EPUB's styles may load only fonts: @font-face { src: "
                                        "url(../fonts/NAME) } of the book's styles/fonts/ or ours"),))
        stylesheet.content = css
        cjk_fonts = []
        for index, sheet in cjk_sheets.items():
            fonts = [replace(font, runs=_runs_within(font.runs, set(text))) for font in epub_fonts(plan, index)]
            sheet.content = epub_css(fonts).encode("utf-8")
            package.add_item(sheet)
            cjk_fonts += fonts
        if config.epub_embed_fonts:
            _embed_fonts(package, packaged, [stylesheet, *cjk_sheets.values()], script_fonts + cjk_fonts, choice)
        _metadata(package, config, context, subjects(rendered), web_address(rendered))
        if is_rtl(config.language):
            package.set_direction("rtl")  # the spine's page-progression-direction
        _accessibility(package, rendered, documents, images, bool(pagination), words)
        # EPUB 2's name for the cover too: Kobo's store reads it for the thumbnail (targets/stores.py).
        package.add_metadata(None, "meta", "", {"name": "cover", "content": cover_image.id})
        package.add_item(epub.EpubNcx())
        package.toc = [_ncx_entry(entry, TEXT_DIR) for entry in toc]
        package.spine = documents
        try:
            target.write_bytes(_write(package, context))
        except Exception as exc:  # ebooklib raises bare exceptions on bad packages
            return Exported((error("X002", f"could not write the EPUB: {exc}"),))
        return Exported()


def _declare_mathml(documents: list["_Document"]) -> None:
    """The package says which documents hold MathML (`properties="mathml"`,
    EPUBCheck's OPF-014): those with an element of its namespace."""
    for document in documents:
        root = etree.fromstring(document.content)
        if root.find(f".//{{{MATHML_NS}}}math") is not None and "mathml" not in document.properties:
            document.properties.append("mathml")


def _logo(rendered: RenderedBook) -> epub.EpubItem | None:
    """[style] logo, as an image of the package (the loader checked it)."""
    path = rendered.book.logo
    if path is None:
        return None
    return epub.EpubItem(uid="logo", file_name=f"images/logo{path.suffix.lower()}",
                         media_type=inspect_image(path).media_type, content=image_bytes(path))


def _cover(rendered: RenderedBook, page: dict, pictures: dict[Path, bytes]) -> tuple[epub.EpubCover, "_Document"]:
    """The cover image (book.toml's, else drawn like the PDF's) and its page.
    `pictures`: the bytes the EPUB embeds for each image (export/images.py)."""
    if rendered.book.cover is not None:
        path = rendered.book.cover
        content, media_type = pictures[path.resolve()], inspect_image(path).media_type
        name = f"images/cover{path.suffix.lower()}"
    else:
        content, media_type, name = cover_png(rendered.book), "image/png", "images/cover.png"
    image = epub.EpubCover(uid="cover-image", file_name=name)
    image.media_type, image.content = media_type, content
    words = page["labels"]
    alt = f"{words['cover_alt']}: {rendered.book.config.title}"
    document = _document("cover", "front_cover", words["cover"], render_template(
        "epub/cover.xhtml", cover_href=f"../{name}", cover_alt=alt, **page))
    return image, document


def _article_page(page: dict, item: RenderedArticle, config: BookConfig) -> dict:
    """An article's document is in its own language (front matter), else the book's."""
    language = item.article.language or config.language
    return {**page, "page_language": language, "direction": direction(language)}


def _toc(rendered: RenderedBook, chapters: list["_Document"]) -> list[TocEntry]:
    toc = []
    for item, chapter in zip(rendered.articles, chapters):
        name = chapter.file_name.split("/")[-1]
        sections: list[TocEntry] = []
        for heading in item.headings:
            entry = TocEntry(heading.text, f"{name}#{heading.id}")
            if heading.level > 2 and sections:
                sections[-1] = replace(sections[-1], children=sections[-1].children + (entry,))
            elif heading.level == 2:
                sections.append(entry)
        toc.append(TocEntry(item.article.title, f"{name}#{item.anchor}", tuple(sections), item.title_html))
    return toc


def _landmarks(rendered: RenderedBook, chapters: list["_Document"], words: dict[str, str],
               listed: bool = True) -> list[dict[str, str]]:
    """Cover, contents (when the nav is in the spine: `listed`) and body."""
    marks = [{"type": "cover", "href": "front_cover.xhtml", "title": words["cover"]}]
    if listed:
        marks.append({"type": "toc", "href": "front_nav.xhtml#toc", "title": words["contents"]})
    if chapters:
        marks.append({"type": "bodymatter", "href": chapters[0].file_name.split("/")[-1],
                      "title": rendered.articles[0].article.title})
    return marks


def _breaks_by_article(pagination: tuple[PageBreak, ...]) -> dict[int, list[PageBreak]]:
    grouped: dict[int, list[PageBreak]] = {}
    for page_break in pagination:
        grouped.setdefault(page_break.article, []).append(page_break)
    return grouped


def _page_list(rendered: RenderedBook, chapters: list["_Document"],
               pagination: tuple[PageBreak, ...]) -> list[dict[str, str]]:
    return [{"label": b.label, "href": f"{chapters[b.article].file_name.split('/')[-1]}#page-{b.label}"}
            for b in pagination]


def _with_page_breaks(xhtml: str, anchor: str, breaks: list[PageBreak], words: dict[str, str]) -> str:
    """Put the PDF's page-break markers into an article document."""
    if not breaks:
        return xhtml
    root = etree.fromstring(xhtml.encode("utf-8"))
    container = root.find(f".//*[@id='{anchor}']")
    blocks = block_elements(container, "footnotes")
    by_block: dict[int, list[PageBreak]] = {}
    for page_break in breaks:
        by_block.setdefault(page_break.block, []).append(page_break)
    for ordinal, block_breaks in by_block.items():
        target = blocks[ordinal] if ordinal < len(blocks) else container
        insert_markers(target, block_breaks, _marker)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8",
                          doctype="<!DOCTYPE html>").decode("utf-8")


def _marker(page_break: PageBreak) -> etree._Element:
    marker = etree.Element(f"{{{XHTML_NS}}}span", {"id": f"page-{page_break.label}", "role": "doc-pagebreak",
                                                   "aria-label": page_break.label})
    marker.set(f"{{{EPUB_NS}}}type", "pagebreak")
    return marker


def _add_images(package: epub.EpubBook, rendered: RenderedBook, pictures: dict[Path, bytes]) -> list[Path]:
    """The articles' images, as `pictures` has them (within [epub] max-image-pixels)."""
    images = sorted({r for item in rendered.articles for r in item.resources})
    root = rendered.book.root.resolve()
    for number, resource in enumerate(images, start=1):
        relative = resource_name(resource, root)  # a site's static image, a fetched one: _external/…
        package.add_item(epub.EpubItem(uid=f"image-{number}", file_name=f"{TEXT_DIR}/{relative}",
                                       media_type=inspect_image(resource).media_type,
                                       content=pictures[resource]))
    return images


class CssRefused(ValueError):
    """A url() of the book's epub.css that is not one of its fonts, and where it is."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.line, self.column = line, column


def book_stylesheet(rendered: RenderedBook, embed_fonts: bool, script_fonts: list[EpubFont],
                choice: FontChoice) -> bytes:
    """epub.css, after the script fonts' faces (pipeline/fonts.py); then the
    book's own faces, [style]'s choices and the book's own styles/epub.css
    (whose only loads may be @font-face src of the book's fonts: CssRefused
    otherwise, `_check_own_css`). Without
    embedded fonts, without any @font-face rule. The preview shows the book
    with it too (commands/serve.py)."""
    own = book_file(rendered.book, "epub.css")
    _check_own_css(own, choice)
    css = ((styles_dir() / "epub.css").read_text(encoding="utf-8") + "\n"
           + book_face_rules(choice, lambda face: f"../fonts/{face.path.name}")
           + _style_rules(rendered.book.config, choice) + own)
    if not embed_fonts:
        return re.sub(r"@font-face\s*\{[^}]*\}\s*", "", css).encode("utf-8")
    # Latin faces last: of the faces that could draw a character, CSS uses the last defined.
    head, _, rest = css.partition("@font-face")
    return (head + epub_css(script_fonts) + "@font-face" + rest).encode("utf-8")


def _check_own_css(css: str, choice: FontChoice) -> None:
    """Raise CssRefused at the first load of the book's epub.css that is not
    an @font-face src naming a font we ship (`../fonts/NAME`). Read as CSS
    (`csscheck`): `URL(`, escapes and `@IMPORT` are loads like any other, and
    the file goes into the EPUB and the preview as written."""
    for load in loads(css):
        name = load.url.removeprefix("../fonts/")
        if load.kind == "import":
            problem = f"imports '{shown(load.url)}'; an EPUB's styles may not import other files"
        elif name == load.url or not re.fullmatch(r"[\w.-]+", name) or not _font_source(name, choice):
            problem = f"refers to '{shown(load.url)}', which is not a font of the book"
        elif load.within != "font-face":
            problem = f"refers to the font '{shown(load.url)}' outside an @font-face rule"
        else:
            continue
        raise CssRefused(f"styles/epub.css {problem}", load.line, load.column)


def _style_rules(config: BookConfig, choice: FontChoice) -> str:
    """[style] for the EPUB: the chosen families first in their stacks, the
    accent on rules (never on body text: readers choose its colours)."""
    rules = []
    if choice.text:
        rules.append(f'body {{ font-family: "{choice.text}", "Book Serif", serif; }}')
    if choice.heading:
        rules.append(f'h1, h2, h3, h4, h5, h6, .article-number {{ font-family: "{choice.heading}", '
                     '"Book Sans", sans-serif; }')
    if config.accent:
        rules.append(f".in-brief, blockquote {{ border-color: {config.accent}; }}")
    return "".join(rule + "\n" for rule in rules)


def _font_source(name: str, choice: FontChoice) -> Path | None:
    """The file of a font named in the EPUB's CSS: the book's own, else ours."""
    for face in choice.faces:
        if face.path.name == name:
            return face.path
    path = styles_dir() / "fonts" / name
    return path if path.is_file() else None


def _runs_within(runs: tuple[tuple[int, int], ...], characters: set[str]) -> tuple[tuple[int, int], ...]:
    """The code points of `runs` that `characters` holds, as runs."""
    return as_runs(p for p in map(ord, characters) if any(a <= p <= b for a, b in runs))


def _embed_fonts(package: epub.EpubBook, documents: list["_Document"], sheets: list[epub.EpubItem],
                 script_fonts: list[EpubFont], choice: FontChoice) -> None:
    """Only the faces the documents are set in (`epubfaces`), each subset to
    the characters it draws and `SAFE`; the stylesheets lose the @font-face
    rules of the others (ours and the book's own alike)."""
    scripts = {font.name: (font.source, font.index) for font in script_fonts}

    def source(name: str) -> tuple[Path, int] | None:
        path = _font_source(name, choice) if name and name not in scripts else None
        return scripts.get(name) or ((path, 0) if path else None)

    def characters_of(face: FaceRule) -> frozenset[int] | None:
        found = next((source(file_of(url)) for url in face.urls if source(file_of(url))), None)
        return font_characters(*found) if found else None

    texts = {sheet.file_name: normalised(sheet.content.decode("utf-8")) for sheet in sheets}
    parsed: dict[str, Sheet] = {}
    for name, css in texts.items():  # a later sheet's faces are defined later
        parsed[name] = parse_sheet(name, css, sum(len(sheet.faces) for sheet in parsed.values()))
    use = face_use(((etree.fromstring(d.content), _sheets_of(d, parsed)) for d in documents), characters_of)
    used = use.used()
    kept = {FaceUse.key(face) for face in used}
    for sheet in sheets:
        sheet.content = prune(texts[sheet.file_name], sheet.file_name, kept,
                              lambda face: all(source(file_of(url)) for url in face.urls)).encode("utf-8")
    files: dict[str, set[str]] = {}
    for face in used:
        drawn = use.drawn.get(FaceUse.key(face), set()) | {c for c in SAFE if face.covers(ord(c))}
        for url in face.urls:
            if source(file_of(url)):
                files.setdefault(file_of(url), set()).update(drawn)
    for name in sorted(files):
        path, index = source(name)
        package.add_item(epub.EpubItem(uid=f"font-{Path(name).stem}", file_name=f"fonts/{name}",
                                       media_type="font/otf" if name.lower().endswith(".otf") else "font/ttf",
                                       content=subset_font(path, "".join(sorted(files[name])), index)))


def _sheets_of(document: "_Document", parsed: dict[str, "Sheet"]) -> list["Sheet"]:
    """The stylesheets a document links to, in order (book.css, then a CJK sheet)."""
    import posixpath

    root = etree.fromstring(document.content)
    folder = posixpath.dirname(document.file_name)
    hrefs = [link.get("href", "") for link in root.iter(f"{{{XHTML_NS}}}link")
             if "stylesheet" in link.get("rel", "").split()]
    names = [posixpath.normpath(posixpath.join(folder, href)) for href in hrefs]
    return [parsed[name] for name in names if name in parsed]


def subset_font(path: Path, text: str, index: int = 0) -> bytes:
    """The font reduced to the glyphs `text` needs, by HarfBuzz's subsetter
    (the one WeasyPrint uses for the PDF; fontTools took seconds per font).
    `index`: the face, in a collection."""
    import uharfbuzz as hb

    request = hb.SubsetInput()
    request.unicode_set.update(ord(character) for character in set(text + " "))
    request.flags = hb.SubsetFlags.NO_HINTING
    return hb.subset(hb.Face(hb.Blob.from_file_path(str(path)), index), request).blob.data


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


_FRAGMENT_LINK = re.compile(r'href="#([^"]+)"')


def _homes(rendered: RenderedBook) -> dict[str, str]:
    """Each id of the booklet -> the name of the EPUB document that holds it."""
    homes = {}
    for item in rendered.articles:
        name = f"{item.anchor}.xhtml"
        homes[item.anchor] = name
        for value in re.findall(r'\sid="([^"]+)"', item.body_html):
            homes[value] = name
    return homes


def _across_documents(body: str, item: RenderedArticle, homes: dict[str, str]) -> str:
    """Links between articles are fragments of the one booklet (`#slug--id`);
    in the EPUB, where each article is its own document, they name the other
    document (`slug.xhtml#slug--id`)."""
    own = f"{item.anchor}.xhtml"

    def resolve(match: re.Match) -> str:
        target = match.group(1)
        home = homes.get(target, own)
        return match.group(0) if home == own else f'href="{home}#{target}"'

    return _FRAGMENT_LINK.sub(resolve, body)


def _epub_body(item: RenderedArticle, words: dict[str, str]) -> str:
    """Mark footnotes up as EPUB pop-up notes: noterefs and <aside> footnotes;
    a reference list's parts get their epub:type (render/citations.py)."""
    cited = REFERENCES_MARK in item.body_html
    if not has_footnotes(item.body_html) and not cited:
        return item.body_html
    root = etree.fromstring(f'<div xmlns:epub="{EPUB_NS}">{item.body_html}</div>')
    if cited:
        mark_references(root, EPUB_NS)
    for _, link in footnote_calls(root):
        link.set(f"{{{EPUB_NS}}}type", "noteref")
        link.set("role", "doc-noteref")
    for block, notes in footnote_blocks(root):
        section = etree.Element("section", {"class": "footnotes", "aria-label": words["footnotes"]})
        for li in notes:
            aside = etree.SubElement(section, "aside", {"id": li.get("id"), "class": "footnote"})
            aside.set(f"{{{EPUB_NS}}}type", "footnote")
            aside.set("role", "doc-footnote")
            aside.text = li.text
            for child in list(li):
                aside.append(child)
        for back in footnote_backlinks(section):
            back.set("role", "doc-backlink")
            back.set("aria-label", words["back_to_text"])
            back.attrib.pop("title", None)
        section.tail = block.tail
        block.getparent().replace(block, section)
    return serialize_content(root)


def _ncx_entry(entry: TocEntry, folder: str):
    link = epub.Link(f"{folder}/{entry.href}", entry.title, "np-" + entry.href.replace("#", "-").replace(".", "-"))
    if not entry.children:
        return link
    return (epub.Section(entry.title, f"{folder}/{entry.href}"), [_ncx_entry(c, folder) for c in entry.children])


MAX_SUBJECTS = 30  # a blog's hundreds of tags are no catalogue's subjects: its most used


def subjects(rendered: RenderedBook) -> tuple[str, ...]:
    """The book's subjects: [book] keywords, then its articles' tags (tags,
    categories, keywords of a site's front matter), the most used first, each
    once whatever its case, at most MAX_SUBJECTS."""
    from collections import Counter

    seen = {keyword.casefold() for keyword in rendered.book.config.keywords}
    counts = Counter(tag for item in rendered.articles for tag in dict.fromkeys(item.article.tags)
                     if tag.casefold() not in seen)
    tags = {}
    for tag, _ in counts.most_common():
        tags.setdefault(tag.casefold(), tag)
    return tuple(list(rendered.book.config.keywords) + list(tags.values()))[:MAX_SUBJECTS]


def web_address(rendered: RenderedBook) -> str:
    """A per-article download's web address (export/articles.py), '' for a book."""
    return rendered.articles[0].article.url if rendered.book.download and rendered.articles else ""


def _metadata(package: epub.EpubBook, config: BookConfig, context: ExportContext,
              subject_words: tuple[str, ...] = (), address: str = "") -> None:
    """The package's metadata; a download's web address as its dc:source (the
    work it was made from: the article as published online)."""
    package.set_identifier(config.identifier)  # config.py derives one if book.toml has none
    _isbn(package, config)
    package.set_language(config.language)
    package.add_metadata("DC", "title", config.title, {"id": "title"})
    package.title = config.title  # the NCX's docTitle (ebooklib reads it there; empty, EPUBCheck -u notes NCX-006)
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
    for keyword in subject_words or config.keywords:
        package.add_metadata("DC", "subject", keyword)
    if address:
        package.add_metadata("DC", "source", address, {"id": "web-source"})


def _isbn(package: epub.EpubBook, config: BookConfig) -> None:
    """[book] isbn, typed as ONIX's ISBN-13 (code 15): the unique identifier
    when book.toml gives no other (config.py), else a second dc:identifier
    (EPUB 3.3: one unique-identifier, any number of dc:identifier)."""
    if not config.isbn:
        return
    urn = f"urn:isbn:{config.isbn.replace('-', '')}"
    uid = package.IDENTIFIER_ID
    if urn != config.identifier:
        uid = "isbn"
        package.add_metadata("DC", "identifier", urn, {"id": uid})
    package.add_metadata(None, "meta", "15", {"refines": f"#{uid}", "property": "identifier-type",
                                              "scheme": "onix:codelist5"})


def _accessibility(package: epub.EpubBook, rendered: RenderedBook, documents: list["_Document"],
                   images: list[Path], has_pages: bool, words: dict[str, str]) -> None:
    """EPUB Accessibility 1.1 metadata, derived from what the book holds;
    the conformance claim where targets/eaa.py's static checks pass on these
    documents and someone certifies it (why there: that module's docstring)."""
    from ..targets.eaa import CONFORMANCE, blockers, certifier, has_text_alternative

    roots = [(document.file_name, etree.fromstring(document.content)) for document in documents]
    all_alt = all(has_text_alternative(image) for _, root in roots for image in root.iter(f"{{{XHTML_NS}}}img"))
    certified_by = certifier(rendered.book.config)
    claim = all_alt and bool(certified_by) and not blockers(roots)
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"]
    if all_alt:
        features.append("alternativeText")
    if has_pages:
        features += ["printPageNumbers", "pageNavigation"]
    if any("mathml" in document.properties for document in documents):
        features.append("MathML")  # each formula with its TeX as alttext
    # The summary claims conformance exactly when dcterms:conformsTo does (below); labels.toml's sentence
    # may still name WCAG 2.1, the version claimed before: it says the one claimed.
    conformance = words["accessibility_conformance"].replace("WCAG 2.1", "WCAG 2.2")
    summary = (conformance if claim else "") + words["accessibility_summary"]
    if has_pages:
        summary += words["accessibility_pages"]
    if all_alt:
        summary += words["accessibility_images"]
    properties = [("schema:accessMode", "textual"), ("schema:accessMode", "visual"),
                  ("schema:accessModeSufficient", "textual,visual")]
    if all_alt:
        properties.append(("schema:accessModeSufficient", "textual"))
    properties += [("schema:accessibilityFeature", feature) for feature in features]
    properties += [("schema:accessibilityHazard", "none"), ("schema:accessibilitySummary", summary)]
    if claim:
        properties += [("dcterms:conformsTo", CONFORMANCE), ("a11y:certifiedBy", certified_by)]
    for name, value in properties:
        package.add_metadata(None, "meta", value, {"property": name})
    if has_pages:
        config = rendered.book.config
        package.add_metadata("DC", "source", f"{config.title}, PDF booklet ({config.pdf_page_size})",
                             {"id": "print-source"})
        package.add_metadata(None, "meta", "pagination", {"refines": "#print-source", "property": "source-of"})


def _write(package: epub.EpubBook, context: ExportContext) -> bytes:
    """Write with ebooklib, then re-pack reproducibly: fixed dates, fixed order."""
    raw = io.BytesIO()
    writer = _Writer(raw, package, {"epub3_pages": False, "play_order": {"enabled": False},
                                   "mtime": context.timestamp, "raise_exceptions": True})
    writer.process()
    writer.write()
    return _reproducible_zip(raw.getvalue(), context.timestamp.timetuple()[:6],
                             lambda name, data: _with_package_lang(data, package.language)
                             if name.endswith(".opf") else data)


def _with_package_lang(opf: bytes, language: str) -> bytes:
    """Declare the package document's own language (ebooklib does not)."""
    return opf.replace(b"<package ", f'<package xml:lang="{language}" '.encode(), 1)


def _reproducible_zip(data: bytes, date_time: tuple[int, ...], transform) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        names = ["mimetype"] + [n for n in source.namelist() if n != "mimetype"]
        for name in names:
            info = zipfile.ZipInfo(name, date_time=max(date_time, (1980, 1, 1, 0, 0, 0)))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(info, transform(name, source.read(name)), compresslevel=9)
    return out.getvalue()
