"""What books people already have do that our fixtures did not: chapters of
one file linking to each other by `#id`, mdBook chapters that keep old anchors
above their title, Markdown in front-matter and `%` titles, a problem repeated
in a file reported at each place, template syntax of other tools, and the
book's own stylesheet named in WeasyPrint's warnings."""

from __future__ import annotations

from pathlib import Path

from conftest import epub_documents, epubcheck_messages
from pipeline import BuildOptions, build
from pipeline.load.manuscripts import load_book
from pipeline.render.articles import render_book

NS = {"x": "http://www.w3.org/1999/xhtml"}


def _book(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "book.toml").write_text('[book]\ntitle = "Probe"\nlanguage = "en"\n', encoding="utf-8")
    return root


def _rendered(root: Path):
    book, diagnostics = load_book(root)
    rendered, found = render_book(book)
    return rendered, diagnostics + found


def test_chapters_of_one_file_link_to_each_other_by_id(tmp_path):
    root = _book(tmp_path / "book", {"book.md": (
        "# Contents\n\n- [Chapter I](#chapter-i)\n- [Loomings](#loomings)\n- [Nowhere](#nowhere)\n\n"
        "# Chapter I\n\n## Loomings\n\nSee [the next](#chapter-ii) and [this one](#loomings).\n\n"
        "# Chapter II\n\nThe end.\n")})
    result = build(root, tmp_path / "out", BuildOptions(formats=("epub",)))
    assert result.ok
    assert epubcheck_messages(result.outputs[0]) == []
    documents = epub_documents(result.outputs[0])
    hrefs = {name.rsplit("/", 1)[1]: [a.get("href") for a in doc.iterfind(".//x:a[@href]", NS)
                                      if not a.get("href").endswith(".css")]
             for name, doc in documents.items()}
    assert hrefs["book-contents.xhtml"] == ["book-chapter-i.xhtml#book-chapter-i",
                                            "book-chapter-i.xhtml#book-chapter-i--loomings", "#book-contents"]
    # (after the opener's own "In this article" link to its section)
    assert hrefs["book-chapter-i.xhtml"][-2:] == ["book-chapter-ii.xhtml#book-chapter-ii", "#book-chapter-i--loomings"]
    # An id that none of the file's chapters has: said where, and it goes to the file's start.
    assert [(d.code, d.line, d.column) for d in result.diagnostics if d.code == "R004"] == [("R004", 5, 13)]


def test_a_title_below_comments_and_old_anchors_is_the_title(tmp_path):
    root = _book(tmp_path / "book", {"ch06.md": (
        "<!-- Old headings. Do not remove or links may break. -->\n\n<a id=\"old-name\"></a>\n\n"
        "## The `match` Construct\n\nText.\n")})
    rendered, diagnostics = _rendered(root)
    [item] = rendered.articles
    assert (item.article.title, item.title_html) == ("The match Construct", "The <code>match</code> Construct")
    assert 'id="ch06--old-name"' in item.body_html  # old links still land
    assert "Construct" not in item.body_html  # the title is not also a section
    assert not [d for d in diagnostics if "file name" in d.message]


def test_front_matter_and_percent_titles_are_inline_markdown(tmp_path):
    root = _book(tmp_path / "book", {
        "01-a.md": '---\ntitle: "The *Front* `matter`"\n---\n\nText.\n',
        "02-b.md": "% The *Pandoc* `block`\n% Ann Author\n\nText.\n",
        "03-c.md": '---\ntitle: "snake_case and Box<T>"\n---\n\nText.\n',
        # A `<` is text in front matter, and no longer turns the title's other Markdown off:
        "04-d.md": '---\ntitle: "Gulls < Terns on the *Coast*, `Vec<u8>`"\n---\n\nText.\n'})
    rendered, _ = _rendered(root)
    assert [(i.article.title, i.title_html) for i in rendered.articles] == [
        ("The Front matter", "The <em>Front</em> <code>matter</code>"),
        ("The Pandoc block", "The <em>Pandoc</em> <code>block</code>"),
        ("snake_case and Box<T>", "snake_case and Box&lt;T&gt;"),
        ("Gulls < Terns on the Coast, Vec<u8>", "Gulls &lt; Terns on the <em>Coast</em>, <code>Vec&lt;u8&gt;</code>")]


def test_a_problem_repeated_in_a_file_is_reported_at_each_place(tmp_path):
    root = _book(tmp_path / "book", {"01-a.md": (
        "---\ntitle: A\n---\n\nA [link](missing.md) to /url/ and again [link](missing.md).\n\n"
        "![one](/url/)\n\n![two](/url/)\n")})
    _, diagnostics = _rendered(root)
    assert [(d.code, d.line, d.column) for d in diagnostics if d.code in ("R002", "R008")] == [
        ("R008", 5, 10), ("R008", 5, 48), ("R002", 7, 8), ("R002", 9, 8)]


def test_template_syntax_of_other_tools_is_reported_outside_code(tmp_path):
    root = _book(tmp_path / "book", {"01-a.md": (
        "---\ntitle: A\n---\n\nHello {{ page.title }}, {{< youtube abc >}} and `{{ shown }}`.\n\n"
        "```jinja\n{{ name }}\n```\n\n{{#include a.rs}}\n\nmdBook writes `{{#include file.rs}}` for that.\n")})
    _, diagnostics = _rendered(root)
    # The YouTube shortcode is a link card now (render/dialects.py); a page variable is left out.
    assert [(d.line, d.column, d.message.split(" is not")[0]) for d in diagnostics if d.code == "R010"] == [
        (5, 7, "the template variable '{{ page.title }}'"),
        (11, 1, "the mdBook directive '{{#include …}}'")]


def test_warnings_about_the_books_stylesheet_name_its_line(tmp_path):
    root = _book(tmp_path / "book", {"01-a.md": "---\ntitle: A\n---\n\nText.\n",
                                      "styles/print.css": "p {\n  colr: red;\n}\n"})
    result = build(root, tmp_path / "out", BuildOptions(formats=("pdf",)))
    [found] = [d for d in result.diagnostics if d.code == "X001"]
    assert (found.path, found.line, found.column) == (root / "styles" / "print.css", 2, 3)
    assert "colr: red" in found.message


def test_a_figure_caption_keeps_its_math_emphasis_and_code(tmp_path):
    import shutil

    root = _book(tmp_path / "book", {"01-a.md": (
        "---\ntitle: A\n---\n\n![Growth of $\\beta$ is *big* `here`](tides.png){#fig-a}\n\n"
        "Inline ![an *icon*](tides.png) stays an image, see @fig-a.\n")})
    shutil.copy(Path(__file__).parent / "fixtures" / "rich" / "images" / "tides.png", root / "tides.png")
    rendered, diagnostics = _rendered(root)
    assert not [d for d in diagnostics if d.is_error]
    from lxml import html as lxml_html

    body = lxml_html.fragment_fromstring(rendered.articles[0].body_html, create_parent="div")
    [caption] = body.iter("figcaption")
    assert [child.tag for child in caption] == ["span", "span", "em", "code"]  # number, math, emphasis, code
    assert caption.find(".//math").get("alttext") == "\\beta"  # (an HTML parser: no namespace)
    assert body.find(".//figure/img").get("alt") == "Growth of $\\beta$ is big here"
    assert not body.find_class("figure-caption")  # the inline image's description is not left behind


def test_aligned_and_label_from_pandoc_documents_are_typeset(tmp_path):
    root = _book(tmp_path / "book", {"01-a.md": (
        "---\ntitle: A\n---\n\n$$\n\\begin{aligned} a &= b \\\\ c &= d \\label{eq:x} \\end{aligned}\n$$ {#eq-one}\n")})
    rendered, diagnostics = _rendered(root)
    assert not [d for d in diagnostics if d.code == "R011"]
    assert len(rendered.articles[0].formulas) == 1


def test_an_id_given_twice_is_reported_at_the_second(tmp_path):
    root = _book(tmp_path / "book", {"01-a.md": (
        "---\ntitle: A\n---\n\n$$x$$ {#eq-dup}\n\n$$y$$ {#eq-dup}\n\nSee @eq-dup.\n")})
    _, diagnostics = _rendered(root)
    assert [(d.code, d.line, d.column) for d in diagnostics if d.code == "R017"] == [("R017", 7, 8)]


def test_an_arabic_paragraph_in_an_english_article_is_set_right_to_left(tmp_path):
    root = _book(tmp_path / "book", {"01-a.md": (
        "---\ntitle: A\n---\n\nAn English paragraph.\n\nكانت القطة تنام في الشمس كل صباح!\n\n"
        "- Python هي لغة\n- هذه قائمة\n")})
    rendered, _ = _rendered(root)
    body = rendered.articles[0].body_html
    assert "<p>An English paragraph.</p>" in body
    assert '<p dir="rtl">كانت' in body and '<li dir="rtl">هذه' in body
    assert "<li>Python" in body  # its first strong letter is Latin: left to right
