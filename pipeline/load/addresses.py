"""An article's web address: where a reader of its download finds it online.

A download (`pipeline build --per-article`) prints "Read online: <url>" and
carries the address in its metadata; links between articles in a download
lead to the other article's address. One function decides it, in this
order:

1. the article's own front matter `url` (or `permalink`), when it is a full
   web address, or a site-root path (`/blog/x/`) when the site's base URL is
   known;
2. book.toml's `[site] article-url`, a template such as
   "https://example.org/articles/{slug}/";
3. the page the site's generator makes of the manuscript (its flavour's
   permalink rule under the site's base URL, `Book.site_url`).

'' when none of them says: nothing is guessed from elsewhere, nothing fetched.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import quote, urlsplit

from ..model import Article, Book

SLUG_FIELD = "{slug}"
_MANUSCRIPT = re.compile(r"\.(md|mdx|markdown|mdown|mkd)$", re.IGNORECASE)
_DATED = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")  # Jekyll's and Docusaurus' 2024-05-01-title


def article_web_address(book: Book, article: Article) -> str:
    """The absolute https/http address of `article` on the web, or ''."""
    own = _own_address(book, article.url)
    if own:
        return own
    template = book.config.site_article_url
    if template:
        return template.replace(SLUG_FIELD, quote(article.slug, safe=""))
    return _permalink(book, article)


def is_web_address(url: str) -> bool:
    """Whether `url` is a full http(s) address with a host and no spaces."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in url)


def article_url_problem(value: str) -> str:
    """What keeps `value` from being `[site] article-url`, or '': an absolute
    https address holding `{slug}` (the article's slug is put there)."""
    if not is_web_address(value) or urlsplit(value).scheme.lower() != "https":
        return f"expected an absolute https URL, e.g. \"https://example.org/articles/{{slug}}/\", got '{value}'"
    if SLUG_FIELD not in value:
        return f"expected {{slug}} in the address (each article's slug is put there), got '{value}'"
    if "{" in value.replace(SLUG_FIELD, "") or "}" in value.replace(SLUG_FIELD, ""):
        return f"expected no other '{{…}}' field than {{slug}}, got '{value}'"
    return ""


def _own_address(book: Book, url: str) -> str:
    url = url.strip()
    if is_web_address(url):
        return url
    if url.startswith("/") and not url.startswith("//") and book.site_url and not any(c.isspace() for c in url):
        return book.site_url.rstrip("/") + url
    return ""


def _permalink(book: Book, article: Article) -> str:
    """The page a website's generator makes of the article's manuscript,
    by its default permalink rule; '' for a book of ours (flavour plain) or
    a site whose base URL is unknown."""
    if not book.site_url or book.site_root is None or book.flavour == "plain":
        return ""
    try:
        path = PurePosixPath(article.source_path.resolve().relative_to(book.site_root).as_posix())
    except ValueError:
        return ""
    page = _RULES.get(book.flavour, _pretty)(path, article)
    return book.site_url.rstrip("/") + "/" + quote(page.lstrip("/"), safe="/:@!$&'()*+,;=-._~%")


def _stem(path: PurePosixPath) -> tuple[PurePosixPath, str]:
    """The manuscript's folder and name, an index page named by its folder."""
    name = _MANUSCRIPT.sub("", path.name)
    if name.lower() in ("index", "_index", "readme") and path.parent.parts:
        return path.parent.parent, path.parent.name
    return path.parent, name


def _under(path: PurePosixPath, *tops: str) -> PurePosixPath:
    """`path` without its leading content folder (`content/`, `docs/`…)."""
    parts = path.parts
    for count in (3, 2, 1):
        if len(parts) > count and "/".join(parts[:count]) in tops:
            return PurePosixPath(*parts[count:])
    return path


def _pretty(path: PurePosixPath, article: Article) -> str:
    """Hugo, Astro, MkDocs, gfm: `folder/name/` (a given slug names the page)."""
    folder, name = _stem(_under(path, "content", "src/content", "src/pages", "docs", "website/docs"))
    name = article.slug if article.slug_given else name
    return "/".join([*folder.parts, name]) + "/" if name else "/".join(folder.parts) + "/"


def _jekyll(path: PurePosixPath, article: Article) -> str:
    """Jekyll's default "date" permalink: `/2024/05/01/title.html`; a page: `page.html`."""
    folder, name = _stem(path)
    dated = _DATED.match(name)
    if dated and "_posts" in folder.parts:
        year, month, day, title = dated.groups()
        return f"{year}/{month}/{day}/{title}.html"
    return "/".join([*folder.parts, name]) + ".html"


def _docusaurus(path: PurePosixPath, article: Article) -> str:
    """Docusaurus: a blog post `blog/2024/05/01/title`, a doc `docs/folder/name`."""
    path = _under(path, "website")
    folder, name = _stem(path)
    name = article.slug if article.slug_given else name
    dated = _DATED.match(name)
    if dated and folder.parts[:1] == ("blog",):
        year, month, day, title = dated.groups()
        return f"blog/{year}/{month}/{day}/{title}"
    return "/".join([*folder.parts, name])


def _mdbook(path: PurePosixPath, article: Article) -> str:
    """mdBook: `src/folder/name.md` is served as `folder/name.html`."""
    path = _under(path, "src")
    name = _MANUSCRIPT.sub("", path.name)
    name = "index" if name.lower() == "readme" else name
    return "/".join([*path.parent.parts, name]) + ".html"


_RULES = {"jekyll": _jekyll, "docusaurus": _docusaurus, "mdbook": _mdbook}
