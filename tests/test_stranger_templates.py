"""A stranger's templates (#26): a book's styles/templates/ get data, not
objects, do bounded work, and what they write is checked before it reaches
the EPUB, the PDF or the preview. Each attack is a real book built in a
temporary folder beside a secret file; the test asserts the located C009,
that no output was written, that the secret reached nothing and that no
file appeared outside the book."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conftest import write_book
from pipeline import build

SECRET = "SECRET-MARKER-7f3a"
ARTICLE = "---\ntitle: Alpha\n---\n\n## One\n\nBody text of alpha.\n"
# The opener macro a book may replace (styles/templates/_opener.html); {attack} goes inside it.
OPENER = ("{{% macro opener(item, labels, numbered, pages=none) %}}\n"
          "<header class=\"opener\"><h1 class=\"article-title\" id=\"{{{{ item.anchor }}}}--title\">"
          "{{{{ item.title_html | safe }}}}</h1>\n{attack}\n</header>\n{{% endmacro %}}\n")


def _book(tmp_path: Path, attack: str, name: str = "_opener.html", source: str | None = None) -> Path:
    (tmp_path / "SECRET.txt").write_text(SECRET, encoding="utf-8")
    book = write_book(tmp_path / "book", '[book]\ntitle = "T"\n', {"01-a.md": ARTICLE})
    templates = book / "styles" / "templates"
    templates.mkdir(parents=True)
    (templates / name).parent.mkdir(parents=True, exist_ok=True)
    (templates / name).write_text(source if source is not None else OPENER.format(attack=attack), encoding="utf-8")
    return book


def _outside_files(tmp_path: Path) -> set[Path]:
    return {p for p in tmp_path.rglob("*") if "book" not in p.relative_to(tmp_path).parts[:1]
            and "out" not in p.relative_to(tmp_path).parts[:1]}


def _refused(tmp_path: Path, book: Path, formats=("epub", "pdf")):
    before = _outside_files(tmp_path)
    result = build(book, tmp_path / "out", formats=formats)
    errors = [d for d in result.diagnostics if d.is_error]
    assert not result.ok and result.outputs == (), [d.format() for d in result.diagnostics]
    assert errors and all(d.code == "C009" for d in errors), [d.format() for d in errors]
    assert _outside_files(tmp_path) == before  # nothing written outside the book
    for path in (tmp_path / "out").rglob("*") if (tmp_path / "out").exists() else ():
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    return errors


@pytest.mark.parametrize("attack", [
    '{{ item.article.source_path.parent.parent.joinpath("SECRET.txt").read_text() }}',
    '{{ item.article.source_path.parent.parent.joinpath("WRITTEN.txt").write_text("x") }}',
    "{{ item.article.__class__ }}",
    "{{ item.body_html.__class__.__mro__ }}",
    "{{ labels.update({'a': 1}) }}",
])
def test_a_template_gets_data_not_objects(tmp_path, attack):
    book = _book(tmp_path, attack)
    [error] = _refused(tmp_path, book)
    assert error.path.name == "_opener.html" and error.line == 3, error.format()
    assert not (tmp_path / "WRITTEN.txt").exists()


@pytest.mark.parametrize("attack, what", [
    ("<scr{{''}}ipt>alert(1)</scr{{''}}ipt>", "<script>"),
    ("<p o{{''}}nclick=\"x()\">a</p>", "onclick"),
    ("<a href=\"java{{''}}script:alert(1)\">a</a>", "javascript"),
    ("<img src=\"http://127.0.0.1:9/x.png\" alt=\"\"/>", "http://127.0.0.1:9/x.png"),
    ("<link rel=\"stylesheet\" href=\"https://example.org/a.css\"/>", "https://example.org/a.css"),
    ("<iframe src=\"x.html\"></iframe>", "<iframe>"),
    ("<p style=\"background: u{{''}}rl(http://x/y)\">a</p>", "style"),
    ("<style>@imp{{''}}ort 'http://x/y.css';</style>", "<style>"),
    ("{{ item.article.title }}{{ ('<svg><scr' ~ 'ipt>x</scr' ~ 'ipt></svg>') | safe }}", "<script>"),
    ("<p title=\"{{ item.body_html }}\">a</p>", "attribute"),
    ("<img src=\"../SECRET.txt\" alt=\"\"/>", "out of the book"),
    ("<img src=\"/etc/passwd\" alt=\"\"/>", "out of the book"),
])
def test_what_a_books_template_writes_is_checked(tmp_path, attack, what):
    book = _book(tmp_path, attack)
    errors = _refused(tmp_path, book)
    assert any(what in d.message for d in errors), [d.format() for d in errors]
    assert all(d.path is not None for d in errors)


@pytest.mark.parametrize("attack, what", [
    ("{{ ('x' * 3000000000) | length }}", "'*' would make"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loop steps"),
    ("{{ range(10**9) | list | length }}", "too large"),
    ("{{ 'x' | center(3000000000) }}", "width"),
    ("{{ '%01000000000d' % 1 }}", "wider"),
    ("{{ '{:>1000000000}'.format(1) }}", "wider"),
    ("{{ 10 ** (10 ** 10) }}", "4096 bits"),
    ("{% macro d(n) %}{{ d(n) }}{% endmacro %}{{ d(1) }}", "without end"),
])
def test_a_templates_work_is_bounded(tmp_path, attack, what):
    book = _book(tmp_path, attack)
    errors = _refused(tmp_path, book, formats=("epub",))
    assert any(what in d.message for d in errors), [d.format() for d in errors]


def test_a_template_that_extends_itself_is_located(tmp_path):
    book = _book(tmp_path, "", name="epub/article.xhtml", source='{% extends "epub/article.xhtml" %}\n')
    [error] = _refused(tmp_path, book, formats=("epub",))
    assert "without end" in error.message and error.path.name == "article.xhtml", error.format()


def test_a_doubling_template_meets_the_memory_ceiling(tmp_path):
    lines = "".join(f"{{% set s{i + 1} = s{i} ~ s{i} %}}" for i in range(40))
    book = _book(tmp_path, "{% set s0 = 'x' * 1000000 %}" + lines + "{{ s40 | length }}")
    errors = _refused(tmp_path, book, formats=("epub",))
    assert any("memory" in d.message for d in errors), [d.format() for d in errors]


def test_a_books_own_template_that_is_clean_still_builds(tmp_path):
    """The check refuses what is written, not the book: a designer's opener
    with classes, aria, data attributes and our sanitized XHTML in text
    builds both outputs, with the article's text."""
    book = _book(tmp_path, '<p class="kicker" data-n="{{ item.number }}" aria-label="{{ item.article.title }}">'
                           "{{ labels.in_brief }}: {{ item.summary_html | safe }}</p>")
    result = build(book, tmp_path / "out")
    assert result.ok, [d.format() for d in result.diagnostics]
    epub = next(p for p in result.outputs if p.suffix == ".epub")
    with zipfile.ZipFile(epub) as archive:
        chapter = archive.read("EPUB/text/a.xhtml").decode("utf-8")
    assert 'class="kicker"' in chapter and "Body text of alpha." in chapter
    assert "\ue000" not in chapter  # every token put back


def test_check_reports_what_a_build_would_refuse(tmp_path):
    from pipeline.commands.check import check_book

    book = _book(tmp_path, '{{ item.article.source_path.parent.joinpath("x").read_text() }}')
    found = [d for d in check_book(book) if d.code == "C009"]
    assert found and found[0].path.name == "_opener.html" and found[0].line == 3, [d.format() for d in found]


# Found by an attack review after the first round (#26).

@pytest.mark.parametrize("attack, what", [
    ("<svg><style><img src=x o{{''}}nerror=\"f()\"></style></svg>", "onerror"),  # mXSS: HTML5 reads an <img>
    ("<a href=\"java&#9;script:alert(1)\">a</a>", "script"),
    ("<a href=\"&#10;javascript&#10;:alert(1)\">a</a>", "script"),
    ("<img src=\"\\\\evil.example/x.png\" alt=\"\"/>", "evil.example"),
])
def test_what_a_browser_would_read_is_checked(tmp_path, attack, what):
    book = _book(tmp_path, attack)
    errors = _refused(tmp_path, book)
    assert any(what in d.message for d in errors), [d.format() for d in errors]


@pytest.mark.parametrize("attack", [
    "{% set a = 7 ** 4000 %}{% set b = a * a * a * a %}{{ (b // 3) > 0 }}",  # one long C call per step
    "{{ " + "(" * 300 + "1" + ")" * 300 + " }}",  # RecursionError in Jinja's parser
    "".join("{% for i in [1] %}" for _ in range(30)) + "".join("{% endfor %}" for _ in range(30)),  # SyntaxError
])
def test_a_template_that_cannot_compile_or_computes_huge_numbers_is_c009(tmp_path, attack):
    from pipeline.commands.check import check_book

    book = _book(tmp_path, attack)
    assert any(d.code == "C009" for d in check_book(book))
    _refused(tmp_path, book, formats=("epub",))


def test_a_templates_paths_are_names_not_the_machines_folders(tmp_path):
    book = _book(tmp_path, "<p class=\"source\">{{ item.article.source_path }}</p>")
    result = build(book, tmp_path / "out", formats=("epub",))
    assert result.ok, [d.format() for d in result.diagnostics]
    with zipfile.ZipFile(result.outputs[0]) as archive:
        chapter = archive.read("EPUB/text/a.xhtml").decode("utf-8")
    assert '<p class="source">01-a.md</p>' in chapter and str(tmp_path) not in chapter


def test_labels_toml_words_with_control_characters_are_refused(tmp_path):
    from pipeline.commands.check import check_book

    book = _book(tmp_path, "")
    (book / "styles" / "labels.toml").write_text('[en]\nnotice = "N\\uFFFF"\n', encoding="utf-8")
    assert any(d.code == "C009" and "U+FFFF" in d.message for d in check_book(book))
    result = build(book, tmp_path / "out", formats=("epub",))
    assert not result.ok and any("U+FFFF" in d.message for d in result.diagnostics)
