"""The load stage: book.toml and front matter, judged by the diagnostics a
user would read (code, file, line, column, hint)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.load.config import SCHEMA, load_config
from pipeline.load.manuscripts import load_article, load_book, slugify


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_real_book_loads_without_diagnostics():
    book, diagnostics = load_book(Path(__file__).parent.parent / "manuscripts")
    assert diagnostics == []
    assert [a.title for a in book.articles] == [
        "How Kratom May Ease Muscle Soreness: The Prolactin Connection",
        "Kratom for Muscle Soreness: Relief, Dopamine and Safe Dosage"]
    assert book.config.language == "en" and book.config.identifier.startswith("urn:uuid:")
    assert all(a.summary and a.blurb for a in book.articles)


def test_unknown_book_key_names_key_line_and_valid_keys(tmp_path):
    path = _write(tmp_path / "book.toml", '[book]\ntitle = "T"\n\ncolour = "red"\n')
    _, diagnostics = load_config(path, "fallback")
    [d] = diagnostics
    assert (d.code, d.line, d.is_error) == ("C002", 4, True)
    assert "colour" in d.message and "subtitle" in d.hint and "authors" in d.hint


def test_unknown_table_is_an_error(tmp_path):
    path = _write(tmp_path / "book.toml", '[book]\ntitle = "T"\n[printing]\nx = 1\n')
    _, diagnostics = load_config(path, "fallback")
    assert [d.code for d in diagnostics] == ["C002"]
    assert diagnostics[0].line == 3


def test_invalid_toml_is_located(tmp_path):
    path = _write(tmp_path / "book.toml", '[book]\ntitle = "T\n')
    _, [d] = load_config(path, "fallback")
    assert d.code == "C001" and d.line == 2


@pytest.mark.parametrize("line, code", [
    ('authors = "Me"', "C003"),
    ('page-size = "B5"', "C003"),
    ('date = "23/11/2026"', "C003"),
])
def test_wrong_values_are_type_errors(tmp_path, line, code):
    table = "[pdf]\n" if "page-size" in line else ""
    text = f'[book]\ntitle = "T"\n{line}\n' if not table else f'[book]\ntitle = "T"\n{table}{line}\n'
    path = _write(tmp_path / "book.toml", text)
    _, diagnostics = load_config(path, "fallback")
    assert [d.code for d in diagnostics] == [code]
    assert diagnostics[0].line == text.split("\n").index(line) + 1


@pytest.mark.parametrize("value, problem", [
    ("https://example.org/downloads/", None),
    ("http://example.org", None),
    ("example.org/downloads", "absolute http(s) URL"),
    ("/downloads/", "absolute http(s) URL"),
    ("ftp://example.org/", "absolute http(s) URL"),
    ("https://", "absolute http(s) URL"),
    ("https://example.org/a b/", "absolute http(s) URL"),
    ("https://example.org/?v=1", "without '?' or '#'"),
])
def test_site_base_url_must_be_an_absolute_web_address(tmp_path, value, problem):
    path = _write(tmp_path / "book.toml", f'[book]\ntitle = "T"\n\n[site]\nbase-url = "{value}"\n')
    config, diagnostics = load_config(path, "fallback")
    if problem is None:
        assert diagnostics == [] and config.site_base_url == value
        return
    [d] = diagnostics
    assert (d.code, d.line, d.path) == ("C003", 5, path) and problem in d.message and value in d.message
    assert "https://example.org/downloads/" in d.message + d.hint and config.site_base_url == ""


GUIDE = Path(__file__).parent.parent / "docs" / "guide"


def test_the_guide_s_book_toml_reference_lists_every_schema_option_and_no_other():
    text = (GUIDE / "04-book-toml-reference.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `\[([a-z-]+)\]` \| `([a-z-]+)` \|", text, re.MULTILINE))
    assert rows == {(option.table, option.key) for option in SCHEMA}


def test_the_guide_s_diagnostics_reference_lists_every_code_and_no_other():
    from pipeline import CODES

    text = (GUIDE / "12-diagnostics-reference.md").read_text(encoding="utf-8")
    assert set(re.findall(r"^\| ([A-Z]\d{3}) \|", text, re.MULTILINE)) == set(CODES)


def test_missing_book_toml_warns_and_uses_folder_name(tmp_path):
    _write(tmp_path / "My Essays" / "a.md", "---\ntitle: A\n---\n\nText.\n")
    book, diagnostics = load_book(tmp_path / "My Essays")
    [d] = diagnostics
    assert d.code == "C004" and d.path == tmp_path / "My Essays" and d.location() == f"{tmp_path / 'My Essays'}/"
    assert d.message == ("the book folder '" + str(tmp_path / "My Essays") + "' has no book.toml; the title "
                         "'My Essays' is taken from the folder's name and the language is 'en'")
    assert d.hint == f"run 'pipeline init {tmp_path / 'My Essays'}' to write one, every key in it described"
    assert book.config.title == "My Essays" and book.config.language == "en"


def test_articles_listed_in_book_toml_set_the_order(tmp_path):
    _write(tmp_path / "book.toml", '[book]\ntitle = "T"\narticles = ["b.md", "a.md"]\n')
    _write(tmp_path / "a.md", "---\ntitle: A\n---\n")
    _write(tmp_path / "b.md", "---\ntitle: B\n---\n")
    book, diagnostics = load_book(tmp_path)
    assert diagnostics == [] and [a.title for a in book.articles] == ["B", "A"]


def test_listed_article_that_does_not_exist_is_located(tmp_path):
    _write(tmp_path / "book.toml", '[book]\ntitle = "T"\narticles = [\n  "a.md",\n  "gone.md",\n]\n')
    _write(tmp_path / "a.md", "---\ntitle: A\n---\n")
    _, diagnostics = load_book(tmp_path)
    [d] = diagnostics
    assert d.code == "C005" and d.line == 5 and "gone.md" in d.message


def test_text_before_the_first_heading_is_an_opening_article_titled_by_the_file_name(tmp_path):
    book = tmp_path / "book"
    _write(book / "03-notes.md", "Intro.\n\n# Real Title\n\nText.\n")
    loaded, diagnostics = load_book(book)
    opening, chapter = loaded.articles
    assert (opening.title, opening.body.strip(), opening.body_line) == ("Notes", "Intro.", 1)
    assert (chapter.title, chapter.body.strip(), chapter.body_line) == ("Real Title", "Text.", 4)
    [d] = [d for d in diagnostics if d.code == "M004"]
    assert d.path.name == "03-notes.md" and not d.is_error and "file name" in d.message


def test_a_heading_on_the_first_line_at_any_level_is_the_title(tmp_path):
    article, [d] = load_article(_write(tmp_path / "ch01.md", "\n## Using `Box<T>` *here*\n\n### Part\n"))
    assert (article.title, article.title_markdown, article.title_level) == (
        "Using Box<T> here", "Using `Box<T>` *here*", 2)
    assert "### Part" in article.body and "Using" not in article.body
    assert d.code == "M004" and "first heading" in d.message


def test_several_level_one_headings_are_several_articles(tmp_path):
    text = "# One\n\n```sh\n# a shell comment, not a chapter\n```\n\n# Two\n\n## Section\n"
    _write(tmp_path / "book" / "whole.md", text)
    loaded, diagnostics = load_book(tmp_path / "book")
    assert [(a.title, a.body_line) for a in loaded.articles] == [("One", 2), ("Two", 8)]
    assert "# a shell comment" in loaded.articles[0].body and "## Section" in loaded.articles[1].body


def test_a_title_from_the_file_name_warns_with_front_matter_too(tmp_path):
    article, [d] = load_article(_write(tmp_path / "03-field-notes.md", "---\nsummary: S\n---\nText.\n"))
    assert article.title == "Field notes" and d.code == "M004" and "file name" in d.message


def test_a_pandoc_title_block_gives_title_authors_and_date(tmp_path):
    article, _ = load_article(_write(tmp_path / "a.md", "% The Title\n% A. One; B. Two\n% 2020-05-01\n\nText.\n"))
    assert (article.title, article.authors, article.date) == ("The Title", ("A. One", "B. Two"), "2020-05-01")
    assert article.body.strip() == "Text." and article.body_line == 4


def test_title_from_file_name_with_warning(tmp_path):
    article, [d] = load_article(_write(tmp_path / "03-field-notes.md", "Just text.\n"))
    assert article.title == "Field notes" and d.code == "M004" and "file name" in d.message


def test_boolean_title_is_a_type_error_at_its_line(tmp_path):
    _, diagnostics = load_article(_write(tmp_path / "a.md", "---\nsummary: fine\ntitle: no\n---\nText\n"))
    [d] = diagnostics
    assert (d.code, d.line) == ("M002", 3) and "boolean" in d.message and d.hint == 'quote the value: title: "no"' and d.column == 8


def test_front_matter_positions_come_from_yaml_not_from_line_prefixes(tmp_path):
    # 'title:' opens a line of the block scalar before the real key: YAML's
    # marks place the error on the key itself, and quote the value as written.
    text = "---\nsummary: |\n  title: inside the summary\n\"title\": 12   # a number\n---\nText\n"
    _, [d] = load_article(_write(tmp_path / "a.md", text))
    assert (d.code, d.line) == ("M002", 4) and "YAML reads 12 as 12" in d.message


def test_yaml_error_points_at_the_manuscript_line(tmp_path):
    _, diagnostics = load_article(_write(tmp_path / "a.md", "---\ntitle: A\nsummary: [unclosed\nblurb: x\n---\n"))
    [d] = diagnostics
    # The flow sequence opens at line 3, column 10; YAML notices the problem on line 4.
    assert (d.code, d.line, d.column, d.path.name) == ("M001", 3, 10, "a.md")
    assert "line 4" in d.message


def test_yaml_object_tags_are_refused(tmp_path):
    text = "---\ntitle: !!python/object/apply:os.system ['echo hi']\n---\n"
    _, diagnostics = load_article(_write(tmp_path / "a.md", text))
    assert [d.code for d in diagnostics] == ["M001"] and "tags" in diagnostics[0].message


def test_unknown_front_matter_key_is_a_warning(tmp_path):
    article, [d] = load_article(_write(tmp_path / "a.md", "---\ntitle: A\ncolour: [x]\n---\n"))
    assert article is not None and d.code == "M003" and not d.is_error and d.line == 3


def test_unclosed_front_matter_is_an_error(tmp_path):
    _, diagnostics = load_article(_write(tmp_path / "a.md", "---\ntitle: A\n\nText\n"))
    assert "M006" in [d.code for d in diagnostics]


def test_invalid_utf8_is_located(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes(b"---\ntitle: A\n---\n\nCaf\xe9 au lait\n")
    _, [d] = load_article(path)
    assert (d.code, d.line, d.column) == ("M005", 5, 4)


def test_bom_and_crlf_are_accepted(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes("\ufeff---\r\ntitle: A\r\n---\r\n\r\nText.\r\n".encode())
    article, diagnostics = load_article(path)
    assert diagnostics == [] and article.title == "A" and "\r" not in article.body


def test_equal_given_slugs_are_errors_and_derived_ones_get_numbers(tmp_path):
    _write(tmp_path / "book.toml", '[book]\ntitle = "T"\n')
    _write(tmp_path / "01-same.md", "---\ntitle: One\n---\n")
    _write(tmp_path / "02-same.md", "---\ntitle: Two\n---\n")
    _write(tmp_path / "03-Same.md", "---\ntitle: Three\n---\n")
    book, diagnostics = load_book(tmp_path)
    assert [a.slug for a in book.articles] == ["same", "same-2", "same-3"]
    assert [(d.code, d.severity.value, d.path.name) for d in diagnostics] == \
        [("M011", "warning", "02-same.md"), ("M011", "warning", "03-Same.md")]
    _write(tmp_path / "04-other.md", "---\ntitle: Other\nslug: same-2\n---\n")
    _write(tmp_path / "05-third.md", "---\ntitle: Third\n\nslug: same-2\n---\n")
    book, diagnostics = load_book(tmp_path)
    # a given slug keeps its name; the derived one that took it moves on
    assert [a.slug for a in book.articles] == ["same", "same-3", "same-4", "same-2", "same-2"]
    assert [(d.code, d.path.name, d.line) for d in diagnostics if d.is_error] == [("M007", "05-third.md", 4)]


def test_slugs_follow_the_file_name_not_the_title(tmp_path):
    _write(tmp_path / "book.toml", '[book]\ntitle = "T"\n')
    _write(tmp_path / "01-reading-the-tides.md", "---\ntitle: Reading the Tides\n---\n\nText.\n")
    _write(tmp_path / "02_Wind & Weather.md", "# Wind\n\nText.\n")
    _write(tmp_path / "03.md", "---\ntitle: Numbered only\n---\n\nText.\n")
    _write(tmp_path / "04-named.md", "---\ntitle: Named\nslug: my-own\n---\n\nText.\n")
    before = [a.slug for a in load_book(tmp_path)[0].articles]
    assert before == ["reading-the-tides", "wind-weather", "03", "my-own"]
    _write(tmp_path / "01-reading-the-tides.md", "---\ntitle: How to Read a Tide Table\n---\n\nText.\n")
    _write(tmp_path / "02_Wind & Weather.md", "# Weather and winds\n\nText.\n")
    book, diagnostics = load_book(tmp_path)
    assert [d.code for d in diagnostics] == ["M004"]  # the title from a heading
    assert [a.title for a in book.articles][:2] == ["How to Read a Tide Table", "Weather and winds"]
    assert [a.slug for a in book.articles] == before  # retitled, same slugs


def test_a_file_of_several_articles_gives_each_a_slug_of_its_own(tmp_path):
    _write(tmp_path / "book.toml", '[book]\ntitle = "T"\n')
    _write(tmp_path / "01-harbour.md", "Opening words.\n\n# Reading the tides {#tides}\n\nText.\n\n"
                                       "# Knots\n\nText.\n\n# Knots\n\nMore.\n")
    _write(tmp_path / "02-chapters.md", "---\ntitle: First\nslug: first\n---\n\n# First\n\nText.\n\n"
                                        "# Second\n\nText.\n")
    book, diagnostics = load_book(tmp_path)
    assert [a.slug for a in book.articles] == ["harbour", "tides", "harbour-knots", "harbour-knots-2",
                                               "first", "chapters-second"]
    assert [a.slug_given for a in book.articles] == [False, True, False, False, True, False]
    assert [(d.code, d.path.name) for d in diagnostics] == [("M004", "01-harbour.md"), ("M011", "01-harbour.md")]
    _write(tmp_path / "03-more.md", "---\ntitle: More\n---\n\nIntro.\n\n# Tides again {#first}\n\nText.\n")
    book, diagnostics = load_book(tmp_path)
    assert [(d.code, d.path.name, d.line) for d in diagnostics if d.is_error] == [("M007", "03-more.md", 7)]
    assert "'{#…}'" in [d.hint for d in diagnostics if d.is_error][0]


def test_slugs_of_every_script_are_ascii_never_untitled_and_stable(tmp_path):
    _write(tmp_path / "book.toml", '[book]\ntitle = "كتاب صغير"\nlanguage = "ar"\n')
    titles = ["قطة في البيت", "猫が好きです", "我喜欢猫", "작은 고양이", "छोटी बिल्ली", "?!", "؟", "Кошка"]
    for number, title in enumerate(titles, start=1):
        _write(tmp_path / f"{number:02d}-{title}.md", f"---\ntitle: \"{title}\"\n---\n\nText.\n")
    book, diagnostics = load_book(tmp_path)
    slugs = [a.slug for a in book.articles]
    assert diagnostics == []
    assert slugs == ["qth-fy-lbyt", "mao-ga-hao-ki-de-su", "wo-xi-huan-mao", "jag-eun-go-yang-i",
                     "choti-billi", "article-6", "article-7", "koshka"], slugs
    assert book.slug == "ktb-sghyr"
    assert [a.slug for a in load_book(tmp_path)[0].articles] == slugs
    assert all(slug.isascii() and "untitled" not in slug for slug in slugs)


def test_slugify_keeps_words_and_drops_punctuation():
    assert slugify("How Kratom May Ease: The “Prolactin” Connection!") == \
        "how-kratom-may-ease-the-prolactin-connection"
    assert slugify("Café déjà vu") == "cafe-deja-vu"


LABEL_LANGUAGES = ("en de fr es it pt nl pl ru uk tr el ar fa he hi bn zh-Hans zh-Hant ja ko vi").split()


def test_labels_exist_for_every_listed_language_and_key():
    import tomllib

    from pipeline.styles import label_language, labels, styles_dir

    tables = {name.lower(): {key: word for key, word in words.items() if isinstance(word, str)}
              for name, words in tomllib.loads((styles_dir() / "labels.toml").read_text(encoding="utf-8")).items()}
    english = tables["en"]
    for language in LABEL_LANGUAGES:
        table = tables[language.lower()]
        assert set(table) == set(english), (language, set(english) - set(table))
        assert "{n}" in table["article"] and all(value.strip() for value in table.values()), language
    assert labels("de-CH")["contents"] == "Inhalt"
    assert labels("zh-TW")["contents"] == labels("zh-Hant")["contents"] == "目錄"
    assert labels("zh")["contents"] == labels("zh-CN")["contents"] == "目录"
    assert labels("yue")["contents"] == "目錄"
    assert label_language("xx") is None and labels("xx")["contents"] == "Contents"


def test_labels_table_overrides_words_and_unknown_languages_warn_once(tmp_path):
    _write(tmp_path / "book.toml", '[book]\ntitle = "T"\nlanguage = "de"\n\n[labels]\nin_brief = "Das Wichtigste"\n'
                                   'nonsense = "x"\n')
    config, diagnostics = load_config(tmp_path / "book.toml", "T")
    assert dict(config.labels) == {"in_brief": "Das Wichtigste"}
    assert [(d.code, d.line) for d in diagnostics] == [("C002", 7)]
    from pipeline.styles import book_labels

    words = book_labels(config)
    assert words["in_brief"] == "Das Wichtigste" and words["contents"] == "Inhalt"
    _write(tmp_path / "book.toml", '[book]\ntitle = "T"\nlanguage = "tlh"\n')
    config, diagnostics = load_config(tmp_path / "book.toml", "T")
    assert [(d.code, d.severity.value, d.line) for d in diagnostics] == [("C008", "warning", 3)]
    assert book_labels(config)["contents"] == "Contents"
    _write(tmp_path / "book.toml", '[book]\ntitle = "T"\nlanguage = "en\\"; } body { color: red"\n')
    config, diagnostics = load_config(tmp_path / "book.toml", "T")
    assert [d.code for d in diagnostics] == ["C003"] and config.language == "en"


def test_notes_and_link_definitions_of_a_one_file_book_serve_every_article(tmp_path):
    from pipeline.render.articles import render_book

    text = "# One\n\nA note[^n] and a [link].\n\n# Two\n\nText.\n\n[^n]: The note.\n\n[link]: https://example.org/x\n"
    _write(tmp_path / "book" / "whole.md", text)
    loaded, _ = load_book(tmp_path / "book")
    rendered, diagnostics = render_book(loaded)
    first = rendered.articles[0].body_html
    assert 'href="https://example.org/x"' in first and "The note." in first and "[^n]" not in first
    assert rendered.articles[1].body_html.count("<p>") == 1  # not the other article's note


def test_sections_under_a_level_two_title_are_no_skipped_level(tmp_path):
    from pipeline.render.lint import heading_skips

    article, _ = load_article(_write(tmp_path / "ch.md", "## Title\n\n### Section\n\n##### Too deep\n"))
    assert [(d.code, d.line) for d in heading_skips(article)] == [("R006", 5)]


def test_skipped_levels_are_judged_as_the_parser_sees_headings(tmp_path):
    """A `####` line in a four-backtick fence is code; a heading in a quote,
    after an indent or in a list item is a heading."""
    from pipeline.render.lint import heading_skips

    text = ("---\ntitle: T\n---\n\n## Section\n\n````md\n```\n#### not a heading\n```\n````\n\n"
            "### Fine\n\n> ##### In a quote\n\n   ## Indented\n\n- #### In a list\n")
    article, _ = load_article(_write(tmp_path / "t.md", text))
    assert [(d.line, d.column) for d in heading_skips(article)] == [(15, 3), (19, 3)]
