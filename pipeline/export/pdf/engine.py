"""The one module that talks to WeasyPrint: what it may read (`BookFetcher`),
which fonts it sees (`ProjectFonts`), the layout itself, its warnings
(captured per build), the time limit, the page labels it does not write,
and what is read back from laid-out pages (where anchors and text landed),
which needs WeasyPrint's page boxes.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pydyf
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from ...diagnostics import Diagnostic, error, warning
from ...fonts import FONT_DIRS, book_text, face_subset
from ...model import PAGE_SIZES, BookConfig, PageBreak, RenderedBook
from ...resources import (BOOK_URL, EXTERNAL, STYLES_URL, ImageRejected, ResourceRefused, book_url, deadline,
                          image_bytes, media_type, real_url, resolve_url, resource_name, svg_data_uri)
from ...styles import book_file, book_labels, design_css, is_rtl, styles_dir
from .. import ExportContext
from ..pagebreaks import block_elements, letters
from .furniture import Slot, overrides
from .parts import Laid, Part

# Raised by the layout when BookFetcher refuses a file (outside the book, remote).
FetchRefused = FatalURLFetchingError


def anchor_pages(document, articles, first: int = 0) -> dict[str, int]:
    """Index of the page (from `first` on) where each article, section and
    numbered element (a reference's target) starts."""
    wanted = ({item.anchor for item in articles} | {h.id for item in articles for h in item.headings}
              | {target for item in articles for target in item.targets})
    found: dict[str, int] = {}
    for index in range(first, len(document.pages)):
        for anchor in document.pages[index].anchors:
            if anchor in wanted and anchor not in found:
                found[anchor] = index
    return found


def stylesheets(rendered: RenderedBook) -> list[tuple[str, str]]:
    """The booklet's stylesheets in cascade order, as (CSS text, base URL):
    ours, [style]'s custom properties (styles.design_css), then the book's
    own styles/print.css, read through the gate, its url()s relative to its
    folder: after ours, so that the book's rules win."""
    files = [styles_dir() / "print.css"]
    if is_rtl(rendered.book.config.language):  # the booklet mirrored, bound on the right
        files.append(styles_dir() / "print-rtl.css")
    sheets = [(path.read_text(encoding="utf-8"), STYLES_URL + path.name) for path in files]
    knobs = design_css(rendered.book.config)
    if knobs:
        sheets.append((knobs, STYLES_URL))
    own = book_file(rendered.book, "print.css")
    if own:
        sheets.append((own, book_url(rendered.book.styles, rendered.book.root) + "/"))
    return sheets


def layout(html: str, rendered: RenderedBook, variant: dict[str, str], fonts: "ProjectFonts", extra_css: str = "",
           images: dict[Path, bytes] | None = None):
    """Parse and lay out the booklet; every file read goes through BookFetcher.

    `fonts` holds the faces WeasyPrint loads, until the document is written
    (then `fonts.close()`). `extra_css` comes after the booklet's stylesheets
    (a part's override: see `furniture.py`). `images`: what to serve for
    an image instead of its file (downsampled: see `export/images.py`).
    """
    characters = "".join(sorted(set(book_text(rendered.book, book_labels(rendered.book.config)))))
    fetcher = BookFetcher((rendered.book.root, styles_dir(), *FONT_DIRS), characters, images, rendered.book.root)
    size = PAGE_SIZES[rendered.book.config.pdf_page_size]
    sheets = []
    for text, base in stylesheets(rendered):
        with _warnings_about(_book_stylesheet(rendered, base)):
            sheets.append(CSS(string=text, base_url=base, url_fetcher=fetcher, font_config=fonts))
    sheets.append(CSS(string=f"@page {{ size: {size}; }}\n{extra_css}", font_config=fonts))
    source = HTML(string=html, base_url=BOOK_URL, url_fetcher=fetcher)
    document = source.render(stylesheets=sheets, font_config=fonts, **variant)
    document = _figures_fitted(source, document, lambda: source.render(stylesheets=sheets, font_config=fonts,
                                                                        **variant))
    _relative_links_kept(document)
    if rendered.book.config.isbn:  # the Info's /ISBN (written by write_pdf's custom_metadata)
        document.metadata.custom["ISBN"] = rendered.book.config.isbn
    return source, document


def _figures_fitted(source, document, render):
    """Laid out again while a figure that did not fit at a page's foot left
    a hole there: shrunk, or moved after the next block (figures.py)."""
    import cssselect2

    from . import figures

    moved: list[tuple] = []
    for _ in range(figures.MAX_PASSES):
        shrink, move = figures.plan(figures.misfits(document))
        if not shrink and not move:
            break
        parents = {child: parent for parent in source.etree_element.iter() for child in parent}
        for misfit in shrink:
            figures.shrink(misfit)
        moved += [done for done in (figures.move(misfit, parents) for misfit in move) if done]
        source.wrapper_element = cssselect2.ElementWrapper.from_html_root(source.etree_element)
        document = render()
    figures.put_back(moved)
    return document


def _relative_links_kept(document) -> None:
    """A relative link stays relative in the PDF (a download's link to the
    download beside it, `other.pdf`: export/crosslinks.py). WeasyPrint joins
    it to the base URL the booklet is parsed with, BOOK_URL, a name that
    means nothing outside this build."""
    for page in document.pages:
        page.links[:] = [(kind, target[len(BOOK_URL):], *rest)
                         if kind == "external" and isinstance(target, str) and target.startswith(BOOK_URL)
                         else (kind, target, *rest) for kind, target, *rest in page.links]


def lay_out_dated(part: Part, variant: dict[str, str], timestamp) -> Laid:
    """`lay_out` in a session of its own at the build's date: what a task
    runs, in this process or a worker (a cluster's may not have the build's
    environment: the date comes with the task). No deadline and no error
    mapping here: the exporter's session, around the runner, has both (and
    ends the workers when time runs out)."""
    with layout_session(timestamp) as session:
        return lay_out(part, variant, session)


def lay_out(part: Part, variant: dict[str, str], session: "Session") -> Laid:
    """Lay out one part and read back what the others need."""
    css = overrides([text for text, _ in stylesheets(part.rendered)])
    extra = {"body": css.body, "furniture": css.furniture}.get(part.kind, "") + "\n" + part.css
    source, document = layout(part.html, part.rendered, variant, session.fonts, extra, part.images)
    out = io.BytesIO()
    document.write_pdf(out, custom_metadata=True, **variant)
    messages = tuple(session.messages)
    if part.kind != "body":
        return Laid(out.getvalue(), len(document.pages), {}, (), (), (), messages)
    return Laid(out.getvalue(), len(document.pages), anchor_pages(document, part.rendered.articles),
                page_breaks(document, source.etree_element, part.rendered, 0),
                page_owners(document, part.rendered.articles), tuple(number_slots(document)), messages)


def placed_images(document):
    """(page index, the <img> element, pixels per inch as placed) of every
    raster image laid out: its pixel width over the width it is printed at."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.images import RasterImage

    def walk(box):
        if isinstance(box, boxes.ReplacedBox) and isinstance(box.replacement, RasterImage) and box.width:
            yield box
        for child in getattr(box, "children", ()):
            yield from walk(child)

    for index, page in enumerate(document.pages):
        for box in walk(page._page_box):
            yield index, box.element, box.replacement.width / (box.width / 96)  # CSS px: 96 an inch


def page_owners(document, articles) -> tuple[int | None, ...]:
    """Each page's article (its index in `articles`), None for a blank page."""
    starts = {item.anchor: index for index, item in enumerate(articles)}
    owners, current = [], None
    for page in document.pages:
        for anchor in page.anchors:
            if anchor in starts:
                current = starts[anchor]
        owners.append(None if page._page_box.page_type.blank else current)
    return tuple(owners)


def number_slots(document):
    """The room each page leaves for page numbers: the `::after` box of every
    link with a `data-page` (print.css gives it a fixed width)."""
    from weasyprint.formatting_structure import boxes

    for index, page in enumerate(document.pages):
        box = page._page_box
        left, top = box.content_box_x(), box.content_box_y()
        for slot, line in _after_boxes(box, None, boxes):
            element = slot.element
            if element is None or element.tag != "a" or element.get("data-page") is None:
                continue
            target = (element.get("href") or "").partition("#")[2]
            if "xref" in (element.get("class") or "").split():  # in the text: its own font and line
                yield Slot(index, target, slot.position_x - left, slot.position_y - top, slot.margin_width(),
                           "xref", _font(slot))
            else:
                # An opener's number is a positioned box of its own (print.css), at its static
                # place on the entry's last line: the slot is that box.
                yield Slot(index, target, slot.position_x - left, slot.position_y - top, slot.margin_width())


def _font(box) -> str:
    """The CSS that sets a slot's text as the body set it: its font, its
    colour (a link to another article is in the accent, its page too), and
    a line as high as its box (the baseline then falls where the body's did)."""
    style = box.style
    families = ", ".join('"' + name.replace('"', "") + '"' for name in style["font_family"])
    return (f"font-family: {families}; font-size: {style['font_size']:.4f}px; font-style: {style['font_style']}; "
            f"font-weight: {style['font_weight']}; line-height: {box.height:.4f}px; color: {style['color']}")


def _after_boxes(box, line, boxes):
    """(`::after` box, the line it sits on) under `box`, in order."""
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.LineBox):
            yield from _after_boxes(child, child, boxes)
        elif (child.element_tag or "").endswith("::after") and line is not None:
            yield child, line
        else:
            yield from _after_boxes(child, line, boxes)


class ProjectFonts(FontConfiguration):
    """WeasyPrint's font configuration without the machine's fonts: Fontconfig's
    rules are loaded, its font folders are not scanned. Only the faces our
    @font-face rules name (print.css, pipeline/fonts.py) can draw, so what
    else is installed never changes a book; a character none of them has
    is a box, which build and check report (R007) before layout.

    (WeasyPrint's own __init__, but FcInitLoadConfig for
    FcInitLoadConfigAndFonts.)
    """

    def __init__(self):
        from weasyprint.text.ffi import ffi, fontconfig, gobject, pangoft2

        self._config = ffi.cast("FcConfig *", _config_without_fonts())
        self.font_map = ffi.gc(pangoft2.pango_ft2_font_map_new(), gobject.g_object_unref)
        pangoft2.pango_fc_font_map_set_config(ffi.cast("PangoFcFontMap *", self.font_map), self._config)
        fontconfig.FcConfigDestroy(self._config)  # the font map keeps a reference
        self._folder = None
        self.strut_layouts = {}
        self.font_features = {}

    def close(self) -> None:
        """Remove the folder of the faces WeasyPrint wrote out. Its own
        `__del__` would, but only if the object is collected before the
        process ends, which a worker process's is not: each layout left a
        /tmp/weasyprint-* folder behind."""
        from shutil import rmtree

        if self._folder:
            rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _config_without_fonts() -> int:
    """FcInitLoadConfig(), which WeasyPrint's bindings do not declare: the
    configuration (rules, synthetic styles) without scanning any font folder."""
    import ctypes.util

    import cffi

    bindings = cffi.FFI()
    bindings.cdef("void *FcInitLoadConfig(void);")
    library = bindings.dlopen(ctypes.util.find_library("fontconfig") or "libfontconfig.so.1")
    return int(bindings.cast("uintptr_t", library.FcInitLoadConfig()))


class BookFetcher(URLFetcher):
    """Serves only files inside the allowed folders; refuses everything else.
    An image of `images` (by real path) is served as the bytes given there:
    the print-sized copy of the file (the gate has passed its path)."""

    def __init__(self, allowed: tuple[Path, ...], characters: str = "", images: dict[Path, bytes] | None = None,
                 root: Path | None = None):
        super().__init__(allowed_protocols={"file"})
        self.allowed = allowed
        self.root = root or allowed[0]  # the book, which BOOK_URL names
        self.characters = characters  # the book's: what a font collection's face is reduced to
        self.images = images or {}

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):  # a formula's SVG (booklet.with_math_images), checked as images are
            try:
                return URLFetcherResponse(url, svg_data_uri(url), {"Content-Type": "image/svg+xml"})
            except ImageRejected as exc:
                raise FatalURLFetchingError(str(exc)) from None
        external = self._external(url)
        if external is not None:  # an image from outside the book (a site's, a fetched one): its bytes as served
            return Served(url, self.images[external], {"Content-Type": media_type(external)})
        try:
            path = resolve_url(real_url(url, self.root, styles_dir()), self.allowed)
        except ResourceRefused as exc:
            raise FatalURLFetchingError(str(exc)) from None
        if path.suffix == ".ttc":  # a face of a collection, by its index (pipeline/fonts.py)
            index = urlsplit(url).fragment
            return URLFetcherResponse(url, face_subset(path, int(index) if index.isdigit() else 0,
                                                       self.characters), {"Content-Type": "font/otf"})
        data = self.images.get(path)
        if data is None:
            data = image_bytes(path) if path.suffix.lower() == ".svg" else path.read_bytes()
        return Served(url, data, {"Content-Type": media_type(path)})


    def _external(self, url: str) -> Path | None:
        """The image of `images` that `url` names as `resources.resource_name`
        does for a file outside the book folder (None: another URL)."""
        from urllib.parse import unquote

        if not url.startswith(BOOK_URL + EXTERNAL + "/"):
            return None
        name = unquote(url[len(BOOK_URL):])
        return next((path for path in self.images if resource_name(path, self.root) == name), None)


class Served(URLFetcherResponse):
    """A response that is its bytes only. WeasyPrint's own gives a `file:`
    URL's path, and an image with a path is embedded by reading that file
    again, by name: the original photo, not the print-sized bytes served
    (and a read past the gate)."""

    path = None


def identifier(config: BookConfig, context: ExportContext) -> bytes:
    """A stable /ID: the same book and version give the same file identifier."""
    seed = f"{config.identifier}|{context.version}".encode()
    return hashlib.md5(seed, usedforsecurity=False).hexdigest().encode()


def front_page_count(document, rendered: RenderedBook) -> int:
    """Index of the page where the first article starts (front matter before it)."""
    if not rendered.articles:
        return len(document.pages)
    first = rendered.articles[0].anchor
    for index, page in enumerate(document.pages):
        if first in page.anchors:
            return index
    return 0


def page_breaks(document, root, rendered: RenderedBook, front: int) -> tuple[PageBreak, ...]:
    """Where each printed body page begins (see `pipeline.export.pagebreaks`).

    A page's start is its first laid-out text inside an article, running
    heads, folios and footnotes aside. A blank page takes the position of the
    page after it.
    """
    from weasyprint.formatting_structure import boxes

    anchors = {item.anchor: index for index, item in enumerate(rendered.articles)}
    parents = {child: parent for parent in root.iter() for child in parent}
    block_ids = {}
    for element in root.iter():
        if element.get("id") in anchors:
            for ordinal, block in enumerate(block_elements(element, "footnote-note")):
                block_ids[block] = (anchors[element.get("id")], ordinal)
    laid_out: dict[tuple[int, int], int] = {}
    breaks, waiting = [], []
    for index, page in enumerate(document.pages[front:]):
        label, start = str(index + 1), None
        for box in _text_boxes(page._page_box, boxes):
            block = _enclosing_block(box.element, block_ids, parents)
            if block is None:
                continue
            if start is None:
                start = (block, laid_out.get(block, 0))
            laid_out[block] = laid_out.get(block, 0) + letters(box.text)
        waiting.append(label)
        if start is not None:
            breaks += [PageBreak(waiting_label, *start[0], start[1]) for waiting_label in waiting]
            waiting = []
    return tuple(breaks)


def _text_boxes(box, boxes):
    """Text boxes of the page body, in order; margin boxes and footnote area skipped."""
    for child in getattr(box, "children", ()):
        if isinstance(child, (boxes.MarginBox, boxes.FootnoteAreaBox)) or "::" in (child.element_tag or ""):
            continue
        if isinstance(child, boxes.TextBox):
            yield child
        else:
            yield from _text_boxes(child, boxes)


def _enclosing_block(element, block_ids, parents):
    while element is not None:
        if element in block_ids:
            return block_ids[element]
        if "footnote-note" in (element.get("class") or "").split():
            return None
        element = parents.get(element)
    return None


class PageLabels:
    """Finisher writing /PageLabels: roman for the front matter, arabic from
    1; for a right-to-left book, the viewer preference that shows its
    spreads bound on the right; and a download's web address (`web_address`),
    where a reader of the file finds it online: the document information's
    /URL. Not the catalog's /URI base: a viewer would resolve the relative
    links to the other downloads (`other.pdf`) against the website."""

    def __init__(self, front_pages: int, rtl: bool = False, web_address: str = ""):
        self.front_pages = front_pages
        self.rtl = rtl
        self.web_address = web_address

    def __call__(self, document, pdf: pydyf.PDF) -> None:
        nums = pydyf.Array()
        if self.front_pages:
            nums.extend([0, pydyf.Dictionary({"S": "/r"})])
        nums.extend([self.front_pages, pydyf.Dictionary({"S": "/D", "St": 1})])
        pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": nums})
        if self.rtl:
            pdf.catalog["ViewerPreferences"] = pydyf.Dictionary({"Direction": "/R2L"})
        if self.web_address:
            pdf.info["URL"] = pydyf.String(self.web_address)


class TimeLimit(BaseException):
    """The layout ran past ExportContext.time_limit.

    A BaseException, like KeyboardInterrupt: raised from a signal handler at
    any point of the layout, it must not be taken for an ordinary error by a
    library's `except Exception` (WeasyPrint logs and goes on when a font or
    image fetch fails, and the time limit would be lost).

    `articles`: the articles of the parts not laid out yet when it struck
    (the runner sets it), for the error's place; empty for one document."""

    articles: tuple = ()


def time_limit(seconds: float):
    """Interrupt the layout after `seconds` (`resources.deadline`)."""
    return deadline(seconds, TimeLimit)


_reading = threading.local()  # the book's file WeasyPrint is parsing now, if any (its warnings name it)
_ABOUT = "\x1f"  # between that file and the message, in a captured warning


def _book_stylesheet(rendered: RenderedBook, base: str) -> str:
    """The book's own stylesheet's path relative to the book ('' for ours):
    WeasyPrint's CSS warnings give a line and column, not the file."""
    if rendered.book.styles is None or base != book_url(rendered.book.styles, rendered.book.root) + "/":
        return ""
    return (rendered.book.styles / "print.css").resolve().relative_to(rendered.book.root.resolve()).as_posix()


@contextmanager
def _warnings_about(path: str):
    _reading.path = path
    try:
        yield
    finally:
        _reading.path = ""


_AT = re.compile(r" at (\d+):(\d+)\b")


def renderer_warnings(messages, root: Path) -> list[Diagnostic]:
    """WeasyPrint's warnings as X001 diagnostics, each once (every part of a
    long booklet parses the same stylesheets) and, for the book's own
    stylesheet, located at its line and column."""
    found = []
    for message in dict.fromkeys(messages):
        path, _, text = message.rpartition(_ABOUT)
        place = _AT.search(text) if path else None
        found.append(warning("X001", f"WeasyPrint: {text}", path=root / path if path else None,
                             line=int(place.group(1)) if place else 0,
                             column=int(place.group(2)) if place else 0))
    return found


@contextmanager
def captured_warnings():
    """Collect WeasyPrint's log warnings: in our build, each one is a bug to report.

    Scoped to this build: only records logged by this thread are taken (two
    builds in two threads keep their own), and the logger's settings are
    left as they are (an application's own logging still sees them)."""
    messages: list[str] = []
    thread = threading.get_ident()

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            # A character no font draws is reported before layout, once per
            # script with its places (R007, pipeline/fonts.py), not per glyph here.
            if (record.levelno >= logging.WARNING and record.thread == thread
                    and not record.getMessage().startswith(".notdef glyph")):
                about = getattr(_reading, "path", "")
                messages.append(f"{about}{_ABOUT}{record.getMessage()}" if about else record.getMessage())

    logger = logging.getLogger("weasyprint")
    handler = Handler()
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


class Session:
    """What a layout session gives the WeasyPrint calls under it: the fonts
    (`ProjectFonts`, made on first use, closed when the session ends), the
    warnings WeasyPrint logged (`captured_warnings`), and, once it ended,
    the error that stopped it (`failure`), if the session maps errors."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        self.failure: Diagnostic | None = None
        self._fonts: ProjectFonts | None = None

    @property
    def fonts(self) -> ProjectFonts:
        if self._fonts is None:
            self._fonts = ProjectFonts()
        return self._fonts

    def close(self) -> None:
        if self._fonts is not None:
            self._fonts.close()
            self._fonts = None


@contextmanager
def layout_session(timestamp, seconds: float = 0.0, what: str = "", rendered: RenderedBook | None = None):
    """The one setting every WeasyPrint call of a build runs in: the
    project's fonts, WeasyPrint's warnings captured for this build, the
    build's date as the fonts' timestamp (`epoch.holding_source_date`), a
    deadline of `seconds` (0: none; `time_limit`), and the errors that stop
    a layout mapped to diagnostics: with `book` given (the exporter's
    session: `what` names the output), a time limit is X003, a refused
    file R002, a lost worker X005, left in `session.failure` and not raised;
    without (a part's session, in a task), they go through to the exporter's."""
    from ...epoch import holding_source_date
    from ..executors import TaskLost

    with captured_warnings() as messages, holding_source_date(timestamp):
        session = Session(messages)
        try:
            with time_limit(seconds):
                yield session
        except TimeLimit as exc:
            if rendered is None:
                raise
            session.failure = error("X003", f"laying out {what} took more than {seconds:g} s"
                                    + articles_named(exc.articles),
                                    hint="look for very long tables or lines; or raise --time-limit",
                                    path=exc.articles[0].source_path if exc.articles else None)
        except FetchRefused as exc:
            if rendered is None:
                raise
            session.failure = error("R002", f"resource refused: {exc}", path=rendered.book.config_path)
        except TaskLost as exc:
            if rendered is None:
                raise
            session.failure = error("X005", f"a layout worker died ({exc.name}): {exc.detail}",
                                    hint="try --jobs 1, or free memory; on a cluster, read the workers' logs")
        finally:
            session.close()


def articles_named(articles) -> str:
    """", in a.md, b.md, c.md …": where a layout that failed was (X003, X008)."""
    names = list(dict.fromkeys(article.source_path.name for article in articles))
    return f", in {', '.join(names[:3])}{' …' if len(names) > 3 else ''}" if names else ""
