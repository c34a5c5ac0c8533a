"""What the real site folders showed the render must do (#27): found by
building tests/test_corpus_sites.py's folders, checked here on small books
of our own so that they hold where ../shared is absent."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from conftest import epubcheck_messages, write_png
from pipeline import build
from pipeline.render.articles import normalize_url, render_inline


def _chapter(tmp_path: Path, files: dict[str, str], name: str = "a") -> tuple[object, str]:
    book = tmp_path / "book"
    book.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        (book / path).parent.mkdir(parents=True, exist_ok=True)
        (book / path).write_text(text, encoding="utf-8")
    result = build(book, tmp_path / "out", formats=("epub",))
    epub = next((p for p in result.outputs if p.suffix == ".epub"), None)
    if epub is None:
        return result, ""
    assert epubcheck_messages(epub) == []
    with zipfile.ZipFile(epub) as archive:
        return result, archive.read(f"EPUB/text/{name}.xhtml").decode("utf-8")


def test_a_summary_keeps_only_web_links():
    """A relative link in a summary (a Docusaurus post's text before <!--truncate-->) named a page
    the EPUB does not hold (RSC-007): its text stays; a full address stays a link."""
    html = render_inline("See [the post](/blog/x), [the site](https://a.org), ![a chart](c.png) and [here](#x).")
    assert html == 'See the post, <a href="https://a.org">the site</a>, a chart and here.'


def test_details_open_with_their_summary(tmp_path):
    """mdBook's speaker notes are <details> without a summary (RSC-005): a div, text kept; a summary
    written after other content is moved to the front."""
    _, chapter = _chapter(tmp_path, {"01-a.md": "---\ntitle: A\n---\n\n<details>\n\n- a speaker note\n\n</details>"
                                     "\n\n<details>\n\nlead text\n\n<summary>Sum</summary>\n\nbody\n\n</details>\n"})
    assert '<div class="details">' in chapter and "a speaker note" in chapter
    assert "<details><summary>Sum</summary>" in chapter and "lead text" in chapter


def test_a_url_with_a_second_hash_is_a_uri():
    assert normalize_url("https://matrix.to/#/#room:matrix.org") == "https://matrix.to/#/%23room:matrix.org"
    assert normalize_url("https://x.org/?q=1#frag") == "https://x.org/?q=1#frag"


def test_a_missing_image_is_an_error_in_a_book_and_a_warning_in_a_site(tmp_path):
    body = "---\ntitle: A\n---\n\nText ![chart](images/none.png) here.\n"
    result, _ = _chapter(tmp_path / "book-of-ours", {"01-a.md": body})
    assert [d.code for d in result.diagnostics if d.is_error] == ["R002"]
    site = {"mkdocs.yml": "site_name: Site\n", "docs/a.md": "# A\n\nText ![chart](images/none.png) here.\n"}
    result, chapter = _chapter(tmp_path / "site", site)
    assert result.ok and [d.code for d in result.diagnostics if d.code == "R002"] == ["R002"]
    assert "[chart]" in chapter  # its alt text in its place


def test_a_material_icon_goes_with_its_space_and_the_list_item_keeps_its_column(tmp_path):
    """MkDocs grid cards: `-   :material-lock:{ .lg } __Title__` lost its icon but kept the space,
    five spaces after the marker: the card's body became a code block."""
    site = {"mkdocs.yml": "site_name: S\n",
            "docs/index.md": "# Home\n\n-   :material-lock:{ .lg .middle } __Build system__\n\n    ---\n\n"
                             "    Reproducible builds\n"}
    _, chapter = _chapter(tmp_path, site, name="index")
    assert "<li>\n<p><strong>Build system</strong></p>" in chapter and "<pre>" not in chapter


def test_a_site_root_link_to_a_page_not_in_the_book_leads_to_the_site(tmp_path):
    """With the site's address known (mkdocs.yml's site_url), `/docs/cli.md#x` is the page on the
    web; without it the link keeps its text only (R008)."""
    page = "# A\n\nSee [the CLI](/reference/cli.md#shard) and [b](b.md).\n"
    site = {"mkdocs.yml": "site_name: S\nsite_url: https://example.org/\n", "docs/a.md": page, "docs/b.md": "# B\n"}
    result, chapter = _chapter(tmp_path / "with", site)
    assert '<a href="https://example.org/reference/cli#shard">the CLI</a>' in chapter
    assert not [d for d in result.diagnostics if d.code == "R008"]
    site["mkdocs.yml"] = "site_name: S\n"
    result, chapter = _chapter(tmp_path / "without", site)
    assert "the CLI" in chapter and "reference/cli" not in chapter
    assert [d.code for d in result.diagnostics if d.code == "R008"] == ["R008"]


def test_an_embedded_video_is_a_card_with_a_qr_code_on_paper(tmp_path):
    """`{{< youtube ID >}}` is a card with its address in both outputs; the PDF adds a QR code
    of the address (an SVG of paths that passes the gate's SVG check, as images do)."""
    import base64

    from pypdf import PdfReader

    from pipeline.export.pdf.booklet import with_embed_codes
    from pipeline.model import Article, RenderedArticle
    from pipeline.resources import check_svg

    book = tmp_path / "book"
    book.mkdir()
    (book / "01-a.md").write_text("---\ntitle: A\n---\n\nWatch:\n\n{{< youtube dQw4w9WgXcQ >}}\n", encoding="utf-8")
    result = build(book, tmp_path / "out")
    assert result.ok, [d.format() for d in result.diagnostics]
    pdf = next(p for p in result.outputs if p.suffix == ".pdf")
    links = [a["/A"].get("/URI") for page in PdfReader(pdf).pages for a in
             (x.get_object() for x in page.get("/Annots") or ()) if "/A" in a]
    assert "https://www.youtube.com/watch?v=dQw4w9WgXcQ" in links
    card = '<p class="embed">YouTube video: <a href="https://www.youtube.com/watch?v=x">…</a></p>'
    item = RenderedArticle(Article("a", "A", book / "01-a.md", "", 1), 1, "a", card, "", "", ())
    html = with_embed_codes(item).body_html
    source = html.split('src="')[1].split('"')[0]
    assert source.startswith("data:image/svg+xml;base64,") and 'class="embed-code"' in html
    check_svg(base64.b64decode(source.split(",", 1)[1]))  # raises if it is not a safe SVG


def test_the_front_matters_lead_image_opens_the_article(tmp_path):
    """`image:` (or cover, heroImage…) is checked and resolved as a body image and set first in the
    article, without a caption; a missing one is reported as any image is."""
    from PIL import Image

    book = tmp_path / "book"
    (book / "img").mkdir(parents=True)
    Image.new("RGB", (120, 60), (40, 90, 140)).save(book / "img" / "hero.png")
    (book / "01-a.md").write_text("---\ntitle: Lead\nimage: img/hero.png\n---\n\nBody text.\n", encoding="utf-8")
    _, chapter = _chapter(tmp_path, {}, name="a")
    assert '<figure class="lead-image"><img src="img/hero.png" alt="Lead"/></figure><p>Body text.</p>' in chapter
    (book / "01-a.md").write_text("---\ntitle: Lead\nimage: img/none.png\n---\n\nBody text.\n", encoding="utf-8")
    result = build(book, tmp_path / "out2", formats=("epub",))
    assert [d.code for d in result.diagnostics if d.is_error] == ["R002"]




def test_an_image_for_the_sites_dark_theme_is_left_out_and_its_light_twin_kept(tmp_path):
    """A README's logo in both themes (GitHub's #gh-dark-mode-only, Material
    for MkDocs' #only-dark), react.dev's className="dark-image" and Tailwind's
    `hidden dark:block` printed both images one after the other: the dark
    one goes (a paragraph, link or figure left empty with it), the light one stays,
    and the dark file is not in the EPUB; code showing the syntax is kept."""
    book = tmp_path / "book"
    for name in ("light", "dark", "dark2", "dark3", "l2", "d2"):
        write_png(book / "images" / f"{name}.png", (40, 20), (200, 200, 200) if "l" in name else (20, 20, 20))
    _, chapter = _chapter(tmp_path, {"a.md": (
        "---\ntitle: A\n---\n\n"
        "![Logo](images/light.png#gh-light-mode-only)\n![Logo](images/dark.png#gh-dark-mode-only)\n\n"
        "[![Logo](images/dark2.png#only-dark)](https://example.org)\n\n"
        "Text <img class=\"hidden dark:block\" src=\"images/dark3.png\" alt=\"x\"> after.\n\n"
        "<div>\n  <img className=\"w-full light-image\" src=\"images/l2.png\" alt=\"Tracks\" />\n"
        "  <img className=\"w-full dark-image\" src=\"images/d2.png\" alt=\"Tracks\" />\n</div>\n\n"
        "<figure><img class=\"dark-only\" src=\"images/dark.png\" alt=\"x\"><figcaption>Dark</figcaption></figure>\n\n"
        "`<img className=\"dark-image\">` and `![](x.png#gh-dark-mode-only)` in code.\n")})
    shown = [src.split("/")[-1].split("#")[0] for src in re.findall(r'<img [^>]*src="([^"]+)"', chapter)]
    assert shown == ["light.png", "l2.png"], chapter
    assert "https://example.org" not in chapter and "Text  after." in chapter and ">Dark</figcaption>" not in chapter
    assert 'className="dark-image"' in chapter.replace("&quot;", '"') and "#gh-dark-mode-only" in chapter
    epub = next((tmp_path / "out").glob("*.epub"))
    with zipfile.ZipFile(epub) as archive:
        images = sorted(n.rsplit("/", 1)[-1] for n in archive.namelist() if n.startswith("EPUB/text/") and n.endswith(".png"))
    assert images == ["l2.png", "light.png"]


def test_the_typst_pdf_prints_the_embeds_qr_code_too(tmp_path):
    """`--engine typst`: the card keeps its link and carries the QR code, an
    image whose alternative text (PDF/UA) names the address, as WeasyPrint's."""
    import pikepdf

    from pipeline.build import BuildOptions

    book = tmp_path / "book"
    book.mkdir()
    (book / "01-a.md").write_text("---\ntitle: A\n---\n\nWatch:\n\n{{< youtube dQw4w9WgXcQ >}}\n", encoding="utf-8")
    result = build(book, tmp_path / "out", BuildOptions(formats=("pdf",), pdf_engine="typst", cache=False))
    assert result.ok, [d.format() for d in result.diagnostics]
    with pikepdf.open(result.outputs[0]) as pdf:
        alts = [str(item.get("/Alt")) for item in pdf.objects
                if isinstance(item, pikepdf.Dictionary) and item.get("/S") == "/Figure" and "/Alt" in item]
        uris = [str(a.A.URI) for page in pdf.pages for a in page.get("/Annots", []) if "/A" in a]
    address = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert f"QR code: {address}" in alts and address in uris


def test_a_missing_lead_image_is_located_at_its_front_matter_line(tmp_path):
    """`image: images/gull.png` on line 4 that does not exist: R002 at 4:8 (it pointed at the
    blank line after the front matter), whatever the site calls the key."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "L"\nlanguage = "en"\n', encoding="utf-8")
    (book / "a.md").write_text("---\ntitle: Gulls\nsummary: Birds.\nimage: images/gull.png\n---\n\nText.\n",
                               encoding="utf-8")
    (book / "b.md").write_text("---\ntitle: Terns\nheroImage: /terns.png\n---\n\nText.\n", encoding="utf-8")
    result = build(book, tmp_path / "out", formats=("epub",))
    places = sorted((d.path.name, d.line, d.column) for d in result.diagnostics if d.code == "R002")
    assert places == [("a.md", 4, 8), ("b.md", 3, 12)], [d.format() for d in result.diagnostics]
