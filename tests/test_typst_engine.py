"""The Typst engine (pipeline/export/typst): the same booklet as WeasyPrint's,
checked on the PDFs it writes (pypdf), with hostile text, and against the
WeasyPrint booklet of the same book."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from pipeline import build
from pipeline.build import BuildOptions
from pipeline.export.typst.markup import text

from conftest import ROOT, SHARED, write_book
from pdfglyphs import bad_glyphs

FIXTURES = ROOT / "tests" / "fixtures"
TYPST = BuildOptions(formats=("pdf",), pdf_engine="typst", cache=False)


def _typst(book: Path, out: Path, **options) -> Path:
    result = build(book, out, BuildOptions(**{**TYPST.__dict__, **options}))
    assert result.ok, [d.format() for d in result.diagnostics]
    return next(path for path in result.outputs if path.suffix == ".pdf")


def _bookmarks(reader: PdfReader) -> list[tuple[int, str, str]]:
    """(level, title, page label) of each bookmark, in order."""
    found = []

    def walk(items, level):
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                found.append((level, item.title, reader.page_labels[reader.get_destination_page_number(item)]))

    walk(reader.outline, 1)
    return found


@pytest.fixture(scope="module")
def features(tmp_path_factory) -> tuple[Path, Path]:
    """The features fixture by both engines."""
    out = tmp_path_factory.mktemp("features")
    typst = _typst(FIXTURES / "features", out / "typst")
    result = build(FIXTURES / "features", out / "weasyprint", BuildOptions(formats=("pdf",), cache=False))
    assert result.ok
    return typst, result.outputs[0]


def test_bookmarks_and_page_labels_match_weasyprint(features):
    typst, weasy = (PdfReader(path) for path in features)
    assert [(level, title) for level, title, _ in _bookmarks(typst)] == \
        [(level, title) for level, title, _ in _bookmarks(weasy)]
    labels = typst.page_labels
    front = labels.index("1")
    assert labels[:front] == ["i", "ii", "iii", "iv", "v", "vi"][:front] == weasy.page_labels[:front]
    assert labels[front:] == [str(n) for n in range(1, len(labels) - front + 1)]
    assert front % 2 == 0  # the first article on a recto


def _feet(pdf: Path) -> list[str]:
    """The text printed in each page's bottom margin (the folio, if any)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    feet = []
    for page in document:
        width, _ = page.get_size()
        feet.append(page.get_textpage().get_text_bounded(0, 0, width, 18 * 72 / 25.4).strip())
    return feet


def test_folios_are_printed_where_weasyprint_prints_them(features):
    """Roman folios on the front matter after the title page (none on the
    cover's back or the title page; the cover prints its authors low), none
    on an article's opener, its label on every other body page that has
    text: as print.css prints them."""
    for pdf in features:
        reader = PdfReader(pdf)
        labels, feet = reader.page_labels, _feet(pdf)
        front = labels.index("1")
        openers = {reader.get_destination_page_number(item) for item in reader.outline
                   if not isinstance(item, list)} - set(range(front))
        assert feet[1:3] == ["", ""], (pdf.parent.name, feet[1:3])
        assert feet[3:5] == labels[3:5] == ["iv", "v"], (pdf.parent.name, feet[3:5])
        assert openers and all(feet[index] == "" for index in openers), (pdf.parent.name, openers)
        body = [index for index in range(front, len(labels))
                if index not in openers and reader.pages[index].extract_text().strip()]
        assert body and all(feet[index] == labels[index] for index in body), \
            (pdf.parent.name, [(labels[i], feet[i]) for i in body if feet[i] != labels[i]])


def test_contents_numbers_are_the_bookmarks_pages(features):
    reader = PdfReader(features[0])
    contents = next(page.extract_text() for page in reader.pages if "Contents" in page.extract_text())
    printed = dict(re.findall(r"^(.+?)[ .]*\.\s*(\d+)$", contents, flags=re.MULTILINE))
    bookmarks = {title: label for level, title, label in _bookmarks(reader) if level <= 2 and title != "Contents"
                 and label.isdigit()}
    assert bookmarks and {title.strip(): number for title, number in printed.items()} == bookmarks


def test_footnotes_at_the_foot_of_the_page_of_their_call(features):
    reader = PdfReader(features[0])
    calls = {"exercise.1": "The term is usually shortened", "rises and falls.3": "Synthetic data",
             "one footnote.1": "The only note of this article"}
    for call, note in calls.items():
        pages = [page.extract_text() for page in reader.pages]
        page = next(text for text in pages if call in text)
        assert note in page and page.index(note) > page.index(call)


def test_tagged_pdf_ua(features):
    reader = PdfReader(features[0])
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "en"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()
    assert reader.metadata.title == "Features Fixture"


def test_no_tofu_and_images_placed(features):
    bad, _ = bad_glyphs(features[0])  # (it reads Type0 fonts only: Typst's Latin faces are not among them)
    assert bad == []
    body = "".join(page.extract_text() for page in PdfReader(features[0]).pages)
    assert "Soreness (0–10)" in body and "“Every feature a booklet must set well, on a few pages.”" in body
    assert any(page.images for page in PdfReader(features[0]).pages)


def test_reproducible_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = _typst(FIXTURES / "features", tmp_path / "a").read_bytes()
    second = _typst(FIXTURES / "features", tmp_path / "b").read_bytes()
    assert first == second
    assert b"D:20231114" in first  # the creation date is the epoch's


def test_cross_references_print_their_page(tmp_path):
    reader = PdfReader(_typst(FIXTURES / "rich", tmp_path))
    body = "\n".join(page.extract_text() for page in reader.pages)
    assert re.search(r"Figure 1, page \d", body) and re.search(r"Table 2, page \d", body)
    assert len(reader.pages) > 8


HOSTILE = """---
title: "#include \\"/etc/passwd\\" *bold*"
summary: "#panic(\\"x\\") ] ) [ \\\\"
---
Before #read("/etc/passwd") and #import "@preview/cetz:0.2.0": * and $x^2$ and <lbl> @ref.

= not a heading

/ term: not a term

`#eval("1+1")` and // comment /* block */ ~ -- ... \\ end.

Note call[^1].

[^1]: #read("/etc/passwd") ] ) [.
"""


def test_hostile_text_is_text(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "#read(\\"/etc/passwd\\") $x$"\nlanguage = "en"\n')
    (book / "01-a.md").write_text(HOSTILE)
    reader = PdfReader(_typst(book, tmp_path / "out"))
    body = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(body.split())
    for shown in ('#read("/etc/passwd")', '#import "@preview/cetz:0.2.0": *', "$x$", "= not a heading",
                  "// comment /* block */ ~ -- ...", '#eval("1+1")', "#panic"):
        assert shown.replace('"', "") in flat.replace('"', "").replace("“", "").replace("”", ""), shown
    assert "root:" not in body


def test_text_escapes_every_sign():
    assert text('#a $b *c _d `e <f> @g [h] \\i /j =k -l +m') == \
        r'\#a \$b \*c \_d \`e \<f\> \@g \[h\] \\i \/j \=k \-l \+m'


def test_print_files_refused_not_dropped(tmp_path):
    result = build(FIXTURES / "features", tmp_path, BuildOptions(formats=("pdf",), pdf_engine="typst",
                                                                 print_profile="generic", cache=False))
    assert not result.ok
    assert any(d.code == "X009" and "print" in d.message for d in result.diagnostics)


def test_book_print_css_refused_located(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(FIXTURES / "features", book)
    (book / "styles").mkdir()
    (book / "styles" / "print.css").write_text("body { color: red }\n")
    result = build(book, tmp_path / "out", TYPST)
    problems = [d for d in result.diagnostics if d.code == "X009"]
    assert not result.ok and problems and problems[0].path.name == "print.css"


def test_a_new_books_print_css_of_comments_only_does_not_stop_typst(tmp_path):
    """`pipeline new` writes a styles/print.css that is all comments: it asks
    nothing of WeasyPrint, so the Typst engine builds the book (the guide's
    `pipeline build my-book --engine typst`); one real rule refuses it again."""
    from pipeline.commands.cli import main

    assert main(["new", str(tmp_path / "my-book")]) == 0
    css = tmp_path / "my-book" / "styles" / "print.css"
    assert css.is_file() and "{" in css.read_text(encoding="utf-8")  # its examples, commented out
    result = build(tmp_path / "my-book", tmp_path / "out", TYPST)
    assert result.ok and not [d for d in result.diagnostics if d.code == "X009"], [d.format() for d in result.diagnostics]
    css.write_text(css.read_text(encoding="utf-8") + "\n:root { --accent: #2a6f97; }\n", encoding="utf-8")
    result = build(tmp_path / "my-book", tmp_path / "out2", TYPST)
    assert not result.ok and [d.path for d in result.diagnostics if d.code == "X009"] == [css]


@pytest.mark.parametrize("fixture", ["rtl", "cjk"])
def test_scripts_without_tofu(fixture, tmp_path):
    pdf = _typst(FIXTURES / fixture, tmp_path)
    bad, _ = bad_glyphs(pdf)
    assert bad == []
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    body = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    source = "".join(path.read_text() for path in sorted((FIXTURES / fixture).glob("*.md")))
    letters = {c for c in source if c.isalpha() and ord(c) > 0x5FF}
    assert letters and len(letters & set(body)) > 0.9 * len(letters)


@pytest.mark.parametrize("folder", ["ar", "ja", "fa"])
def test_world_stories(folder, tmp_path):
    source = SHARED / "corpus-world" / folder
    if not source.is_dir():
        pytest.skip("../shared/corpus-world is not available")
    book = tmp_path / "book"
    shutil.copytree(source, book)
    language = {"ja": "ja"}.get(folder, folder)
    (book / "book.toml").write_text(f'[book]\ntitle = "World {folder}"\nlanguage = "{language}"\n')
    pdf = _typst(book, tmp_path / "out")
    bad, _ = bad_glyphs(pdf)
    assert bad == []
    assert PdfReader(pdf).trailer["/Root"]["/Lang"].startswith(folder[:2])


@pytest.mark.parametrize("source", [FIXTURES / "features", ROOT / "manuscripts", FIXTURES / "rich"],
                         ids=["features", "seed", "rich"])
def test_epub_page_list_is_the_typst_pdfs_folios(source, tmp_path):
    """The EPUB's page-list comes from the PDF that was built: with Typst,
    each marker's text is on the PDF page of its label (to within the line
    where the page begins: markers are at most BREAK_STEP letters apart)."""
    from test_epub import _marker_texts, _pdf_pages

    from conftest import epubcheck_messages

    result = build(source, tmp_path, BuildOptions(pdf_engine="typst", cache=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    pdf, epub = (next(p for p in result.outputs if p.suffix == suffix) for suffix in (".pdf", ".epub"))
    pages, markers = _pdf_pages(pdf), _marker_texts(epub)
    body_labels = [label for label in PdfReader(pdf).page_labels if label.isdigit()]
    assert [label for label, _ in markers] == body_labels  # every body page, in order, once
    for label, following in markers:
        first_words = " ".join(following.split()[:4])
        page = pages[label] or pages[str(int(label) + 1)]  # a blank verso: its marker is the next page's
        assert f" {first_words}" in f" {page}"[:400], (label, first_words, page[:200])
    assert epubcheck_messages(epub) == []


@pytest.mark.parametrize(("language", "direction"), [("ar", "/R2L"), ("ckb", "/R2L"), ("pa", "/L2R"), ("en", "/L2R")])
def test_reading_direction_is_the_books(language, direction, tmp_path, monkeypatch):
    """/ViewerPreferences /Direction follows our direction of the book's
    language, also where Typst's own guess differs (ckb: right to left;
    pa, Gurmukhi: left to right), and the bytes stay reproducible."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book = tmp_path / "book"
    shutil.copytree(FIXTURES / "rtl", book)
    (book / "book.toml").write_text(f'[book]\ntitle = "T"\nlanguage = "{language}"\n')
    first = _typst(book, tmp_path / "a")
    root = PdfReader(first).trailer["/Root"]
    assert root["/ViewerPreferences"]["/Direction"] == direction
    assert "/StructTreeRoot" in root  # still tagged
    assert first.read_bytes() == _typst(book, tmp_path / "b").read_bytes()


def test_a_character_no_font_draws_is_located(tmp_path):
    """A tagged PDF may not show a box: Typst refuses the book, and the
    message names the manuscript, line and column of the character."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "T"\nlanguage = "en"\n')
    (book / "01-a.md").write_text("---\ntitle: A\n---\nText.\n\nLinear B: \U00010000 here.\n", encoding="utf-8")
    result = build(book, tmp_path / "out", TYPST)
    [problem] = [d for d in result.diagnostics if d.code == "X001"]
    assert not result.ok and problem.path.name == "01-a.md" and (problem.line, problem.column) == (6, 11)
    assert "\U00010000" in problem.message and "styles/fonts" in problem.hint


def test_skipped_heading_levels_still_tagged(tmp_path):
    """PDF/UA-1 forbids a skipped heading level: `###` under the title is set one level down."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "T"\nlanguage = "en"\n')
    (book / "01-a.md").write_text("---\ntitle: A\n---\n#### Deep\n\nText.\n\n## Two\n\n##### Deeper\n\nMore.\n")
    reader = PdfReader(_typst(book, tmp_path / "out"))
    body = "\n".join(page.extract_text() for page in reader.pages)
    assert "Deep" in body and "Deeper" in body and "/StructTreeRoot" in reader.trailer["/Root"]


def test_imposition_with_typst(tmp_path):
    """--impose takes the Typst booklet's pages two-up, in saddle-stitch order."""
    result = build(FIXTURES / "features", tmp_path, BuildOptions(formats=("pdf",), pdf_engine="typst", impose=True,
                                                                 cache=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    booklet = PdfReader(next(p for p in result.outputs if not p.stem.endswith("-imposed")))
    imposed = PdfReader(next(p for p in result.outputs if p.stem.endswith("-imposed")))
    assert len(imposed.pages) == 2 * -(-len(booklet.pages) // 4)
    sheet, page = imposed.pages[0].mediabox, booklet.pages[0].mediabox
    assert (round(float(sheet.width)), round(float(sheet.height))) == \
        (round(2 * float(page.width)), round(float(page.height)))
    assert "Typst" in (booklet.metadata.get("/Creator") or "")


def test_per_article_downloads_with_typst(tmp_path):
    """--per-article: each article's PDF by the book's engine (Typst, tagged),
    its EPUB's page-list from that PDF, EPUBCheck-clean."""
    from conftest import epubcheck_messages
    from test_epub import _marker_texts

    result = build(FIXTURES / "features", tmp_path, BuildOptions(pdf_engine="typst", per_article=True, cache=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    articles = sorted((tmp_path / "articles").glob("*.pdf"))
    assert len(articles) == 2
    for pdf in articles:
        reader = PdfReader(pdf)
        assert "Typst" in reader.metadata["/Creator"] and "/StructTreeRoot" in reader.trailer["/Root"]
        assert reader.page_labels == [str(n) for n in range(1, len(reader.pages) + 1)]
        epub = pdf.with_suffix(".epub")
        assert [label for label, _ in _marker_texts(epub)] == reader.page_labels
        assert epubcheck_messages(epub) == []


def test_cluster_build_with_typst_gives_a_local_builds_bytes(tmp_path):
    """The per-article booklets made on a Dask cluster's workers with Typst
    are the bytes a local build makes."""
    from test_cluster import Cluster

    book = tmp_path / "book"
    shutil.copytree(FIXTURES / "features", book)
    local = build(book, tmp_path / "local", BuildOptions(pdf_engine="typst", per_article=True, cache=False))
    running = Cluster(tmp_path, [{}, {}])
    try:
        remote = build(book, tmp_path / "remote", BuildOptions(pdf_engine="typst", per_article=True, cache=False,
                                                               scheduler=running.address))
    finally:
        running.stop()
    assert local.ok and remote.ok, [d.format() for d in remote.diagnostics]
    assert remote.articles.workers == 2

    def files(out: Path) -> dict[str, bytes]:
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
                if p.is_file() and ".pipeline-cache" not in p.parts}

    assert files(tmp_path / "local") == files(tmp_path / "remote")
    assert "Typst" in PdfReader(tmp_path / "remote" / "articles" / "second.pdf").metadata["/Creator"]


@pytest.mark.parametrize("output", ["print", "cover"])
def test_print_files_refused_at_the_engine_line(output, tmp_path):
    """[pdf] engine = "typst" in book.toml: X009 names its line."""
    book = tmp_path / "book"
    shutil.copytree(FIXTURES / "features", book)
    toml = (book / "book.toml").read_text(encoding="utf-8")
    (book / "book.toml").write_text(toml + '\n[pdf]\nengine = "typst"\n', encoding="utf-8")
    result = build(book, tmp_path / "out", BuildOptions(formats=(output,), print_profile="generic", cache=False))
    problems = [d for d in result.diagnostics if d.code == "X009"]
    assert not result.ok and any(f"({output}:" in d.message for d in problems)
    assert all(d.path.name == "book.toml" and d.line == toml.count("\n") + 3 and "[pdf] engine" in d.message
               for d in problems)


def _compile_processes() -> list[int]:
    """Typst compile processes (export/typst/compiler.py) this test's process started."""
    import os

    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if "pipeline.export.typst.compiler" in command and parent == os.getpid():
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc (Linux)")
def test_the_compile_process_started_early_is_used_or_ended(tmp_path):
    """The compile process a Typst build starts before reading the book
    (compiler.standby) compiles the booklet; where the book cannot be built
    or is an EPUB only, it is ended with the build, never left running."""
    book = tmp_path / "book"
    shutil.copytree(FIXTURES / "features", book)
    pdf = _typst(book, tmp_path / "out")
    assert PdfReader(pdf).pages and _compile_processes() == []
    (book / "book.toml").write_text("[book\ntitle = 'broken'\n", encoding="utf-8")
    result = build(book, tmp_path / "out2", BuildOptions(**{**TYPST.__dict__}))
    assert not result.ok and any(d.code == "C001" for d in result.diagnostics)
    assert _compile_processes() == []
    (book / "book.toml").write_text("[book]\ntitle = 'T'\n[pdf]\nengine = 'typst'\n", encoding="utf-8")
    result = build(book, tmp_path / "out3", BuildOptions(formats=("epub",), cache=False))
    assert result.ok and _compile_processes() == []


def test_a_book_folders_python_files_never_run_in_the_helper_processes(tmp_path):
    """A build run inside a book folder (`pipeline build .`) starts its
    helper processes (the language ranker, Typst's compile) without the
    working folder on their import path: a book's json.py, numpy/ or
    typst.py is text in a folder, never code."""
    import subprocess
    import sys

    book = tmp_path / "book"
    shutil.copytree(ROOT / "manuscripts", book)
    marker = tmp_path / "ran"
    for name in ("json.py", "typst.py", "numpy.py"):
        (book / name).write_text(f"open({str(marker)!r}, 'a').write({name!r})\n", encoding="utf-8")
    command = Path(sys.executable).parent / "pipeline"  # the console script, as a user runs it
    if not command.is_file():
        pytest.skip("the pipeline command is not installed beside this Python")
    done = subprocess.run([str(command), "build", ".", "--out", str(tmp_path / "out"), "--engine", "typst",
                           "--format", "pdf", "--quiet"], cwd=book, capture_output=True, text=True, timeout=300)
    assert not marker.exists(), marker.read_text()
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_compile_process_that_fails_says_what_it_said_not_memory(tmp_path):
    """A compile process that ends without a PDF for another reason than
    memory (here: a function that raises) is reported with the last line it
    wrote, not as the memory ceiling (X008), which the template test above
    still gets."""
    from pipeline.export.typst.compiler import Stopped, run
    from pipeline.standby import Standby

    with pytest.raises(RuntimeError) as failed:
        run(tmp_path, {}, 30, Standby("json:loads"))  # json.loads() without its argument: a TypeError
    assert "ended without a PDF (exit status 1: TypeError" in str(failed.value), str(failed.value)
    with pytest.raises(Stopped) as stopped:
        run(tmp_path, {}, 30, Standby("os:abort"))  # as Rust does when an allocation fails
    assert stopped.value.code == "X008"


def test_a_pdf_alone_is_typeset_without_page_break_markers_and_the_same_pages(tmp_path):
    """The markers that find where pages break serve only the EPUB's
    page-list: a PDF built alone is written without them (ExportContext.wanted),
    and its pages are the same as those of a PDF built beside an EPUB."""
    from pipeline.export.typst.document import document
    from pipeline.export.typst.exporter import template_text
    from pipeline.export.typst.markup import BREAK_LABEL
    from pipeline.render.prepare import prepare

    alone = _typst(FIXTURES / "features", tmp_path / "alone")
    result = build(FIXTURES / "features", tmp_path / "both", BuildOptions(pdf_engine="typst", cache=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    beside = next(path for path in result.outputs if path.suffix == ".pdf")
    pages = [[page.extract_text() for page in PdfReader(pdf).pages] for pdf in (alone, beside)]
    assert pages[0] == pages[1] and len(pages[0]) > 5
    assert PdfReader(alone).page_labels == PdfReader(beside).page_labels
    rendered, _ = prepare(FIXTURES / "features")
    template, _ = template_text(rendered)
    marker = f"<{BREAK_LABEL}>"
    assert marker in document(rendered, template).source
    assert marker not in document(rendered, template, breaks=False).source


@pytest.mark.parametrize(("words", "started", "compiled"), [
    (("--engine", "typst", "--format", "pdf"), 1, True),
    (("--engine=typst", "--format", "epub"), 1, False),
    (("--format", "pdf"), 0, False),
], ids=["typst-pdf", "typst-epub-only", "weasyprint"])
def test_the_command_starts_typst_at_once_and_the_build_adopts_or_ends_it(words, started, compiled, tmp_path,
                                                                         monkeypatch):
    """`pipeline build --engine typst` starts Typst's compile process before
    its own imports (commands.entry): the build compiles in that one, and
    starts no second; an EPUB alone ends it unused; a build that does not
    name Typst starts none there."""
    import pipeline.export.typst.compiler as compiler
    from pipeline.commands import entry

    made = []
    original = compiler.standby
    monkeypatch.setattr(compiler, "standby", lambda: made.append(original()) or made[-1])
    monkeypatch.setattr("sys.argv", ["pipeline", "build", str(ROOT / "manuscripts"), "--out", str(tmp_path / "out"),
                                     "--quiet", "--no-cache", *words])
    assert entry.main() == 0
    assert len(made) == started
    for process in made:
        assert process.told and process.process.wait(timeout=60) is not None
        assert (process.process.returncode == 0) == compiled  # it compiled the PDF, or was killed unused


def test_an_image_without_alt_text_is_printed_as_decoration(tmp_path):
    """A website's `<img>` or `![](x.png)` often has no alt text: the build
    warns (R003) and Typst prints the image as decoration (an artifact, as
    alt="" means in HTML); PDF/UA, which refuses a figure without words,
    no longer fails the book."""
    from PIL import Image

    book = tmp_path / "book"
    book.mkdir()
    for shade in range(4):
        Image.new("RGB", (120, 60), (200, 40 * shade, 40)).save(book / f"{shade}.png")
    (book / "book.toml").write_text('[book]\ntitle = "Pictures"\n', encoding="utf-8")
    (book / "one.md").write_text("---\ntitle: One\n---\n\nBefore.\n\n![](0.png)\n\nInline ![](1.png) too, "
                                 "and <img src=\"2.png\"> in HTML.\n\n![A red box](3.png)\n", encoding="utf-8")
    result = build(book, tmp_path / "out", BuildOptions(**{**TYPST.__dict__}))
    assert result.ok, [d.format() for d in result.diagnostics]
    assert sum(d.code == "R003" for d in result.diagnostics) == 3
    reader = PdfReader(result.outputs[0])
    images = [image for page in reader.pages for image in page.images]
    assert len(images) == 4  # all printed, the described one among them
    assert "/StructTreeRoot" in reader.trailer["/Root"]


def test_a_heading_of_an_image_alone_is_printed_not_refused(tmp_path):
    """`## ![Logo](logo.png)` (a site's section headed by a picture) has no
    words to title it: it is printed as a block, not as a heading, which
    Typst's PDF/UA refused for the whole book ("heading title is empty")."""
    from PIL import Image

    book = tmp_path / "book"
    book.mkdir()
    Image.new("RGB", (80, 40), (30, 90, 160)).save(book / "logo.png")
    (book / "book.toml").write_text('[book]\ntitle = "Headings"\n', encoding="utf-8")
    (book / "one.md").write_text("---\ntitle: One\n---\n\nIntro.\n\n## ![Logo](logo.png)\n\nUnder the logo.\n\n"
                                 "### [](https://example.com)\n\nUnder nothing.\n\n## Words\n\nEnd.\n", encoding="utf-8")
    result = build(book, tmp_path / "out", BuildOptions(**{**TYPST.__dict__}))
    assert result.ok, [d.format() for d in result.diagnostics]
    reader = PdfReader(result.outputs[0])
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Under the logo." in text and "Under nothing." in text and "Words" in text
    assert sum(len(page.images) for page in reader.pages) == 1


def test_a_mistake_in_the_books_own_typst_template_is_located_there(tmp_path):
    """A book's own styles/typst/booklet.typ with an unknown name: X001 at
    that file, at the line and column Typst gives (not at book.toml); with an
    `opener` that takes other arguments than main.typ passes, X001 names the
    template and the manuscript whose markup called it."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "T"\nlanguage = "en"\n')
    (book / "01-a.md").write_text("---\ntitle: A\n---\nText.\n", encoding="utf-8")
    ours = (ROOT / "styles" / "typst" / "booklet.typ").read_text(encoding="utf-8")
    wrong = "  set par(justify: nonsense,"
    own = book / "styles" / "typst" / "booklet.typ"
    own.parent.mkdir(parents=True)
    own.write_text(ours.replace("  set par(justify: true,", wrong, 1), encoding="utf-8")
    line = own.read_text(encoding="utf-8").split("\n").index(next(
        text for text in own.read_text(encoding="utf-8").split("\n") if text.startswith(wrong))) + 1
    result = build(book, tmp_path / "out", TYPST)
    [problem] = [d for d in result.diagnostics if d.code == "X001"]
    assert not result.ok and problem.path == own and (problem.line, problem.column) == (line, len("  set par(justify: ") + 1)
    assert "unknown variable: nonsense" in problem.message and "booklet.typ" in problem.hint

    own.write_text(ours.replace("#let opener(book, info, title, brief, pull, sections) =",
                                "#let opener(book, info) =", 1), encoding="utf-8")
    result = build(book, tmp_path / "out", TYPST)
    [problem] = [d for d in result.diagnostics if d.code == "X001"]
    assert not result.ok and problem.path == own and "01-a.md" in problem.message
    assert "opener" in problem.hint


def _narrow_table_book(folder: Path, columns: int, first: str, rest: str) -> Path:
    """A book of one article holding a table of `columns` columns on A5: `first` in the first
    cell of its one row, `rest` in the others."""
    table = ("| " + " | ".join(f"Col {i}" for i in range(columns)) + " |\n|" + "---|" * columns + "\n"
             + f"| {first} | " + " | ".join([rest] * (columns - 1)) + " |\n")
    return write_book(folder, '[book]\ntitle = "T"\nlanguage = "en"\n',
                      {"01-a.md": f"---\ntitle: A\n---\n\nA table.\n\n{table}\nAfter.\n"})


def test_a_long_word_in_a_narrow_table_cell_breaks_inside_its_cell(tmp_path):
    """Ten columns on A5 and a word longer than its column: Typst hyphenates
    it inside its cell, as print.css does (tables are set ragged, which in
    Typst also turned hyphenation off: the word overprinted the next cell)."""
    import pypdfium2 as pdfium

    book = _narrow_table_book(tmp_path / "book", 10, "supercalifragilisticexpialidocious", "end")
    result = build(book, tmp_path / "out", TYPST)
    assert result.ok, [d.format() for d in result.diagnostics]
    document = pdfium.PdfDocument(result.outputs[0])
    [page] = [document[i] for i in range(len(document)) if "supercal" in document[i].get_textpage().get_text_range()]
    text = page.get_textpage()
    whole = text.get_text_range()
    start = whole.index("supercal")
    letters = [i for i in range(start, len(whole)) if whole[i].isalpha()][:len("supercalifragilisticexpialidocious")]
    word = [text.get_charbox(i) for i in letters]  # on one line or two, a hyphen between
    after = whole.index("end", letters[-1])
    first_end = text.get_charbox(after)
    assert max(box[2] for box in word) < first_end[0], "the long word runs into the next cell"


@pytest.mark.parametrize("engine", ["weasyprint", "typst"])
def test_a_web_address_in_a_narrow_cell_breaks_without_a_hyphen(engine, tmp_path):
    """Eight columns, an address in the first: it breaks at its slashes or anywhere, never with
    a hyphen put in ("ht-tps://ex-ample.org/light-house" reads as another address)."""
    book = _narrow_table_book(tmp_path / "book", 8, "https://example.org/observatory/lighthouse/station", "x")
    result = build(book, tmp_path / "out", BuildOptions(formats=("pdf",), pdf_engine=engine, cache=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    text = "".join(page.extract_text() for page in PdfReader(result.outputs[0]).pages).replace("\n", "")
    assert "https://example.org/observatory/lighthouse/station" in text
