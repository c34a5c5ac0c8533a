"""Per-article downloads: one small booklet per article, and a manifest.

A website links its download buttons to these files. Each article becomes a
book of its own, made from the article already rendered for the whole book:
nothing is parsed twice. By default in a compact form (one title page with
the notice at its foot, no cover page, no contents: `Book.compact`);
`[per-article] layout = "booklet"` keeps the book's full form (cover, title
page, notice, contents).
`manifest.json` lists every output so a web back end need not guess names.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace
from pathlib import Path

from ..model import RenderedBook
from ..output import StagedOutputs


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


def write_manifest(staged: StagedOutputs, out_dir: Path, target: Path) -> None:
    """List every staged output: path, format, title, bytes, pages, sha256."""
    entries = []
    for temporary, final in staged.pending():
        if final.suffix not in (".pdf", ".epub"):
            continue
        data = temporary.read_bytes()
        entry = {"path": final.relative_to(out_dir).as_posix(), "format": final.suffix[1:],
                 "title": _title(temporary, final), "bytes": len(data),
                 "sha256": hashlib.sha256(data).hexdigest()}
        if final.suffix == ".pdf":
            entry["pages"] = _page_count(temporary)
        entries.append(entry)
    entries.sort(key=lambda e: e["path"])
    target.write_text(json.dumps({"outputs": entries}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _page_count(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def _title(temporary: Path, final: Path) -> str:
    """The output's own title, read back from it (what a reader will see)."""
    if final.suffix == ".pdf":
        from pypdf import PdfReader

        return str((PdfReader(temporary).metadata or {}).get("/Title", ""))
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(temporary) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    title = opf.find(".//{http://purl.org/dc/elements/1.1/}title")
    return title.text if title is not None else ""
