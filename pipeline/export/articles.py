"""Per-article downloads: one small booklet per article, and a manifest.

A website links its download buttons to these files. Each article becomes a
book of its own, made from the article already rendered for the whole book:
nothing is parsed twice. By default in a compact form (one title page with
the notice at its foot, no cover page, no contents: `Book.compact`);
`[per-article] layout = "booklet"` keeps the book's full form (cover, title
page, notice, contents). `manifest.json` describes the book and each
article with their files, so a web back end need not guess names (schema:
`manifest.schema.json`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

from ..model import RenderedBook


def split_articles(rendered: RenderedBook) -> list[RenderedBook]:
    """One single-article book per article, titled after the article."""
    book, config = rendered.book, rendered.book.config
    singles = []
    for item in rendered.articles:
        article = item.article
        identity = config.identifier
        single_config = replace(
            config, title=article.title, subtitle=article.subtitle or config.title,
            authors=article.authors or config.authors, articles=(article.source_path.name,),
            identifier=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'pipeline:{identity}:{article.slug}')}",
            pdf_impose=False, cover="")
        single_book = replace(book, slug=article.slug, config=single_config, articles=(article,), cover=None,
                              compact=config.per_article_layout == "compact")
        singles.append(RenderedBook(book=single_book, articles=(replace(item, number=1),)))
    return singles


MANIFEST_SCHEMA_VERSION = 1
MANIFEST_SCHEMA = Path(__file__).with_name("manifest.schema.json")  # JSON Schema of manifest.json
MEDIA_TYPES = {"pdf": "application/pdf", "epub": "application/epub+zip"}


@dataclass(frozen=True)
class Written:
    """One file of a booklet, as the manifest describes it: staged now, at
    `final` once the build commits."""

    format: str  # "pdf" or "epub"
    staged: Path
    final: Path
    imposed: bool = False  # the two-up, saddle-stitch PDF


def write_manifest(target: Path, out_dir: Path, rendered: RenderedBook, book_files: list[Written],
                   article_files: list[list[Written]]) -> None:
    """Write `manifest.json` (see `manifest`) to `target`."""
    data = manifest(out_dir, rendered, book_files, article_files)
    target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def manifest(out_dir: Path, rendered: RenderedBook, book_files: list[Written],
             article_files: list[list[Written]]) -> dict:
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
    for order, (item, written) in enumerate(zip(rendered.articles, article_files, strict=True), start=1):
        article = item.article
        articles.append({"order": order, "slug": article.slug, "title": article.title,
                         "subtitle": article.subtitle, "summary": _plain(item.summary_html),
                         "authors": list(article.authors or config.authors),
                         "language": article.language or config.language, "files": files(written)})
    return {"schema_version": MANIFEST_SCHEMA_VERSION, "book": book, "articles": articles}


def _file(item: Written, out_dir: Path, base_url: str) -> dict:
    data = item.staged.read_bytes()
    path = item.final.relative_to(out_dir).as_posix()
    entry: dict[str, object] = {"path": path, "format": item.format, "media_type": MEDIA_TYPES[item.format],
                                "bytes": len(data)}
    if item.format == "pdf":
        entry["pages"] = _page_count(item.staged)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    if item.imposed:
        entry["imposed"] = True
    if base_url:
        entry["url"] = base_url.rstrip("/") + "/" + quote(path)
    return entry


def _page_count(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def _plain(fragment: str) -> str:
    """The text of a rendered XHTML fragment (the summary), for a web page
    to set as it likes."""
    if not fragment.strip():
        return ""
    from lxml import html

    return " ".join(html.fragment_fromstring(fragment, create_parent="div").text_content().split())
