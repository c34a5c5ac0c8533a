"""The library API as a web back end uses it: per-article downloads with a
manifest, and builds running at once in threads."""

from __future__ import annotations

import hashlib
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pypdf import PdfReader

from conftest import epubcheck_messages, write_book
from pipeline import build


BASE_URL = "https://example.org/kratom/"


def test_per_article_booklets_and_manifest(book_dir, tmp_path):
    import tomllib

    from jsonschema import Draft202012Validator

    from pipeline.export.articles import MANIFEST_SCHEMA

    toml = book_dir / "book.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f'\n[site]\nbase-url = "{BASE_URL}"\n', encoding="utf-8")
    out = tmp_path / "out"
    result = build(book_dir, out, per_article=True, jobs=2)
    assert result.diagnostics == (), [d.format() for d in result.diagnostics]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    schema = json.loads(MANIFEST_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(manifest)] == []
    assert manifest["schema_version"] == 1

    config = tomllib.loads(toml.read_text(encoding="utf-8"))["book"]
    book = manifest["book"]
    assert {k: book[k] for k in ("title", "subtitle", "authors", "language", "identifier", "description")} == \
        {k: config[k] for k in ("title", "subtitle", "authors", "language", "identifier", "description")}
    assert [f["path"] for f in book["files"]] == ["kratom-and-muscle-soreness.pdf", "kratom-and-muscle-soreness.epub"]

    # Slugs from the file names, in reading order, with the front matter's words.
    slugs = ["kratom-prolactin-and-muscle-soreness", "kratom-dosage-and-safety-for-muscle-soreness"]
    articles = manifest["articles"]
    assert [(a["order"], a["slug"]) for a in articles] == [(1, slugs[0]), (2, slugs[1])]
    assert articles[0]["title"] == "How Kratom May Ease Muscle Soreness: The Prolactin Connection"
    assert articles[0]["summary"].startswith("Kratom, a natural compound found in Mitragyna speciosa native to")
    assert "\n" not in articles[0]["summary"] and "<" not in articles[0]["summary"]
    assert all(a["authors"] == ["The Editors"] and a["language"] == "en" for a in articles)

    entries = book["files"] + [f for a in articles for f in a["files"]]
    assert [f["path"] for a in articles for f in a["files"]] == \
        [f"articles/{slug}.{kind}" for slug in slugs for kind in ("pdf", "epub")]
    for entry in entries:
        data = (out / entry["path"]).read_bytes()
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["url"] == BASE_URL + entry["path"]
        if entry["format"] == "pdf":
            assert entry["media_type"] == "application/pdf"
            assert entry["pages"] == len(PdfReader(out / entry["path"]).pages) > 1
        else:
            assert entry["media_type"] == "application/epub+zip" and "pages" not in entry
    single = PdfReader(out / "articles" / f"{slugs[1]}.pdf")
    assert single.metadata.title == articles[1]["title"] == \
        "Kratom for Muscle Soreness: Relief, Dopamine and Safe Dosage"
    assert [item.title for item in single.outline if not isinstance(item, list)][-1] == single.metadata.title
    assert epubcheck_messages(out / "articles" / f"{slugs[0]}.epub") == []
    assert set(result.outputs) == {out / e["path"] for e in entries} | {out / "manifest.json"}
    # Caches in one place: the booklets' page-number guesses are not published with them.
    assert sorted(p.name for p in (out / ".pipeline-cache" / "articles").iterdir()) == \
        sorted(f"{kind}-{slug}.json" for slug in slugs for kind in ("made", "pages"))
    assert [p for p in (out / "articles").rglob("*") if p.suffix not in (".pdf", ".epub")] == []


def _article(title: str) -> str:
    return f"---\ntitle: {title}\nsummary: On {title.lower()}.\n---\n\n## A section\n\nText about {title}.\n"


def _files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and ".pipeline-cache" not in p.parts}


def test_retitled_articles_keep_their_files_and_gone_ones_are_removed(tmp_path):
    book = write_book(tmp_path / "book", '[book]\ntitle = "Harbour notes"\ndate = "2026-01-02"\n',
                      {"01-tides.md": _article("Reading the tides"), "02-knots.md": _article("Knots"),
                       "03-weather.md": _article("Weather")})
    out = tmp_path / "out"
    (out / "articles").mkdir(parents=True)
    mine = {"notes.txt": b"my notes", "articles/my-own.pdf": b"%PDF-1.4 mine", "old-book.pdf": b"%PDF mine"}
    for name, data in mine.items():
        (out / name).write_bytes(data)
    (out / "articles" / ".pipeline-cache").mkdir()  # where earlier versions kept page-number guesses
    (out / "articles" / ".pipeline-cache" / "pages-old.json").write_text("{}", encoding="utf-8")
    first = build(book, out, per_article=True, jobs=1)
    assert first.ok and first.removed == ()
    assert not (out / "articles" / ".pipeline-cache").exists()
    names = {"harbour-notes.pdf", "harbour-notes.epub", "manifest.json",
             *(f"articles/{slug}.{kind}" for slug in ("tides", "knots", "weather") for kind in ("pdf", "epub"))}
    assert _files(out) == names | set(mine)

    # A new title: new words, the same file names and URLs.
    (book / "01-tides.md").write_text(_article("How to read a tide table"), encoding="utf-8")
    second = build(book, out, per_article=True, jobs=1)
    assert second.ok and second.removed == () and _files(out) == names | set(mine)
    assert PdfReader(out / "articles" / "tides.pdf").metadata.title == "How to read a tide table"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    first_article = manifest["articles"][0]
    assert (first_article["slug"], first_article["title"]) == ("tides", "How to read a tide table")

    # Two articles gone and the book retitled: their files go at the next build,
    # except one the user replaced with a file of their own.
    (out / "articles" / "knots.epub").write_bytes(b"the user's own knots.epub")
    (book / "02-knots.md").unlink()
    (book / "03-weather.md").unlink()
    (book / "book.toml").write_text('[book]\ntitle = "Harbour notebook"\ndate = "2026-01-02"\n', encoding="utf-8")
    third = build(book, out, per_article=True, jobs=1)
    assert third.ok, [d.format() for d in third.diagnostics]
    gone = {"harbour-notes.pdf", "harbour-notes.epub", "articles/knots.pdf",
            "articles/weather.pdf", "articles/weather.epub"}
    assert {p.relative_to(out).as_posix() for p in third.removed} == gone
    assert _files(out) == {"harbour-notebook.pdf", "harbour-notebook.epub", "manifest.json",
                           "articles/tides.pdf", "articles/tides.epub", "articles/knots.epub"} | set(mine)
    for name, data in mine.items():
        assert (out / name).read_bytes() == data
    assert (out / "articles" / "knots.epub").read_bytes() == b"the user's own knots.epub"
    assert sorted(p.name for p in (out / ".pipeline-cache" / "articles").iterdir()) == ["made-tides.json", "pages-tides.json"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [a["slug"] for a in manifest["articles"]] == ["tides"] and "url" not in manifest["book"]["files"][0]

    # A build of one format without --per-article judges only what it makes:
    # the PDFs and the per-article files stay (and the next builds may still remove them).
    fourth = build(book, out, formats=("epub",))
    assert fourth.ok and fourth.removed == ()
    assert _files(out) == {"harbour-notebook.pdf", "harbour-notebook.epub", "manifest.json",
                           "articles/tides.pdf", "articles/tides.epub", "articles/knots.epub"} | set(mine)
    state = json.loads((out / ".pipeline-cache" / "state.json").read_text(encoding="utf-8"))
    assert set(state["outputs"]) == {"harbour-notebook.epub"}
    assert set(state["written"]) == {"harbour-notebook.pdf", "harbour-notebook.epub", "manifest.json",
                                     "articles/tides.pdf", "articles/tides.epub"}


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
            assert f"Text of book {number}.".encode() in archive.read("EPUB/text/a.xhtml")
    # EPUBCheck takes seconds per file: judge the first and the last in full.
    assert epubcheck_messages(results[0].outputs[1]) == epubcheck_messages(results[-1].outputs[1]) == []


def test_exporters_run_after_those_providing_the_facts_they_use():
    from pipeline.export import PAGINATION
    from pipeline.export.registry import get_exporter, in_fact_order

    assert PAGINATION in get_exporter("pdf").provides and PAGINATION in get_exporter("epub").uses
    assert in_fact_order(("epub", "pdf")) == ("pdf", "epub")
    assert in_fact_order(("epub",)) == ("epub",) and in_fact_order(("pdf", "epub", "pdf")) == ("pdf", "epub")
