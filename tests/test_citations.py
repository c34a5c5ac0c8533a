"""Citations (#29, the render side): pandoc's syntax, CSL styles through
citeproc-py, reference lists in the PDF and the EPUB.

The bibliography is given to the book directly (`Book.references`,
`Article.references`), as the loader (load/bibliography.py) gives it, so
these tests do not depend on reading .bib or .json files. The fixtures are
invented: a health article citing ten sources of different kinds, built in
APA and in Vancouver, and a German article.
"""

from __future__ import annotations

import json

import warnings
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

from conftest import epub_documents, epubcheck_messages
from pipeline import build
from pipeline.model import Article, Book, BookConfig, Reference
from pipeline.render.articles import render_book
from pipeline.render.citations import STYLES, csl_locale, repaired_style, style_path

XHTML = "{http://www.w3.org/1999/xhtml}"


def _ref(key: str, line: int, **csl) -> Reference:
    return Reference(key, {"id": key, **csl}, Path("refs.json"), line)


def _people(*names: str) -> list[dict]:
    return [{"family": family, "given": given} for family, _, given in (n.partition(",") for n in names)]


REFERENCES = (
    _ref("smith2020", 2, type="article-journal", title="Night shifts and the memory of nurses",
         author=_people("Smith,Anna", "Jones,Ben"), **{"container-title": "Journal of Sleep Care"},
         volume="12", issue="3", page="45-67", issued={"date-parts": [[2020, 5, 1]]},
         DOI="10.5555/jsc.2020.045", PMID="31234567"),
    _ref("garcia2018", 3, type="book", title="The quiet ward", author=_people("Garcia,Carla"),
         publisher="Harbor Press", **{"publisher-place": "Boston"}, issued={"date-parts": [[2018]]}),
    _ref("lee2019", 4, type="chapter", title="Light at night", author=_people("Lee,Dana"),
         editor=_people("Moreau,Emile"), **{"container-title": "Sleep in hospitals"}, page="101-120",
         publisher="Northfield Books", issued={"date-parts": [[2019]]}),
    _ref("ward2021", 5, type="report", title="Rest breaks in acute care",
         author=[{"literal": "Council for Ward Health"}], publisher="Council for Ward Health",
         number="CWH-7", issued={"date-parts": [[2021]]}),
    _ref("agency2023", 6, type="webpage", title="Sleeping after a night shift",
         author=[{"literal": "Regional Health Agency"}], URL="https://example.org/health/after-night-shifts/",
         accessed={"date-parts": [[2024, 3, 2]]}, issued={"date-parts": [[2023]]}),
    _ref("patel2024", 7, type="article", genre="Preprint", title="Napping on duty: a pilot trial",
         author=_people("Patel,Farah", "Okafor,Grace", "Novak,Hugo"), publisher="medRxiv",
         issued={"date-parts": [[2024, 1, 15]]}, DOI="10.5555/2024.01.15.0001"),
    _ref("nguyen2017", 8, type="article-journal", title="Caffeine and the second half of a shift",
         author=_people("Nguyen,Ivy", "Brown,Jack", "Kim,Lena"), **{"container-title": "Occupational Rest"},
         volume="4", page="1-9", issued={"date-parts": [[2017]]}, PMCID="PMC5012345"),
    _ref("brown2015", 9, type="thesis", title="Sleep debt among junior doctors", author=_people("Brown,Mia"),
         publisher="University of Eastmoor", genre="PhD thesis", issued={"date-parts": [[2015]]}),
    _ref("kim2022", 10, type="paper-conference", title="Quiet hours in intensive care", author=_people("Kim,Noah"),
         **{"container-title": "Proceedings of the Ward Care Meeting"}, page="12-15",
         issued={"date-parts": [[2022]]}),
    _ref("okafor2016", 11, type="article-newspaper", title="Hospitals rethink the night",
         author=_people("Okafor,Paul"), **{"container-title": "The Daily Ledger"},
         issued={"date-parts": [[2016, 6, 9]]}),
)

HEALTH = """# Sleep on the night shift

Nurses on nights sleep less [@smith2020, p. 33], and the ward feels it
[see @garcia2018; @lee2019, pp. 3-5]. As @smith2020 found, memory suffers;
they wrote it again [-@smith2020]. A council counted breaks [@ward2021] and an
agency gives advice [@agency2023]. A trial tried naps [@patel2024], caffeine
helps a little [@nguyen2017, para. 2], a thesis measured the debt [@brown2015],
a meeting heard of quiet hours [@kim2022] and a newspaper told it [@okafor2016].

Write to desk@example.org or @nightdesk; a slip: [@smiht2020].
"""

GERMAN = """# Schlaf im Nachtdienst

Nachtschichten kosten Schlaf [@smith2020, S. 33]. Wie @smith2020 zeigen, leidet das
Gedächtnis.
"""


def _book_dir(tmp_path: Path, csl: str, scope: str = "article", texts: dict[str, str] | None = None,
              language: str = "en") -> Path:
    folder = tmp_path / f"book-{csl}-{scope}-{language}"
    folder.mkdir()
    texts = texts or {"01-sleep.md": HEALTH}
    (folder / "book.toml").write_text(
        f'[book]\ntitle = "Rest"\nlanguage = "{language}"\nauthors = ["A. Writer"]\n'
        f'articles = [{", ".join(repr(n).replace(chr(39), chr(34)) for n in texts)}]\n'
        f'bibliography = "refs.json"\ncsl = "{csl}"\nreferences = "{scope}"\n', encoding="utf-8")
    # The fixtures' entries as the loader reads them: a CSL-JSON file of the book.
    (folder / "refs.json").write_text(json.dumps([dict(r.csl) for r in REFERENCES], indent=1), encoding="utf-8")
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def with_references():
    """The settings a test builds with (its book.toml already names them: the
    bibliography refs.json, [book] csl and references, read by the loader)."""
    return {}


def _build(folder: Path, out: Path, settings: dict, csl: str, scope: str = "article", **options):
    settings.update(csl=csl, scope=scope)
    result = build(folder, out, **options)
    assert result.ok, [d.format() for d in result.diagnostics]
    return result


def _article_document(epub: Path, name: str) -> etree._Element:
    return epub_documents(epub)[f"EPUB/text/{name}.xhtml"]


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _citations(document: etree._Element) -> list[str]:
    return [_text(span) for span in document.iter(f"{XHTML}span") if span.get("class") == "citation"]


def _entries(document: etree._Element) -> list[etree._Element]:
    return [li for li in document.iter(f"{XHTML}li") if li.get("class") == "csl-entry"]


def _uris(pdf: Path) -> set[str]:
    found = set()
    for page in PdfReader(pdf).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and action.get("/URI"):
                found.add(str(action["/URI"]))
    return found


def citeproc_entries(style: str | Path, keys: list[str], locale: str = "en-US", repaired: bool = False) -> list[str]:
    """citeproc-py's own list for the style, the sources cited in this order (plain text)."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON
    import io

    path = Path(style)
    source = io.BytesIO(repaired_style(path, locale)) if repaired else str(path)
    items = [dict(r.csl) for r in REFERENCES]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        csl = CitationStylesStyle(source, locale=locale, validate=False)
        bibliography = CitationStylesBibliography(csl, CiteProcJSON(items), formatter.html)
        bibliography.register(Citation([CitationItem(key) for key in keys]))
        bibliography.sort()
        rendered = bibliography.bibliography()
    return [" ".join(etree.fromstring(f"<x>{str(text)}</x>").xpath("string()").split()) for text in rendered]


CITED = ["smith2020", "garcia2018", "lee2019", "ward2021", "agency2023", "patel2024", "nguyen2017",
         "brown2015", "kim2022", "okafor2016"]


# --- A whole book, APA ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def apa_book(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("apa")
    return build(_book_dir(tmp, "apa"), tmp / "out")


def test_apa_citations_read_as_the_style_writes_them(apa_book):
    assert apa_book.ok, [d.format() for d in apa_book.diagnostics]
    _pdf, epub = apa_book.outputs
    document = _article_document(epub, "sleep")
    citations = _citations(document)
    assert citations[0] == "(Smith & Jones, 2020, p. 33)"
    assert citations[1] == "(see Garcia, 2018; Lee, 2019, pp. 3–5)"
    assert citations[2] == "Smith and Jones (2020)"  # narrative: the sentence names them
    assert citations[3] == "(2020)"  # [-@smith2020]
    assert "(Nguyen et al., 2017, para. 2)" in citations
    assert citations[-1] == "(smiht2020?)"
    # Not citations: an address and a handle no key is near
    text = _text(document)
    assert "desk@example.org" in text and "@nightdesk" in text


def test_an_unknown_key_is_a_located_warning_with_the_nearest_key(apa_book):
    [found] = [d for d in apa_book.diagnostics if d.code == "R019"]
    assert (found.path.name, found.line, found.column) == ("01-sleep.md", 10, 51)
    assert "did you mean '@smith2020'?" in found.hint
    assert not found.is_error


def test_each_citation_links_to_its_entry(apa_book):
    _pdf, epub = apa_book.outputs
    document = _article_document(epub, "sleep")
    ids = {li.get("id") for li in _entries(document)}
    links = [a for a in document.iter(f"{XHTML}a") if a.get("role") == "doc-biblioref"]
    assert len(links) >= 11  # the second citation links each of its two sources
    assert {a.get("href").lstrip("#") for a in links} <= ids
    two = [a for a in links if a.get("href").endswith(("garcia2018", "lee2019"))]
    assert [_text(a) for a in two[:2]] == ["see Garcia, 2018", "Lee, 2019, pp. 3–5"]


def test_apa_list_equals_citeproc_pys_output_in_its_order(apa_book):
    _pdf, epub = apa_book.outputs
    document = _article_document(epub, "sleep")
    [section] = [s for s in document.iter(f"{XHTML}section") if s.get("role") == "doc-bibliography"]
    assert _text(section.find(f"{XHTML}h2")) == "References"
    ours = [_text(li) for li in _entries(document)]
    assert ours == citeproc_entries(style_path(Book(Path("."), "b", BookConfig(title="b"), ())), CITED)
    assert ours[0].startswith("Brown, M. (2015)")  # alphabetical, as APA sorts
    assert len(ours) == 10  # the unknown key makes no entry; nothing uncited is listed


def test_apa_links_in_both_outputs(apa_book):
    pdf, epub = apa_book.outputs
    document = _article_document(epub, "sleep")
    hrefs = {a.get("href") for li in _entries(document) for a in li.iter(f"{XHTML}a")}
    assert "https://doi.org/10.5555/jsc.2020.045" in hrefs
    assert "https://example.org/health/after-night-shifts/" in hrefs
    uris = _uris(pdf)
    assert {"https://doi.org/10.5555/jsc.2020.045", "https://doi.org/10.5555/2024.01.15.0001",
            "https://example.org/health/after-night-shifts/"} <= uris
    assert epubcheck_messages(epub) == []


# --- Vancouver ------------------------------------------------------------------------------------------


def test_vancouver_numbers_in_citation_order_and_links_pubmed(tmp_path, with_references):
    result = _build(_book_dir(tmp_path, "vancouver"), tmp_path / "out", with_references, "vancouver")
    pdf, epub = result.outputs
    document = _article_document(epub, "sleep")
    citations = _citations(document)
    assert citations[:4] == ["[1]", "[see 2,3]", "Smith and Jones [1]", "[1]"]
    entries = _entries(document)
    numbers = [_text(li.find(f"{XHTML}span")) for li in entries]
    assert numbers == [f"{n}." for n in range(1, 11)]
    assert [li.get("id").removeprefix("sleep--ref-") for li in entries] == CITED
    # citeproc-py's own entries (the style's localized date repaired: "2020 May 1", not "2020May1")
    expected = citeproc_entries(style_path(Book(Path("."), "b", BookConfig(title="b", csl="vancouver"), ())),
                                CITED, repaired=True)
    assert [_text(li).replace(". ", ".", 1) for li in entries] == expected
    assert "2020 May 1;12(3):45–67" in expected[0]
    uris = _uris(pdf)
    assert {"https://doi.org/10.5555/jsc.2020.045", "https://pubmed.ncbi.nlm.nih.gov/31234567/"} <= uris
    hrefs = {a.get("href") for li in entries for a in li.iter(f"{XHTML}a")}
    assert "https://pubmed.ncbi.nlm.nih.gov/31234567/" in hrefs
    assert epubcheck_messages(epub) == []
    _look_at(pdf, tmp_path)


def _look_at(pdf: Path, folder: Path) -> list[Path]:
    """The pages holding the list, as PNG (for a person to look at: CITATIONS_PNG=folder keeps them)."""
    import os

    import pypdfium2

    keep = os.environ.get("CITATIONS_PNG")
    target = Path(keep) if keep else folder
    target.mkdir(parents=True, exist_ok=True)
    made = []
    document = pypdfium2.PdfDocument(str(pdf))
    for index in range(len(document)):
        text = document[index].get_textpage().get_text_range()
        if "References" in text or "Literatur" in text:
            path = target / f"{pdf.stem}-{index + 1}.png"
            document[index].render(scale=2).to_pil().save(path)
            made.append(path)
    assert made
    return made


def test_references_for_the_book_one_list_at_its_end_and_each_download_its_own(tmp_path, with_references):
    first = HEALTH.split("\n\n")[0] + "\n\nThe night [@smith2020] and the ward [@garcia2018].\n"
    second = "# Caffeine\n\nCoffee helps [@nguyen2017], as before [@smith2020].\n"
    folder = _book_dir(tmp_path, "vancouver", "book", {"01-night.md": first, "02-caffeine.md": second})
    result = _build(folder, tmp_path / "out", with_references, "vancouver", "book", per_article=True)
    epub = next(p for p in result.outputs if p.name.endswith(".epub") and "caffeine" not in p.name
                and "night" not in p.name)
    documents = epub_documents(epub)
    caffeine = documents["EPUB/text/caffeine.xhtml"]
    assert _citations(caffeine) == ["[3]", "[1]"]  # numbered through the book
    assert not _entries(caffeine)  # the book's list holds them
    book_list = documents["EPUB/text/references.xhtml"]
    assert [_text(li)[:2] for li in _entries(book_list)] == ["1.", "2.", "3."]
    nav = documents["EPUB/text/front_nav.xhtml"]
    assert "References" in [_text(a) for a in nav.iter(f"{XHTML}a")]
    links = [a.get("href") for a in caffeine.iter(f"{XHTML}a") if a.get("role") == "doc-biblioref"]
    assert links[0] == "references.xhtml#references--ref-nguyen2017"
    assert epubcheck_messages(epub) == []
    # The download of the second article: its own list, its entries numbered as the book's, linked within
    download = next(p for p in result.outputs if p.name == "caffeine.epub")
    own = epub_documents(download)["EPUB/text/caffeine.xhtml"]
    assert [_text(li)[:2] for li in _entries(own)] == ["1.", "3."]
    hrefs = [a.get("href") for a in own.iter(f"{XHTML}a") if a.get("role") == "doc-biblioref"]
    assert hrefs == ["#caffeine--ref-nguyen2017", "#caffeine--ref-smith2020"]
    assert not any("references" in name for name in epub_documents(download) if name.endswith("references.xhtml"))
    pdf = next(p for p in result.outputs if p.suffix == ".pdf" and p.parent == result.outputs[0].parent
               and p.stem == epub.stem)
    outline = [item.title for item in PdfReader(pdf).outline if not isinstance(item, list)]
    assert outline[-1] == "References"


# --- German ---------------------------------------------------------------------------------------------


def test_a_german_article_cites_with_the_german_locale(tmp_path, with_references):
    result = _build(_book_dir(tmp_path, "apa", texts={"01-schlaf.md": GERMAN}, language="de"),
                    tmp_path / "out", with_references, "apa", formats=("epub",))
    [epub] = result.outputs
    document = _article_document(epub, "schlaf")
    assert _citations(document) == ["(Smith & Jones, 2020, S. 33)", "Smith und Jones (2020)"]
    [section] = [s for s in document.iter(f"{XHTML}section") if s.get("role") == "doc-bibliography"]
    assert _text(section.find(f"{XHTML}h2")) == "Literatur"
    assert epubcheck_messages(epub) == []


def test_csl_locales_follow_the_language():
    assert csl_locale("de") == "de-DE" and csl_locale("de-AT") == "de-AT"
    assert csl_locale("pt-BR") == "pt-BR" and csl_locale("pt") == "pt-PT"
    assert csl_locale("xx") == "en-US" and csl_locale("en") == "en-US"


# --- Rendering alone (no build) -------------------------------------------------------------------------


def _render(body: str, csl: str = "apa", nocite: tuple[str, ...] = (), **config):
    article = Article(slug="a", title="A", source_path=Path("/book/a.md"), body=body, body_line=3, nocite=nocite)
    book = Book(root=Path("/book"), slug="b", config=BookConfig(title="B", csl=csl, **config), articles=(article,),
                references=REFERENCES)
    rendered, found = render_book(book)
    return rendered.articles, found


def test_no_bibliography_no_citations():
    article = Article(slug="a", title="A", source_path=Path("/book/a.md"), body="See [@smith2020].", body_line=1)
    book = Book(root=Path("/book"), slug="b", config=BookConfig(title="B"), articles=(article,))
    rendered, found = render_book(book)
    assert "[@smith2020]" in rendered.articles[0].body_html and not found


def test_cross_references_and_addresses_are_left_alone():
    [item], found = _render("Look at @fig-a, mail x@smith2020.org, link [@smith2020](https://e.org).\n")
    assert "citation" not in item.body_html
    assert [d.code for d in found] == ["R014"]  # the cross-reference's own message, as before


def test_nocite_all_lists_every_entry_and_uncited_ones_are_left_out():
    [item], _ = _render("Only [@garcia2018].\n")
    assert item.body_html.count('class="csl-entry"') == 1
    [item], _ = _render("Only [@garcia2018].\n", nocite=("@*",))
    assert item.body_html.count('class="csl-entry"') == 10


def test_the_citation_markup_cannot_be_forged_and_is_valid_xhtml():
    body = 'Raw <span class="citation-mark-0">x</span> and [@smith2020].\n'
    [item], _ = _render(body)
    etree.fromstring(f"<div>{item.body_html}</div>")  # well-formed
    assert 'citation-mark-0">x<' in item.body_html  # the author's span kept as written, not a citation
    assert "<script" not in item.body_html


def test_every_bundled_style_formats_the_fixtures():
    for name in STYLES:
        [item], found = _render("One [@smith2020, p. 3], two @garcia2018.\n", csl=name)
        assert not found, name
        assert item.body_html.count('class="csl-entry"') == 2, name


def test_a_book_style_that_is_no_csl_is_an_error(tmp_path):
    bad = tmp_path / "styles" / "mine.csl"
    bad.parent.mkdir()
    bad.write_text("<notcsl/>", encoding="utf-8")
    article = Article(slug="a", title="A", source_path=tmp_path / "a.md", body="[@smith2020]", body_line=1)
    book = Book(root=tmp_path, slug="b", config=BookConfig(title="B"), articles=(article,), references=REFERENCES,
                csl_style=bad)
    _, found = render_book(book)
    assert [(d.code, d.is_error, d.path) for d in found] == [("R021", True, bad)]
