"""Site syntax given its meaning (pipeline/render/dialects.py, #27): Hugo
shortcodes, Liquid, MkDocs snippets and tabs, MDX and JSX, emoji codes and
summary markers, each in a small book of our own; code left as written; the
lines of later diagnostics unchanged; the corpus sites printing none of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SHARED, png_bytes

from pipeline.load.manuscripts import load_book
from pipeline.model import Article, Book, BookConfig
from pipeline.render.articles import render_book
from pipeline.render.dialects import rewrite, site_of
from pipeline.text.markdown import to_html


def _book(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "book.toml").write_text('[book]\ntitle = "Probe"\nlanguage = "en"\n', encoding="utf-8")
    return root


def _render(root: Path):
    book, diagnostics = load_book(root)
    rendered, found = render_book(book)
    bodies = {item.article.source_path.name: item for item in rendered.articles}
    return bodies, diagnostics + found


def _render_site(root: Path, flavour: str, files: dict[str, str | bytes]):
    """A website's folder as the loader gives it (flavour, site root), built by
    hand so that only the rendering is tested: each manuscript under a
    four-line front matter (`title` its stem), its body from line 5."""
    articles = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        elif name.endswith((".md", ".markdown")):
            path.write_text(f"---\ntitle: {path.stem}\n---\n\n{text}", encoding="utf-8")
            articles.append(Article(slug=path.stem, title=path.stem, source_path=path, body=text, body_line=5))
        else:
            path.write_text(text, encoding="utf-8")
    book = Book(root=root, slug="site", config=BookConfig(title="Site"), articles=tuple(articles),
                flavour=flavour, site_root=root)
    rendered, found = render_book(book)
    return {item.article.source_path.name: item for item in rendered.articles}, found


def _outside_code(html: str) -> str:
    return re.sub(r"<pre.*?</pre>|<code.*?</code>", "", html, flags=re.S)


def _r010(diagnostics) -> list[tuple[str, int, str]]:
    return [(d.path.name, d.line, d.message) for d in diagnostics if d.code == "R010"]


def test_hugo_shortcodes_become_figures_links_code_cards_and_callouts(tmp_path):
    root = tmp_path / "site"
    bodies, diagnostics = _render_site(root, "hugo", {
        "hugo.toml": '[params]\nmain = "https://getbootstrap.com"\n',
        "content/a.md": (  # body from line 5
            '{{< figure src="tides.png" caption="The *tides*" >}}\n\n'
            'See [B]({{< relref "/b" >}}) and [docs]({{< param "main" >}}/docs/).\n\n'
            "{{< youtube dQw4w9WgXcQ >}}\n\n"
            "{{< highlight go >}}\nx := 1\n{{< /highlight >}}\n\n"
            '{{% notice warning "Careful" %}}\nHot stuff.\n{{% /notice %}}\n\n'
            '{{< example class="x" >}}\nInside one.\n{{< /example >}}\n\n'
            "{{< example >}}\nInside two.\n{{< /example >}}\n\n"
            "```\n{{< figure src=\"kept.png\" >}}\n```\n\n"
            "[broken](nowhere.md)\n"),
        "content/b.md": "B's text.\n",
        "content/tides.png": png_bytes(),
    })
    html = bodies["a.md"].body_html
    assert re.search(r'<figure[^>]*>\s*<img[^>]*src="content/tides.png"', html)
    assert "<figcaption>The <em>tides</em></figcaption>" in html
    assert 'href="#b"' in html  # the other article, inside the book
    assert 'href="https://getbootstrap.com/docs/"' in html
    assert '<p class="embed">' in html and 'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"' in html
    assert re.search(r'<pre[^>]*><code class="language-go"', html)  # highlight: a fence
    assert "Inside one." in html and "Inside two." in html
    assert "{{&lt; figure" in html or '{{< figure src="kept.png" >}}' in html  # code stays as written
    outside = _outside_code(html)
    assert "{{" not in outside and ":::" not in outside and "Careful" in outside
    found = _r010(diagnostics)
    assert found == [("a.md", 19, found[0][2]), ("a.md", 23, found[0][2])]  # one message per name: folded
    assert "'{{< example … >}}'" in found[0][2]
    # Later lines keep their numbers: the broken link is where it is written.
    assert [(d.line, d.column) for d in diagnostics if d.code == "R008"] == [(31, 10)]


def test_liquid_links_site_values_includes_and_raw(tmp_path):
    root = _book(tmp_path / "site", {
        "_config.yml": "repository: https://github.com/o/r\nbaseurl: /blog\n",
        "_includes/note.md": "Included *words*.\n",
        "2013-05-06-old.md": "---\ntitle: Old\n---\n\nOld news.\n",
        "2014-01-01-new.md": (
            "---\ntitle: New\n---\n\n"
            "[Old]({% post_url 2013-05-06-old %}) and [again]({% link 2013-05-06-old.md %}).\n\n"
            "[Issues]({{ site.repository }}/issues), ![logo]({{ site.baseurl }}/logo.png), "
            "[home]({{ '/about/' | relative_url }}).\n\n"
            "{% include note.md %}\n\n"
            "{% include missing.html x=1 %}\n\n"
            "{% raw %}`{% post_url x %}`{% endraw %} {{ page.title }}\n"),
    })
    bodies, diagnostics = _render(root)
    html = bodies["2014-01-01-new.md"].body_html
    assert html.count('href="#2013-05-06-old"') == 2 or html.count('href="#old"') == 2, html
    assert 'href="https://github.com/o/r/issues"' in html
    assert "{{" not in _outside_code(html) and "{%" not in _outside_code(html)
    assert "<em>words</em>" in html
    assert "<code>{% post_url x %}</code>" in html  # raw: as written
    assert [(line, message.split(";")[0]) for _, line, message in _r010(diagnostics)] == [
        (11, "the included file 'missing.html' is not in the site"),
        (13, "the template variable '{{ page.title }}' is not expanded")]


def test_an_include_outside_the_site_is_refused(tmp_path):
    (tmp_path / "secret.md").write_text("SECRET\n", encoding="utf-8")
    root = _book(tmp_path / "site", {"a.md": "---\ntitle: A\n---\n\n{% include_relative ../secret.md %}\n"})
    bodies, diagnostics = _render(root)
    assert "SECRET" not in bodies["a.md"].body_html
    [refused] = [d for d in diagnostics if d.code == "R010"]
    assert refused.is_error and refused.line == 5 and "outside" in refused.message


def test_mkdocs_tabs_snippets_and_auto_append(tmp_path):
    bodies, diagnostics = _render_site(tmp_path / "site", "mkdocs", {
        "mkdocs.yml": ("site_name: S\nmarkdown_extensions:\n  - pymdownx.emoji:\n"
                       "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
                       "  - pymdownx.snippets:\n      base_path: [docs/.snippets]\n"
                       "      auto_append: [links.txt]\n"),
        "docs/.snippets/links.txt": "[PEP 8]: https://peps.python.org/pep-0008/\n*[PEP]: Python Enhancement Proposal\n",
        "docs/.snippets/part.md": "A *snippet*.\n",
        "docs/a.md": ('=== "Linux"\n\n    Run `make`.\n\n    More for Linux.\n\n=== "Windows"\n    Run `nmake`.\n\n'
                      '--8<-- "part.md"\n\nSee [PEP 8] :tada: and `:tada:`.\n'),
    })
    html = bodies["a.md"].body_html
    assert "<strong>Linux</strong>" in html and "<strong>Windows</strong>" in html
    assert "<pre" not in html and "<p>More for Linux.</p>" in html  # tab content is Markdown, not code
    assert "<em>snippet</em>" in html
    assert 'href="https://peps.python.org/pep-0008/"' in html and "*[PEP]" not in html
    assert "\U0001f389" in html and "<code>:tada:</code>" in html
    assert not _r010(diagnostics)


def test_mdx_imports_comments_tabs_and_components(tmp_path):
    root = _book(tmp_path / "site", {"a.md": (
        "---\ntitle: A\n---\n\n"
        "import Tabs from '@theme/Tabs';\nimport {\n  a,\n} from './x';\n\n"
        "Before {/* a comment */}the tabs.\n\n"
        '<Tabs>\n<TabItem value="npm" label="npm">\n\nnpm install\n\n</TabItem>\n</Tabs>\n\n'
        "## Title {/*my-title*/}\n\n"
        "<Intro>\n\nThe **intro**.\n\n</Intro>\n\n<Note>\n\nA note.\n\n</Note>\n\n<Note>\n\nTwo.\n\n</Note>\n\n"
        "<InlineToc />\n\n```jsx\nimport X from 'x';\n<Intro />\n```\n\n[broken](nowhere.md)\n")})
    bodies, diagnostics = _render(root)
    html = bodies["a.md"].body_html
    outside = _outside_code(html)
    assert "import" not in outside and "/*" not in outside and "Before the tabs." in outside
    assert "<strong>npm</strong>" in html and "npm install" in html
    assert 'id="a--my-title"' in html and "{" not in outside
    assert "<strong>intro</strong>" in html and "A note." in html and "Two." in html
    assert "Intro</span> <span" in html and ">import<" in html  # code as written (highlighted)
    found = _r010(diagnostics)
    assert sorted({message.split(" is not")[0] for _, _, message in found}) == [
        "the component '<InlineToc>'", "the component '<Intro>'", "the component '<Note>'"]
    assert [line for _, line, message in found if "Note" in message] == [28, 34]
    assert [(d.line, d.column) for d in diagnostics if d.code == "R008"] == [(47, 10)]


def test_summary_markers_end_the_summary_where_front_matter_gives_none(tmp_path):
    root = _book(tmp_path / "site", {
        "a.md": "---\ntitle: A\n---\n\nThe *first* words.\n\n<!--more-->\n\nThe rest.\n",
        "b.md": "---\ntitle: B\nsummary: Given.\n---\n\nOther words.\n\n<!-- more -->\n\nRest.\n",
        "c.md": "---\ntitle: C\n---\n\nTruncated here.\n\n{/* truncate */}\n\nRest.\n",
    })
    bodies, _ = _render(root)
    # The words before the marker are the article's summary (metadata, the downloads' manifest), and its
    # body's opening: the opener does not print them a second time ("In brief", then the same words).
    assert bodies["a.md"].article.summary == "The *first* words." and bodies["a.md"].summary_html == ""
    assert "<p>The <em>first</em> words.</p>" in bodies["a.md"].body_html
    assert bodies["b.md"].summary_html == "Given."
    assert bodies["c.md"].article.summary == "Truncated here." and bodies["c.md"].summary_html == ""
    assert "truncate" not in bodies["c.md"].body_html


def test_a_marked_summary_is_printed_once_and_still_in_the_manifest(tmp_path):
    """The EPUB's opener holds no "In brief" repeating the body's first words; the downloads'
    manifest.json still gives the summary, as text, for the website's download page."""
    import json
    import zipfile

    from pipeline import build

    root = _book(tmp_path / "site", {"a.md": "---\ntitle: A\n---\n\nThe *first* words.\n\n<!--more-->\n\nThe rest.\n"})
    result = build(root, tmp_path / "out", formats=("epub",), per_article=True)
    assert result.ok, [d.format() for d in result.diagnostics]
    with zipfile.ZipFile(next(p for p in result.outputs if p.name == "probe.epub")) as archive:
        text = " ".join(archive.read(n).decode() for n in archive.namelist() if n.endswith(".xhtml"))
    assert text.count("first</em> words") == 1 and "In brief" not in text
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["articles"][0]["summary"] == "The first words."


def test_line_numbers_stay_put(tmp_path):
    """Each rewrite keeps the body's line count (only included files add lines)."""
    article = Article(slug="a", title="A", source_path=tmp_path / "a.md", body=(
        '{{< figure\n  src="x.png"\n  caption="c" >}}\n<Note\n  kind={{a: 1}}>\n\nx\n</Note>\n'
        "{% comment %}\ngone\n{% endcomment %}\n=== \"T\"\n    y\n"), body_line=1)
    book = Book(root=tmp_path, slug="b", config=BookConfig(title="B"), articles=(article,))
    out, _ = rewrite(article, site_of(book))
    assert out.body.count("\n") == article.body.count("\n")


CORPUS = SHARED / "corpus-sites"
FLAVOURS = {"hugo-site": "hugo", "jekyll-site": "jekyll", "docusaurus-site": "docusaurus", "mkdocs-site": "mkdocs",
            "mdbook-site": "mdbook", "github-alerts": "gfm", "astro-or-next-blog": "astro"}
PRINTED = re.compile(r"\{\{<|\{\{%|\{%|\{\{ ?site\.|^import .* from", re.M)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the corpus sites (../shared/corpus-sites) are not here")
@pytest.mark.parametrize("name", sorted(FLAVOURS))
def test_corpus_sites_print_no_site_syntax_outside_code(name):
    """Each manuscript of the slice, its front matter cut off by hand (the
    loader's reading of sites is not what is tested here), rewritten with the
    site's flavour and root: none of the site syntax reaches the HTML."""
    root = CORPUS / name
    articles = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".md", ".markdown", ".mdx") or path.name in ("README.md", "SUMMARY.md"):
            continue
        text, line = path.read_text(encoding="utf-8"), 1
        if text.startswith("---\n") and "\n---\n" in text[4:]:
            end = text.index("\n---\n", 4) + 5
            text, line = text[end:], text[:end].count("\n") + 1
        articles.append(Article(slug=path.stem, title=path.stem, source_path=path, body=text, body_line=line))
    book = Book(root=root, slug=name, config=BookConfig(title=name), articles=tuple(articles),
                flavour=FLAVOURS[name], site_root=root)
    site = site_of(book)
    printed = {}
    for article in articles:
        out, _ = rewrite(article, site)
        assert out.body.count("\n") >= article.body.count("\n")
        found = PRINTED.findall(_outside_code(to_html(out.body)))
        if found:
            printed[article.source_path.name] = found
    assert printed == {}


