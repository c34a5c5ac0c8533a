"""styles/labels.toml, the book's fixed words in 60+ languages (#31): every
table complete or declaring the words it leaves English (`fallback`), every
table naming its sources and which words each gave, C008 naming exactly the
English words once a book (the corpus-world stories printing their
language's words, not English ones: tests/test_world.py)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pipeline import build
from pipeline.load.config import load_config
from pipeline.styles import english_words, label_language, labels, styles_dir

LABELS = styles_dir() / "labels.toml"
TABLES = tomllib.loads(LABELS.read_text(encoding="utf-8"))
ENGLISH = TABLES["en"]
LICENCES = ("(MIT)", "(Apache-2.0)", "(public domain)", "(BSD-2-Clause)")


def _is_word(english: str) -> bool:
    """A word, not punctuation alone ("{label}: " is not one)."""
    return bool(re.search(r"[A-Za-z]", re.sub(r"\{\w+\}", "", english)))


def _comments_above() -> dict[str, list[str]]:
    """Each table's name -> the comment lines just above its header."""
    found, block = {}, []
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        header = re.fullmatch(r'\["?([A-Za-z-]+)"?\]', line)
        if header:
            found[header.group(1)] = block
        block = block + [line] if line.startswith("#") else []
    return found


def test_the_file_loads_and_has_sixty_languages_or_more():
    assert len(TABLES) >= 60, sorted(TABLES)
    for language, table in TABLES.items():
        assert set(table) - {"fallback"} <= set(ENGLISH), (language, set(table) - set(ENGLISH))
        assert all(isinstance(word, str) and word.strip() for key, word in table.items() if key != "fallback"), language
        assert label_language(language) == language.lower()  # every table is reachable by its own tag


def test_every_table_is_complete_or_declares_its_english_words():
    for language, table in TABLES.items():
        if language == "en":
            assert "fallback" not in table
            continue
        missing = [key for key, english in ENGLISH.items() if key not in table and _is_word(english)]
        assert table.get("fallback") == missing, (language, set(missing) ^ set(table.get("fallback", ())))
        assert english_words(language) == tuple(missing)


def test_every_table_names_its_sources_and_what_each_gave():
    comments = _comments_above()
    assert set(comments) == set(TABLES)
    for language, table in TABLES.items():
        said = "\n".join(comments[language])
        assert "Source" in said, language
        lines = [line for line in comments[language] if any(licence in line for licence in LICENCES)]
        given = [word for line in lines for word in line.split(": ", 1)[1].split(", ")]
        assert all(re.search(r" \S+/\S+\.(yml|txt|py|js)[ :]", line) for line in lines), lines  # the file
        if "written for this project" in said:  # (bo took a few words from Typst)
            assert set(given) <= set(table), (language, set(given) - set(table))
            continue
        assert lines, language  # a licensed source, with its file
        assert sorted(given) == sorted(set(table) - {"fallback"}), (language, set(given) ^ set(table))


def test_languages_by_script_and_macrolanguage():
    assert label_language("sr-Latn-RS") == "sr-latn" and label_language("sr-RS") == "sr"
    assert labels("sr-Latn")["contents"] != labels("sr")["contents"]
    assert label_language("prs") == "fa" and label_language("fa-AF") == "fa"  # Dari
    assert label_language("pt-BR") == "pt" and label_language("zh-TW") == "zh-hant"
    assert label_language("ps") is None and label_language("mnw") is None  # no source has their words yet


def _config(tmp_path: Path, language: str, extra: str = ""):
    (tmp_path / "book.toml").write_text(f'[book]\ntitle = "T"\nlanguage = "{language}"\n{extra}', encoding="utf-8")
    return load_config(tmp_path / "book.toml", "T")


def test_c008_names_exactly_the_english_words_once(tmp_path):
    config, found = _config(tmp_path, "gu")
    [warning] = found
    assert (warning.code, warning.line) == ("C008", 3)
    named = warning.message.split("printed in English: ", 1)[1].split(", ")
    assert named == list(english_words("gu")) and "table" not in named and "contents" in named
    assert "[labels]" in warning.hint and 'references = "…"' in warning.hint
    lines = "".join(f'{key} = "x"\n' for key in named[:-1])
    config, found = _config(tmp_path, "gu", f"\n[labels]\n{lines}")
    [warning] = found
    assert warning.message.endswith(f"printed in English: {named[-1]}")
    config, found = _config(tmp_path, "gu", f'\n[labels]\n{lines}{named[-1]} = "x"\n')
    assert found == []
    assert _config(tmp_path, "de")[1] == [] and _config(tmp_path, "prs")[1] == []
    [warning] = _config(tmp_path, "ps")[1]  # no table: one line, not forty words
    assert warning.code == "C008" and "no words for the language 'ps'" in warning.message


def test_a_word_falls_back_alone_never_the_table():
    words = labels("gu")
    assert words["table"] == "ટેબલ {n}" and words["contents"] == "Contents"
    assert labels("ur")["contents"] == "فہرست" and labels("ur")["callout_note"] == "Note"


def _words_book(folder: Path) -> Path:
    """A German book with [labels], its own styles/labels.toml for French,
    and an article in each of German, Austrian German, Japanese and French,
    each with a summary ("In brief") and a captioned table it refers to."""
    from conftest import write_book

    def article(title: str, language: str, text: str) -> str:
        said = f"language: {language}\n" if language else ""
        return (f"---\ntitle: {title}\n{said}summary: {text}\n---\n\n{text} @tbl-x\n\n"
                "Table: Zahlen {#tbl-x}\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")

    toml = '[book]\ntitle = "Wörter"\nlanguage = "de"\n\n[labels]\nin_brief = "Das Wichtigste"\ntable = "Tab. {n}"\n'
    book = write_book(folder, toml, {
        "01-de.md": article("Eins", "", "Der Hafen erwacht vor der Stadt."),
        "02-at.md": article("Zwei", "de-AT", "Der Hafen erwacht vor der Stadt."),
        "03-ja.md": article("三", "ja", "港は町より先に目を覚ます。"),
        "04-fr.md": article("Quatre", "fr", "Le port s'éveille avant la ville.")})
    (book / "styles").mkdir()
    (book / "styles" / "labels.toml").write_text('[fr]\nin_brief = "L\'essentiel"\n', encoding="utf-8")
    return book


def test_an_article_in_another_language_has_its_language_s_words_everywhere(tmp_path):
    """styles.words_for, the one rule: the book's [labels] are the book's
    language's (an article in de-AT reads the same table, so they are its
    too); a Japanese article has Japanese words, a French one French words
    with the book's own styles/labels.toml [fr] over them. Render (the
    table's caption and reference), the EPUB's openers, each download's
    EPUB and the Typst engine's openers all say the same."""
    from conftest import epub_documents
    from pipeline.export.typst.document import document
    from pipeline.load.manuscripts import load_book
    from pipeline.render.articles import render_book
    from pipeline.styles import words_for

    book = _words_book(tmp_path / "book")
    loaded, found = load_book(book)
    assert not [d for d in found if d.is_error], [d.format() for d in found]
    # (in brief, the table's caption)
    expected = {"Eins": ("Das Wichtigste", "Tab. 1: Zahlen"), "Zwei": ("Das Wichtigste", "Tab. 1: Zahlen"),
                "三": ("概要", "表 1 Zahlen"), "Quatre": ("L'essentiel", "Tableau 1 : Zahlen")}
    assert {a.title: (words_for(a, loaded.config)["in_brief"], words_for(a, loaded.config)["table"])
            for a in loaded.articles} == {"Eins": ("Das Wichtigste", "Tab. {n}"), "Zwei": ("Das Wichtigste", "Tab. {n}"),
                                          "三": ("概要", "表 {n}"), "Quatre": ("L'essentiel", "Tableau {n}")}

    def said(root) -> tuple[str, str]:
        """The In brief word and the caption one article's document prints."""
        text = " ".join(" ".join(root.itertext()).replace("\u00a0", " ").split())
        [brief] = {v[0] for v in expected.values() if v[0].upper() in text.upper()}
        [caption] = {" ".join("".join(c.itertext()).replace("\u00a0", " ").split())
                     for c in root.iter("{http://www.w3.org/1999/xhtml}caption")}
        return brief, caption

    rendered, _ = render_book(loaded)
    typst = document(rendered, "").source
    for item in rendered.articles:
        brief, table = expected[item.article.title]
        assert f"in-brief: \"{brief}\"" in typst.replace("\\'", "'"), (item.article.title, brief)
    result = build(book, tmp_path / "out", formats=("epub",), per_article=True, jobs=1)
    assert result.ok, [d.format() for d in result.diagnostics]
    [epub] = (tmp_path / "out").glob("*.epub")
    books = [said(root) for _, root in sorted(epub_documents(epub).items()) if "Zahlen" in " ".join(root.itertext())]
    assert sorted(books) == sorted(expected.values()), books
    downloads = sorted((tmp_path / "out" / "articles").glob("*.epub"))
    assert len(downloads) == 4, downloads
    alone = {}
    for path in downloads:
        [root] = [r for r in epub_documents(path).values() if "Zahlen" in " ".join(r.itertext())]
        alone[path.stem] = said(root)
    assert sorted(alone.values()) == sorted(expected.values()), alone
