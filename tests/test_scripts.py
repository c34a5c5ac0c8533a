"""Every script drawn with the project's fonts, right-to-left books set right
to left, CJK lines inside the text block: read back from real builds of
fixtures written for these tests (PDF glyphs and fonts with pypdf and
fontTools, positions with pypdfium2, the EPUB with EPUBCheck)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from conftest import epub_documents, epubcheck_messages, glyphs_outside_the_text_block
from pdfglyphs import bad_glyphs
from pipeline import build, fonts as fonts_module
from pipeline.commands.check import check_book

FIXTURES = Path(__file__).parent / "fixtures"
from conftest import MM  # noqa: E402  (points per millimetre)
XHTML = "{http://www.w3.org/1999/xhtml}"


def _build(name: str, out: Path, **options):
    result = build(FIXTURES / name, out, **options)
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    return {path.suffix if "imposed" not in path.name else "imposed": path for path in result.outputs}


@pytest.fixture(scope="session")
def scripts_book(tmp_path_factory):
    return _build("scripts", tmp_path_factory.mktemp("scripts"))


@pytest.fixture(scope="session")
def rtl_book(tmp_path_factory):
    return _build("rtl", tmp_path_factory.mktemp("rtl"))


@pytest.fixture(scope="session")
def cjk_book(tmp_path_factory):
    return _build("cjk", tmp_path_factory.mktemp("cjk"))


def _font_names(pdf: Path) -> set[str]:
    names = set()
    for page in PdfReader(pdf).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


def test_every_script_is_drawn_with_a_real_glyph_of_the_projects_fonts(scripts_book):
    bad, checked = bad_glyphs(scripts_book[".pdf"])
    assert bad == [] and checked > 500, (bad[:5], checked)
    names = _font_names(scripts_book[".pdf"])
    for group in ("cjk", "devanagari", "bengali", "thai", "myanmar", "khmer", "tibetan", "tamil", "hebrew",
                  "arabic", "emoji"):
        assert any(name.endswith(group) or f"-{group}-" in name or f"-{group}" in name for name in names), \
            (group, names)
    assert epubcheck_messages(scripts_book[".epub"]) == []


@pytest.mark.parametrize("language", ["ja", "zh-Hant"])
def test_quotes_the_renderer_adds_are_drawn_by_the_cjk_face(tmp_path, language):
    """Straight quotes become 「」 in Japanese and Traditional Chinese: they
    are not in the manuscript, yet the CJK face (subset to the book's text)
    must hold them."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text(f'[book]\ntitle = "引用"\nlanguage = "{language}"\n', encoding="utf-8")
    (book / "01-a.md").write_text('---\ntitle: 引用\n---\n\n彼は"こんにちは"と言った。\n', encoding="utf-8")
    result = build(book, tmp_path / "out", formats=("pdf",))
    assert result.ok and not [d for d in result.diagnostics if d.code in ("R007", "X001")]
    assert "「こんにちは」" in "".join(page.extract_text() for page in PdfReader(result.outputs[0]).pages)
    bad, checked = bad_glyphs(result.outputs[0])
    assert bad == [] and checked > 10, bad


def test_the_glyph_check_finds_a_box(tmp_path):
    """A character no font has (private use) is drawn as a box: the check
    sees it, and the build says which character and where."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Box"\n', encoding="utf-8")
    (book / "01-a.md").write_text("---\ntitle: A\n---\n\nA box: \ue000.\n", encoding="utf-8")
    result = build(book, tmp_path / "out", formats=("pdf",))
    # one R007 with its place; WeasyPrint's own per-glyph warning is folded into it
    assert [(d.code, d.line, d.column) for d in result.diagnostics] == [("R007", 5, 8)]
    assert "U+E000" in result.diagnostics[0].message
    bad, _ = bad_glyphs(result.outputs[0])
    assert len(bad) == 1, bad  # .notdef, or a glyph id the embedded font does not have


def test_epub_embeds_subsets_of_the_script_fonts(scripts_book, cjk_book):
    with zipfile.ZipFile(cjk_book[".epub"]) as archive:
        fonts = {Path(n).name: len(archive.read(n)) for n in archive.namelist() if "/fonts/" in n}
    assert "NotoSerifCJK-Regular-sc.otf" in fonts  # the Simplified Chinese face, for zh-Hans
    # subsets of a few hundred characters, not the 20 MB faces of the collection
    assert all(size < 150_000 for size in fonts.values()), fonts
    assert cjk_book[".epub"].stat().st_size < 400_000
    css = zipfile.ZipFile(cjk_book[".epub"]).read("EPUB/style/book.css").decode()
    assert 'src: url(../fonts/NotoSerifCJK-Regular-sc.otf)' in css and "unicode-range: U+" in css
    ranges = "".join(re.findall(r"unicode-range:[^;]*;", css))
    assert len(ranges) < 20_000  # unicode-range lists the characters the book uses, not the face's 40,000
    assert epubcheck_messages(cjk_book[".epub"]) == []


def test_cjk_faces_follow_the_language():
    assert fonts_module.cjk_face("ja") == 0 and fonts_module.cjk_face("ko") == 1
    assert fonts_module.cjk_face("zh-Hans") == fonts_module.cjk_face("zh") == 2
    assert fonts_module.cjk_face("zh-Hant") == fonts_module.cjk_face("zh-TW") == 3
    assert fonts_module.cjk_face("yue") == 4


def test_missing_font_packages_give_one_warning_per_script(monkeypatch, tmp_path):
    """Without the Noto folders, each script is one R007 naming the package,
    the count and the first three places; under --strict the build fails."""
    monkeypatch.setattr(fonts_module, "FONT_DIRS", (tmp_path,))
    fonts_module.plan_fonts.cache_clear()
    try:
        found = [d for d in check_book(FIXTURES / "scripts") if d.code == "R007"]
        by_script = {d.message.split(" script ")[0].split(" of ", 1)[1]: d for d in found}
        assert len(found) == len(by_script) >= 10, [d.message for d in found]
        cjk = by_script["Chinese, Japanese and Korean"]
        assert "fonts-noto-cjk" in cjk.hint and cjk.path.name == "01-asia.md" and cjk.line == 2
        assert cjk.message.count("01-asia.md:") == 3
        assert int(cjk.message.split(" ")[0]) > 100
        assert "fonts-noto-color-emoji" in by_script["emoji"].hint
        assert "fonts-noto-core" in by_script["Devanagari"].hint
        result = build(FIXTURES / "scripts", tmp_path / "out", formats=("epub",), strict=True)
        assert not result.ok and result.outputs == ()
    finally:
        fonts_module.plan_fonts.cache_clear()


def test_fonts_come_from_the_project_not_the_machine(tmp_path):
    """The same PDF bytes whatever fonts the machine has: here, with an extra
    font folder holding an impostor named "Book Serif" (our body family) and
    one that covers every script we use ("Noto Serif CJK SC" renamed)."""
    from fontTools.ttLib import TTFont

    folder = tmp_path / "fonts"
    folder.mkdir()
    impostor = TTFont(Path(__file__).parent.parent / "styles" / "fonts" / "DejaVuSansMono.ttf")
    for record in impostor["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = "Book Serif"
    impostor.save(folder / "impostor.ttf")
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?>\n<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf'
                      f"</include><dir>{folder}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n",
                      encoding="utf-8")
    outputs = []
    for name, extra in (("machine", {}), ("impostor", {"FONTCONFIG_FILE": str(config)})):
        out = tmp_path / name
        subprocess.run([sys.executable, "-m", "pipeline", "build", str(FIXTURES / "scripts"), "--out", str(out),
                        "--quiet", "--no-cache", "--format", "pdf"], check=True, env={**os.environ, **extra},
                       capture_output=True)
        outputs.append(next(out.glob("*.pdf")).read_bytes())
    assert outputs[0] == outputs[1]


def _epub_dirs(epub: Path) -> dict[str, str]:
    return {name: root.get("dir") for name, root in epub_documents(epub).items()}


def test_right_to_left_book_is_marked_so_in_both_outputs(rtl_book):
    assert set(_epub_dirs(rtl_book[".epub"]).values()) == {"rtl"}
    opf = zipfile.ZipFile(rtl_book[".epub"]).read("EPUB/content.opf").decode()
    assert 'page-progression-direction="rtl"' in opf
    reader = PdfReader(rtl_book[".pdf"])
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/Direction"] == "/R2L"
    assert epubcheck_messages(rtl_book[".epub"]) == []
    assert bad_glyphs(rtl_book[".pdf"])[0] == []


def test_left_to_right_book_has_no_direction_marks(scripts_book):
    assert set(_epub_dirs(scripts_book[".epub"]).values()) == {"ltr"}
    assert "page-progression-direction" not in zipfile.ZipFile(scripts_book[".epub"]).read(
        "EPUB/content.opf").decode()
    assert "/ViewerPreferences" not in PdfReader(scripts_book[".pdf"]).trailer["/Root"]


def _lines(page: pdfium.PdfPage, top: float, bottom: float) -> list[tuple[float, float]]:
    """(left, right) of each text line between the running head and the folio:
    pdfium's text rectangles, joined when they share a line."""
    text = page.get_textpage()
    rects = sorted(text.get_rect(i) for i in range(text.count_rects()))
    rows: list[list[float]] = []  # [centre, left, right]
    for left, y0, right, y1 in sorted(rects, key=lambda r: (r[1] + r[3]) / 2):
        centre = (y0 + y1) / 2
        if not bottom < centre < top:
            continue
        if rows and abs(rows[-1][0] - centre) < 4:
            rows[-1][1], rows[-1][2] = min(rows[-1][1], left), max(rows[-1][2], right)
        else:
            rows.append([centre, left, right])
    return [(left, right) for _, left, right in rows]


def test_right_to_left_paragraphs_are_set_from_the_right(rtl_book):
    """On a page of plain paragraphs, every line starts at the right edge of
    the text block (flush right, ragged left) and none runs past the left."""
    document = pdfium.PdfDocument(rtl_book[".pdf"])
    labels = PdfReader(rtl_book[".pdf"]).page_labels
    index = labels.index("2")  # the letter's second page: paragraphs only
    page = document[index]
    width, height = page.get_size()
    # A right-to-left book begins on a left-hand page: even indexes are left pages,
    # whose inner (right) margin is the wider one.
    left, right = (15 * MM, width - 21 * MM) if index % 2 == 0 else (21 * MM, width - 15 * MM)
    lines = _lines(page, height - 19 * MM, 21 * MM)
    assert len(lines) > 10
    assert all(abs(end - right) < 2 for _, end in lines), (right, lines)
    assert all(start > left - 1 for start, _ in lines), (left, lines)
    assert any(start - left < 20 for start, _ in lines) and any(start - left > 60 for start, _ in lines)


def test_right_to_left_booklet_is_imposed_bound_on_the_right(rtl_book):
    """Sheet 1's front: the first page (the cover) on the left half, the last on the right."""
    sheet = pdfium.PdfDocument(rtl_book["imposed"])[0]
    width, height = sheet.get_size()
    text = sheet.get_textpage()
    title = "دفتر صغير"
    left = text.get_text_bounded(0, 0, width / 2, height)
    right = text.get_text_bounded(width / 2, 0, width, height)
    assert title in left.replace("\r\n", " ") or title[::-1] in left, (left, right)
    assert title not in right


def test_cjk_lines_break_inside_the_text_block(cjk_book):
    """Chinese has no spaces: lines break between characters, and no glyph
    lies outside the text block, not even in a run without punctuation, nor
    a Latin word longer than the line (the fixture's last paragraph)."""
    outside, checked = glyphs_outside_the_text_block(cjk_book[".pdf"])
    assert outside == [] and checked > 400, outside[:5]
    assert bad_glyphs(cjk_book[".pdf"])[0] == []


def test_labels_are_in_the_books_language(cjk_book, rtl_book):
    pdf_text = "".join(page.extract_text() for page in PdfReader(cjk_book[".pdf"]).pages)
    assert "目录" in pdf_text and "摘要" in pdf_text and "Contents" not in pdf_text
    nav = epub_documents(rtl_book[".epub"])["EPUB/text/front_nav.xhtml"]
    assert "المحتويات" in "".join(nav.itertext()) and "Contents" not in "".join(nav.itertext())
    letter = epub_documents(rtl_book[".epub"])["EPUB/text/letter.xhtml"]
    assert "المقالة 1" in "".join(letter.itertext())


def test_an_emoji_in_the_title_is_drawn_on_the_epub_cover(tmp_path):
    """Noto Color Emoji holds bitmaps of one size: the cover draws them at it,
    scaled (it once stopped the build with a traceback)."""
    import io

    from PIL import Image

    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Cats 🐱 and dogs"\nlanguage = "en"\n', encoding="utf-8")
    (book / "01-a.md").write_text("# 🐱\n\nText 🐶.\n", encoding="utf-8")
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok, [d.format() for d in result.diagnostics]
    with zipfile.ZipFile(result.outputs[0]) as epub:
        cover = Image.open(io.BytesIO(epub.read("EPUB/images/cover.png"))).convert("RGB")
    # the cat's orange-yellow face, a colour neither the background nor the ink has
    assert any(r > 200 and 120 < g < 220 and b < 90 for r, g, b in cover.get_flattened_data())


def test_a_per_article_booklet_is_in_its_articles_language(tmp_path):
    """An Arabic article in an English book: its own booklet reads right to
    left, says so to viewers and readers, and carries its language."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Stories"\nlanguage = "en"\n', encoding="utf-8")
    (book / "01-cat.md").write_text("---\ntitle: قطة في البيت\nlanguage: ar\nslug: cat\n---\n\n"
                                    "كانت القطة تنام في الشمس كل صباح.\n", encoding="utf-8")
    (book / "02-dog.md").write_text("---\ntitle: The dog\n---\n\nThe dog slept in the sun.\n", encoding="utf-8")
    result = build(book, tmp_path / "out", per_article=True)
    assert result.ok, [d.format() for d in result.diagnostics]
    articles = tmp_path / "out" / "articles"
    arabic, english = PdfReader(articles / "cat.pdf"), PdfReader(articles / "dog.pdf")
    assert arabic.trailer["/Root"]["/Lang"] == "ar" and english.trailer["/Root"]["/Lang"] == "en"
    assert arabic.trailer["/Root"]["/ViewerPreferences"]["/Direction"] == "/R2L"
    # Downloads are tagged (PDF/UA-1: DisplayDocTitle), so both have viewer preferences; only one reads R2L.
    assert english.trailer["/Root"].get("/ViewerPreferences", {}).get("/Direction") is None
    with zipfile.ZipFile(articles / "cat.epub") as epub:
        package = epub.read("EPUB/content.opf").decode("utf-8")
    assert 'page-progression-direction="rtl"' in package and "<dc:language>ar</dc:language>" in package


def test_text_symbols_stay_text_and_common_signs_are_drawn(tmp_path):
    """An arrow or a tick in running text is a text glyph, not a colour
    emoji; ₩, ₪, ℝ and ∀ are drawn (no R007) by the project's faces."""
    groups = {character: fonts_module.drawing_group(ord(character), 0)
              for character in "↔✔₩₪ℝ∀⇒🐱⌚ᠮⵜ"}
    keys = {character: group.key if group else None for character, group in groups.items()}
    assert keys["🐱"] == keys["⌚"] == "emoji"
    assert keys["↔"] in ("symbols", "symbols2", "math") and keys["✔"] in ("symbols", "symbols2")
    assert keys["₩"] == keys["₪"] == "lgc" and keys["ℝ"] == keys["∀"] == keys["⇒"] == "math"
    assert keys["ᠮ"] == "mongolian" and keys["ⵜ"] == "tifinagh"
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Signs"\nlanguage = "en"\n', encoding="utf-8")
    (book / "01-a.md").write_text("---\ntitle: A\n---\n\n₩1,000, ₪5, ℝ, ∀x, a ⇒ b, ↔, ✔ and 🐱.\n",
                                  encoding="utf-8")
    result = build(book, tmp_path / "out", formats=("pdf",))
    assert result.ok and not [d.format() for d in result.diagnostics if d.code == "R007"]
    bad, _ = bad_glyphs(result.outputs[0])
    assert bad == []


def test_the_epub_cover_breaks_a_title_without_spaces_between_clusters():
    from pipeline.export.cover import clusters, unspaced

    assert unspaced("တစ်ယောက်") and unspaced("ក្សត្រ") and not unspaced("tall man")
    assert clusters("တစ်") == ["တ", "စ် "]  # the asat stays with its letter
    assert clusters("ក្សា") == ["ក្សា "]  # the coeng joins the next letter, the vowel sign its cluster


def test_a_japanese_article_in_a_chinese_book_gets_the_japanese_face(tmp_path):
    """One character, different glyphs: 直 and 骨 in Japanese are not drawn as
    in Chinese. Each article's CJK text takes its own language's face."""
    import ctypes

    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "故事"\nlanguage = "zh-Hans"\n', encoding="utf-8")
    (book / "01-zh.md").write_text("---\ntitle: 中文\n---\n\n这是一个关于门和骨的故事。直到今天。\n", encoding="utf-8")
    (book / "02-ja.md").write_text("---\ntitle: 日本語\nlanguage: ja\n---\n\nこれは門と骨の話です。直到今天。\n",
                                   encoding="utf-8")
    result = build(book, tmp_path / "out")
    assert result.ok, [d.format() for d in result.diagnostics]
    pdf, epub = (next(p for p in result.outputs if p.suffix == suffix) for suffix in (".pdf", ".epub"))
    faces = set()  # (article, the font that draws 骨 on its page)
    document = pdfium.PdfDocument(pdf)
    for index in range(len(document)):
        textpage = document[index].get_textpage()
        text = textpage.get_text_range()
        if "骨" in text and ("故事" in text or "話" in text):
            name = ctypes.create_string_buffer(256)
            pdfium.raw.FPDFText_GetFontInfo(textpage, text.index("骨"), name, 256, ctypes.byref(ctypes.c_int()))
            faces.add(("ja" if "話" in text else "zh", name.value.decode().split("+")[-1]))
    assert faces == {("zh", "Book-Serif-cjk"), ("ja", "Book-Serif-cjk-jp")}, faces
    contents = next(index for index in range(len(document)) if "目录" in document[index].get_textpage().get_text_range())
    textpage = document[contents].get_textpage()
    text = textpage.get_text_range()
    entry = ctypes.create_string_buffer(256)  # the Japanese title in the contents: its face too
    pdfium.raw.FPDFText_GetFontInfo(textpage, text.index("語"), entry, 256, ctypes.byref(ctypes.c_int()))
    assert entry.value.decode().endswith("Book-Sans-cjk-jp-Bold")
    assert "記事 2" in PdfReader(pdf).pages[-1].extract_text()  # its opener's words are Japanese too
    assert bad_glyphs(pdf)[0] == []
    documents = epub_documents(epub)
    links = {name.rsplit("/", 1)[1]: [link.get("href") for link in root.iter("{http://www.w3.org/1999/xhtml}link")]
             for name, root in documents.items()}
    assert links["ja.xhtml"] == ["../style/book.css", "../style/cjk-jp.css"] and links["zh.xhtml"] == ["../style/book.css"]
    assert epubcheck_messages(epub) == []
