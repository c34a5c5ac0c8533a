"""Images sized for download (pipeline/export/images.py): a 4000×3000 photo
shrinks both outputs and stays sharp at print size; colours, transparency,
orientation and profiles survive the downsampling; nothing within the
limits is re-encoded; results are cached by content."""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageFilter, ImageFont, ImageOps, ImageStat

from pipeline.build import BuildOptions, build
from pipeline.cache import Store
from pipeline.export.images import Limit, fit, target_size
from pipeline.load.config import load_config

from conftest import epubcheck_messages


def photo(width: int = 4000, height: int = 3000) -> Image.Image:
    """Photo-like: smooth colour gradients, sensor noise, and fine detail
    (thin dark lines, white text) that blurs visibly when resolution is lost."""
    size = (width, height)
    red = Image.linear_gradient("L").rotate(90).resize(size, Image.Resampling.BICUBIC)
    green = Image.radial_gradient("L").resize(size, Image.Resampling.BICUBIC)
    blue = Image.linear_gradient("L").resize(size, Image.Resampling.BICUBIC)
    image = Image.merge("RGB", (red, green, blue))
    image = ImageChops.add(image, Image.effect_noise(size, 24).convert("RGB"), offset=-128)
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 40):
        draw.line([(x, 0), (x + 600, height)], fill=(20, 20, 20), width=3)
    font = ImageFont.load_default(size=44)
    for y in range(0, height, 160):
        draw.text((40, y + 30), "The quick brown fox jumps 0123456789", font=font, fill=(250, 250, 250))
    return image


def _jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


# The whole pipeline: two builds of a book with a photo, with and without limits.

BODY = """---
title: Photographs
---

A photo across the page.

![A gradient crossed by thin lines, with rows of white text](images/photo.jpg)

A transparent drawing at half the width.

![A red disc on a transparent ground](images/disc.png){width="50%"}

A drawing, which stays as it is: ![A black square](images/square.svg)
"""


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """(book folder, outputs with the default limits, outputs with limits off)."""
    root = tmp_path_factory.mktemp("images")
    book = root / "book"
    (book / "images").mkdir(parents=True)
    photo().save(book / "images" / "photo.jpg", quality=95)
    disc = Image.new("RGBA", (3000, 2000), (0, 0, 0, 0))
    ImageDraw.Draw(disc).ellipse((500, 200, 2500, 1800), fill=(200, 30, 30, 255))
    disc.save(book / "images" / "disc.png")
    (book / "images" / "square.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40"/></svg>',
        encoding="utf-8")
    (book / "photos.md").write_text(BODY, encoding="utf-8")
    toml = '[book]\ntitle = "Photographs"\nlanguage = "en"\ndate = "2026-01-01"\n'
    (book / "book.toml").write_text(toml, encoding="utf-8")
    fitted = build(book, root / "fitted", BuildOptions(formats=("pdf", "epub")))
    (book / "book.toml").write_text(toml + "[images]\nmax-dpi = 0\n[epub]\nmax-image-pixels = 0\n", encoding="utf-8")
    full = build(book, root / "full", BuildOptions(formats=("pdf", "epub")))
    for result in (fitted, full):
        assert not [d for d in result.diagnostics if d.is_error], result.diagnostics
    return book, _by_suffix(fitted.outputs), _by_suffix(full.outputs)


def _by_suffix(outputs) -> dict[str, Path]:
    return {path.suffix: path for path in outputs}


def test_the_photo_shrinks_both_outputs(builds):
    book, fitted, full = builds
    photo_bytes = (book / "images" / "photo.jpg").stat().st_size
    assert full[".pdf"].stat().st_size > photo_bytes  # limits off: the photo as it is
    assert fitted[".pdf"].stat().st_size * 5 < full[".pdf"].stat().st_size
    assert fitted[".epub"].stat().st_size * 2 < full[".epub"].stat().st_size
    with zipfile.ZipFile(fitted[".epub"]) as archive:
        names = [n for n in archive.namelist() if n.endswith(("photo.jpg", "disc.png"))]
        embedded = {Path(n).name: Image.open(io.BytesIO(archive.read(n))) for n in names}
    for name, (width, height) in (("photo.jpg", (4000, 3000)), ("disc.png", (3000, 2000))):
        image = embedded[name]
        assert image.width * image.height <= 4_000_000 < width * height
        assert image.width / image.height == pytest.approx(width / height, rel=0.002)
    assert embedded["disc.png"].mode == "RGBA"
    assert epubcheck_messages(fitted[".epub"]) == []


def _placed_images(pdf: Path):
    """(page index, pixel width, printed width in inches, bounds in pt) of every image drawn."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    document = pdfium.PdfDocument(pdf)
    found = []
    for index in range(len(document)):
        for image in document[index].get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=5):
            left, bottom, right, top = image.get_bounds()
            found.append((index, image.get_px_size()[0], (right - left) / 72, (left, bottom, right, top)))
    return found


def test_every_image_of_the_pdf_has_300_dpi_where_it_prints_and_no_more_pixels_than_that(builds):
    _, fitted, full = builds
    placed = _placed_images(fitted[".pdf"])
    assert len(placed) == 2  # the SVG is drawn, not an image
    for _, pixels, inches, _ in placed:
        assert 300 <= pixels / inches < 302  # sharp at print size, and nothing more than that
    widths = sorted(round(inches * 25.4) for _, _, inches, _ in placed)
    assert widths == [56, 112]  # the A5 text block (148 − 36 mm), and half of it
    assert sorted(pixels for _, pixels, _, _ in _placed_images(full[".pdf"])) == [3000, 4000]


def _psnr(a: Image.Image, b: Image.Image) -> float:
    difference = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    mean_square = sum(value ** 2 for value in ImageStat.Stat(difference).rms) / 3
    return 10 * math.log10(255 ** 2 / mean_square) if mean_square else math.inf


def _edges(image: Image.Image) -> float:
    """Mean edge strength: the fine detail (lines, letters, grain) an image holds."""
    return ImageStat.Stat(image.convert("L").filter(ImageFilter.FIND_EDGES)).mean[0]


def test_the_printed_photo_is_as_sharp_as_the_original_scaled_to_print(builds):
    """The photo the PDF holds (1323 px across, its 300 dpi at 112 mm: see
    above), against the original scaled to the same pixels with LANCZOS: as
    close and as detailed as that, and clearly more than a copy that lost
    resolution (the original at 200 dpi, scaled back up). (A rendering of
    the page at 300 dpi does not tell: drawing an image at its own
    resolution, a fraction of a pixel off the grid, blurs it by itself.)"""
    import pikepdf

    book, fitted, _ = builds
    with pikepdf.open(fitted[".pdf"]) as pdf:
        embedded = max((pikepdf.PdfImage(image).as_pil_image() for page in pdf.pages
                        for image in page.get_images().values()), key=lambda image: image.width)
    assert embedded.size == (1323, 992)
    original = Image.open(book / "images" / "photo.jpg")
    reference = original.resize(embedded.size, Image.Resampling.LANCZOS)
    lower = original.resize((embedded.width * 2 // 3, embedded.height * 2 // 3), Image.Resampling.LANCZOS)
    control = lower.resize(embedded.size, Image.Resampling.LANCZOS)
    assert _psnr(embedded, reference) > 28 and _psnr(embedded, reference) > _psnr(control, reference) + 3
    assert _edges(embedded) > 0.9 * _edges(reference) and _edges(control) < 0.7 * _edges(reference)


# Units: the decisions of export/images.py on images made here.

def test_sizes_are_scaled_down_never_up_and_keep_their_proportions():
    assert target_size((4000, 3000), Limit(width=1323)) == (1323, 992)
    assert target_size((1000, 800), Limit(width=1323)) == (1000, 800)
    width, height = target_size((4000, 3000), Limit(pixels=4_000_000))
    assert width * height <= 4_000_000 and (width, height) == (2309, 1732)
    assert target_size((4000, 3000), Limit()) == (4000, 3000)


def test_an_image_within_the_limits_keeps_its_bytes(tmp_path):
    path = tmp_path / "small.jpg"
    path.write_bytes(_jpeg(photo(800, 600), quality=95))
    assert fit(path, Limit(width=1323, pixels=4_000_000), None, "t") == path.read_bytes()


def test_a_cmyk_jpeg_becomes_srgb_with_the_right_colours(tmp_path):
    """Pillow writes CMYK JPEGs as Adobe does (inverted, with an APP14
    marker); read the wrong way, cyan would come out red."""
    swatches = Image.new("CMYK", (200, 100), (255, 0, 0, 0))  # cyan | black
    swatches.paste((0, 0, 0, 255), (100, 0, 200, 100))
    path = tmp_path / "cmyk.jpg"
    path.write_bytes(_jpeg(swatches, quality=95))
    assert "adobe" in Image.open(path).info  # the inverted kind
    data = fit(path, Limit(width=2000), None, "t")  # within the limit, but CMYK: converted
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.mode == "RGB"
    cyan, black = image.getpixel((50, 50)), image.getpixel((150, 50))
    assert cyan[0] < 20 and cyan[1] > 235 and cyan[2] > 235, cyan
    assert max(black) < 20, black


def _cmyk_profile(cyan_as: tuple[int, int, int]) -> bytes:
    """A minimal ICC v2 CMYK output profile (header, desc, wtpt and an A2B0
    lut8 from CMYK to Lab with two grid points per ink), made here so the
    test needs no system profile. It maps each corner of the ink cube to
    the Lab of Pillow's plain formula, except pure cyan, which it maps to
    the sRGB colour `cyan_as` (as a real press profile maps cyan ink to a
    duller blue than the screen's 0, 255, 255)."""
    import itertools
    import struct

    to_lab = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB")
    corners = []
    for c, m, y, k in itertools.product((0, 1), repeat=4):
        rgb = cyan_as if (c, m, y, k) == (1, 0, 0, 0) else tuple(round(255 * (1 - v) * (1 - k)) for v in (c, m, y))
        corners.append(bytes(ImageCms.applyTransform(Image.new("RGB", (1, 1), rgb), to_lab).getpixel((0, 0))))
    identity, d50 = bytes(range(256)), struct.pack(">3i", *(round(v * 65536) for v in (0.9642, 1.0, 0.8249)))
    lut = (b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + struct.pack(">9i", 65536, 0, 0, 0, 65536, 0, 0, 0, 65536)
           + identity * 4 + b"".join(corners) + identity * 3)
    name = b"Test CMYK\0"
    tags = [(b"desc", b"desc" + bytes(4) + struct.pack(">I", len(name)) + name + bytes(79)),
            (b"wtpt", b"XYZ " + bytes(4) + d50), (b"A2B0", lut)]
    offset, table, data = 128 + 4 + 12 * len(tags), struct.pack(">I", len(tags)), b""
    for signature, body in tags:
        body += bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    header = (struct.pack(">I", offset + len(data)) + bytes(4) + struct.pack(">I", 0x02100000) + b"prtrCMYKLab "
              + bytes(12) + b"acsp" + bytes(28) + d50 + bytes(48))
    return header + table + data


def test_a_cmyk_jpeg_with_a_profile_is_converted_through_it(tmp_path):
    profile = _cmyk_profile(cyan_as=(0, 160, 220))
    swatches = Image.new("CMYK", (200, 100), (255, 0, 0, 0))  # cyan | white
    swatches.paste((0, 0, 0, 0), (100, 0, 200, 100))
    (tmp_path / "press.jpg").write_bytes(_jpeg(swatches, quality=95, icc_profile=profile))
    image = Image.open(io.BytesIO(fit(tmp_path / "press.jpg", Limit(width=2000), None, "t")))
    assert image.mode == "RGB"
    cyan, white = image.getpixel((50, 50)), image.getpixel((150, 50))
    assert abs(cyan[0] - 0) <= 20 and abs(cyan[1] - 160) <= 12 and abs(cyan[2] - 220) <= 12, cyan  # not 0, 255, 255
    assert min(white) > 240, white
    embedded = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(embedded)  # tagged with what it now is


def test_a_png_keeps_its_transparency_and_a_jpeg_its_colour_profile(tmp_path):
    drawing = Image.new("RGBA", (2000, 1000), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).rectangle((1000, 0, 2000, 1000), fill=(0, 90, 200, 255))
    drawing.save(tmp_path / "drawing.png")
    small = Image.open(io.BytesIO(fit(tmp_path / "drawing.png", Limit(width=500), None, "t")))
    assert small.format == "PNG" and small.size == (500, 250) and small.mode == "RGBA"
    assert small.getpixel((100, 100))[3] == 0 and small.getpixel((400, 100)) == (0, 90, 200, 255)

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    (tmp_path / "tagged.jpg").write_bytes(_jpeg(photo(1600, 1200), quality=95, icc_profile=profile))
    small = Image.open(io.BytesIO(fit(tmp_path / "tagged.jpg", Limit(width=800), None, "t")))
    assert small.size == (800, 600) and small.info.get("icc_profile") == profile


def test_the_exif_orientation_is_applied(tmp_path):
    """Stored 400×200, left half red; orientation 6 shows it turned a quarter
    clockwise: 200×400, red on top. A 100-pixel limit is on the width shown."""
    stored = Image.new("RGB", (400, 200), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 200, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    (tmp_path / "turned.jpg").write_bytes(_jpeg(stored, quality=95, exif=exif))
    shown = Image.open(io.BytesIO(fit(tmp_path / "turned.jpg", Limit(width=100), None, "t")))
    assert shown.size == (100, 200) and shown.getexif().get(0x0112, 1) == 1
    red, blue = shown.getpixel((50, 40)), shown.getpixel((50, 160))
    assert red[0] > 200 and red[2] < 50 and blue[2] > 200 and blue[0] < 50, (red, blue)
    assert ImageOps.exif_transpose(Image.open(tmp_path / "turned.jpg")).size == (200, 400)


def test_a_result_is_cached_by_content_and_a_changed_image_is_not_served_stale(tmp_path):
    """The cached entry is replaced (through the Store) by bytes no encoder
    makes: a cache hit returns them; another size, version or image does not."""
    path = tmp_path / "photo.jpg"
    path.write_bytes(_jpeg(photo(1600, 1200), quality=95))
    store = Store(tmp_path / "cache")
    first = fit(path, Limit(width=800), store, "t")
    [entry] = (tmp_path / "cache").glob("*.bin")
    assert Image.open(io.BytesIO(first)).size == (800, 600) and entry.read_bytes() == first
    marked = b"served from the cache"
    store.put(entry.stem, marked, store.get(entry.stem)[1])
    assert fit(path, Limit(width=800), store, "t") == marked  # from the cache
    for other in (fit(path, Limit(width=700), store, "t"), fit(path, Limit(width=800), store, "u")):
        assert other != marked and Image.open(io.BytesIO(other)).format == "JPEG"  # not cached: encoded
    path.write_bytes(_jpeg(photo(1600, 1200).rotate(180), quality=95))
    changed = fit(path, Limit(width=800), store, "t")
    assert changed != marked and Image.open(io.BytesIO(changed)).size == (800, 600)


@pytest.mark.parametrize("table, key, value, ok", [
    ("images", "max-dpi", "150", True), ("images", "max-dpi", "0", True), ("images", "max-dpi", "30", False),
    ("images", "max-dpi", '"300"', False), ("epub", "max-image-pixels", "2000000", True),
    ("epub", "max-image-pixels", "true", False), ("epub", "max-image-pixels", "-1", False),
])
def test_the_limits_are_validated(tmp_path, table, key, value, ok):
    (tmp_path / "book.toml").write_text(f'[book]\ntitle = "T"\n[{table}]\n{key} = {value}\n', encoding="utf-8")
    config, diagnostics = load_config(tmp_path / "book.toml", "T")
    if ok:
        assert diagnostics == []
        assert int(value) in (config.images_max_dpi, config.epub_max_image_pixels)
    else:
        assert [(d.code, d.line) for d in diagnostics] == [("C003", 4)]
        assert f"[{table}] {key}" in diagnostics[0].message


def test_an_svg_and_a_gif_are_embedded_as_they_are(tmp_path):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="3000"><rect width="10" height="10"/></svg>'
    (tmp_path / "drawing.svg").write_bytes(svg)
    assert fit(tmp_path / "drawing.svg", Limit(width=100, pixels=10_000), None, "t") == svg
    photo(1600, 1200).save(tmp_path / "still.gif")
    gif = (tmp_path / "still.gif").read_bytes()
    assert fit(tmp_path / "still.gif", Limit(width=100, pixels=10_000), None, "t") == gif


def test_the_widest_an_image_can_print_bounds_its_pixels_for_the_pdf(tmp_path):
    """A5: the text block is 112 mm; images print at most 120 mm high; a
    written width or height narrows them; the cover fills the page."""
    from pipeline.export.images import print_widths
    from pipeline.model import Article, Book, BookConfig, RenderedArticle, RenderedBook

    for name, size in (("wide.png", (3000, 1000)), ("tall.png", (1000, 3000)), ("cover.png", (3000, 1000))):
        Image.new("RGB", size, (90, 120, 150)).save(tmp_path / name)
    body = ('<img src="wide.png" alt="a"/><img src="tall.png" alt="b"/>'
            '<img src="wide.png" alt="c" style="width: 6cm"/><img src="tall.png" alt="d" style="height: 6cm"/>')
    paths = tuple((tmp_path / name).resolve() for name in ("wide.png", "tall.png"))
    article = Article("a", "A", tmp_path / "a.md", "", 1)
    config = BookConfig(title="T", pdf_page_size="A5")
    book = RenderedBook(Book(tmp_path, "t", config, (article,), cover=tmp_path / "cover.png"),
                        (RenderedArticle(article, 1, "a", body, "", "", (), paths),))
    widths = {path.name: round(width, 1) for path, width in print_widths(book).items()}
    assert widths == {"wide.png": 112.0,  # the text block (the 6 cm use is narrower)
                      "tall.png": 40.0,  # 120 mm high; 6 cm high is less
                      "cover.png": 630.0}  # 210 mm high, three times as wide: the page crops it
    alone = RenderedBook(book.book, (RenderedArticle(article, 1, "a", body.split("/>", 2)[2], "", "", (), paths),))
    assert {p.name: round(w, 1) for p, w in print_widths(alone).items() if p.name != "cover.png"} == \
        {"wide.png": 60.0, "tall.png": 20.0}


def test_after_a_build_the_cache_keeps_only_copies_of_the_images_the_book_uses(tmp_path):
    from pipeline.export.images import prune
    from pipeline.model import Article, Book, BookConfig, RenderedArticle, RenderedBook

    for name, turn in (("kept.jpg", 0), ("dropped.jpg", 90)):
        (tmp_path / name).write_bytes(_jpeg(photo(1600, 1200).rotate(turn), quality=95))
    store = Store(tmp_path / "cache")
    kept = fit(tmp_path / "kept.jpg", Limit(width=800), store, "t")
    fit(tmp_path / "kept.jpg", Limit(width=700), store, "t")  # another output's size
    fit(tmp_path / "dropped.jpg", Limit(width=800), store, "t")
    (tmp_path / "cache" / "stray.json").write_text("not a record", encoding="utf-8")
    article = Article("a", "A", tmp_path / "a.md", "", 1)
    book = RenderedBook(Book(tmp_path, "t", BookConfig(title="T"), (article,)),
                        (RenderedArticle(article, 1, "a", "", "", "", (), ((tmp_path / "kept.jpg").resolve(),)),))
    prune(store, book)
    assert len(list((tmp_path / "cache").glob("*.bin"))) == 2
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2
    assert fit(tmp_path / "kept.jpg", Limit(width=800), store, "t") == kept


def _swapped_profile() -> bytes:
    """An ICC RGB profile (v2, matrix and linear curves) whose red primary is
    sRGB's green and whose green is sRGB's red: a pixel (255, 0, 0) in it is
    green. Written here so that the test needs no colour package."""
    import struct

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x, y, z) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    text = b"swapped red and green\x00"
    tags = [(b"desc", b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67)),
            (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
            (b"rXYZ", xyz(0.3851, 0.7169, 0.0971)), (b"gXYZ", xyz(0.4361, 0.2225, 0.0139)),
            (b"bXYZ", xyz(0.1431, 0.0606, 0.7141))]
    tags += [(name, b"curv" + bytes(4) + struct.pack(">IH", 1, 256) + bytes(2)) for name in (b"rTRC", b"gTRC", b"bTRC")]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for name, body in tags:
        body += bytes(-len(body) % 4)
        table += name + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"none" + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ " + bytes(12) + b"acsp"
              + bytes(24) + struct.pack(">I", 0) + s15(0.9642) + s15(1.0) + s15(0.8249) + bytes(4 + 16 + 28))
    return header + struct.pack(">I", len(tags)) + table + data


def test_a_wide_gamut_photo_is_printed_in_srgb_and_keeps_its_profile_in_the_epub(tmp_path):
    """WeasyPrint draws images as DeviceRGB: a photo in another RGB space
    must reach the PDF converted, or it prints in the wrong colours."""
    from pipeline.export.images import Limit, fit

    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (64, 64), (255, 0, 0)).save(photo, "JPEG", quality=95, icc_profile=_swapped_profile())
    printed = Image.open(io.BytesIO(fit(photo, Limit(width=0, srgb=True), None, "test")))
    red, green, blue = printed.convert("RGB").getpixel((32, 32))
    assert green > 200 and red < 60 and blue < 60, (red, green, blue)  # the colour the profile means
    assert b"swapped" not in printed.info.get("icc_profile", b"")  # an sRGB profile, if any
    assert fit(photo, Limit(pixels=0), None, "test") == photo.read_bytes()  # the EPUB's: untouched
