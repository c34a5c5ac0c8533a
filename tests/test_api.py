"""The library API as a web back end uses it: per-article downloads with a
manifest, and builds running at once in threads."""

from __future__ import annotations

import hashlib
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pypdf import PdfReader

from conftest import MANUSCRIPTS, epubcheck_messages
from pipeline import build


def test_per_article_booklets_and_manifest(tmp_path):
    out = tmp_path / "out"
    result = build(MANUSCRIPTS, out, per_article=True, jobs=2)
    assert result.diagnostics == (), [d.format() for d in result.diagnostics]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
    paths = {entry["path"] for entry in manifest}
    slugs = ["kratom-prolactin-and-muscle-soreness",
             "kratom-dosage-and-safety-for-muscle-soreness"]
    assert paths == {"kratom-and-muscle-soreness.pdf", "kratom-and-muscle-soreness.epub",
                     *(f"articles/{slug}.{kind}" for slug in slugs for kind in ("pdf", "epub"))}
    for entry in manifest:
        data = (out / entry["path"]).read_bytes()
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
        if entry["format"] == "pdf":
            reader = PdfReader(out / entry["path"])
            assert entry["pages"] == len(reader.pages) and entry["title"] == reader.metadata.title
    single = PdfReader(out / "articles" / f"{slugs[1]}.pdf")
    assert single.metadata.title == "Kratom for Muscle Soreness: Relief, Dopamine and Safe Dosage"
    assert [item.title for item in single.outline if not isinstance(item, list)][-1] == single.metadata.title
    assert epubcheck_messages(out / "articles" / f"{slugs[0]}.epub") == []
    assert set(result.outputs) == {out / p for p in paths} | {out / "manifest.json"}


def _small_book(root: Path, number: int) -> Path:
    book = root / f"book{number}"
    book.mkdir()
    (book / "book.toml").write_text(f'[book]\ntitle = "Book {number}"\ndate = "2026-01-0{number % 9 + 1}"\n',
                                    encoding="utf-8")
    (book / "a.md").write_text(f"---\ntitle: Article of book {number}\n---\n\n## Section\n\n"
                               + f"Text of book {number}. " * 200 + "\n", encoding="utf-8")
    return book


def test_eight_concurrent_builds_in_threads(tmp_path):
    books = [_small_book(tmp_path, n) for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda b: build(b, tmp_path / "out" / b.name), books))
    for number, result in enumerate(results):
        assert result.diagnostics == (), [d.format() for d in result.diagnostics]
        pdf, epub = result.outputs
        assert PdfReader(pdf).metadata.title == f"Book {number}"
        assert f"Text of book {number}." in PdfReader(pdf).pages[-1].extract_text()
        with zipfile.ZipFile(epub) as archive:
            assert archive.namelist()[0] == "mimetype"
            assert f"Text of book {number}.".encode() in archive.read("EPUB/text/article-of-book-"
                                                                      f"{number}.xhtml")
    # EPUBCheck takes seconds per file: judge the first and the last in full.
    assert epubcheck_messages(results[0].outputs[1]) == epubcheck_messages(results[-1].outputs[1]) == []


def test_exporters_run_after_those_providing_the_facts_they_use():
    from pipeline.export import PAGINATION, get_exporter, in_fact_order

    assert PAGINATION in get_exporter("pdf").provides and PAGINATION in get_exporter("epub").uses
    assert in_fact_order(("epub", "pdf")) == ("pdf", "epub")
    assert in_fact_order(("epub",)) == ("epub",) and in_fact_order(("pdf", "epub", "pdf")) == ("pdf", "epub")
