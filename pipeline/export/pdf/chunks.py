"""A long booklet laid out in parts: chunks of articles, then the front matter.

WeasyPrint lays a document out in one thread, with memory and time that grow
with the document, and a laid-out page cannot be reused. A long booklet is
therefore cut at article boundaries into chunks of about six articles
(at most MAX_CHUNKS), each laid out as a document of its own, in worker
processes when `--jobs` allows, and the parts are joined (`merge.py`):

- every article opens on a right-hand page, so each chunk starts on one; a
  chunk with an odd page count is followed by a blank verso, as in one
  document. A chunk's layout therefore depends only on its own articles, its
  first folio and the page numbers its openers print;
- those numbers come from a guess (the previous build's, else none) and
  the chunks are laid out again until they hold, as in pdf.py. A chunk that
  finds its own openers' numbers wrong does not draw its PDF (the costly
  half of WeasyPrint's work): it is laid out again anyway;
- the front matter (cover, title, notice, contents) is a part of its own,
  laid out with the numbers of the previous pass alongside the chunks (and
  again at the end only if they moved); its contents links point at a
  placeholder URL that the join turns into links to the articles;
- every laid-out part is kept in a content-addressed cache (`cache.Store`):
  the key hashes the part's HTML (which holds its numbers), first folio,
  images, the styles, the layout engine's and code's versions. Chunk
  boundaries depend only on the number of articles, so editing one article
  lays out again only its chunk (and the ones after it, if its page count
  changed).

The chunks are the same whatever `--jobs` is, so the PDF is too.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from markupsafe import Markup

from ...cache import Store, folder_digest
from ...fonts import FONT_DIRS
from ...model import PageBreak, RenderedArticle, RenderedBook
from ...styles import design_css, styles_dir
from .. import PAGE_NUMBERS, ExportContext
from .booklet import booklet_html
from .engine import anchor_pages, captured_warnings, identifier, layout, page_breaks

LINK_BASE = "https://pipeline.invalid/chunk"
MAX_PASSES = 4
ARTICLES_PER_CHUNK = 6  # small enough that one edit re-lays out little
MAX_CHUNKS = 8  # each chunk embeds its own font subsets: more would grow the PDF
LAYOUT_FORMAT = "1"  # bump when a cached part's meaning changes


@dataclass(frozen=True)
class Part:
    """One document to lay out: the front matter or a chunk of articles."""

    kind: str  # "front" or "body"
    book: RenderedBook  # for a chunk, only its own articles
    html: str
    first_page: int  # folio of the first article's opener
    expected: dict[str, int]  # anchor -> page index in the part that its printed numbers assume
    key: str  # cache key


@dataclass(frozen=True)
class Laid:
    """A laid-out part, or, with `pdf` None, one whose printed numbers proved wrong."""

    pdf: bytes | None
    page_count: int
    local_pages: dict[str, int]  # anchor -> page index within the part
    breaks: tuple[PageBreak, ...]  # labels relative to the part's first page (1, 2, ...)
    warnings: tuple[str, ...]


def partition(articles: tuple[RenderedArticle, ...]) -> list[tuple[RenderedArticle, ...]]:
    """Contiguous chunks of about ARTICLES_PER_CHUNK articles (at most
    MAX_CHUNKS chunks), their sizes differing by one at most.

    The boundaries depend on the number of articles only, not on their
    length: editing an article never moves them, so the other chunks stay
    in the cache.
    """
    count = max(1, min(math.ceil(len(articles) / ARTICLES_PER_CHUNK), MAX_CHUNKS))
    size, larger = divmod(len(articles), count)
    chunks, start = [], 0
    for index in range(count):
        end = start + size + (index < larger)
        chunks.append(articles[start:end])
        start = end
    return chunks


def lay_out(part: Part, variant: dict[str, str]) -> Laid:
    """Lay out one part (in a worker process) and report what the join needs."""

    with captured_warnings() as messages:
        source, document = layout(part.html, part.book, variant, first_page=part.first_page)
        local = anchor_pages(document, part.book.articles) if part.kind == "body" else {}
        pdf = None
        if all(local.get(anchor) == index for anchor, index in part.expected.items()):
            out = io.BytesIO()
            document.write_pdf(out, **variant)
            pdf = out.getvalue()
    breaks = page_breaks(document, source.etree_element, part.book, 0) if part.kind == "body" else ()
    return Laid(pdf, len(document.pages), local, breaks, tuple(messages))


def export_chunked(book: RenderedBook, target, context: ExportContext, variant: dict[str, str]):
    """Lay out `book` in parts and write the joined PDF to `target`.

    Returns (front page count, page numbers, page breaks, warnings).
    """
    chunks = partition(book.articles)
    keys = _Keys(book, context, variant)
    store = Store(context.layout.cache_dir) if context.layout.cache_dir else None
    pages, warnings, front = dict(context.facts.get(PAGE_NUMBERS, {})), [], None
    with _Runner(context, variant, store) as run:
        for attempt in range(1, MAX_PASSES + 1):
            starts = _starts(chunks, pages)
            last = attempt == MAX_PASSES  # then keep what comes, settled or not
            parts = [_chunk_part(book, chunk, start, pages, context, keys, last) for chunk, start in zip(chunks, starts)]
            if pages:  # numbers from a guess or the last pass: the front matter may as well be laid out now
                parts.insert(0, _front_part(book, pages, context, keys))  # first: it is the longest part
            results = run(parts, f"laying out the PDF, pass {attempt}")
            if pages:
                front = (pages, results.pop(0))
            actual, real_starts = _numbers(results)
            if actual == pages and real_starts == starts and all(r.pdf is not None for r in results):
                break
            pages = actual
        else:
            warnings.append("contents page numbers did not settle; some may be off by a page")
        if front is None or front[0] != pages:
            front = (pages, run([_front_part(book, pages, context, keys)], "laying out the front matter")[0])
        context.progress.start("joining the PDF")
        front_laid = front[1]
        front_count = front_laid.page_count + front_laid.page_count % 2
        _join(book, context, front_laid, results, front_count, target)
        if store is not None:
            store.keep_only(run.used)
    warnings += [m for laid in (front_laid, *results) for m in laid.warnings]
    return front_count, pages, _global_breaks(chunks, results, real_starts, book), warnings


def _starts(chunks, pages: dict[str, str]) -> list[int]:
    """Each chunk's first folio as the numbers say (1 where they say nothing)."""
    return [int(pages.get(chunk[0].anchor) or 1) for chunk in chunks]


def _chunk_part(book: RenderedBook, chunk, start: int, pages: dict[str, str], context: ExportContext,
                keys: "_Keys", last: bool = False) -> Part:

    chunk = _links_out_of(chunk)
    html = booklet_html(book, context, pages, part="body", articles=chunk)
    anchors = [item.anchor for item in chunk] + [h.id for item in chunk for h in item.headings]
    expected = {} if last else {anchor: int(pages.get(anchor) or 0) - start for anchor in anchors}
    return Part("body", replace(book, articles=chunk), html, start, expected,
                keys.of("body", html, start, [p for item in chunk for p in item.resources]))


def _links_out_of(chunk: tuple[RenderedArticle, ...]) -> tuple[RenderedArticle, ...]:
    """Links to another chunk's article (`#other--id`) would be dead in this
    chunk's own layout: they get the placeholder URL that the join turns into
    a link to the named destination, as the contents' links do."""
    from .merge import BODY_LINK

    ids = {value for item in chunk for value in [item.anchor, *_ID.findall(item.body_html)]}

    def outward(match: re.Match) -> str:
        target = match.group(1)
        return match.group(0) if target in ids else f'href="{BODY_LINK}{target}"'

    return tuple(replace(item, body_html=Markup(_FRAGMENT_LINK.sub(outward, item.body_html))) for item in chunk)


_ID = re.compile(r'\sid="([^"]+)"')
_FRAGMENT_LINK = re.compile(r'href="#([^"]+)"')


def _front_part(book: RenderedBook, pages: dict[str, str], context: ExportContext, keys: "_Keys") -> Part:

    html = booklet_html(book, context, pages, part="front", link_base=LINK_BASE)
    images = [path for path in (book.book.cover, book.book.logo) if path is not None]
    return Part("front", book, html, 1, {}, keys.of("front", html, 1, images))


def _numbers(results: list[Laid]) -> tuple[dict[str, str], list[int]]:
    """Printed page numbers from the chunks' own pages, and each chunk's first page."""
    pages, starts, next_page = {}, [], 1
    for index, result in enumerate(results):
        starts.append(next_page)
        for anchor, local in result.local_pages.items():
            pages[anchor] = str(next_page + local)
        count = result.page_count
        if index < len(results) - 1 and count % 2:
            count += 1  # the blank verso before the next chunk's first opener
        next_page += count
    return pages, starts


ENGINE = ("weasyprint", "pydyf", "pyphen", "tinycss2", "cssselect2", "tinyhtml5")  # lay the parts out
LAYOUT_CODE = ("__init__.py", "chunks.py", "engine.py", "booklet.py", "merge.py", "../pagebreaks.py",
               "../../fonts.py", "../../styles.py")  # ours, from this folder


class _Keys:
    """Cache keys: what a part's layout depends on besides its HTML: the
    styles (ours, the book's own styles/ folder and [style]'s colours), the
    layout engine's versions and our own layout code (so an
    upgrade or a change never mixes old and new parts), the variant and the
    page size."""

    def __init__(self, book: RenderedBook, context: ExportContext, variant: dict[str, str]):
        from importlib.metadata import PackageNotFoundError, version

        digest = hashlib.sha256(f"{LAYOUT_FORMAT}|{context.version}|{sorted(variant.items())}|"
                                f"{book.book.config.pdf_page_size}".encode())
        for name in ENGINE:
            try:
                digest.update(f"|{name}={version(name)}".encode())
            except PackageNotFoundError:
                digest.update(f"|{name}=?".encode())
        here = Path(__file__).parent
        for name in LAYOUT_CODE:
            digest.update(name.encode() + b"\0" + (here / name).read_bytes())
        digest.update(folder_digest(styles_dir()))
        if book.book.styles is not None:  # the book's own styles: its print.css, fonts, templates
            digest.update(b"|book-styles" + folder_digest(book.book.styles))
        digest.update(f"|design={design_css(book.book.config)}".encode())
        for folder in FONT_DIRS:  # the script fonts, by name, size and date (hashing 100 MB would be slow)
            for entry in sorted(folder.glob("*.tt[fc]")) if folder.is_dir() else ():
                stat = entry.stat()
                digest.update(f"|{entry.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        self.salt = digest.digest()

    def of(self, kind: str, html: str, first_page: int, resources) -> str:
        digest = hashlib.sha256(self.salt + f"|{kind}|{first_page}|".encode() + html.encode())
        for path in resources:
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"missing")
        return digest.hexdigest()


class _Runner:
    """Lays out parts: from the cache, else in worker processes (or here, with one job)."""

    def __init__(self, context: ExportContext, variant: dict[str, str], store: Store | None):
        self.context, self.variant, self.store = context, variant, store
        self.pool: Executor | None = None
        self.used: set[str] = set()

    def __enter__(self) -> Callable[[list[Part], str], list[Laid]]:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if self.pool is None:
            return
        if kind is not None:  # e.g. the time limit: stop the workers' layouts too
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.terminate()
        self.pool.shutdown(wait=kind is None, cancel_futures=True)

    def __call__(self, parts: list[Part], stage: str) -> list[Laid]:
        results: list[Laid | None] = [self._cached(part) for part in parts]
        todo = [index for index, laid in enumerate(results) if laid is None]
        progress = self.context.progress
        progress.start(stage, total=len(todo))
        for index, laid in self._lay_out([parts[i] for i in todo], todo):
            results[index] = laid
            self._store(parts[index], laid)
            progress.advance()
        return results

    def _lay_out(self, parts: list[Part], indexes: list[int]):
        if self.context.layout.jobs <= 1 or len(parts) <= 1:
            for index, part in zip(indexes, parts):
                yield index, lay_out(part, self.variant)
            return
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.context.layout.jobs)
        futures = {self.pool.submit(lay_out, part, self.variant): index for index, part in zip(indexes, parts)}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def _cached(self, part: Part) -> Laid | None:
        found = self.store.get(part.key) if self.store is not None else None
        if found is None:
            return None
        data, value = found
        try:
            laid = Laid(data, int(value["page_count"]), {str(k): int(v) for k, v in value["local_pages"].items()},
                        tuple(PageBreak(**b) for b in value["breaks"]), tuple(map(str, value["warnings"])))
        except (KeyError, TypeError, ValueError):
            return None
        self.used.add(part.key)
        return laid

    def _store(self, part: Part, laid: Laid) -> None:
        if self.store is None or laid.pdf is None:
            return
        self.store.put(part.key, laid.pdf, {"page_count": laid.page_count, "local_pages": laid.local_pages,
                                            "breaks": [asdict(b) for b in laid.breaks],
                                            "warnings": list(laid.warnings)})
        self.used.add(part.key)


def _global_breaks(chunks, results: list[Laid], starts: list[int], book: RenderedBook):
    """The chunks' page breaks in the book's numbering and article indexes."""
    index_of = {item.anchor: number for number, item in enumerate(book.articles)}
    breaks: list[PageBreak] = []
    for chunk, result, start in zip(chunks, results, starts):
        offset = index_of[chunk[0].anchor]
        if breaks and int(breaks[-1].label) < start - 1:  # the blank verso before this chunk
            breaks.append(PageBreak(str(start - 1), offset, 0, 0))
        breaks += [replace(b, label=str(int(b.label) + start - 1), article=b.article + offset)
                   for b in result.breaks]
    return tuple(breaks)


def _join(book: RenderedBook, context: ExportContext, front: Laid, results: list[Laid], front_count: int,
          target) -> None:
    from .merge import join

    parts = [front.pdf, *(laid.pdf for laid in results)]
    blank_after = [front.page_count % 2 == 1] + [i < len(results) - 1 and laid.page_count % 2 == 1
                                                 for i, laid in enumerate(results)]
    join(parts, blank_after, front_count, book.book.config.language, LINK_BASE,
         identifier(book.book.config, context), target)
