"""The parser step (`pipeline.text.markdown.to_html`): CommonMark conformance on
the spec's own examples, and each extension of the book's dialect, compared
as HTML trees."""

from __future__ import annotations

import importlib.util
import json
import warnings

import lxml.html
import pytest

from pipeline.text.markdown import to_html

from conftest import SHARED

COMMONMARK = SHARED / "commonmark"

# Examples where the book's dialect differs from CommonMark on purpose.
INTENDED = {
    610: "GFM extended autolink: a bare https:// URL inside '< … >' with spaces is linked",
    613: "GFM extended autolink: a bare https:// URL is linked",
    614: "GFM extended autolink: a bare e-mail address is linked (mailto:)",
}


def _normalizer():
    spec = importlib.util.spec_from_file_location("commonmark_normalize", COMMONMARK / "normalize.py")
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():  # its regexes use old-style escapes
        warnings.simplefilter("ignore", DeprecationWarning)
        spec.loader.exec_module(module)
    return module.normalize_html


@pytest.mark.skipif(not (COMMONMARK / "spec-0.31.2.json").is_file(), reason="../shared/commonmark is not available")
def test_commonmark_spec_examples():
    normalize = _normalizer()
    examples = json.loads((COMMONMARK / "spec-0.31.2.json").read_text(encoding="utf-8"))
    assert len(examples) == 655
    differing = {example["example"] for example in examples
                 if normalize(to_html(example["markdown"])) != normalize(example["html"])}
    assert (len(examples) - len(differing)) / len(examples) >= 0.98
    assert differing == set(INTENDED), sorted(differing ^ set(INTENDED))


def _tree(html: str) -> str:
    """A canonical form of an HTML fragment: tags, sorted attributes, squeezed text."""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    out = []
    for event, element in lxml.etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            attrs = " ".join(f'{k}="{v}"' for k, v in sorted(element.attrib.items()))
            out.append(f"<{element.tag}{' ' + attrs if attrs else ''}>{' '.join((element.text or '').split())}")
        else:
            out.append(f"</{element.tag}>{' '.join((element.tail or '').split())}")
    return "".join(out)


def assert_renders(source: str, expected: str) -> None:
    assert _tree(to_html(source)) == _tree(expected)


def test_gfm_table_strikethrough_and_www_autolink():
    assert_renders("| a | b |\n|--:|---|\n| 1 | ~~2~~ |\n\nsee www.example.org.\n", """
        <table><thead><tr><th style="text-align:right">a</th><th>b</th></tr></thead>
        <tbody><tr><td style="text-align:right">1</td><td><s>2</s></td></tr></tbody></table>
        <p>see <a href="http://www.example.org">www.example.org</a>.</p>""")


def test_task_list():
    assert_renders("- [x] done\n- [ ] to do\n", """
        <ul class="contains-task-list">
        <li class="task-list-item"><input class="task-list-item-checkbox" disabled="" type="checkbox"
          checked=""> done</li>
        <li class="task-list-item"><input class="task-list-item-checkbox" disabled="" type="checkbox"> to do</li>
        </ul>""")


def test_footnotes_referenced_and_inline():
    assert_renders("A[^n] and B^[inline *note*].\n\n[^n]: The note.\n", """
        <p>A<sup id="fnref-1"><a class="footnote-ref" href="#fn-1">1</a></sup> and
        B<sup id="fnref-2"><a class="footnote-ref" href="#fn-2">2</a></sup>.</p>
        <div class="footnote"><hr><ol>
        <li id="fn-1"><p>The note. <a class="footnote-backref" href="#fnref-1">\u21a9</a></p></li>
        <li id="fn-2"><p>inline <em>note</em> <a class="footnote-backref" href="#fnref-2">\u21a9</a></p></li>
        </ol></div>""")


def test_definition_list():
    assert_renders("Term\n: Its definition.\n", "<dl><dt>Term</dt><dd>Its definition.</dd></dl>")


def test_attributes_on_headings_images_and_tables():
    assert_renders("## Set up {#setup .wide}\n\n![A cat](cat.png){#cat width=120}\n\n"
                   "{#prices .small}\n| a |\n|---|\n| 1 |\n", """
        <h2 id="setup" class="wide">Set up</h2>
        <p><img src="cat.png" alt="A cat" id="cat" width="120"></p>
        <table id="prices" class="small"><thead><tr><th>a</th></tr></thead>
        <tbody><tr><td>1</td></tr></tbody></table>""")


def test_a_heading_ending_in_braces_that_are_not_attributes_keeps_them():
    assert_renders("## Sets {a, b}\n", "<h2>Sets {a, b}</h2>")


@pytest.mark.parametrize("fence, closing, language", [
    ("```rust,ignore", "```", "rust"), ("```{.python .numberLines}", "```", "python"),
    ("~~~ sh", "~~~", "sh"), ("```", "```", None), ("````text title=x", "````", "text"),
])
def test_fences_with_any_info_string(fence, closing, language):
    html = to_html(f"{fence}\n#![no_std]\n{closing}\n\n# After\n")
    code = lxml.html.fragment_fromstring(html, create_parent="div").find("pre/code")
    assert code.text == "#![no_std]\n"
    assert code.get("class") == (f"language-{language}" if language else None)
    assert "<h1>After</h1>" in html


def test_two_space_nested_lists_nest():
    assert_renders("- a\n  - b\n- c\n", "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>")


def test_the_parse_cache_serves_a_text_again_and_holds_a_bounded_amount(monkeypatch):
    """A book's texts are parsed once for every reader; a stranger's book of
    huge manuscripts cannot make the cache hold more than its budget."""
    from pipeline.text import markdown

    first = "# One\n\nA text.\n" * 50
    assert markdown.parse(first) is markdown.parse(first)
    monkeypatch.setattr(markdown, "PARSE_CACHE_CHARACTERS", 3 * len(first))
    kept = markdown.parse(first)
    for number in range(4):  # four more texts as long: the first is evicted
        markdown.parse(f"# Text {number}\n\n" + "Other words.\n" * 60)
    assert markdown.parse(first) is not kept and markdown.parse(first) == kept


# Texts whose parse leaves state for the renderer (references, footnotes, nesting
# past the limit) or whose rendering rules touch tokens (images, formulas in alt).
SHARED_PARSE_TEXTS = (
    "![The *big* $\\beta$ and `x`](fig.png){#fig-a .wide}\n\nSee [the site][ref] and ![plain](p.png).\n\n"
    "[ref]: https://example.org \"Title\"\n",
    "A note[^a] and an inline one^[inline *note*], the first again[^a].\n\n[^a]: The note, with ![img](n.png).\n",
    "Term\n: Its definition, $x^2$.\n\n| a | b |\n|---|---|\n| ![c](c.png) | ~~d~~ |\n\n- [x] done\n- [ ] open\n",
    "> [!NOTE]\n> A callout with ![alt $y$](y.png).\n\n!!! tip \"Title\"\n    Body.\n\n::: warning\nDiv.\n:::\n",
    "$$\ne = mc^2\n$$ {#eq-one}\n\n```python {.numberLines}\nprint(1)\n```\n\n# Heading {#h-1}\n",
    "> " * 40 + "deep\n\n" + "".join("  " * depth + "- item\n" for depth in range(30)),
)


def _snapshot(tokens) -> list[dict]:
    return [token.as_dict() for token in tokens]


def test_rendering_reuses_the_shared_parse_and_changes_none_of_its_tokens():
    """`to_html` renders from the parse the loader made (`parse`'s cache):
    its HTML and its nesting report are those of a parse of its own, and
    rendering, twice, leaves the shared tokens as parsed."""
    from pipeline.text import markdown

    texts = list(SHARED_PARSE_TEXTS)
    spec = COMMONMARK / "spec-0.31.2.json"
    if spec.is_file():
        texts += [example["markdown"] for example in json.loads(spec.read_text(encoding="utf-8"))]
    reported = []
    for text in texts:
        tokens = markdown.parse(text)
        before = _snapshot(tokens)
        for captions in (True, False):
            nested: list = []
            html = to_html(text, captions=captions, too_deep=nested)
            env: dict = {"captions": captions}
            assert html == markdown.make_parser().render(text, env), text
            assert nested == env.get(markdown.TOO_DEEP, []), text
            reported += nested
        assert to_html(text, captions=True) == to_html(text, captions=True)
        assert markdown.parse(text) is tokens and _snapshot(tokens) == before, text
    assert reported, "the nest past the parser's limit was reported"
