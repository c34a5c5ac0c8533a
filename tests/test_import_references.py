"""`pipeline import` of a closing 'References' section (#29): kept as a list
with the source's numbers, every entry's text as written, its DOIs, PMIDs,
PMCIDs and URLs links; and dollars in the plain text printing as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEEDS, epub_documents, epubcheck_messages, normalize, seed_sentences
from lxml import html

from pipeline import build
from pipeline.commands.importer import import_files, import_text
from pipeline.load.manuscripts import load_article
from pipeline.render.articles import render_article

XHTML = "{http://www.w3.org/1999/xhtml}"

ENTRIES = [
    "Holick MF. Vitamin D deficiency. N Engl J Med. 2007;357(3):266-281. doi:10.1056/NEJMra070553. "
    "PMID: 17634462.",
    "Manson JE, Cook NR, Lee IM, et al. Vitamin D supplements and prevention of cancer and cardiovascular "
    "disease. N Engl J Med. 2019;380(1):33-44. https://doi.org/10.1056/NEJMoa1809944.",
    "Bouillon R, Marcocci C, Carmeliet G, et al. Skeletal and extraskeletal actions of vitamin D. "
    "Endocr Rev. 2019;40(4):1109-1151. DOI 10.1210/er.2018-00126. PMCID: PMC6626501.",
    "Office of Dietary Supplements. Vitamin D: fact sheet for health professionals. "
    "https://ods.od.nih.gov/factsheets/VitaminD-HealthProfessional/. Accessed May 1, 2024.",
    "Smith A, Jones B. The *SUNSHINE* trial_results: a [pilot] study of _daily_ dosing in 2 < x > 1 "
    "groups, `v2` & more. Preprint. medRxiv. 2023. 10.1101/2023.01.02.23284123.",
    "World Health Organization. Guideline: vitamin D in pregnancy. "
    "https://www.who.int/publications/i/item/9789241504935?sequence=1&isAllowed=y.",
    "Institute of Medicine. Dietary Reference Intakes for Calcium and Vitamin D. Washington, DC: National "
    "Academies Press; 2011. ISBN 978-0-309-16394-1. Priced $40, or $x$ in the &amp; edition.",
    "Lee J, Park S. A case report (PMID 31234567). J Clin Case Rep. 2020;10(2):e1234. "
    "https://example.org/case_(2020), retrieved 2024.",
]
HREFS = [
    ["https://doi.org/10.1056/NEJMra070553", "https://pubmed.ncbi.nlm.nih.gov/17634462/"],
    ["https://doi.org/10.1056/NEJMoa1809944"],
    ["https://doi.org/10.1210/er.2018-00126", "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC6626501/"],
    ["https://ods.od.nih.gov/factsheets/VitaminD-HealthProfessional/"],
    ["https://doi.org/10.1101/2023.01.02.23284123"],
    ["https://www.who.int/publications/i/item/9789241504935?sequence=1&isAllowed=y"],
    [],
    ["https://pubmed.ncbi.nlm.nih.gov/31234567/", "https://example.org/case_(2020)"],
]
LINK_TEXTS = [
    ["doi:10.1056/NEJMra070553", "PMID: 17634462"],
    ["https://doi.org/10.1056/NEJMoa1809944"],
    ["DOI 10.1210/er.2018-00126", "PMCID: PMC6626501"],
    ["https://ods.od.nih.gov/factsheets/VitaminD-HealthProfessional/"],
    ["10.1101/2023.01.02.23284123"],
    ["https://www.who.int/publications/i/item/9789241504935?sequence=1&isAllowed=y"],
    [],
    ["PMID 31234567", "https://example.org/case_(2020)"],
]
MATH_LIKE = "Doses vary: between $x and y$ a trial found little difference."
PRICES = "A month's supply costs $5 to $10."
HEALTH = "\n".join([
    "Vitamin D helps the body absorb calcium. Most people get enough from sunlight and food.",
    "“Do you need a vitamin D supplement? This article looks at the evidence.”",
    "- What Vitamin D Does",
    "- Who Needs a Supplement",
    "- References",
    "What Vitamin D Does",
    f"Vitamin D helps the gut absorb calcium and phosphate. {MATH_LIKE} {PRICES}",
    "Who Needs a Supplement",
    "Older adults and people who spend little time outdoors are more likely to be low.",
    "References",
    *(f"{number}. {entry}" for number, entry in enumerate(ENTRIES, 1)),
]) + "\n"


def _body(tmp_path: Path, text: str) -> html.HtmlElement:
    """The article `text` imports as, rendered: its body as an HTML tree."""
    manuscript, diagnostics = import_text(text, tmp_path / "article.txt", "Article")
    assert not any(d.is_error for d in diagnostics)
    path = tmp_path / "01-article.md"
    path.write_text(manuscript, encoding="utf-8")
    article, found = load_article(path)
    assert found == [], [d.format() for d in found]
    rendered, _ = render_article(article, 1, tmp_path)
    return html.fragment_fromstring(rendered.body_html, create_parent="div")


def _list_after(tree: html.HtmlElement, heading: str) -> html.HtmlElement:
    """The list that follows the h2 `heading`."""
    [h2] = [h for h in tree.iter("h2") if normalize(h.text_content()) == heading]
    following = h2.getnext()
    assert following is not None and following.tag in ("ol", "ul"), following
    return following


def _texts(listing: html.HtmlElement) -> list[str]:
    return [normalize(item.text_content()) for item in listing.iterchildren("li")]


@pytest.fixture(scope="module")
def health_epub(tmp_path_factory) -> Path:
    """The health article with its eight references, imported and built as an EPUB."""
    folder = tmp_path_factory.mktemp("health")
    source = folder / "vitamin-d.txt"
    source.write_text(HEALTH, encoding="utf-8")
    written, diagnostics = import_files([source], folder / "book", "Vitamin D", force=False)
    assert not any(d.is_error for d in diagnostics), [d.format() for d in diagnostics]
    assert not [d for d in diagnostics if d.code == "I003"]  # the listed 'References' is found
    result = build(folder / "book", folder / "out", formats=("epub",))
    assert result.ok and result.diagnostics == (), [d.format() for d in result.diagnostics]
    return result.outputs[0]


def _article(epub: Path):
    [page] = [root for name, root in epub_documents(epub).items() if name.endswith("vitamin-d.xhtml")]
    return page


def test_the_references_are_an_ordered_list_of_the_entries_as_written(health_epub):
    page = _article(health_epub)
    [heading] = [h for h in page.iter(f"{XHTML}h2") if "".join(h.itertext()).strip() == "References"]
    listing = heading.getnext()
    assert listing.tag == f"{XHTML}ol" and listing.get("start") in (None, "1")
    items = listing.findall(f"{XHTML}li")
    assert [normalize("".join(item.itertext())) for item in items] == [normalize(entry) for entry in ENTRIES]
    assert not page.findall(f".//{XHTML}em") and not page.findall(f".//{XHTML}code")
    assert not page.findall(f".//{XHTML}math") and not page.findall(f".//{XHTML}*[@class='math']")


def test_dois_pmids_pmcids_and_urls_link_without_their_trailing_period(health_epub):
    items = _article(health_epub).findall(f".//{XHTML}ol/{XHTML}li")[-len(ENTRIES):]
    for item, hrefs, texts in zip(items, HREFS, LINK_TEXTS, strict=True):
        links = item.findall(f"{XHTML}a")
        assert [link.get("href") for link in links] == hrefs
        assert [normalize("".join(link.itertext())) for link in links] == texts
        assert not item.findall(f".//{XHTML}a/{XHTML}a")


def test_the_body_keeps_its_dollars_as_written(health_epub):
    text = normalize("".join(_article(health_epub).itertext()))
    assert normalize(MATH_LIKE) in text and normalize(PRICES) in text


def test_the_epub_is_epubcheck_clean(health_epub):
    assert epubcheck_messages(health_epub) == []


def test_dollars_are_escaped_only_where_they_would_make_math(tmp_path):
    manuscript, _ = import_text(HEALTH, tmp_path / "a.txt", "A")
    assert r"between \$x and y\$" in " ".join(manuscript.split())
    manuscript, _ = import_text(HEALTH.replace(MATH_LIKE, ""), tmp_path / "a.txt", "A")
    body = " ".join(manuscript.split("## References")[0].split())
    assert "$5 to $10" in body and "\\$" not in body


HEAD = "The summary. It has two sentences.\n“The blurb.”\n- Alpha\nAlpha\nText of the section.\n"


HEADINGS = ["References", "REFERENCES:", "Sources", "Bibliography", "Works cited", "Further reading:",
            "Literatur", "Références :", "Referencias", "Fonti"]


@pytest.mark.parametrize("heading", HEADINGS)
@pytest.mark.parametrize("marker", ["{n}. ", "{n}) ", "[{n}] ", "[{n}]"])
def test_headings_and_numbering_styles_make_an_ordered_list(tmp_path, heading, marker):
    entries = ["Smith J. A title. 2020.", "Jones K. Another. 2021;3:4. doi:10.1000/xyz."]
    lines = [marker.format(n=n) + entry for n, entry in enumerate(entries, 1)]
    text = HEAD + f"{heading}\n" + "\n".join(lines) + "\n"
    tree = _body(tmp_path, text)
    listing = _list_after(tree, heading.rstrip(": "))
    assert listing.tag == "ol" and _texts(listing) == entries


def test_numbering_that_starts_elsewhere_is_kept(tmp_path):
    text = HEAD + "Bibliography\n[7] Smith J. A title. 2020.\n[8] Jones K. Another. 2021.\n"
    listing = _list_after(_body(tmp_path, text), "Bibliography")
    assert listing.tag == "ol" and listing.get("start") == "7"
    assert _texts(listing) == ["Smith J. A title. 2020.", "Jones K. Another. 2021."]


def test_numbers_out_of_sequence_are_kept_as_text(tmp_path):
    text = HEAD + "References\n1. First 2020.\n2. Second 2021.\n4. Fourth 2022.\n"
    listing = _list_after(_body(tmp_path, text), "References")
    assert listing.tag == "ul" and _texts(listing) == ["1. First 2020.", "2. Second 2021.", "4. Fourth 2022."]


@pytest.mark.parametrize("entries_text, expected", [
    ("- Smith J. A book. 2020.\n- https://example.org/a.\n",
     ["Smith J. A book. 2020.", "https://example.org/a."]),
    ("Smith J. A book. 2020.\nJones K (2021) A paper. https://example.org/b\n",
     ["Smith J. A book. 2020.", "Jones K (2021) A paper. https://example.org/b"]),
], ids=["bulleted", "one per line"])
def test_bulleted_and_unmarked_entries_make_a_bulleted_list(tmp_path, entries_text, expected):
    listing = _list_after(_body(tmp_path, HEAD + "Further reading\n" + entries_text), "Further reading")
    assert listing.tag == "ul" and _texts(listing) == expected


def test_blank_separated_text_wraps_entries_and_keeps_a_closing_note(tmp_path):
    text = ("The summary.\n\n“The blurb.”\n\n- Alpha\n\nAlpha\n\nText of\nthe section.\n\nReferences:\n\n"
            "1. Smith J. A title that\n   wraps. 2020.\n\n"
            "2. Jones K. Another. 2021;\nhttps://example.org/c.\n\n"
            "Last reviewed in May 2024.\n")
    tree = _body(tmp_path, text)
    listing = _list_after(tree, "References")
    assert _texts(listing) == ["Smith J. A title that wraps. 2020.",
                               "Jones K. Another. 2021; https://example.org/c."]
    closing = listing.getnext()
    assert closing.tag == "p" and normalize(closing.text_content()) == "Last reviewed in May 2024."


def test_an_unlisted_references_heading_closes_the_article_too(tmp_path):
    text = HEAD + "Sources\n1. Smith J. A title. 2020. PMC1234567\n"
    tree = _body(tmp_path, text)
    [link] = _list_after(tree, "Sources").iter("a")
    assert link.get("href") == "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1234567/"


def test_a_sources_section_of_prose_stays_prose(tmp_path):
    prose = "This article draws on conversations with physicians and on the author's notes from many visits."
    tree = _body(tmp_path, HEAD + "Sources\n" + prose + "\n")
    assert not tree.findall(".//ol") and not tree.findall(".//ul")
    assert normalize(tree.text_content()).endswith("Sources " + prose)


def test_links_end_before_punctuation_and_unopened_brackets(tmp_path):
    text = HEAD + ("References\n1. See (https://example.org/a_(b)), https://example.org/q?x=1&y=2; "
                   "doi:10.1016/S0140-6736(20)30183-5.\n")
    links = list(_list_after(_body(tmp_path, text), "References").iter("a"))
    assert [link.get("href") for link in links] == [
        "https://example.org/a_(b)", "https://example.org/q?x=1&y=2",
        "https://doi.org/10.1016/S0140-6736(20)30183-5"]


def test_seeds_with_a_references_section_keep_every_sentence(tmp_path):
    sentences = seed_sentences()  # skips when the seeds are absent
    for index, seed in enumerate(sorted(SEEDS.glob("*.txt"))):
        text = seed.read_text(encoding="utf-8").rstrip("\n") + "\nReferences\n" + "\n".join(
            f"{n}. {entry}" for n, entry in enumerate(ENTRIES, 1)) + "\n"
        folder = tmp_path / str(index)
        folder.mkdir()
        tree = _body(folder, text)
        article, _ = load_article(folder / "01-article.md")
        rendered = normalize(" ".join([article.summary, article.blurb, tree.text_content()]))
        own = [s for s in sentences if normalize(s) in normalize(seed.read_text(encoding="utf-8"))]
        assert own and [s for s in own if normalize(s) not in rendered] == []
        assert _texts(_list_after(tree, "References")) == [normalize(entry) for entry in ENTRIES]
