"""Retailer and EAA targets (#31): each store rule finds a problem planted
for it, located in the EPUB and, where the author's file made it, in that
file; the seed book passes all five targets; the EPUB claims EPUB
Accessibility 1.1 - WCAG 2.2 AA only when nothing stands in the way.

Most problems are planted in the book (an image, a stylesheet, a cover,
book.toml); those a build cannot make (an XML comment holding '--', a font
that forbids embedding, an EPUB 2 package) are planted in a built EPUB, as a
file changed after the build would hold them."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from pipeline import build
from pipeline.commands.cli import main
from pipeline.load.manuscripts import load_book
from pipeline.render.articles import render_book
from pipeline.targets import TARGET_NAMES, check_targets, parse_targets, sources_of, target
from pipeline.targets.eaa import CONFORMANCE, has_text_alternative
from pipeline.targets.package import EpubPackage
from pipeline.targets.rules import Context

from conftest import ROOT, epubcheck_messages, write_book, write_png

OPF = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
TOML = '[book]\ntitle = "Targets"\nauthors = ["A. Writer"]\nlanguage = "en"\n'
TEXT = "---\ntitle: Alpha\n---\n\nThe text of alpha.\n\n## Part one\n\nMore text.\n\n![A grey square](images/grey.png)\n"
GUIDE = ROOT / "docs" / "guide" / "16-stores-and-accessibility-law.md"




def _book(folder: Path, toml: str = "", text: str = TEXT, image: tuple[int, int] = (40, 40)) -> Path:
    write_book(folder, TOML + toml, {"01-alpha.md": text})
    write_png(folder / "images" / "grey.png", image, "grey")
    return folder


def _epub(folder: Path, out: Path) -> Path:
    result = build(folder, out, formats=("epub",), cache=False)
    assert result.ok, [d.format() for d in result.diagnostics]
    (epub,) = result.outputs
    return epub


def _judge(folder: Path, epub: Path, *names: str):
    book, _ = load_book(folder)
    rendered, _ = render_book(book)
    return check_targets(epub, names, sources_of(rendered), book.config.isbn)


def _rule(name: str, rule: str, epub: Path, isbn: str = ""):
    """One rule of a target on the EPUB (no EPUBCheck, no Ace unless it is that rule)."""
    (found,) = [r for r in target(name).rules if r.name == rule]
    package = EpubPackage(epub)
    try:
        return found.findings(package, Context(isbn=isbn))
    finally:
        package.close()


def _tampered(epub: Path, out: Path, change) -> Path:
    """A copy of `epub` with `change(name, data) -> data or None (dropped)` applied to each member."""
    with zipfile.ZipFile(epub) as source, zipfile.ZipFile(out, "w") as target_zip:
        for info in source.infolist():
            data = change(info.filename, source.read(info.filename))
            if data is not None:
                target_zip.writestr(info, data, compress_type=info.compress_type)
    return out


def _opf_edit(old: bytes, new: bytes):
    def change(name: str, data: bytes) -> bytes:
        if name.endswith(".opf"):
            assert old in data, data.decode()
            return data.replace(old, new, 1)
        return data
    return change


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, Path]:
    """A small book and its EPUB, which every store target passes (EPUBCheck aside)."""
    folder = _book(tmp_path_factory.mktemp("small") / "book")
    return folder, _epub(folder, folder.parent / "dist")


# Every store rule, one planted problem each --------------------------------------------------------------------


def test_the_small_book_breaks_no_store_rule_that_needs_no_validator(small):
    _, epub = small
    for name in ("kdp", "apple", "kobo", "google"):
        for rule in target(name).rules:
            if rule.name != "epubcheck":
                assert _rule(name, rule.name, epub) == [], (name, rule.name)


def test_an_epub_over_50_mb_is_too_big_for_send_to_kindle_but_not_for_kdp(small, tmp_path):
    import os

    _, epub = small
    big = tmp_path / "big.epub"
    shutil.copy(epub, big)
    with zipfile.ZipFile(big, "a") as archive:
        archive.writestr(zipfile.ZipInfo("EPUB/padding.bin"), os.urandom(51_000_000), compress_type=zipfile.ZIP_STORED)
    [found] = _rule("kdp", "send-to-kindle-size", big)
    assert "51.0 MB, over the 50.0 MB Send to Kindle by e-mail accepts" in found.message
    assert _rule("kdp", "file-size", big) == []


def test_an_image_over_5_6_megapixels_is_refused_by_apple_at_the_manuscript_line_that_places_it(tmp_path):
    folder = _book(tmp_path / "book", "\n[epub]\nmax-image-pixels = 0\n", image=(2500, 2400))
    epub = _epub(folder, tmp_path / "dist")
    found = [d for d in _judge(folder, epub, "apple") if d.code == "T002"]
    assert {d.severity.value for d in found} == {"error", "warning"}, [d.format() for d in found]
    error = next(d for d in found if d.is_error)
    assert error.path == folder / "01-alpha.md" and error.line == 11, error.format()
    assert "2500×2400 pixels (6.0 megapixels), over the 5.6 megapixels Apple Books accepts" in error.message
    assert "(in the EPUB: EPUB/text/alpha.xhtml:" in error.message and "Apple Books Asset Guide" in error.hint


def test_the_default_image_limit_keeps_apple_s_pixel_rules_quiet(tmp_path):
    folder = _book(tmp_path / "book", image=(2500, 2400))  # downsampled to [epub] max-image-pixels (4 MP)
    epub = _epub(folder, tmp_path / "dist")
    assert _rule("apple", "image-pixels", epub) == [] and _rule("apple", "image-pixels-advised", epub) == []


def test_an_image_over_5_mb_is_over_kobo_s_advice(small, tmp_path):
    import os

    _, epub = small
    noisy = Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3))
    data = io.BytesIO()
    noisy.save(data, "PNG")
    assert data.tell() > 5_000_000
    heavy = _tampered(epub, tmp_path / "heavy.epub",
                      lambda name, content: data.getvalue() if name.endswith("grey.png") else content)
    [found] = _rule("kobo", "image-bytes", heavy)
    assert found.member == "EPUB/text/alpha.xhtml" and found.line > 0 and "over the 5.0 MB Kobo advises" in found.message


def test_a_missing_cover_is_refused_by_google(small, tmp_path):
    _, epub = small
    bare = _tampered(epub, tmp_path / "bare.epub", _opf_edit(b' properties="cover-image"', b""))
    bare = _tampered(bare, tmp_path / "bare2.epub", _opf_edit(b'<meta name="cover" content="cover-image"></meta>', b""))
    [found] = _rule("google", "cover", bare)
    assert "no cover image" in found.message and found.member == "EPUB/content.opf" and found.line > 1


def test_a_small_cover_is_refused_by_google_and_warned_for_kdp(tmp_path):
    folder = _book(tmp_path / "book", 'cover = "cover.png"\n')
    write_png(folder / "cover.png", (300, 400), "grey")
    epub = _epub(folder, tmp_path / "dist")
    [google] = _rule("google", "cover-size", epub)
    [kdp] = _rule("kdp", "cover-size", epub)
    assert "300×400 pixels, smaller than the 640×640 Google Play Books asks for" in google.message
    assert "smaller than the 625×1000 KDP asks for" in kdp.message
    assert google.member == "EPUB/text/front_cover.xhtml" and google.line > 0


def test_a_square_cover_is_far_from_kdp_s_ratio(tmp_path):
    folder = _book(tmp_path / "book", 'cover = "cover.png"\n')
    write_png(folder / "cover.png", (1600, 1600), "grey")
    [found] = _rule("kdp", "cover-ratio", _epub(folder, tmp_path / "dist"))
    assert "height is 1.00 times its width" in found.message and "1.6:1" in found.message


def test_a_gif_cover_and_a_cover_without_its_epub_2_name_are_kobo_findings(small, tmp_path):
    _, epub = small
    gif = _tampered(epub, tmp_path / "gif.epub", _opf_edit(b'id="cover-image" media-type="image/png"',
                                                           b'id="cover-image" media-type="image/gif"'))
    [found] = _rule("kobo", "cover-format", gif)
    assert "image/gif, which Kobo does not show as a cover" in found.message
    unnamed = _tampered(epub, tmp_path / "unnamed.epub",
                        _opf_edit(b'<meta name="cover" content="cover-image"></meta>', b""))
    [found] = _rule("kobo", "cover-meta", unnamed)
    assert '<meta name="cover" content="cover-image"/>' in found.message


def test_css_a_kindle_or_kobo_mangles_is_found_at_the_line_of_the_book_s_own_stylesheet(tmp_path):
    css = ".box {\n  display: flex;\n}\n:root { --gap: 1em; }\n.note { margin: var(--gap); }\n" \
          ".bar { position: fixed; }\n.cols { display: grid; }\n"
    folder = _book(tmp_path / "book")
    (folder / "styles").mkdir()
    (folder / "styles" / "epub.css").write_text(css, encoding="utf-8")
    epub = _epub(folder, tmp_path / "dist")
    found = [d for d in _judge(folder, epub, "kdp", "kobo") if d.code == "T004"]
    lines = {(d.message.split("]")[0] + "]", d.path.name, d.line) for d in found}
    assert ("[kdp]", "epub.css", 2) in lines and ("[kobo]", "epub.css", 2) in lines, [d.format() for d in found]
    assert ("[kdp]", "epub.css", 4) in lines and ("[kdp]", "epub.css", 6) in lines and ("[kobo]", "epub.css", 7) in lines
    assert not any(d.is_error for d in found)  # reported breakage, not a store's stated rule: warnings
    kobo = {d.line for d in found if d.message.startswith("[kobo]")}
    assert kobo == {2, 7}  # Kobo: flex and grid only
    assert all("(in the EPUB: EPUB/style/book.css:" in d.message for d in found)


def test_an_xml_comment_holding_two_hyphens_is_found_where_send_to_kindle_fails(small, tmp_path):
    _, epub = small

    def comment(name: str, data: bytes) -> bytes:
        return data.replace(b"<p>More text.</p>", b"<!-- draft -- remove --><p>More text.</p>") \
            if name.endswith("alpha.xhtml") else data

    broken = _tampered(epub, tmp_path / "comment.epub", comment)
    [found] = _rule("kdp", "xml-comments", broken)
    text = zipfile.ZipFile(broken).read("EPUB/text/alpha.xhtml").decode()
    assert found.member == "EPUB/text/alpha.xhtml"
    assert found.line == text[:text.index("<!--")].count("\n") + 1
    assert "holds '--'" in found.message and "Send to Kindle" in found.message


def test_a_font_whose_licence_forbids_embedding_is_an_error_for_every_store(small, tmp_path):
    from fontTools.ttLib import TTFont

    _, epub = small

    def restrict(name: str, data: bytes) -> bytes:
        if not name.endswith(".ttf"):
            return data
        font = TTFont(io.BytesIO(data))
        font["OS/2"].fsType = 0x0002
        out = io.BytesIO()
        font.save(out)
        return out.getvalue()

    restricted = _tampered(epub, tmp_path / "restricted.epub", restrict)
    for name in ("kdp", "apple", "kobo", "google"):
        found = _rule(name, "font-embedding-restricted", restricted)
        assert found and all("restricted-licence embedding" in f.message and f.member.startswith("EPUB/fonts/")
                             for f in found), name
    assert _rule("kdp", "font-embedding-subset", restricted) == []


def test_an_isbn_with_a_wrong_check_digit_or_not_the_book_s_is_found(tmp_path):
    folder = _book(tmp_path / "book", 'isbn = "978-0-306-40615-7"\n')
    epub = _epub(folder, tmp_path / "dist")
    assert _rule("kobo", "isbn", epub, isbn="978-0-306-40615-7") == []
    wrong = _tampered(epub, tmp_path / "wrong.epub", _opf_edit(b"urn:isbn:9780306406157", b"urn:isbn:9780306406158"))
    found = [d for d in _judge(folder, wrong, "kobo") if d.code == "T007"]
    messages = " ".join(d.message for d in found)
    assert "'urn:isbn:9780306406158' is not a valid ISBN" in messages and "is not among the package's" in messages
    assert all(d.path == folder / "book.toml" and d.line == 5 for d in found), [d.format() for d in found]


def test_contents_nested_three_deep_are_more_than_kindle_shows(tmp_path):
    text = TEXT + "\n### A subsection\n\nText.\n"
    folder = _book(tmp_path / "book", "toc-depth = 3\n", text=text)
    epub = _epub(folder, tmp_path / "dist")
    [found] = [d for d in _judge(folder, epub, "kdp") if d.code == "T008"]
    assert "nests its contents 3 levels deep; Kindle shows 2" in found.message
    assert found.path == folder / "book.toml" and found.line == 5 and "(in the EPUB: EPUB/toc.ncx:" in found.message
    assert _rule("kobo", "toc-depth", epub) == []  # Kobo shows three


def test_an_epub_without_its_ncx_or_any_contents_is_a_kindle_finding(small, tmp_path):
    _, epub = small
    no_ncx = _tampered(epub, tmp_path / "no-ncx.epub", lambda name, data: None if name.endswith(".ncx") else data)
    [found] = _rule("kdp", "ncx", no_ncx)
    assert "no NCX" in found.message
    no_nav = _tampered(no_ncx, tmp_path / "no-nav.epub", _opf_edit(b' properties="nav"', b""))
    [found] = _rule("kdp", "navigation", no_nav)
    assert "no table of contents" in found.message


def test_an_epub_2_package_is_refused_by_apple_and_epubcheck_says_why(small, tmp_path):
    _, epub = small
    old = _tampered(epub, tmp_path / "old.epub", _opf_edit(b'version="3.0"', b'version="2.0"'))
    [found] = _rule("apple", "epub-version", old)
    assert "EPUB 2.0; Apple Books accepts EPUB 3 only" in found.message and found.line == 2
    checked = _rule("apple", "epubcheck", old)
    assert checked and all(f.message.startswith("EPUBCheck ") for f in checked)


# The seed book and the EAA claim -------------------------------------------------------------------------------


def test_the_seed_book_passes_all_five_targets_and_claims_conformance(built_book):
    _, epub = built_book
    found = check_targets(epub, TARGET_NAMES)
    assert not [d for d in found if d.code != "T013"], [d.format() for d in found]  # T013: Ace not installed here
    opf = _opf(epub)
    assert opf.xpath("//opf:meta[@property='dcterms:conformsTo']/text()", namespaces=OPF) == [CONFORMANCE]
    assert opf.xpath("//opf:meta[@property='a11y:certifiedBy']/text()", namespaces=OPF) == ["The Editors"]
    summary = opf.xpath("//opf:meta[@property='schema:accessibilitySummary']/text()", namespaces=OPF)[0]
    assert "WCAG 2.2 level AA" in summary
    assert epubcheck_messages(epub) == []


def _opf(epub: Path) -> etree._Element:
    with zipfile.ZipFile(epub) as archive:
        return etree.fromstring(archive.read("EPUB/content.opf"))


def _claims(epub: Path) -> list[str]:
    return _opf(epub).xpath("//opf:meta[@property='dcterms:conformsTo']/text()", namespaces=OPF)


def test_a_book_with_an_image_without_alt_text_makes_no_claim_and_eaa_says_where(tmp_path):
    folder = _book(tmp_path / "book", text=TEXT.replace("![A grey square]", "![]"))
    epub = _epub(folder, tmp_path / "dist")
    assert _claims(epub) == []
    summary = _opf(epub).xpath("//opf:meta[@property='schema:accessibilitySummary']/text()", namespaces=OPF)[0]
    assert "WCAG" not in summary
    [found] = [d for d in _judge(folder, epub, "eaa") if "alt text" in d.message]
    assert (found.code, found.is_error, found.path, found.line) == ("T011", False, folder / "01-alpha.md", 11)
    # The same EPUB, claiming conformance after the build: the claim is contradicted (an error).
    claimed = _tampered(epub, tmp_path / "claimed.epub", _opf_edit(
        b"</metadata>", f'<meta property="dcterms:conformsTo">{CONFORMANCE}</meta>'
                        f'<meta property="a11y:certifiedBy">X</meta></metadata>'.encode()))
    [found] = [d for d in _judge(folder, claimed, "eaa") if "alt text" in d.message]
    assert found.code == "T012" and found.is_error and "the EPUB claims conformance, but" in found.message


def test_a_skipped_heading_level_forbids_the_claim(tmp_path):
    folder = _book(tmp_path / "book", text=TEXT + "\n#### Too deep\n\nText.\n")
    assert _claims(_epub(folder, tmp_path / "dist")) == []


def test_the_certifier_is_the_option_else_the_publisher_else_the_authors_else_no_claim(tmp_path):
    def certified(toml: str, name: str) -> list[str]:
        folder = write_book(tmp_path / name, toml, {"01-a.md": "---\ntitle: A\n---\n\nText.\n"})
        opf = _opf(_epub(folder, tmp_path / f"{name}-dist"))
        return opf.xpath("//opf:meta[@property='a11y:certifiedBy']/text()", namespaces=OPF)

    assert certified(TOML + 'publisher = "P"\n\n[accessibility]\ncertified-by = "Lab"\n', "a") == ["Lab"]
    assert certified(TOML + 'publisher = "P"\n', "b") == ["P"]
    assert certified(TOML, "c") == ["A. Writer"]
    assert certified('[book]\ntitle = "Nobody"\n', "d") == []


def test_a_decorative_image_is_one_marked_so(tmp_path):
    make = etree.fromstring
    assert has_text_alternative(make('<img alt="A map"/>'))
    assert has_text_alternative(make('<img alt="" role="presentation"/>'))
    assert not has_text_alternative(make('<img alt=""/>')) and not has_text_alternative(make("<img/>"))
    assert not has_text_alternative(make('<img alt="  " role="img"/>'))


# The command line ----------------------------------------------------------------------------------------------


def test_targets_are_given_repeated_or_as_a_comma_list_and_unknown_ones_are_refused(tmp_path, capsys):
    assert parse_targets(["kdp,apple", "KDP", " eaa "]) == ("kdp", "apple", "eaa")
    assert main(["check", str(tmp_path), "--target", "nook"]) == 2
    assert "unknown target(s): nook" in capsys.readouterr().err


def test_build_with_a_target_fails_on_its_errors_and_writes_nothing(tmp_path, capsys):
    folder = _book(tmp_path / "book", "\n[epub]\nmax-image-pixels = 0\n", image=(2500, 2400))
    out = folder / "_dist"  # the default OUT_DIR, where check --target looks
    code = main(["build", str(folder), "--format", "epub", "--target", "kdp", "--target", "apple", "-q",
                 "--no-cache"])
    err = capsys.readouterr().err
    assert code == 1 and "error[T002]: [apple]" in err and "01-alpha.md:11:1" in err, err
    assert not (out / "targets.epub").exists()
    assert main(["build", str(folder), "--format", "epub", "--target", "kdp", "-q"]) == 0
    assert (out / "targets.epub").is_file()
    capsys.readouterr()
    assert main(["check", str(folder), "--target", "kobo"]) == 0, capsys.readouterr().err


# The guide -----------------------------------------------------------------------------------------------------


def test_the_guide_lists_every_rule_of_every_target_with_its_source():
    text = GUIDE.read_text(encoding="utf-8")
    for name in TARGET_NAMES:
        section = re.search(rf"`--target {name}`.*?(?=\n## |\Z)", text, re.DOTALL)
        assert section, name
        for rule in target(name).rules:
            assert f"`{rule.name}`" in section.group(0), (name, rule.name)
