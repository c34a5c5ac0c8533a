"""Per-article downloads: one small booklet per article, and a manifest.

A website links its download buttons to these files. Each article becomes a
book of its own, made from the article already rendered for the whole book:
nothing is parsed twice. By default a download (`Book.download`): a title
block, then the article flowing on, no page left blank, the rights line and
"Read online: <its web address>" at the foot of page 1, on pages of
`[per-article] page-size`, tagged (PDF/UA-1) unless [pdf] variant says
otherwise in so many words (`download_variant`). `[per-article] layout = "compact"` gives one
title page with the notice at its foot, the article from the next right-hand
page (`Book.compact`); "booklet" keeps the book's full form (cover, title
page, notice, contents). `manifest.json` describes the book and each
article with their files, so a web back end need not guess names (schema:
`manifest.schema.json`).

Each article's booklet is keyed by a hash of everything its bytes depend on
(`tasks.booklet_key`), recorded in the manifest: a rebuild makes only the
booklets whose key changed, on the build's executor (worker processes or a
Dask cluster), and leaves the others' files untouched (same bytes, same
modification time).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..cache import MANIFEST_NAME, read_guess, read_made, write_guess, write_made
from ..diagnostics import Diagnostic, error
from ..formats import FORMATS, with_forms
from ..load.addresses import article_web_address
from ..model import BookConfig, RenderedBook
from ..output import StagedOutputs, holds
from . import ExportContext
from .crosslinks import links_elsewhere
from ..render.citations import with_own_references
from ..resources import PORTABLE_ROOT
from ..styles import own_labels
from .executors import Task, TaskLost
from .booklets import Booklet, Made, guess_file, make_booklet, record_file
from .tasks import book_files, booklet_key, environment_digest, relocated

if TYPE_CHECKING:
    from .executors import Executor


def single_article_books(rendered: RenderedBook) -> list[RenderedBook]:
    """One single-article book per article, titled after the article."""
    book, config = rendered.book, rendered.book.config
    layout = config.per_article_layout
    singles = []
    # Each article's web address (or ''): a link to it from another article's download leads there (crosslinks.py).
    addresses = {item.article.slug: article_web_address(book, item.article) for item in rendered.articles}
    for item in rendered.articles:
        if item.back_matter:  # the book's reference list: each download carries its own
            continue
        item = with_own_references(item)
        # Its web address (or ''), and its authors: the book's if it names none (a download is read alone).
        article = replace(item.article, url=addresses[item.article.slug],
                          authors=item.article.authors or config.authors)
        identity = config.identifier
        # An article in another language than the book's is a booklet in its
        # language: its direction, fonts, /Lang and fixed words (styles.words_for).
        language = article.language or config.language
        single_config = replace(
            config, title=article.title, subtitle=article.subtitle or config.title, language=language,
            labels=own_labels(language, config),
            authors=article.authors or config.authors, articles=(article.source_path.name,),
            identifier=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'pipeline:{identity}:{article.slug}')}",
            isbn="",  # the book's ISBN names the book, not a download of one article
            pdf_impose=False, cover="",  # where it is made changes nothing of it
            pdf_page_size=config.per_article_page_size or config.pdf_page_size,
            pdf_variant=download_variant(config), **_download_notice(config))
        single_book = replace(book, slug=article.slug, config=single_config, articles=(article,), cover=None,
                              compact=layout != "booklet", download=layout == "download")
        single = replace(links_elsewhere(item, addresses), article=article, number=1)
        singles.append(RenderedBook(book=single_book, articles=(single,)))
    return singles


def download_variant(config: BookConfig) -> str:
    """A download is read alone, on any device, often with a screen reader:
    it is tagged (PDF/UA-1) unless book.toml's [pdf] variant or
    --pdf-variant names a variant in so many words ("none" included). A
    download is laid out as one document anyway (`pdf.one_document`), so
    tagging it costs little; the Typst engine tags every PDF it writes."""
    return config.pdf_variant if config.pdf_variant_given else "pdf/ua-1"


def _download_notice(config: BookConfig) -> dict[str, bool]:
    """A download is read apart from the book, often printed at home: its
    notice prints the tool's name and the identifier only where book.toml's
    [notice] asks for them in so many words (not by their defaults)."""
    return {field: getattr(config, field) and field in config.notice_given
            for field in ("notice_show_tool", "notice_show_identifier")}


@dataclass(frozen=True)
class ArticleFiles:
    """One article's downloads in this build: made now (`written`, staged),
    or kept as the last build wrote them (`kept`: their manifest entries)."""

    key: str
    written: tuple["Written", ...] = ()
    kept: tuple[dict, ...] = ()
    finals: tuple[Path, ...] = field(default=())  # the kept files' paths


@dataclass(frozen=True)
class Catalog:
    """What the per-article step did, for the manifest and the summary."""

    files: list[ArticleFiles]
    diagnostics: list[Diagnostic]
    built: int
    unchanged: int
    workers: int


def build_articles(rendered: RenderedBook, out_dir: Path, folder: Path, formats: tuple[str, ...],
                   context: ExportContext, staged: StagedOutputs, executor: Executor,
                   earlier: dict[Path, str], cache: Path | None) -> Catalog:
    """Make every article's booklet whose key changed since the last build
    (`earlier`: what it wrote, with digests), into `folder`, on `executor`;
    keep the others, and report again what making them reported. `cache`:
    where each article's page-number guess and record are kept (None: a
    --no-cache build, which makes every booklet)."""
    previous = previous_articles(out_dir, earlier) if cache is not None else {}
    singles = single_article_books(rendered)
    worker = context.for_worker()
    if executor.shares_files:  # worker processes here may share the downsampled images
        worker = replace(worker, image_cache=context.image_cache)
    environment, digests = environment_digest(), {}
    booklets: list[tuple[int, Booklet]] = []
    keys, results, found = [], [], []  # per article: its key, its files, what making it reported
    for index, single in enumerate(singles):
        slug = single.book.slug
        made = with_forms(formats, single.book.config)  # (a download is never imposed: single_article_books)
        guess = read_guess(guess_file(cache, slug)) if cache is not None else {}
        booklet = Booklet(single, made, worker, guess)
        keys.append(booklet_key(replace(booklet, guess={}), environment, digests))
        expected = _expected(folder, out_dir, slug, made)
        kept = _reusable(previous.get(slug), keys[-1], cache, single, expected)
        results.append(None if kept is None else ArticleFiles(keys[-1], kept=kept[0],
                                                              finals=tuple(out_dir / e["path"] for e in kept[0])))
        found.append(() if kept is None else kept[1])
        if kept is None:
            booklets.append((index, booklet))
    lost = _make_booklets(booklets, keys, results, found, folder, staged, executor, cache, context)
    diagnostics = [d for item in found for d in item] + lost
    return Catalog([r if r is not None else ArticleFiles("") for r in results], diagnostics,
                   built=len(booklets), unchanged=len(singles) - len(booklets), workers=executor.workers)


def _reusable(previous: tuple[str, list[dict]] | None, key: str, cache: Path | None, single: RenderedBook,
              expected: list[str]) -> tuple[tuple[dict, ...], tuple[Diagnostic, ...]] | None:
    """The last build's files of an article (manifest entries) and what
    making them reported, if they can stand for this build's: the same key
    in the manifest and in the build's own record, the same file names."""
    if previous is None or cache is None or previous[0] != key or _entry_paths(previous[1]) != expected:
        return None
    made = read_made(record_file(cache, single.book.slug))
    if made is None or made[0] != key:
        return None
    return tuple(previous[1]), relocated(made[1], PORTABLE_ROOT, single.book.root, texts=True)


def _make_booklets(booklets: list[tuple[int, Booklet]], keys: list[str], results: list, found: list,
                   folder: Path, staged: StagedOutputs, executor: Executor, cache: Path | None,
                   context: ExportContext) -> list[Diagnostic]:
    """Make `booklets` on `executor`, staging their files and filling
    `results` and `found` at their article's index; remember each one's key
    and problems (the record `_reusable` reads). Returns X005 if one was lost."""
    progress = context.progress
    progress.start("per-article booklets", total=len(booklets))
    tasks = [Task(b.rendered.book.slug, make_booklet, (b,), b.rendered.book.root, book_files(b.rendered))
             for _, b in booklets]
    try:
        for position, made in executor.run(tasks):
            index, booklet = booklets[position]
            found[index] = made.diagnostics
            results[index] = ArticleFiles(keys[index], _stage(made, booklet, folder, staged))
            if cache is not None:
                slug, root = booklet.rendered.book.slug, booklet.rendered.book.root
                write_made(record_file(cache, slug), keys[index],
                           relocated(made.diagnostics, root, PORTABLE_ROOT, texts=True))  # wherever the book lies
                if made.page_numbers:
                    write_guess(guess_file(cache, slug), made.page_numbers)
            progress.advance()
    except TaskLost as exc:
        return [error("X005", f"the booklet of article '{exc.name}' was lost: {exc.detail}",
                      hint="look at the workers' logs (out of memory?), or build without --scheduler")]
    return []


def _stage(made: Made, booklet: Booklet, folder: Path, staged: StagedOutputs) -> tuple["Written", ...]:
    """Write a made booklet's bytes to staged files; committed with the rest of the build."""
    slug = booklet.rendered.book.slug
    written = []
    for name, data in made.files:
        final = folder / FORMATS[name].file_name(slug)
        target = staged.stage(final)
        target.write_bytes(data)
        written.append(Written(name, target, final))
    return tuple(written)


def _expected(folder: Path, out_dir: Path, slug: str, formats: tuple[str, ...]) -> list[str]:
    return sorted((folder / FORMATS[name].file_name(slug)).relative_to(out_dir).as_posix() for name in formats)


def _entry_paths(entries: list[dict]) -> list[str]:
    return sorted(entry["path"] for entry in entries)


def previous_articles(out_dir: Path, earlier: dict[Path, str]) -> dict[str, tuple[str, list[dict]]]:
    """The last build's articles, by slug: their key and file entries, for
    those whose files are all still as that build wrote them (the build's
    own record agrees, and so does the file's content). Anything else in a
    damaged or edited manifest only means a booklet is made again."""
    try:
        data = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
        articles = data["articles"] if data.get("schema_version") == MANIFEST_SCHEMA_VERSION else []
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    found = {}
    for article in articles if isinstance(articles, list) else []:
        try:
            slug, key, entries = article["slug"], article["key"], article["files"]
            paths = [out_dir / entry["path"] for entry in entries]
            # `earlier` holds only names inside OUT_DIR (cache.written_before): checked before any read.
            intact = all(isinstance(e["sha256"], str) and earlier.get(p) == e["sha256"] and holds(p, e["sha256"])
                         for p, e in zip(paths, entries))
        except (KeyError, TypeError):
            continue
        if intact and isinstance(key, str) and isinstance(slug, str):
            found[slug] = (key, entries)
    return found


MANIFEST_SCHEMA_VERSION = 1
MANIFEST_SCHEMA = Path(__file__).with_name("manifest.schema.json")  # JSON Schema of manifest.json


@dataclass(frozen=True)
class Written:
    """One file of a booklet, as the manifest describes it: staged now, at
    `final` once the build commits."""

    format: str  # its name in `formats.FORMATS`: "pdf", "epub", "imposed" (the two-up, saddle-stitch PDF)
    staged: Path
    final: Path


def write_manifest(target: Path, out_dir: Path, rendered: RenderedBook, book_files: list[Written],
                   article_files: list[ArticleFiles]) -> None:
    """Write `manifest.json` (see `manifest`) to `target`."""
    data = manifest(out_dir, rendered, book_files, article_files)
    target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def manifest(out_dir: Path, rendered: RenderedBook, book_files: list[Written],
             article_files: list[ArticleFiles]) -> dict:
    """What a website needs to offer the downloads without guessing: the
    book and each article in reading order, with their metadata and files
    (path relative to OUT_DIR, media type, size, PDF pages, sha256, and the
    URL when book.toml's [site] base-url says where OUT_DIR is published).
    Its shape is `manifest.schema.json`, versioned by `schema_version`."""
    config = rendered.book.config
    base_url = config.site_base_url

    def files(written: list[Written]) -> list[dict]:
        return [_file(item, out_dir, base_url) for item in written]

    book = {"slug": rendered.book.slug, "title": config.title, "subtitle": config.subtitle,
            "authors": list(config.authors), "language": config.language, "identifier": config.identifier,
            "description": config.description, "files": files(book_files)}
    articles = []
    own = [item for item in rendered.articles if not item.back_matter]  # the book's reference list has no download
    for order, (item, made) in enumerate(zip(own, article_files, strict=True), start=1):
        article = item.article
        articles.append({"order": order, "slug": article.slug, "title": article.title,
                         "subtitle": article.subtitle, "summary": _summary(item),
                         "authors": list(article.authors or config.authors),
                         "language": article.language or config.language,
                         "files": files(list(made.written)) + list(made.kept), "key": made.key})
    return {"schema_version": MANIFEST_SCHEMA_VERSION, "book": book, "articles": articles}


def _file(item: Written, out_dir: Path, base_url: str) -> dict:
    data = item.staged.read_bytes()
    path = item.final.relative_to(out_dir).as_posix()
    kind = FORMATS[item.format]
    # A form of a format is listed as that format, flagged by its name ("format": "pdf", "imposed": true).
    entry: dict[str, object] = {"path": path, "format": kind.form_of or kind.name, "media_type": kind.media_type,
                                "bytes": len(data)}
    if kind.media_type == "application/pdf":
        entry["pages"] = _page_count(item.staged)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    if kind.form_of:
        entry[kind.name] = True
    if base_url:
        entry["url"] = base_url.rstrip("/") + "/" + quote(path)
    return entry


def _page_count(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def _summary(item) -> str:
    """The article's summary as text: the one its opener prints, or the
    opening its site marked (`<!--more-->`), which the opener leaves to the body."""
    if item.article.summary_in_body:
        from ..load.structure import plain_text

        return plain_text(item.article.summary)
    return _plain(item.summary_html)


def _plain(fragment: str) -> str:
    """The text of a rendered XHTML fragment (the summary), for a web page
    to set as it likes."""
    if not fragment.strip():
        return ""
    from lxml import html

    return " ".join(html.fragment_fromstring(fragment, create_parent="div").text_content().split())
