"""Print-on-demand files (`pipeline build --print PROFILE`): the PDF/X-4
interior and the full-wrap cover, read back with pypdf and pikepdf from a
real build, and the preflight catching a file a printer would refuse."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from conftest import MANUSCRIPTS
from pipeline.commands.check import check_book
from pipeline.commands.cli import main
from pipeline.export.pdf.preflight import preflight_interior
from pipeline.export.pdf.printspec import PrintSpec, nearest_trim
from pipeline.load.config import load_config
from pipeline.model import PRINT_PROFILES

SLUG = "kratom-and-muscle-soreness"
KDP = PRINT_PROFILES["kdp"]


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The project's book built for KDP from the command line (and its EPUB)."""
    out = tmp_path_factory.mktemp("paperback")
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(["build", str(MANUSCRIPTS), "--out", str(out), "--format", "epub", "--print", "kdp", "--quiet"],
                stdout=stdout, stderr=stderr)
    assert code == 0, stderr.getvalue()
    assert f"wrote {out / f'{SLUG}-print.pdf'}" in stdout.getvalue()
    assert f"wrote {out / f'{SLUG}-cover.pdf'}" in stdout.getvalue()
    return out, stderr.getvalue()


def _inches(box) -> list[float]:
    return [round(float(v) / 72, 4) for v in box]


def test_interior_pages_are_trimmed_with_bleed_off_the_bound_edge(printed):
    out, _ = printed
    reader = PdfReader(out / f"{SLUG}-print.pdf")
    assert len(reader.pages) == 24  # 11 laid out, padded to KDP's minimum
    for index, page in enumerate(reader.pages):
        trim, media, bleed = _inches(page.trimbox), _inches(page.mediabox), _inches(page.bleedbox)
        assert (trim[2] - trim[0], trim[3] - trim[1]) == pytest.approx((5.5, 8.5)), index  # A5 -> KDP's 5.5 x 8.5
        assert media == bleed, index  # MediaBox = BleedBox
        assert media[1] == pytest.approx(trim[1] - 0.125) and media[3] == pytest.approx(trim[3] + 0.125)
        if index % 2 == 0:  # a recto: bound on its left, bleed on its right
            assert (media[0], media[2]) == pytest.approx((trim[0], trim[2] + 0.125)), index
        else:
            assert (media[0], media[2]) == pytest.approx((trim[0] - 0.125, trim[2])), index


def test_interior_is_pdf_x4_with_an_output_intent_and_nothing_kdp_refuses(printed):
    out, warnings = printed
    with pikepdf.open(out / f"{SLUG}-print.pdf") as pdf:
        [intent] = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFX" and intent.DestOutputProfile.read_bytes()[36:40] == b"acsp"  # an ICC profile
        with pdf.open_metadata() as xmp:
            assert xmp["pdfxid:GTS_PDFXVersion"] == "PDF/X-4"
        assert "/Outlines" not in pdf.Root
        assert all("/Annots" not in page.obj for page in pdf.pages)
    assert "P001" in warnings and "13 blank page(s)" in warnings  # the padding is said
    text = PdfReader(out / f"{SLUG}-print.pdf").pages[0].extract_text()
    assert "Kratom and Muscle Soreness" in text  # the title page comes first: no cover page inside


def test_cover_width_follows_the_page_count(printed):
    out, _ = printed
    pages = len(PdfReader(out / f"{SLUG}-print.pdf").pages)
    [cover] = PdfReader(out / f"{SLUG}-cover.pdf").pages
    media, trim = _inches(cover.mediabox), _inches(cover.trimbox)
    spine = pages * 0.002252  # KDP, white paper
    assert media[2] - media[0] == pytest.approx(2 * 5.5 + spine + 2 * 0.125, abs=0.01)
    assert media[3] - media[1] == pytest.approx(8.5 + 2 * 0.125, abs=0.01)
    assert trim[2] - trim[0] == pytest.approx(2 * 5.5 + spine, abs=0.01)
    text = cover.extract_text()
    assert "Kratom and Muscle Soreness" in text and "opioid receptors" in text  # front and [book] description
    with pikepdf.open(out / f"{SLUG}-cover.pdf") as pdf:
        assert pdf.Root.OutputIntents[0].S == "/GTS_PDFX" and "/Outlines" not in pdf.Root


def test_preflight_of_the_built_files_is_clean(printed):
    out, _ = printed
    assert [d.format() for d in check_book(MANUSCRIPTS, out, "kdp")] == []


def test_preflight_catches_a_broken_interior(printed, tmp_path):
    out, _ = printed
    broken = tmp_path / f"{SLUG}-print.pdf"
    with pikepdf.open(out / f"{SLUG}-print.pdf") as pdf:
        del pdf.pages[2].obj["/TrimBox"]
        pdf.pages[4].obj["/Annots"] = pdf.make_indirect(pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10])]))
        pdf.Root.Outlines = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines, Count=0))
        font = next(f for f in pdf.pages[0].Resources.Font.values())
        described = font.DescendantFonts[0] if "/DescendantFonts" in font else font
        for key in ("/FontFile", "/FontFile2", "/FontFile3"):
            if key in described.FontDescriptor:
                del described.FontDescriptor[key]
        del pdf.Root["/OutputIntents"]
        for _ in range(4):
            del pdf.pages[-1]
        pdf.save(broken)
    spec = PrintSpec(KDP, (5.5, 8.5), 0.125, "white", False)
    found = {(d.code, d.message.split(":")[0] if d.code == "P003" else d.message) for d in
             preflight_interior(broken, spec)}
    assert ("P002", "page 3 has no TrimBox") in found
    assert ("P004", "page 5 has 1 annotation(s) (links)") in found
    assert ("P004", "the PDF has bookmarks (an outline)") in found
    assert ("P005", "20 pages; kdp prints at least 24") in found
    assert ("P006", "no PDF/X output intent") in found
    assert ("P003", "page 1") in found
    assert all(d.path == broken for d in preflight_interior(broken, spec))


def test_check_reports_print_files_not_built(tmp_path):
    found = check_book(MANUSCRIPTS, tmp_path, "lulu")
    assert sorted((d.code, d.path.name) for d in found) == [("O002", f"{SLUG}-cover.pdf"),
                                                            ("O002", f"{SLUG}-print.pdf")]


def test_profile_tables():
    spec = PrintSpec(KDP, (6.0, 9.0), 0.125, "cream", False)
    assert [spec.gutter(n) for n in (24, 150, 151, 300, 301, 500, 501, 700, 701, 828)] == \
        [0.375, 0.375, 0.5, 0.5, 0.625, 0.625, 0.75, 0.75, 0.875, 0.875]
    assert spec.padded(11) == 24 and spec.padded(25) == 26 and spec.padded(100) == 100
    assert spec.spine(200) == pytest.approx(0.5)  # cream: 0.0025 in a page
    assert spec.cover_size(200) == pytest.approx((12.75, 9.25))
    assert nearest_trim(KDP, "A5") == (5.5, 8.5) and nearest_trim(KDP, "6in 9in") == (6.0, 9.0)


@pytest.mark.parametrize("line, problem", [
    ('trim = "5.5 8.5"', "expected a width and a height"),
    ('bleed = "1in"', "expected a length up to 0.5in"),
    ('paper = "groundwood"', "the kdp profile has no 'groundwood' paper"),
    ('profile = "createspace"', "expected one of"),
])
def test_print_settings_are_validated_and_located(tmp_path, line, problem):
    path = tmp_path / "book.toml"
    before = "" if line.startswith("profile") else 'profile = "kdp"\n'
    path.write_text(f'[book]\ntitle = "T"\n\n[print]\n{before}{line}\n', encoding="utf-8")
    config, found = load_config(path, "T")
    [d] = found
    assert (d.code, d.path, d.line) == ("C003", path, 5 + bool(before)), d.format()
    assert problem in d.message


def test_ingramspark_has_groundwood(tmp_path):
    path = tmp_path / "book.toml"
    path.write_text('[book]\ntitle = "T"\n[print]\nprofile = "ingramspark"\npaper = "groundwood"\n'
                    'trim = "148mm 210mm"\n', encoding="utf-8")
    config, found = load_config(path, "T")
    assert found == [] and config.print_paper == "groundwood" and config.print_trim == "148mm 210mm"


def test_a_cover_without_the_interior_is_an_error(tmp_path):
    from pipeline import build

    result = build(MANUSCRIPTS, tmp_path / "out", formats=("cover",), cache=False)
    assert [d.code for d in result.diagnostics] == ["P007"] and not result.ok
    assert not any((tmp_path / "out").glob("*.pdf"))  # a failed build writes nothing



def test_spine_carries_the_title_only_when_the_profile_allows(tmp_path):
    from pipeline.export.pdf.printcover import cover_html
    from pipeline.export.pdf.printspec import print_spec
    from pipeline.load.manuscripts import load_book
    from pipeline.render.articles import render_book

    book, _ = load_book(MANUSCRIPTS)
    rendered, _ = render_book(book)
    spec, found = print_spec(book.config)
    assert found == []
    assert 'class="spine-text"' not in cover_html(rendered, spec, 79)  # KDP: more than 79 pages
    assert 'class="spine-text"' in cover_html(rendered, spec, 80)


def test_print_files_are_reproducible_and_a_build_without_print_leaves_them(printed, tmp_path):
    """The same book gives the same bytes; and the print files are a kind of
    output that a build without --print does not make, not stale booklets."""
    from pipeline import build

    out = tmp_path / "out"
    first = build(MANUSCRIPTS, out, formats=("epub",), print_profile="kdp", jobs=1)
    assert first.ok and {p.name for p in first.outputs} >= {f"{SLUG}-print.pdf", f"{SLUG}-cover.pdf"}
    for name in (f"{SLUG}-print.pdf", f"{SLUG}-cover.pdf", f"{SLUG}-cover-preview.png"):
        assert (out / name).read_bytes() == (printed[0] / name).read_bytes(), name
    second = build(MANUSCRIPTS, out, formats=("epub", "pdf"), jobs=1)
    assert second.ok and second.removed == ()
    assert (out / f"{SLUG}-print.pdf").is_file() and (out / f"{SLUG}-cover.pdf").is_file()


def test_cover_preview_draws_trim_bleed_and_spine(printed):
    from PIL import Image

    out, _ = printed
    pages = len(PdfReader(out / f"{SLUG}-print.pdf").pages)
    image = Image.open(out / f"{SLUG}-cover-preview.png").convert("RGB")
    width, height = 2 * 5.5 + pages * 0.002252 + 0.25, 8.75
    assert image.size == pytest.approx((width * 100, height * 100), abs=1)  # 100 dpi
    middle = image.height // 2
    assert image.getpixel((13, middle)) == (0xe6, 0x00, 0x7e)  # the trim, 0.125 in in
    assert image.getpixel((0, middle)) == (0x00, 0xa0, 0xe6)  # the edge of the bleed
    assert image.getpixel((round((0.125 + 5.5) * 100), middle)) == (0x2f, 0xb3, 0x44)  # the back's fold


def test_an_image_under_300_dpi_is_located_in_its_manuscript(tmp_path):
    """The features fixture's chart is 600 pixels wide, printed about 4 in wide."""
    from pipeline import build

    fixture = Path(__file__).parent / "fixtures" / "features"
    result = build(fixture, tmp_path / "out", formats=("print",), print_profile="generic", jobs=1)
    [d] = [d for d in result.diagnostics if d.code == "P008"]
    assert (d.path.name, d.line) == ("01-footnotes-and-figures.md", 35) and not d.is_error
    dpi = int(d.message.split(" prints at ")[1].split(" dpi")[0])
    assert 100 < dpi < 300 and "images/soreness-chart.png" in d.message
    # `pipeline check --print` reads the same from the PDF alone (no manuscript line there).
    spec = PrintSpec(PRINT_PROFILES["generic"], nearest_trim(PRINT_PROFILES["generic"], "A5"), 0.125, "white", False)
    [again] = [c for c in preflight_interior(result.outputs[0], spec) if c.code == "P008"]
    assert f" at {dpi} dpi" in again.message and not again.is_error


def test_text_in_the_trim_margin_is_a_preflight_warning(tmp_path):
    from pipeline import build

    book = tmp_path / "book"
    (book / "styles").mkdir(parents=True)
    (book / "book.toml").write_text('[book]\ntitle = "Edges"\nlanguage = "en"\n', encoding="utf-8")
    (book / "01-a.md").write_text("---\ntitle: A\n---\n\n" + "Text near the top of the page. " * 40 + "\n",
                                  encoding="utf-8")
    (book / "styles" / "print.css").write_text("@page { margin-top: 0.1in; }\n", encoding="utf-8")
    result = build(book, tmp_path / "out", formats=("print",), print_profile="generic", jobs=1)
    found = [d for d in result.diagnostics if d.code == "P009"]
    assert found and all("in from the trim edge" in d.message and not d.is_error for d in found)
    assert not [d for d in result.diagnostics if d.code == "P010"]


def test_every_format_suffix_is_known_without_importing_its_exporter():
    from pipeline.export.registry import get_exporter
    from pipeline.formats import FORMATS

    assert {name: f.suffix for name, f in FORMATS.items()} == \
        {name: get_exporter(name).suffix for name in FORMATS}
    assert all(get_exporter(name).name == name for name in FORMATS)


def test_a_cover_image_under_300_dpi_warns_at_its_book_toml_line(book_dir):
    from datetime import datetime, timezone

    from PIL import Image

    from pipeline.export import PRINT_PAGES, ExportContext
    from pipeline.export.pdf.printcover import CoverExporter
    from pipeline.load.manuscripts import load_book
    from pipeline.render.articles import render_book

    Image.new("RGB", (600, 900), "#335577").save(book_dir / "front.png")  # 8.75 in high with the bleed: 103 dpi
    toml = (book_dir / "book.toml").read_text(encoding="utf-8")
    (book_dir / "book.toml").write_text(toml.replace("[book]\n", '[book]\ncover = "front.png"\n', 1), encoding="utf-8")
    book, found = load_book(book_dir)
    rendered, _ = render_book(book)
    context = ExportContext(timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc), version="t", facts={PRINT_PAGES: 24})
    exported = CoverExporter().export(rendered, book_dir.parent / "cover.pdf", context)
    [d] = [d for d in exported.diagnostics if d.code == "P008"]
    assert (d.path, d.line) == (book_dir / "book.toml", 4) and "103 dpi" in d.message, d.format()
    assert [d.code for d in exported.diagnostics] == ["P008"]  # the cover is otherwise clean (preflight)


def test_per_article_with_print_keeps_the_manifest_to_downloads(tmp_path):
    import json

    from pipeline import build

    out = tmp_path / "out"
    result = build(MANUSCRIPTS, out, formats=("epub",), print_profile="generic", per_article=True, jobs=1)
    assert result.ok, [d.format() for d in result.diagnostics]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    text = json.dumps(manifest)
    assert "-print.pdf" not in text and "-cover" not in text
    assert not list((out / "articles").glob("*-print.pdf"))  # the print files are the book's only
    assert (out / f"{SLUG}-print.pdf").is_file()


def test_crop_marks_stand_outside_the_bleed(tmp_path):
    """With marks, the paper holds the trim, the bleed and, beyond its edge,
    the marks: the BleedBox is the bleed alone, and nothing the marks draw
    enters it. Read on the rendered page: the strip between trim and bleed
    is blank paper, and beyond the bleed each of the eight marks stands on
    the line of a trim edge."""
    import pypdfium2 as pdfium

    from pipeline import build

    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Marks"\nlanguage = "en"\n\n[print]\nmarks = true\n',
                                    encoding="utf-8")
    (book / "01-a.md").write_text("---\ntitle: A\n---\n\nText.\n", encoding="utf-8")
    result = build(book, tmp_path / "out", formats=("print",), print_profile="generic", jobs=1)
    assert result.ok, [d.format() for d in result.diagnostics]
    with pikepdf.open(result.outputs[0]) as pdf:
        page = pdf.pages[2]
        trim, bleed, media = (_inches(page.obj[box]) for box in ("/TrimBox", "/BleedBox", "/MediaBox"))
    assert [round(b - t, 3) for b, t in zip(bleed, trim)] == [-0.125, -0.125, 0.125, 0.125]
    assert [round(m - t, 3) for m, t in zip(media, trim)] == [-0.375, -0.375, 0.375, 0.375]
    scale = 4  # pixels per point
    image = pdfium.PdfDocument(result.outputs[0])[2].render(scale=scale, crop=(0, 0, 0, 0)).to_pil().convert("L")
    pixels = image.load()

    def px(x_in: float, y_in: float) -> tuple[int, int]:  # inches in PDF space -> the image's pixel
        return round((x_in - media[0]) * 72 * scale), round((media[3] - y_in) * 72 * scale)

    def inked(x0: float, y0: float, x1: float, y1: float) -> int:  # dark pixels in a box, in inches
        (left, bottom), (right, top) = px(x0, y0), px(x1, y1)
        return sum(pixels[x, y] < 128 for x in range(left, right) for y in range(top, bottom))

    assert image.size == px(media[2], media[1])
    (tx0, ty0, tx1, ty1), (bx0, by0, bx1, by1), (mx0, my0, mx1, my1) = trim, bleed, media
    strip = [(bx0, by0, tx0, by1), (tx1, by0, bx1, by1), (tx0, by0, tx1, ty0), (tx0, ty1, tx1, by1)]
    assert [inked(*box) for box in strip] == [0, 0, 0, 0]  # nothing drawn between the trim and the bleed's edge
    near = 2 / 72  # inches: a mark stands on the line of its trim edge
    marks = [inked(mx0, y - near, bx0, y + near) for y in (ty0, ty1)]  # left of the bleed, at trim's foot and head
    marks += [inked(bx1, y - near, mx1, y + near) for y in (ty0, ty1)]  # right of it
    marks += [inked(x - near, my0, x + near, by0) for x in (tx0, tx1)]  # below it, at trim's sides
    marks += [inked(x - near, by1, x + near, my1) for x in (tx0, tx1)]  # above it
    assert all(marks), marks  # the eight crop marks, all beyond the bleed's edge
