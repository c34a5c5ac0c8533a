"""A stranger's CSS is read as CSS (#26): the book's epub.css and print.css,
and an SVG's <style>, style attributes and animations. Every spelling of a
load that a CSS parser reads (`URL(`, `\\75 rl(`, `@IMPORT`) is a located
refusal, and nothing of it reaches an output."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from pipeline import build

MARKER = "evil.example"  # in every hostile URL: never in any output
ARTICLE = "---\ntitle: A\n---\n\nText of the article.\n"


def _book(tmp_path: Path, files: dict[str, str | bytes], article: str = ARTICLE) -> Path:
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Stranger"\n', encoding="utf-8")
    (book / "a.md").write_text(article, encoding="utf-8")
    for name, data in files.items():
        (book / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        (book / name).write_bytes(data)
    return book


def _output_bytes(out: Path) -> bytes:
    """Every file the build wrote, an EPUB's members unzipped."""
    found = b""
    for path in sorted(p for p in out.rglob("*") if p.is_file()) if out.exists() else []:
        found += path.read_bytes()
        if path.suffix == ".epub":
            with zipfile.ZipFile(path) as archive:
                found += b"".join(archive.read(name) for name in archive.namelist())
    return found


@pytest.mark.parametrize("css, place", [
    ("p { color: black; }\nh1 { background: URL(http://evil.example/a.png); }\n", (2, 18)),
    ("h1 {\n  background: \\75 rl(http://evil.example/a.png);\n}\n", (2, 15)),
    ("p { color: black; }\n@import url(\"http://evil.example/a.css\");\n", (2, 1)),
    ("@IMPORT \"http://evil.example/a.css\";\n", (1, 1)),
    ("@\\69 mport 'http://evil.example/a.css';\n", (1, 1)),
    ("@media screen {\n  p { background-image: image-set(\"http://evil.example/a.png\" 1x); }\n}\n", (2, 25)),
    ("@font-face { font-family: X; src: url(../fonts/DejaVuSansMono.ttf), SRC(\"http://evil.example/f\"); }\n",
     (1, 69)),
])
def test_every_spelling_of_a_load_in_epub_css_is_refused_at_its_place(tmp_path, css, place):
    book = _book(tmp_path, {"styles/epub.css": css})
    out = tmp_path / "out"
    result = build(book, out, formats=("epub",))
    [refused] = [d for d in result.diagnostics if d.is_error]
    assert (refused.code, refused.path.name, (refused.line, refused.column)) == ("C009", "epub.css", place)
    assert "http://evil.example/" in refused.message and not result.ok
    assert MARKER.encode() not in _output_bytes(out)


def test_a_font_of_ours_may_be_loaded_only_by_font_face(tmp_path):
    book = _book(tmp_path, {"styles/epub.css": "p {\n  background: url(../fonts/DejaVuSansMono.ttf);\n}\n"})
    result = build(book, tmp_path / "out", formats=("epub",))
    [refused] = [d for d in result.diagnostics if d.is_error]
    assert (refused.code, refused.line, refused.column) == ("C009", 2, 15) and "@font-face" in refused.message


def test_a_font_face_of_a_shipped_font_still_builds_and_the_font_is_packaged(tmp_path):
    """Spelled as CSS allows (`URL(`, quotes): the face is kept, and its file
    is in the EPUB (the fonts the stylesheet names are found by parsing it too)."""
    css = ('@font-face { font-family: "Aside"; src: URL("../fonts/SourceSansPro-It.ttf"); }\n'
           'blockquote { font-family: "Aside", sans-serif; }\n')
    book = _book(tmp_path, {"styles/epub.css": css}, ARTICLE + "\n> Quoted text.\n")
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    with zipfile.ZipFile(result.outputs[0]) as archive:
        assert "EPUB/fonts/SourceSansPro-It.ttf" in archive.namelist()
        assert b'URL("../fonts/SourceSansPro-It.ttf")' in archive.read("EPUB/style/book.css")


@pytest.mark.parametrize("css, place, named", [
    ("p { color: red; }\nh1 {\n  background: url(../../secret.png);\n}\n", (3, 15), "'../../secret.png'"),
    ("h1 { background: \\75 rl(/etc/passwd); }\n", (1, 18), "'/etc/passwd'"),
    ("h1 { background: URL(http://evil.example/a.png); }\n", (1, 18), "'http://evil.example/a.png'"),
    ("p { color: red; }\n@IMPORT \"../../secret.css\";\n", (2, 1), "'../../secret.css'"),
])
def test_a_refused_url_of_print_css_is_located_there_and_named_as_written(tmp_path, css, place, named):
    """Before layout: C009 at styles/print.css's line and column, never at
    book.toml:1:1 and never naming the fetcher's internal path (/pipeline/...)."""
    (tmp_path / "secret.png").write_bytes(b"secret")
    (tmp_path / "secret.css").write_text("p { color: red; }\n", encoding="utf-8")
    book = _book(tmp_path, {"styles/print.css": css})
    out = tmp_path / "out"
    result = build(book, out, formats=("pdf",))
    [refused] = [d for d in result.diagnostics if d.is_error]
    assert (refused.code, refused.path, (refused.line, refused.column)) == \
        ("C009", book / "styles" / "print.css", place)
    assert named in refused.message and "/pipeline/" not in refused.message
    assert not list(out.glob("*.pdf"))


def test_print_css_may_load_a_file_of_the_book(tmp_path):
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(png, "PNG")
    css = ".article-title { background: url(\"../images/dot.png\") no-repeat; }\n"
    book = _book(tmp_path, {"styles/print.css": css, "images/dot.png": png.getvalue()})
    result = build(book, tmp_path / "out", formats=("pdf",))
    assert result.ok, [d.format() for d in result.diagnostics]
    assert not [d for d in result.diagnostics if d.is_error]


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
       '{}</svg>')


@pytest.mark.parametrize("inside, expected", [
    ('<style>@import "http://evil.example/a.css";</style><rect width="5" height="5"/>', "@import"),
    ('<style>@IM<!-- split -->PORT url(http://evil.example/a.css);</style>', "@import"),
    ('<style><![CDATA[rect { fill: \\75 rl(http://evil.example/p.svg#g) }]]></style>', "external url()"),
    ('<rect width="5" height="5" style="fill:\\75 rl(http://evil.example/p.svg#g)"/>', "external url()"),
    ('<rect width="5" height="5" fill="URL(http://evil.example/p.svg#g)"/>', "external url()"),
    ('<a href="#r"><rect id="r" width="5" height="5"><set attributeName="href" to="javascript:alert(1)"/>'
     '</rect></a><!-- evil.example -->', "animates a link"),
    ('<a xlink:href="#r"><animate attributeName="xlink:href" values="#r;http://evil.example/"/></a>',
     "animates a link"),
    ('<rect width="5" height="5"><animate attributeName="fill" to="url(http://evil.example/p.svg#g)"/></rect>',
     "self-contained"),
    ('<rect width="5" height="5"><set attributeName="class" to="javascript:alert(1)"/></rect>'
     '<!-- evil.example -->', "self-contained"),
])
def test_svg_css_and_animations_that_load_or_run_are_refused(tmp_path, inside, expected):
    book = _book(tmp_path, {"images/x.svg": SVG.format(inside)}, ARTICLE + "\n![a picture](images/x.svg)\n")
    out = tmp_path / "out"
    result = build(book, out, formats=("epub",))
    [refused] = [d for d in result.diagnostics if d.is_error]
    assert (refused.code, refused.line) == ("R002", 7) and expected in refused.message, refused.format()
    assert MARKER.encode() not in _output_bytes(out) and b"javascript:" not in _output_bytes(out)


def test_an_svg_with_local_urls_and_animations_is_accepted(tmp_path):
    inside = ('<defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs>'
              '<style>@namespace svg url(http://www.w3.org/2000/svg); rect { fill: URL(#g) }</style>'
              '<rect width="5" height="5" style="stroke: url( #g )">'
              '<animate attributeName="opacity" values="0;1" dur="2s"/></rect>')
    book = _book(tmp_path, {"images/x.svg": SVG.format(inside)}, ARTICLE + "\n![a picture](images/x.svg)\n")
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    with zipfile.ZipFile(result.outputs[0]) as archive:
        [svg] = [archive.read(name) for name in archive.namelist() if name.endswith(".svg")]
    assert b'values="0;1"' in svg and b"URL(#g)" in svg  # as the book wrote it


def test_an_svg_with_more_css_than_can_be_checked_cheaply_is_refused(tmp_path):
    """Tokenizing is slow (pure Python): CSS that needs it counts against a
    budget per SVG, so a large SVG cannot hold the build for minutes."""
    rules = 'rect { fill: image("#g"); }\n' * 40_000  # ~1 MiB: every rule has to be read as CSS
    book = _book(tmp_path, {"images/x.svg": SVG.format(f"<style>{rules}</style>")},
                 ARTICLE + "\n![a picture](images/x.svg)\n")
    result = build(book, tmp_path / "out", formats=("epub",))
    [refused] = [d for d in result.diagnostics if d.is_error]
    assert refused.code == "R002" and "more CSS to check" in refused.message


def test_an_svgs_processing_instructions_are_refused():
    """`<?xml-stylesheet href="http://…"?>` before the root was copied into the EPUB: a reader
    that opens the SVG as a document would fetch it."""
    from pipeline.resources import ImageRejected, check_svg

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    check_svg(b'<?xml version="1.0"?>' + svg)  # the XML declaration is no instruction
    for data in (b'<?xml-stylesheet href="http://127.0.0.1:9/a.css"?>' + svg,
                 b'<?xml-stylesheet href="../SECRET.txt"?>' + svg,
                 svg.replace(b"/>", b"><?php x ?></svg>")):
        with pytest.raises(ImageRejected):
            check_svg(data)
