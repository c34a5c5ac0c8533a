"""Website content folders are recognised and read in the site's order (#27):
the flavour from the site's own config (Hugo, Jekyll, Docusaurus, Astro, a
Next.js blog, MkDocs, mdBook) or from the files (GitHub Markdown); the
book's title, authors and language from that config; manuscripts found in
sub-folders and ordered by the site's navigation, weights or dates. Small
sites are written here; the corpus slices of ../shared/corpus-sites are read
where they are present."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from conftest import SHARED
from pipeline.commands.cli import main
from pipeline.load.manuscripts import load_book
from pipeline.load.sites import detect

SITES = SHARED / "corpus-sites"


def _site(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _load(folder: Path, section: str | None = None):
    book, diagnostics = load_book(folder, section)
    errors = [d.format() for d in diagnostics if d.is_error]
    assert book is not None and not errors, errors
    return book, diagnostics


def _titles(book) -> list[str]:
    return [article.title for article in book.articles]


def _codes(diagnostics) -> set[str]:
    return {d.code for d in diagnostics}


HUGO = {
    "hugo.yml": 'title: "Harbour Log"\nlanguageCode: "de"\nbaseURL: "https://log.example.org/"\n'
                "params:\n  author: {name: Ada Quay}\nmodule:\n  mounts:\n"
                "    - {source: src/content, target: content}\n    - {source: src/static, target: static}\n"
                "    - {source: src/data, target: data}\n",
    "src/data/authors.yml": "ada:\n  name: Ada Quay\nbo:\n  name: Bo Lantern\n",
    "src/static/img/.keep": "",
    "src/content/_index.md": "---\ntitle: Harbour Log\n---\n",
    "src/content/about.md": "---\ntitle: About\n---\n\nNot a post.\n",
    "src/content/posts/2021/spring.md": '---\ntitle: Spring tides\ndate: "2021-04-02T00:00:00Z"\nauthor: bo\n---\n\nText.\n',
    "src/content/posts/2019/neap.md": "---\ntitle: Neap tides\ndate: 2019-06-01\nauthor: ada\n---\n\nText.\n",
    "src/content/posts/2020/pinned.md": "---\ntitle: Read me first\ndate: 2020-01-01\nweight: 1\n---\n\nText.\n",
}


def test_a_hugo_site_is_read_from_its_config_and_mounts(tmp_path):
    root = _site(tmp_path / "blog", HUGO)
    book, diagnostics = _load(root)
    assert (book.flavour, book.site_root) == ("hugo", root.resolve())
    assert book.static == (root.resolve() / "src" / "static",)
    assert (book.config.title, book.config.language, book.config.authors) == ("Harbour Log", "de", ("Ada Quay",))
    # the posts section (not about.md, not the home page), weight first, then oldest first
    assert _titles(book) == ["Read me first", "Neap tides", "Spring tides"]
    assert [a.authors for a in book.articles][1:] == [("Ada Quay",), ("Bo Lantern",)]  # ids of data/authors.yml
    assert "C004" not in _codes(diagnostics)  # the site's config is the book's


def test_a_folder_inside_a_site_is_read_with_the_sites_config(tmp_path):
    root = _site(tmp_path / "blog", HUGO)
    site = detect(root / "src" / "content" / "posts" / "2021")
    assert (site.flavour, site.root, site.content) == ("hugo", root.resolve(), (root / "src/content/posts/2021").resolve())
    book, _ = _load(root / "src" / "content" / "posts" / "2021")
    assert _titles(book) == ["Spring tides"] and book.config.title == "Harbour Log"
    assert book.articles[0].authors == ("Bo Lantern",)


def test_a_section_is_chosen_at_the_sites_root(tmp_path):
    root = _site(tmp_path / "blog", {**HUGO, "src/content/guides/one.md": "---\ntitle: Guide\n---\n\nText.\n"})
    book, _ = _load(root, section="guides")
    assert _titles(book) == ["Guide"]
    book, diagnostics = load_book(root, section="nope")
    [problem] = [d for d in diagnostics if d.is_error]
    assert problem.code == "C006" and "'nope'" in problem.message and "guides" in problem.hint
    assert book.articles == ()


def test_jekyll_posts_are_ordered_by_their_file_names_date(tmp_path):
    root = _site(tmp_path / "site", {
        "_config.yml": "title: Quay Notes\nlang: fr\nurl: https://quay.example.org\n",
        "_data/authors.yml": "pk:\n  name: Parker Kay\n",
        "_posts/2020-01-02-later.md": "---\ntitle: Later\nauthor: pk\n---\n\nText.\n",
        "_posts/2019-05-01-earlier.markdown": "---\ntitle: Earlier\n---\n\nText.\n",
        "_drafts/unfinished.md": "---\ntitle: Unfinished\n---\n\nText.\n",
        "README.md": "# The site's repository\n",
        "_docs/guide.md": "---\ntitle: Guide\n---\n\nText.\n",
    })
    book, diagnostics = _load(root)
    assert (book.flavour, book.config.title, book.config.language) == ("jekyll", "Quay Notes", "fr")
    assert _titles(book) == ["Earlier", "Later"]
    assert [a.date for a in book.articles] == ["2019-05-01", "2020-01-02"]
    assert book.articles[1].authors == ("Parker Kay",) and book.static == (root.resolve(),)
    assert _titles(_load(root, section="docs")[0]) == ["Guide"]  # the _docs collection


def test_post_folders_are_posts_in_date_order_named_by_their_folder(tmp_path):
    """A Hugo page bundle (`posts/june/index.md`) and a Docusaurus post
    folder (`blog/2024-03-10-spring/index.md`) are posts like the single
    files beside them: in date order (they came first, as if each were the
    section's index) and named by their folder (both were `index`, the
    second with an M011 warning nobody caused). The section's `_index.md`
    still opens it."""
    hugo = _site(tmp_path / "hugo", {
        "hugo.toml": 'title = "Order"\n',
        "content/posts/_index.md": "---\ntitle: All posts\n---\n\nThe posts of the year.\n",
        "content/posts/june/index.md": "---\ntitle: Bundle June\ndate: 2024-06-01\n---\n\nJune.\n",
        "content/posts/march/index.md": "---\ntitle: Bundle March\ndate: 2024-03-01\n---\n\nMarch.\n",
        "content/posts/jan.md": "---\ntitle: Single Jan\ndate: 2024-01-01\n---\n\nJan.\n",
    })
    book, diagnostics = _load(hugo)
    assert _titles(book) == ["All posts", "Single Jan", "Bundle March", "Bundle June"]
    assert [a.slug for a in book.articles] == ["index", "jan", "march", "june"] and "M011" not in _codes(diagnostics)
    docusaurus = _site(tmp_path / "docusaurus", {
        "docusaurus.config.js": "module.exports = { title: 'D' };\n",
        "blog/2024-05-01-summer/index.md": "---\ntitle: Summer\n---\n\nText.\n",
        "blog/2024-03-10-spring-release/index.md": "---\ntitle: Spring release\n---\n\nText.\n",
        "blog/2024-02-01-feb.md": "---\ntitle: Feb\n---\n\nText.\n",
    })
    book, diagnostics = _load(docusaurus)
    assert _titles(book) == ["Feb", "Spring release", "Summer"]
    assert [a.slug for a in book.articles] == ["feb", "spring-release", "summer"] and "M011" not in _codes(diagnostics)


DOCUSAURUS = {
    "website/docusaurus.config.mjs": "import x from './x.mjs';\nexport default {\n  title: 'Tide Tables',\n"
                                     "  url: 'https://tides.example.org',\n  baseUrl: '/',\n  presets: [['classic', {\n"
                                     "    docs: {\n      editUrl: ({locale}) => { return locale; },\n"
                                     "      path: '../docs',\n    },\n    blog: {showReadingTime: true},\n  }]],\n};\n",
    "website/sidebars.json": '{"docs": {"Start": ["second-page", {"type": "doc", "id": "first-page"}]}}',
    "website/blog/authors.yml": "cp:\n  name: Cora Pike\n  url: https://example.org\n",
    "website/blog/2021-03-09-new.md": "---\ntitle: New\nauthors: [cp]\n---\n\nText.\n",
    "website/blog/2016-07-27-old.md": "---\ntitle: Old\nauthors: cp\n---\n\nText.\n",
    "website/static/img/.keep": "",
    "docs/FirstPage.md": "---\nid: first-page\ntitle: First page\n---\n\nText.\n",
    "docs/SecondPage.md": "---\nid: second-page\ntitle: Second page\n---\n\nText.\n",
}


def test_a_docusaurus_site_without_a_blog_is_its_docs(tmp_path):
    """`blog: false` (a docs-only site), or no posts at all: the book is the docs (it was C006
    "no manuscripts in blog"); with posts, the blog still is the book."""
    config = "module.exports = { title: 'D', presets: [['classic', { blog: false }]] };\n"
    root = _site(tmp_path / "site", {"docusaurus.config.js": config,
                                     "docs/intro.md": "---\ntitle: Intro\n---\n\nText.\n"})
    book, _ = _load(root)
    assert (book.flavour, _titles(book)) == ("docusaurus", ["Intro"])
    (root / "docusaurus.config.js").write_text("module.exports = { title: 'D' };\n", encoding="utf-8")
    assert _titles(_load(root)[0]) == ["Intro"]  # no blog folder
    _site(root, {"blog/2024-01-01-post.md": "---\ntitle: Post\n---\n\nText.\n"})
    assert _titles(_load(root)[0]) == ["Post"]


def test_a_site_config_that_cannot_be_read_is_a_located_warning(tmp_path):
    """A Hugo config with a quote left open, a Jekyll one with a broken list: the book is built
    without them (titled by its folder), and C013 says where each is broken (it said nothing)."""
    hugo = _site(tmp_path / "hugo", {"hugo.toml": 'baseURL = "https://x.org/\ntitle = "Bad"\n',
                                     "content/posts/a.md": "---\ntitle: A\n---\n\nText.\n"})
    book, diagnostics = _load(hugo)
    [problem] = [d for d in diagnostics if d.code == "C013"]
    assert not problem.is_error and (problem.path.name, problem.line) == ("hugo.toml", 1)
    assert book.config.title == "Hugo" and "hugo.toml" in problem.message
    jekyll = _site(tmp_path / "jekyll", {"_config.yml": "title: J\nauthors: [a: b\n",
                                         "_posts/2024-01-01-a.md": "---\ntitle: A\n---\n\nText.\n"})
    _, diagnostics = _load(jekyll)
    assert [(d.path.name, d.line, d.column) for d in diagnostics if d.code == "C013"] == [("_config.yml", 2, 10)]


def test_docusaurus_in_a_repository_website_folder(tmp_path):
    root = _site(tmp_path / "repo", DOCUSAURUS)
    book, _ = _load(root)
    assert (book.flavour, book.site_root, book.config.title) == ("docusaurus", root.resolve(), "Tide Tables")
    assert _titles(book) == ["Old", "New"] and book.articles[1].authors == ("Cora Pike",)
    assert book.static == (root.resolve() / "website" / "static",)
    book, _ = _load(root, section="docs")  # the config's docs path, in sidebars.json's order
    assert _titles(book) == ["Second page", "First page"]


def test_docusaurus_positions_and_categories_order_docs(tmp_path):
    root = _site(tmp_path / "site", {
        "docusaurus.config.js": "module.exports = {title: 'Pos'};\n",
        "docs/b-intro.md": "---\ntitle: Intro\nsidebar_position: 1\n---\n\nText.\n",
        "docs/a-more.md": "---\ntitle: More\nsidebar_position: 2\n---\n\nText.\n",
        "docs/guides/_category_.json": '{"label": "Guides", "position": 3}',
        "docs/guides/one.md": "---\ntitle: Guide one\n---\n\nText.\n",
        "docs/zoo/_category_.json": '{"position": 9}',
        "docs/zoo/index.md": "---\ntitle: Zoo\n---\n\nThe zoo's opening page.\n",
        "docs/zoo/animal.md": "---\ntitle: Animal\n---\n\nText.\n",
    })
    book, _ = _load(root, section="docs")
    assert _titles(book) == ["Intro", "More", "Guide one", "Zoo", "Animal"]


MKDOCS = {
    "mkdocs.yml": "site_name: Hatchery\nsite_author: Ofa Lee\nsite_url: https://hatchery.example.org\n"
                  "docs_dir: pages\ntheme:\n  name: material\n  language: nl\n"
                  "  palette: !ENV [PALETTE, default]\nmarkdown_extensions:\n  - pymdownx.emoji:\n"
                  "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
                  "nav:\n  - Home:\n    - About: index.md\n    - Later: guide/later.md\n"
                  "  - Reference:\n    - guide/first.md\n    - Missing: guide/missing.md\n"
                  "  - Elsewhere: https://example.org/\n",
    "pages/index.md": "# Hatchery\n\nWelcome.\n",
    "pages/guide/first.md": "# First steps\n\nText.\n",
    "pages/guide/later.md": "# Later steps\n\nText.\n\n# A section of it\n\nMore.\n",
    "pages/blog/index.md": "# Blog\n",
    "pages/blog/.authors.yml": "authors:\n  ofa:\n    name: Ofa Lee\n",
    "pages/blog/posts/release.md": "---\ndate: 2023-12-11\nauthors: [ofa]\n---\n\n# Release\n\nText.\n",
    "pages/.snippets/links.md": "[x]: https://example.org\n",
}


def test_mkdocs_follows_its_nav_and_gives_no_m004(tmp_path):
    root = _site(tmp_path / "docs-site", MKDOCS)
    book, diagnostics = _load(root)
    assert (book.flavour, book.config.title, book.config.language) == ("mkdocs", "Hatchery", "nl")
    assert book.config.authors == ("Ofa Lee",) and book.static == (root.resolve() / "pages",)
    # the nav's order, then the pages it does not list; the blog's index is only its heading: left out
    assert _titles(book) == ["Hatchery", "Later steps", "First steps", "Release"]
    assert book.articles[3].authors == ("Ofa Lee",)
    assert "M004" not in _codes(diagnostics)  # a first-line heading is how MkDocs pages are titled
    assert "missing" not in detect(root).note() and "1 page(s) of its navigation" in detect(root).note()


MDBOOK = {
    "book.toml": '[book]\ntitle = "Rust Rapids"\nauthors = ["Mo Grant"]\nlanguage = "en"\nsrc = "src"\n\n'
                 '[rust]\nedition = "2024"\n\n[preprocessor.course]\nverbose = false\n\n'
                 '[output.html.redirect]\n"/old.html" = "new.html"\n',
    "src/SUMMARY.md": "<!-- a comment -->\n\n[Welcome](index.md)\n\n- [Zeta](zeta.md)\n  - [Alpha](zeta/alpha.md)\n"
                      "- [Draft]()\n\n---\n\n# Day 1\n\n- [Missing](missing.md)\n- [Beta](beta.md)\n",
    "src/index.md": "<!--\nCopyright\n-->\n\n# Welcome\n\nText.\n",
    "src/zeta.md": "# Zeta\n\nText.\n",
    "src/zeta/alpha.md": "---\nminutes: 5\n---\n\n# Alpha\n\nText.\n",
    "src/beta.md": "# Beta\n\nText.\n\n# A second top heading\n\nText.\n",
    "src/unlisted.md": "# Not in the summary\n",
}


def test_mdbook_reads_summary_order_and_its_own_book_toml(tmp_path):
    root = _site(tmp_path / "course", MDBOOK)
    book, diagnostics = _load(root)
    assert book.flavour == "mdbook" and book.config.title == "Rust Rapids" and book.config.authors == ("Mo Grant",)
    assert _titles(book) == ["Welcome", "Zeta", "Alpha", "Beta"]  # SUMMARY.md's, parts and drafts left out
    assert not _codes(diagnostics) & {"C002", "C004", "M004"}
    assert book.static == (root.resolve() / "src",)


def test_a_next_blog_is_read_by_its_dated_folders(tmp_path):
    root = _site(tmp_path / "react-ish", {
        "src/content/blog/index.md": "---\ntitle: Reef Blog\n---\n\n<Intro>\n\nNews.\n\n</Intro>\n\n"
                                     "<BlogCard title=\"B\" url=\"/blog/2023/03/16/b\">\n\nB.\n\n</BlogCard>\n",
        "src/content/blog/2023/03/16/b.md": "---\ntitle: B\ndate: 2023/03/16\n---\n\nText.\n",
        "src/content/blog/2020/12/21/a.md": "---\ntitle: A\n---\n\nText.\n",
        "public/images/.keep": "",
    })
    book, diagnostics = _load(root)
    assert (book.flavour, _titles(book)) == ("astro", ["A", "B"])  # the index is a listing: left out
    assert book.config.title == "Reef Blog" and book.articles[0].date == "2020-12-21"
    assert book.static == (root.resolve() / "public",) and "C004" not in _codes(diagnostics)


def test_an_astro_site(tmp_path):
    root = _site(tmp_path / "astro", {
        "astro.config.mjs": "export default defineConfig({ site: 'https://astro.example.org' });\n",
        "src/content/posts/second.md": "---\ntitle: Second\npubDate: 2022-02-02\n---\n\nText.\n",
        "src/content/posts/first.md": "---\ntitle: First\npubDate: 2021-01-01\n---\n\nText.\n",
    })
    book, _ = _load(root)
    assert (book.flavour, _titles(book)) == ("astro", ["First", "Second"])
    assert detect(root).base_url == "https://astro.example.org"


def test_an_astro_blogs_dates_as_its_starter_writes_them_are_read(tmp_path):
    """Astro's blog starter writes `pubDate: 'Jul 08 2022'` (JavaScript's Date reads it): read as
    2022-07-08, no M002, and the posts in that order; an RSS-style date too."""
    root = _site(tmp_path / "astro", {
        "astro.config.mjs": "export default {}\n",
        "src/content/blog/later.md": "---\ntitle: 'Later'\npubDate: 'Jul 15 2022'\nupdatedDate: 'Jul 20 2022'\n---\n\nText.\n",
        "src/content/blog/first-post.md": "---\ntitle: 'First post'\npubDate: 'Jul 08 2022'\n---\n\nText.\n",
        "src/content/blog/rss.md": "---\ntitle: 'From a feed'\npubDate: 'Fri, 01 Jul 2022 09:00:00 +0000'\n---\n\nText.\n",
    })
    book, diagnostics = _load(root)
    assert _titles(book) == ["From a feed", "First post", "Later"] and "M002" not in _codes(diagnostics)
    assert [a.date for a in book.articles] == ["2022-07-01", "2022-07-08", "2022-07-15"]


def test_github_markdown_is_recognised_by_its_files(tmp_path):
    root = _site(tmp_path / "repo-docs", {
        "README.md": "# Project\n\n> [!NOTE]\n> Read this.\n",
        "docs/cli/usage.md": "# Usage\n\nText.\n\n# Options\n\nText.\n",
        "CONTRIBUTING.md": "# Contributing\n\nText.\n",
    })
    book, diagnostics = _load(root)
    assert book.flavour == "gfm" and "M004" not in _codes(diagnostics)
    # all of it is content (no site config says otherwise), each file one article, a folder's README
    # first (the page GitHub shows for the folder)
    assert _titles(book) == ["Project", "Contributing", "Usage"]


def test_a_readme_titled_by_an_html_heading_takes_it_as_its_title(tmp_path):
    """`<h1 align="center">FastThing</h1>`, as READMEs open: the title (it was 'README', from the
    file name, with M004, and the heading printed again in the body)."""
    root = _site(tmp_path / "repo", {
        "README.md": '<h1 align="center">FastThing</h1>\n\nIntro.\n\n> [!TIP]\n> Star it.\n',
        "CONTRIBUTING.md": "# Contributing\n\nPRs welcome.\n",
    })
    book, diagnostics = _load(root)
    assert _titles(book) == ["FastThing", "Contributing"] and "M004" not in _codes(diagnostics)
    assert "FastThing" not in book.articles[0].body and "Intro." in book.articles[0].body


def test_a_book_folder_of_ours_stays_plain_unless_told(tmp_path):
    root = _site(tmp_path / "essays", {
        "book.toml": '[book]\ntitle = "Essays"\n',
        "01-one.md": "# One\n\nText.\n",
        "02-two.md": "# Two\n\nText.\n\n# Three\n\nText.\n",
    })
    book, diagnostics = _load(root)
    assert book.flavour == "plain" and "M004" in _codes(diagnostics) and _titles(book) == ["One", "Two", "Three"]
    (root / "book.toml").write_text('[book]\ntitle = "Essays"\n\n[source]\nflavor = "mkdocs"\n', encoding="utf-8")
    book, diagnostics = _load(root)
    assert book.flavour == "mkdocs" and "M004" not in _codes(diagnostics) and _titles(book) == ["One", "Two"]
    (root / "book.toml").write_text('[book]\ntitle = "Essays"\n\n[source]\nflavor = "wordpress"\n', encoding="utf-8")
    _, diagnostics = load_book(root)
    assert [d.code for d in diagnostics if d.is_error] == ["C003"]


def test_our_book_toml_in_a_site_wins_over_the_sites_config(tmp_path):
    root = _site(tmp_path / "blog", {**HUGO, "book.toml": '[book]\ntitle = "Best of the Log"\n\n[source]\nsection = "posts"\n'})
    book, diagnostics = _load(root)
    assert book.config.title == "Best of the Log" and book.config.language == "de"  # the rest from hugo.yml
    assert book.flavour == "hugo" and len(book.articles) == 3


def test_a_hostile_site_config_is_read_for_what_it_gives(tmp_path):
    root = _site(tmp_path / "odd", {
        "mkdocs.yml": "site_name: [unclosed\n",
        "docs/page.md": "# Page\n",
    })
    book, _ = _load(root)
    assert book.flavour == "mkdocs" and _titles(book) == ["Page"]
    root = _site(tmp_path / "deep", {"mkdocs.yml": "nav: " + "[" * 5000 + "]" * 5000 + "\n", "docs/a.md": "# A\n"})
    assert _titles(_load(root)[0]) == ["A"]


def test_the_command_says_which_flavour_it_reads(tmp_path):
    root = _site(tmp_path / "blog", {**HUGO, "src/content/guides/one.md": "---\ntitle: Guide\n---\n\nText.\n"})
    out, err = io.StringIO(), io.StringIO()
    code = main(["check", str(root), "--section", "guides"], stdout=out, stderr=err)
    notes = [line for line in err.getvalue().splitlines() if line.startswith("note:")]
    assert code == 0 and notes == [f"note: reading a Hugo site: {root.resolve()} (content: src/content/guides)"]
    plain = _site(tmp_path / "plain", {"book.toml": '[book]\ntitle = "P"\n', "a.md": "---\ntitle: A\n---\n\nText.\n"})
    err = io.StringIO()
    assert main(["check", str(plain)], stdout=io.StringIO(), stderr=err) == 0 and "note:" not in err.getvalue()


# The corpus: real sites, as they are -------------------------------------------------------------------------------

CORPUS = {
    "hugo-site": ("hugo", ["Bootstrap 3 released", "Bootstrap 4", "New Bootstrap themes", "Bootstrap 4.1",
                           "Bootstrap 5 alpha!", "Bootstrap 5.3.0"]),
    "jekyll-site": ("jekyll", 8),
    "docusaurus-site": ("docusaurus", 5),
    "mkdocs-site": ("mkdocs", ["Hatch", "Installation", "Dependency configuration", "Environment configuration",
                               "How to use Hatch environments from Visual Studio Code", "Hatch v1.8.0"]),
    "mdbook-site": ("mdbook", ["Welcome to Comprehensive Rust 🦀", "Course Structure", "Hello, World", "What is Rust?",
                               "Benefits of Rust", "Exercise: Fibonacci", "Visual Studio Code"]),
    "github-alerts": ("gfm", 5),
    "astro-or-next-blog": ("astro", 6),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_sites_load_in_their_order(name):
    if not SITES.is_dir():
        pytest.skip("../shared/corpus-sites is not here (a user's clone)")
    flavour, expected = CORPUS[name]
    book, diagnostics = _load(SITES / name)
    assert book.flavour == flavour and not _codes(diagnostics) & {"C002", "C006", "M001", "M002"}
    if isinstance(expected, list):
        assert _titles(book) == expected
    else:
        assert len(book.articles) == expected
    dates = [a.date for a in book.articles]
    if flavour in ("hugo", "jekyll", "docusaurus", "astro"):  # posts: oldest first, each dated
        assert all(dates) and dates == sorted(dates)
    if flavour in ("mdbook", "mkdocs", "gfm"):
        assert "M004" not in _codes(diagnostics)


def test_a_site_config_that_refers_to_itself_is_read_without_looping(tmp_path):
    root = _site(tmp_path / "loop", {
        "hugo.yaml": "title: Loop\nauthor: &a [*a, {name: *a}]\nparams: &p {author: *p}\n",
        "data/authors.yml": "x: &x [*x]\ny: {name: Yan}\n",
        "content/posts/one.md": "---\ntitle: One\nauthor: y\n---\n\nText.\n",
    })
    book, _ = _load(root)
    assert book.config.title == "Loop" and book.articles[0].authors == ("Yan",)
