"""Callouts of every site dialect (MkDocs !!!/???, Docusaurus and Quarto :::,
GitHub > [!NOTE]) become one element in both outputs (#27): the EPUB's
XHTML holds `<aside class="callout callout-KIND" role="note">` with its
title, the PDF its text, and neither the dialect's markers."""

from __future__ import annotations

import pytest
from lxml import etree
from pypdf import PdfReader

from pipeline import build

from conftest import epub_documents, epubcheck_messages, normalize, write_book

XHTML = "{http://www.w3.org/1999/xhtml}"

# The same callout (a tip titled "Same title", a body with Markdown) in each dialect.
DIALECTS = {
    "mkdocs": '!!! tip "Same title"\n    Body with *emphasis*.\n',
    "mkdocs-open": '???+ tip "Same title"\n    Body with *emphasis*.\n',
    "mkdocs-closed": '??? tip "Same title"\n    Body with *emphasis*.\n',
    "docusaurus": ":::tip Same title\n\nBody with *emphasis*.\n\n:::\n",
    "docusaurus3": ":::tip[Same title]\nBody with *emphasis*.\n:::\n",
    "quarto": '::: {.callout-tip title="Same title"}\nBody with *emphasis*.\n:::\n',
    "quarto-heading": "::: {.callout-tip}\n## Same title\n\nBody with *emphasis*.\n:::\n",
    "github": "> [!TIP]   \n> Body with *emphasis*.\n",
    "obsidian": "> [!tip] Same title\n> Body with *emphasis*.\n",
}

# Markdown inside: a list, code, and a callout in the callout.
NESTED = {
    "mkdocs": ('!!! note "Outer"\n    - one\n    - two\n\n    ```python\n    x = 1\n    ```\n\n'
               '    !!! danger "Inner"\n        Inner body.\n'),
    "docusaurus": (':::note[Outer]\n- one\n- two\n\n```python\nx = 1\n```\n\n'
                   ':::danger[Inner]\nInner body.\n:::\n\n:::\n'),
    "docusaurus-longer-fence": ('::::note Outer\n- one\n- two\n\n```python\nx = 1\n```\n'
                                ':::danger Inner\nInner body.\n:::\n::::\n'),
    "quarto": ('::: {.callout-note title="Outer"}\n- one\n- two\n\n```python\nx = 1\n```\n\n'
               '::: {.callout-danger title="Inner"}\nInner body.\n:::\n:::\n'),
    "github": ("> [!NOTE] Outer\n> - one\n> - two\n>\n> ```python\n> x = 1\n> ```\n>\n"
               "> > [!DANGER] Inner\n> > Inner body.\n"),
}

# Untitled callouts: the kind's word in the article's language.
UNTITLED = {
    "en": ("> [!IMPORTANT]\n> Body.\n", "callout-important", "Important"),
    "fr": ("!!! warning\n    Corps.\n", "callout-warning", "Avertissement"),
    "de": (":::caution\nText.\n:::\n", "callout-caution", "Vorsicht"),
    "es": ("> [!note]\n> Texto.\n", "callout-note", "Nota"),
    "ja": ("::: {.callout-tip}\n本文。\n:::\n", "callout-tip", "ヒント"),
}

# What is not a callout stays what it was, its text printed.
NOT_CALLOUTS = (
    "!!! IMPORTANT !!!\n\n"
    "> [!FOO]\n> An unknown marker stays a quote.\n\n"
    "```markdown\n> [!NOTE]\n:::tip\n```\n\n"
    "::: Chapter 2 :::\n\n"
    '<aside role="doc-banana" class="mine">Raw aside.</aside>\n\n'
    "::: {.column-margin}\nIn a div.\n:::\n"
)

KINDS = ("note", "tip", "important", "warning", "caution", "info", "danger", "abstract", "success",
         "question", "failure", "bug", "example", "quote")


def _article(title: str, body: str, language: str = "") -> str:
    front = f'title: "{title}"\n' + (f"language: {language}\n" if language else "")
    return f"---\n{front}---\n\n{body}"


@pytest.fixture(scope="module")
def callout_book(tmp_path_factory):
    """One book with every dialect, nested callouts, untitled ones in five
    languages, what is not a callout, and every kind: built once."""
    folder = tmp_path_factory.mktemp("callouts")
    manuscripts = {f"1{i:02d}-{name}.md": _article(f"Dialect {name}", text)
                   for i, (name, text) in enumerate(DIALECTS.items())}
    manuscripts |= {f"2{i:02d}-nested-{name}.md": _article(f"Nested {name}", text)
                    for i, (name, text) in enumerate(NESTED.items())}
    manuscripts |= {f"3{i:02d}-{language}.md": _article(f"Untitled {language}", text, language)
                    for i, (language, (text, _, _)) in enumerate(UNTITLED.items())}
    manuscripts["400-not.md"] = _article("Not callouts", NOT_CALLOUTS)
    manuscripts["500-kinds.md"] = _article("Every kind", "".join(
        f"!!! {kind}\n    A {kind} body.\n\n" for kind in KINDS) + '!!! note ""\n    No title bar.\n')
    book = write_book(folder / "book", '[book]\ntitle = "Callouts"\nlanguage = "en"\n', manuscripts)
    result = build(book, folder / "out")
    assert result.ok, [d.format() for d in result.diagnostics]
    pdf, epub = result.outputs
    return pdf, epub, list(epub_documents(epub).values())


def _asides(root: etree._Element) -> list[etree._Element]:
    return [a for a in root.iter(f"{XHTML}aside") if "callout" in (a.get("class") or "").split()]


def _text(element: etree._Element) -> str:
    return normalize("".join(element.itertext()))


def _document(documents: list[etree._Element], title: str) -> etree._Element:
    """The article's XHTML document, found by its title."""
    found = [root for root in documents if any(_text(h1) == title for h1 in root.iter(f"{XHTML}h1"))]
    assert len(found) == 1, title
    return found[0]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_is_the_same_aside(callout_book, dialect):
    _, _, documents = callout_book
    asides = _asides(_document(documents, f"Dialect {dialect}"))
    assert len(asides) == 1
    aside = asides[0]
    assert aside.get("class").split()[:2] == ["callout", "callout-tip"] and aside.get("role") == "note"
    title, body = aside[0], aside[1]
    assert title.tag == f"{XHTML}p" and title.get("class") == "callout-title"
    assert _text(title) == ("Tip" if dialect == "github" else "Same title")
    assert body.tag == f"{XHTML}p" and _text(body) == "Body with emphasis."
    assert body.find(f"{XHTML}em").text == "emphasis"


@pytest.mark.parametrize("dialect", NESTED)
def test_markdown_inside_a_callout_is_rendered(callout_book, dialect):
    _, _, documents = callout_book
    root = _document(documents, f"Nested {dialect}")
    outer, inner = _asides(root)
    assert "callout-note" in outer.get("class") and "callout-danger" in inner.get("class")
    assert inner.getparent() is outer
    assert [_text(li) for li in outer.iter(f"{XHTML}li")] == ["one", "two"]
    assert _text(outer.find(f".//{XHTML}pre")) == "x = 1"
    assert _text(inner[0]) == "Inner" and _text(inner[1]) == "Inner body."
    assert _text(outer[0]) == "Outer"
    assert not any(marker in _text(root) for marker in (":::", "!!!", "[!"))


@pytest.mark.parametrize("language", UNTITLED)
def test_an_untitled_callout_has_its_kinds_word_in_the_articles_language(callout_book, language):
    _, _, documents = callout_book
    _, kind, word = UNTITLED[language]
    (aside,) = _asides(_document(documents, f"Untitled {language}"))
    assert kind in aside.get("class").split()
    assert aside[0].get("class") == "callout-title" and _text(aside[0]) == word


def test_every_kind_has_its_word_and_an_empty_title_asks_for_none(callout_book):
    _, _, documents = callout_book
    asides = _asides(_document(documents, "Every kind"))
    titled = {a.get("class").split()[1]: _text(a[0]) for a in asides[:-1]}
    assert titled == {f"callout-{kind}": kind.capitalize() for kind in KINDS}
    last = asides[-1]
    assert [child.get("class") for child in last] == [None] and _text(last) == "No title bar."


def test_what_is_not_a_callout_stays_text(callout_book):
    _, _, documents = callout_book
    root = _document(documents, "Not callouts")
    assert _asides(root) == []
    text = _text(root)
    assert "!!! IMPORTANT !!!" in text and "::: Chapter 2 :::" in text
    assert _text(root.find(f".//{XHTML}blockquote")).startswith("[!FOO]")
    assert "> [!NOTE]" in _text(root.find(f".//{XHTML}pre"))
    raw = root.find(f".//{XHTML}aside")
    assert raw is not None and raw.get("role") is None  # an author's ARIA role does not pass the sanitizer
    div = next(d for d in root.iter(f"{XHTML}div") if d.get("class") == "column-margin")
    assert _text(div) == "In a div."


def test_the_pdf_prints_callouts_without_their_markers(callout_book):
    pdf, _, _ = callout_book
    reader = PdfReader(pdf)
    pages = [page.extract_text() for page in reader.pages]
    text = normalize(" ".join(page for page in pages if "Raw aside." not in page))  # markers in code there
    assert text.count("Body with emphasis.") == len(DIALECTS)
    # Titles are set in small capitals: their glyphs may come back in either case.
    assert "Inner body." in text and "avertissement" in text.lower() and "same title" in text.lower()
    for marker in (":::tip", "!!! tip", "??? tip", "[!TIP]", "callout-tip", "{.callout"):
        assert marker not in text


def test_a_book_with_every_kind_passes_epubcheck(callout_book):
    _, epub, _ = callout_book
    assert epubcheck_messages(epub) == []
