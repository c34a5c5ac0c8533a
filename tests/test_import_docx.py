"""`pipeline import` of Word documents (.docx): headings, lists, tables,
footnotes, links and images become the Markdown of a manuscript, every
sentence as written, and the book builds to a clean EPUB. The documents are
written here, at run time, with python-docx (footnotes and a two-level list
through their XML, which python-docx has no call for)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from conftest import SEEDS, epub_documents, epubcheck_messages, normalize, png_bytes, seed_sentences

from pipeline.commands.cli import main
from pipeline.commands.importer import import_files
from pipeline.load.manuscripts import load_article

docx = pytest.importorskip("docx")  # python-docx, of the test extra

XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
NOTE = "The note text, with a source."
ODD = "Costs $5 and $10 in # shops, <b>not</b> here: *really* 1. not a list."


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()




def _footnotes(document, text: str) -> None:
    """A footnotes part holding one note (id 1), related to the document."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml.ns import nsdecls

    xml = (f'<w:footnotes {nsdecls("w")}>'
           '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
           '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r>'
           '</w:p></w:footnote>'
           f'<w:footnote w:id="1"><w:p><w:r><w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> {text}</w:t>'
           '</w:r></w:p></w:footnote></w:footnotes>')
    part = Part(PackURI("/word/footnotes.xml"),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
                xml.encode("utf-8"), document.part.package)
    document.part.relate_to(part, RT.FOOTNOTES)


def _list(document, items: list[tuple[str, int]], number_id: int = 90) -> None:
    """A bulleted list with nested levels (text, level 0 or 1)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    numbering = document.part.numbering_part.element
    if numbering.find(f".//{{*}}num[@{{*}}numId='{number_id}']") is None:
        levels = "".join(f'<w:lvl w:ilvl="{level}"><w:numFmt w:val="bullet"/><w:lvlText w:val="-"/></w:lvl>'
                         for level in (0, 1))
        numbering.insert(0, parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{number_id}">{levels}'
                                      '</w:abstractNum>'))
        numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{number_id}">'
                                   f'<w:abstractNumId w:val="{number_id}"/></w:num>'))
    for text, level in items:
        number = document.add_paragraph(text)._p.get_or_add_pPr().get_or_add_numPr()
        number.get_or_add_ilvl().val = level
        number.get_or_add_numId().val = number_id


def _link(paragraph, text: str, url: str) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    rid = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    paragraph._p.append(parse_xml(f'<w:hyperlink {nsdecls("w", "r")} r:id="{rid}"><w:r><w:t>{text}</w:t></w:r>'
                                  '</w:hyperlink>'))


def _every_feature(path: Path) -> Path:
    """A document with a title, a footnote, a section heading, a nested
    list, a numbered list, a link, a table, an image with alt text and a
    paragraph full of Markdown's syntax characters."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Inches

    document = docx.Document()
    document.add_heading("Sleep and the Body", level=1)
    paragraph = document.add_paragraph("Sleep restores the body. ")
    paragraph.add_run("It matters").bold = True
    paragraph.add_run(" more than most think.")
    _footnotes(document, NOTE)
    paragraph._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:footnoteReference w:id="1"/></w:r>'))
    document.add_heading("What happens at night", level=2)
    _list(document, [("First item", 0), ("A nested item", 1), ("Second item", 0)])
    document.add_paragraph("Step one", style="List Number")
    document.add_paragraph("Step two", style="List Number")
    paragraph = document.add_paragraph("Read more at ")
    _link(paragraph, "the sleep page", "https://example.org/sleep")
    paragraph.add_run(".")
    table = document.add_table(rows=3, cols=2)
    for row, cells in enumerate([("Stage", "Minutes"), ("Light", "20"), ("Deep | slow", "40")]):
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    document.add_picture(io.BytesIO(png_bytes((60, 40), (20, 90, 160))), width=Inches(2))
    document.inline_shapes[0]._inline.docPr.set("descr", "A blue square")
    document.add_paragraph(ODD)
    document.save(path)
    return path


def _body(manuscript: str) -> str:
    return manuscript.split("\n---\n", 1)[1].strip()


def test_a_word_document_becomes_a_manuscript_with_each_feature_in_markdown(tmp_path):
    source = _every_feature(tmp_path / "sleep.docx")
    written, diagnostics = import_files([source], tmp_path / "book", None, force=False)
    assert diagnostics == []  # the lone first heading is the title: no provisional one
    [image] = [p for p in written if p.parent.name == "images"]
    manuscript = written[1]
    assert [p.name for p in written[1:]] == ["01-sleep-and-the-body.md", "book.toml"]
    assert image.name.startswith("sleep-") and image.read_bytes() == png_bytes((60, 40), (20, 90, 160))
    text = manuscript.read_text("utf-8")
    assert text.startswith('---\n# imported from sleep.docx (fingerprint ')
    assert load_article(manuscript)[0].title == "Sleep and the Body"
    assert _body(text) == (
        "Sleep restores the body. **It matters** more than most think.[^1]\n\n"
        "## What happens at night\n\n"
        "- First item\n  - A nested item\n- Second item\n\n"
        "1. Step one\n2. Step two\n\n"
        "Read more at [the sleep page](https://example.org/sleep).\n\n"
        "| Stage | Minutes |\n| --- | --- |\n| Light | 20 |\n| Deep \\| slow | 40 |\n\n"
        f"![A blue square](images/{image.name})\n\n"
        "Costs \\$5 and \\$10 in \\# shops, \\<b\\>not\\</b\\> here: \\*really\\* 1\\. not a list.\n\n"
        f"[^1]: {NOTE}")


def test_the_imported_document_builds_to_a_clean_epub_with_its_note_table_image_and_every_sentence(tmp_path):
    source = _every_feature(tmp_path / "sleep.docx")
    book, out = tmp_path / "book", tmp_path / "out"
    code, _, err = _run("import", str(source), "--into", str(book))
    assert (code, err) == (0, "")
    code, _, err = _run("build", str(book), "--out", str(out), "--format", "epub", "--quiet")
    assert (code, err) == (0, "")
    [epub] = out.glob("*.epub")
    assert epubcheck_messages(epub) == []
    [article] = [root for name, root in epub_documents(epub).items() if name.endswith("sleep-and-the-body.xhtml")]
    [note] = [e for e in article.iter(f"{XHTML}aside") if e.get(EPUB_TYPE) == "footnote"]
    assert normalize("".join(note.itertext())).startswith(NOTE)
    assert [normalize("".join(cell.itertext())) for cell in article.iter(f"{XHTML}th", f"{XHTML}td")] == [
        "Stage", "Minutes", "Light", "20", "Deep | slow", "40"]
    [figure] = article.iter(f"{XHTML}figure")
    image = figure.find(f"{XHTML}img")
    assert image.get("alt") == "A blue square"
    with zipfile.ZipFile(epub) as archive:
        assert any(name.endswith(Path(image.get("src")).name) for name in archive.namelist())
    [link] = [a for a in article.iter(f"{XHTML}a") if a.get("href", "").startswith("https:")]
    assert (link.get("href"), link.text) == ("https://example.org/sleep", "the sleep page")
    nested = article.find(f".//{XHTML}ul/{XHTML}li/{XHTML}ul/{XHTML}li")
    assert normalize("".join(nested.itertext())) == "A nested item"
    text = normalize(" ".join(article.itertext()))
    for sentence in ("Sleep restores the body.", "It matters more than most think.", "Step two",
                     normalize(ODD)):  # each as written: nothing read as Markdown, math or HTML
        assert sentence in text, sentence


def test_a_document_without_a_title_gets_a_provisional_one_and_headings_one_level_down(tmp_path):
    document = docx.Document()
    document.add_paragraph("Tides follow the moon across every coast. The rest explains how.")
    document.add_heading("The moon", level=1)
    document.add_paragraph("Text one.")
    document.add_heading("The sun", level=1)
    document.add_heading("In winter", level=2)
    document.add_paragraph("Text two.")
    document.save(tmp_path / "tides.docx")
    written, [i004] = import_files([tmp_path / "tides.docx"], tmp_path / "book", None, force=False)
    assert i004.code == "I004" and "'Tides follow the moon across every coast'" in i004.message
    assert written[0].name == "01-tides-follow-moon-across.md"  # a provisional title's short slug
    assert re.findall(r"^#+ .*$", _body(written[0].read_text("utf-8")), re.M) == [
        "## The moon", "## The sun", "### In winter"]  # sections under the article's title


def test_a_word_title_style_and_subtitle_go_to_the_front_matter(tmp_path):
    document = docx.Document()
    document.add_paragraph("Notes on Tides", style="Title")
    document.add_paragraph("A field guide", style="Subtitle")
    document.add_heading("First", level=1)
    document.add_paragraph("Text.")
    document.save(tmp_path / "notes.docx")
    written, diagnostics = import_files([tmp_path / "notes.docx"], tmp_path / "book", None, force=False)
    assert diagnostics == []
    article, _ = load_article(written[0])
    assert (article.title, article.subtitle) == ("Notes on Tides", "A field guide")
    assert "## First" in article.body and "Notes on Tides" not in article.body


def test_a_word_document_imported_again_with_a_title_replaces_its_manuscript(tmp_path):
    source = _every_feature(tmp_path / "sleep.docx")
    book = tmp_path / "book"
    import_files([source], book, None, force=False)
    written, diagnostics = import_files([source], book, "Why We Sleep", force=False)
    assert diagnostics == [] and sorted(p.name for p in book.glob("*.md")) == ["01-why-we-sleep.md"]
    assert len(list((book / "images").iterdir())) == 1  # the same image is the same file


def test_a_file_that_is_no_word_document_is_i009_and_nothing_is_written(tmp_path):
    fake = tmp_path / "fake.docx"
    fake.write_bytes(b"This is plain text, not a zip.")
    written, [d] = import_files([fake], tmp_path / "book", None, force=False)
    assert written == [] and (d.code, d.path) == ("I009", fake) and d.is_error and "save it again" in d.hint
    assert not (tmp_path / "book").exists()
    empty = tmp_path / "empty.docx"
    docx.Document().save(empty)
    written, [d] = import_files([empty], tmp_path / "book", None, force=False)
    assert written == [] and d.code == "I002"


def test_an_image_no_book_can_show_is_left_out_with_a_warning(tmp_path):
    from pipeline.commands.word import _Images

    class Emf:
        content_type, alt_text = "image/x-emf", "A chart"

        def open(self):
            return io.BytesIO(b"\x01\x00\x00\x00 not an image Pillow reads")

    class Bmp:
        content_type, alt_text = "image/bmp", ""

        def open(self):
            from PIL import Image

            data = io.BytesIO()
            Image.new("RGB", (4, 4)).save(data, "BMP")
            data.seek(0)
            return data

    images = _Images("doc")
    assert images.save(Emf()) == {"src": ""}
    src = images.save(Bmp())["src"]
    assert src.startswith("images/doc-") and src.endswith(".png")  # a BMP becomes a PNG
    assert images.kept[src].startswith(b"\x89PNG")
    [d] = images.refused(Path("doc.docx"))
    assert d.code == "I010" and not d.is_error and "image/x-emf ('A chart')" in d.message


@pytest.fixture
def seeds() -> list[Path]:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not available")
    return sorted(SEEDS.glob("*.txt"))


def _seed_as_word(seed: Path, path: Path) -> Path:
    """The seed's article as a writer would have it in Word: its section
    titles as a bulleted list, then as Heading 2 paragraphs."""
    lines = [line for line in seed.read_text("utf-8").split("\n") if line.strip()]
    titles = {line[2:] for line in lines if line.startswith("- ")}
    document = docx.Document()
    for line in lines:
        if line.startswith("- "):
            document.add_paragraph(line[2:], style="List Bullet")
        elif line in titles:
            document.add_heading(line, level=2)
        else:
            document.add_paragraph(line)
    document.save(path)
    return path


def test_the_seeds_as_word_documents_keep_every_sentence_and_build_clean(seeds, tmp_path):
    documents = [_seed_as_word(seed, tmp_path / f"{seed.stem}.docx") for seed in seeds]
    book, out = tmp_path / "book", tmp_path / "out"
    code, _, err = _run("import", *map(str, documents), "--into", str(book))
    assert code == 0 and err.count("warning[I004]") == 2 and "error" not in err
    code, _, err = _run("build", str(book), "--out", str(out), "--format", "epub", "--quiet")
    assert (code, err) == (0, "")
    [epub] = out.glob("*.epub")
    assert epubcheck_messages(epub) == []
    text = normalize(" ".join(" ".join(root.itertext()) for root in epub_documents(epub).values()))
    assert [s for s in seed_sentences() if normalize(s) not in text] == []
    bodies = normalize(" ".join(_plain(manuscript) for manuscript in sorted(book.glob("*.md"))))
    assert [s for s in seed_sentences() if normalize(s) not in bodies] == []  # in the manuscripts as written


def _plain(manuscript: Path) -> str:
    """A manuscript's body with Markdown's backslash escapes and list and heading marks taken out."""
    text = re.sub(r"\\(.)", r"\1", _body(manuscript.read_text("utf-8")))
    return re.sub(r"(?m)^(- |## )", "", text)


def test_images_are_never_written_through_a_link_out_of_the_book(tmp_path):
    source = _every_feature(tmp_path / "sleep.docx")
    book, elsewhere = tmp_path / "book", tmp_path / "elsewhere"
    book.mkdir()
    elsewhere.mkdir()
    (book / "images").symlink_to(elsewhere)
    written, [d] = import_files([source], book, None, force=False)
    assert written == [] and d.code == "I007" and d.is_error and "outside the book" in d.message
    assert list(elsewhere.iterdir()) == [] and list(book.glob("*.md")) == []
