"""Front matter as websites write it (#27): YAML, TOML (`+++`) and JSON,
each generator's keys mapped onto ours, judged by the article loaded and the
diagnostics a user reads. Fixtures are our own; the corpus test only reads
../shared/corpus-sites when it is there."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from pipeline import build
from pipeline.diagnostics import format_all
from pipeline.load.frontmatter import split
from pipeline.load.manuscripts import load_article, load_book

from conftest import SHARED


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _load(tmp_path: Path, text: str, name: str = "a.md", flavour: str = "plain", authors=None):
    return load_article(_write(tmp_path / name, text), flavour=flavour, authors=authors)


# --- TOML ----------------------------------------------------------------------------------------


def test_toml_front_matter_is_read_and_not_printed(tmp_path):
    text = ('+++\ntitle = "Tides"\ndate = 2023-03-16T09:30:00+02:00\ntags = ["sea", "moon"]\n'
            'description = "Why the sea rises."\n[author]\nname = "Ann Lee"\n+++\n\nThe sea.\n')
    article, diagnostics = _load(tmp_path, text, flavour="hugo")
    assert diagnostics == []
    assert (article.title, article.date, article.tags, article.summary, article.authors) == (
        "Tides", "2023-03-16", ("sea", "moon"), "Why the sea rises.", ("Ann Lee",))
    assert "+++" not in article.body and article.body.strip() == "The sea." and article.body_line == 9


def test_a_toml_error_names_its_line_and_column(tmp_path):
    _, [d] = _load(tmp_path, '+++\ntitle = "Tides"\ndate = 2023-03-16\nweight = = 3\n+++\n\nText.\n')
    assert (d.code, d.is_error, d.line, d.column) == ("M001", True, 4, 10) and "TOML" in d.message


def test_a_toml_control_character_is_located(tmp_path):
    _, [d] = _load(tmp_path, '+++\ntitle = "Ti\x07des"\n+++\n\nText.\n')
    assert (d.code, d.line, d.column) == ("M001", 2, 12) and "\\x07" in d.message


def test_an_unclosed_toml_block_is_m006(tmp_path):
    _, diagnostics = _load(tmp_path, '+++\ntitle = "Tides"\n\nText.\n')
    assert [(d.code, d.line) for d in diagnostics if d.is_error] == [("M006", 1)]
    assert "'+++'" in diagnostics[0].message


def test_a_toml_number_too_long_to_read_is_an_error_not_a_traceback(tmp_path):
    _, [d] = _load(tmp_path, "+++\nweight = " + "9" * 5000 + "\n+++\n\nText.\n")
    assert d.code == "M001" and len(d.message) < 300


# --- JSON ----------------------------------------------------------------------------------------


def test_json_front_matter_is_read_and_the_body_starts_after_it(tmp_path):
    text = '{\n  "title": "Tides",\n  "summary": "Why.",\n  "weight": 3,\n  "categories": ["sea"]\n}\n\nThe sea.\n'
    article, diagnostics = _load(tmp_path, text, flavour="hugo")
    assert diagnostics == []
    assert (article.title, article.summary, article.order, article.tags) == ("Tides", "Why.", 3.0, ("sea",))
    assert article.body.strip() == "The sea." and article.body_line == 7


def test_a_json_error_names_its_line_and_column(tmp_path):
    _, [d] = _load(tmp_path, '{\n  "title": "Tides",\n  "weight": 3,\n}\n\nText.\n')
    assert (d.code, d.line, d.column) == ("M001", 4, 1) and "JSON" in d.message


def test_json_front_matter_is_read_from_its_first_64_kib_only(tmp_path):
    _, [d] = _load(tmp_path, '{\n  "title": "' + "a" * 70_000 + '"\n}\n\nText.\n')
    assert d.code == "M001" and "64 KiB" in d.message and len(d.message) < 200


def test_json_nested_thousands_deep_is_an_error_not_a_traceback(tmp_path):
    _, [d] = _load(tmp_path, '{"a": ' + "[" * 30_000 + "]" * 30_000 + "}\n\nText.\n")
    assert d.code == "M001"


def test_a_shortcode_or_liquid_on_line_one_is_not_json(tmp_path):
    for first in ('{{< figure src="a.png" >}}', "{% include note.html %}", "{#top}"):
        front, diagnostics = split(first + "\n\nText.\n", tmp_path / "a.md")
        assert (front.present, front.body_line, diagnostics) == (False, 1, [])


# --- YAML protections still hold -----------------------------------------------------------------


def test_yaml_aliases_are_still_refused_and_mapped_keys_too(tmp_path):
    _, [d] = _load(tmp_path, "---\ndescription: &a x\nexcerpt: *a\n---\n\nText.\n")
    assert (d.code, d.line) == ("M012", 2)


# --- keys mapped ---------------------------------------------------------------------------------


@pytest.mark.parametrize("line, field, value", [
    ("title: T", "title", "T"),
    ("linkTitle: T", "title", "T"),
    ("display_title: T", "title", "T"),
    ("description: In short.", "summary", "In short."),
    ("excerpt: In short.", "summary", "In short."),
    ("summary: In short.", "summary", "In short."),
    ("tags: [a, b]", "tags", ("a", "b")),
    ("categories: [a]", "tags", ("a",)),
    ("keywords: a, b", "tags", ("a", "b")),
    ("image: /img/lead.png", "image", "/img/lead.png"),
    ("cover: lead.png", "image", "lead.png"),
    ("cover: {image: lead.png, alt: A lead}", "image", "lead.png"),
    ("heroImage: ./lead.jpg", "image", "./lead.jpg"),
    ("featured_image: lead.jpg", "image", "lead.jpg"),
    ("url: /about/tides/", "url", "/about/tides/"),
    ("permalink: /docs/tides/", "url", "/docs/tides/"),
    ("weight: 20", "order", 20.0),
    ("order: 2", "order", 2.0),
    ("sidebar_position: 1.5", "order", 1.5),
    ("nav_order: 4", "order", 4.0),
    ("lang: fr", "language", "fr"),
    ("language: de", "language", "de"),
    ("locale: en_US", "language", "en-US"),
    ("pubDate: 2022-07-01", "date", "2022-07-01"),
    ("publishDate: 2022-07-01T10:00:00Z", "date", "2022-07-01"),
    ("lastmod: 2022-07-02", "date", "2022-07-02"),
    ("lastupdate: 2022-07-03", "date", "2022-07-03"),
])
def test_each_site_key_is_mapped_onto_ours(tmp_path, line, field, value):
    kept = "" if field == "title" else "title: Kept\n"
    article, diagnostics = _load(tmp_path, f"---\n{kept}{line}\n---\n\nText.\n")
    assert diagnostics == [] and getattr(article, field) == value
    if field != "title":
        assert article.title == "Kept"


def test_our_own_key_wins_over_a_site_key_for_the_same_field(tmp_path):
    article, _ = _load(tmp_path, "---\nlinkTitle: Short\ntitle: Long\ndescription: SEO.\nsummary: Ours.\n"
                                 "lastmod: 2024-01-01\ndate: 2020-05-05\n---\n\nText.\n")
    assert (article.title, article.summary, article.date) == ("Long", "Ours.", "2020-05-05")


def test_tags_categories_and_keywords_are_gathered_once_each(tmp_path):
    article, _ = _load(tmp_path, "---\ntitle: T\ntags: [sea, moon]\ncategories: [Science]\nkeywords: [sea]\n---\n")
    assert article.tags == ("sea", "moon", "Science")


def test_a_web_address_gives_the_slug_when_none_is_given(tmp_path):
    article, _ = _load(tmp_path, "---\ntitle: T\npermalink: /docs/reading-tides/\n---\n\nText.\n")
    assert (article.slug, article.slug_given, article.url) == ("reading-tides", False, "/docs/reading-tides/")
    article, _ = _load(tmp_path, "---\ntitle: T\nslug: mine\nurl: /x/other/\n---\n\nText.\n", name="b.md")
    assert (article.slug, article.slug_given) == ("mine", True)
    article, _ = _load(tmp_path, "---\ntitle: T\npermalink: /:year/:title/\n---\n\nText.\n", name="c-d.md")
    assert article.slug == "c-d"


def test_a_hugo_params_table_is_read_for_the_keys_we_know(tmp_path):
    article, diagnostics = _load(tmp_path, '+++\ntitle = "T"\n[params]\nauthor = "Ann"\nmood = "calm"\n+++\n',
                                 flavour="hugo")
    assert diagnostics == [] and article.authors == ("Ann",)


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", [
    "2023-03-16", '"2023-03-16T00:00:00Z"', "2023-03-16 22:22:22 +0530", "2023-03-16 15:46:53 -04:00",
    "2023/03/16", '"March 16, 2023"', "16 March 2023", "2023-03-16T23:30:00-08:00",
])
def test_dates_are_shown_as_the_day_written(tmp_path, written):
    article, diagnostics = _load(tmp_path, f"---\ntitle: T\ndate: {written}\n---\n\nText.\n")
    assert diagnostics == [] and article.date == "2023-03-16"


def test_an_unreadable_date_is_a_located_warning_and_is_left_out(tmp_path):
    article, [d] = _load(tmp_path, "---\ntitle: T\ndate: sometime in spring\n---\n\nText.\n")
    assert (d.code, d.is_error, d.line, d.column) == ("M002", False, 3, 7) and article.date == ""


def test_a_dated_file_name_gives_the_date_and_not_the_slug(tmp_path):
    article, _ = _load(tmp_path, "---\ntitle: T\n---\n\nText.\n", name="2014-06-04-pick-up-a-sticker.md")
    assert (article.date, article.slug) == ("2014-06-04", "pick-up-a-sticker")
    article, _ = _load(tmp_path, "---\ntitle: T\ndate: 2015-01-01\n---\n", name="2014-06-04-b.md")
    assert article.date == "2015-01-01"


def test_a_hugo_file_name_gives_the_language(tmp_path):
    article, _ = _load(tmp_path, "---\ntitle: T\n---\n\nTexte.\n", name="tides.fr.md", flavour="hugo")
    assert article.language == "fr"
    article, _ = _load(tmp_path, "---\ntitle: T\nlanguage: de\n---\n", name="tides.it.md", flavour="hugo")
    assert article.language == "de"


# --- authors -------------------------------------------------------------------------------------

TABLE = {"al": "Ada Lovelace", "cb": "Charles Babbage"}


@pytest.mark.parametrize("written, names", [
    ("author: Ada Lovelace", ("Ada Lovelace",)),
    ("author: Dan Smith and Jo Lee", ("Dan Smith and Jo Lee",)),
    ("authors: [Ada Lovelace, Charles Babbage]", ("Ada Lovelace", "Charles Babbage")),
    ("author: {name: Ada Lovelace, position: Countess}", ("Ada Lovelace",)),
    ("author:\n  - name: Ada Lovelace\n    position: Countess\n  - name: Charles Babbage",
     ("Ada Lovelace", "Charles Babbage")),
    ("authors: al", ("Ada Lovelace",)),
    ("authors: [al, cb]", ("Ada Lovelace", "Charles Babbage")),
    ("authors: [al, {name: Mary Somerville, title: Scientist}]", ("Ada Lovelace", "Mary Somerville")),
    ("author: zz", ("zz",)),
])
def test_authors_in_every_shape(tmp_path, written, names):
    article, diagnostics = _load(tmp_path, f"---\ntitle: T\n{written}\n---\n\nText.\n", authors=TABLE)
    assert diagnostics == [] and article.authors == names


def test_authors_of_no_usable_shape_are_a_located_error(tmp_path):
    _, [d] = _load(tmp_path, "---\ntitle: T\nauthor: {position: Countess}\n---\n\nText.\n")
    assert (d.code, d.is_error, d.line) == ("M002", True, 3) and "'name'" in d.message


# --- drafts --------------------------------------------------------------------------------------


def test_drafts_are_left_out_and_reported_in_one_line(tmp_path):
    _write(tmp_path / "a.md", "---\ntitle: Kept\n---\n\nText.\n")
    _write(tmp_path / "b.md", "---\ntitle: Draft one\ndraft: true\n---\n\nText.\n")
    _write(tmp_path / "c.md", "---\ntitle: Draft two\npublished: false\n---\n\nText.\n")
    _write(tmp_path / "d.md", "---\ntitle: Also kept\npublished: true\ndraft: false\n---\n\nText.\n")
    book, diagnostics = load_book(tmp_path)
    assert [a.title for a in book.articles] == ["Kept", "Also kept"]
    drafts = [d for d in diagnostics if d.code == "M013"]
    assert [(d.path.name, d.line, d.is_error) for d in drafts] == [("b.md", 3, False), ("c.md", 3, False)]
    [line] = [text for text in format_all(diagnostics, tmp_path) if "M013" in text]
    assert "(2 times: b.md:3:1, c.md:3:1)" in line


def test_a_draft_flag_that_is_not_true_or_false_is_an_error(tmp_path):
    _, [d] = _load(tmp_path, "---\ntitle: T\ndraft: maybe\n---\n\nText.\n")
    assert (d.code, d.is_error, d.line) == ("M002", True, 3)


# --- keys a flavour uses for its own templates ---------------------------------------------------


@pytest.mark.parametrize("flavour, key, warned", [
    ("hugo", "aliases: [/old/]", False),
    ("hugo", "menu: main", False),
    ("jekyll", "layout: post", False),
    ("jekyll", "redirect_from: /old/", False),
    ("docusaurus", "sidebar_label: Short", False),
    ("docusaurus", "hide_table_of_contents: true", False),
    ("mdbook", "minutes: 10", False),
    ("hugo", "sidebar_label: Short", True),  # Docusaurus's, not Hugo's
    ("plain", "sidebar_label: Short", False),  # a folder with no config: any site's
    ("plain", "colour: blue", True),  # no site's
])
def test_template_keys_are_ignored_per_flavour(tmp_path, flavour, key, warned):
    _, diagnostics = _load(tmp_path, f"---\ntitle: T\n{key}\n---\n\nText.\n", flavour=flavour)
    assert [(d.code, d.line) for d in diagnostics] == ([("M003", 3)] if warned else [])


# --- the EPUB's subjects ---------------------------------------------------------------------------


def test_tags_become_the_epubs_subjects(tmp_path):
    book = tmp_path / "book"
    _write(book / "book.toml", '[book]\ntitle = "Sea"\nkeywords = ["Oceans"]\n')
    _write(book / "a.md", "---\ntitle: A\ntags: [tides, oceans]\n---\n\nText.\n")
    _write(book / "b.md", "+++\ntitle = \"B\"\ncategories = [\"moon\", \"tides\"]\n+++\n\nText.\n")
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok, [d.format() for d in result.diagnostics]
    [epub] = [p for p in result.outputs if p.suffix == ".epub"]
    with zipfile.ZipFile(epub) as archive:
        opf = next(archive.read(n).decode() for n in archive.namelist() if n.endswith(".opf"))
    subjects = [part.split("<", 1)[0] for part in opf.split("<dc:subject>")[1:]]
    assert subjects == ["Oceans", "tides", "moon"]


# --- the corpus ----------------------------------------------------------------------------------

CORPUS = SHARED / "corpus-sites"
FLAVOURS = {"hugo-site": "hugo", "jekyll-site": "jekyll", "docusaurus-site": "docusaurus",
            "mkdocs-site": "mkdocs", "mdbook-site": "mdbook", "astro-or-next-blog": "astro"}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus-sites is not here")
@pytest.mark.parametrize("site", sorted(FLAVOURS))
def test_every_corpus_front_matter_reads_without_a_diagnostic(site):
    pages = [p for p in (CORPUS / site).rglob("*") if p.suffix in (".md", ".markdown", ".mdx")]
    assert pages
    for page in pages:
        front, diagnostics = split(page.read_text(encoding="utf-8"), page, FLAVOURS[site])
        assert diagnostics == [], (page, [d.format() for d in diagnostics])


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus-sites is not here")
def test_a_hugo_corpus_post_maps_its_author_id_date_and_keywords():
    [page] = (CORPUS / "hugo-site").rglob("bootstrap-3-released.md")
    front, diagnostics = split(page.read_text(encoding="utf-8"), page, "hugo", {"mdo": "Mark Otto"})
    assert diagnostics == []
    assert (front.values["authors"], front.values["date"], front.values["tags"]) == (
        ["Mark Otto"], "2013-08-19", ["bootstrap", "release"])
