"""Links between articles in the per-article downloads.

In the book a link to another article is a fragment of the one booklet
(`#sleep-hygiene` or `#sleep-hygiene--caffeine`), marked by the renderer
with its target's slug (`data-article`, render/articles.py). A download
holds one article, so such a link would lead nowhere: it leads to the other
article's web address instead (load/addresses.py: the front matter's `url`,
`[site] article-url`, the site's permalink), the fragment as the author
wrote it; without one, to the other article's download next to this one
(`<slug>.pdf`, relative: both lie in OUT/articles/). An EPUB may not link
to a file outside itself (EPUBCheck RSC-007), so there that link keeps its
text only. Any other link to an id the download lacks (a reference to
another article's figure) keeps its text too: no link without an address
reaches a file. The markup is read as XHTML, never as Markdown.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import unquote

from lxml import etree

from ..model import RenderedArticle, RenderedBook
from ..xhtml import parse_fragment, serialize_children

ARTICLE = "data-article"  # render/articles.py's mark: the slug of the article a link leads to
DOWNLOAD = "data-download"  # a link to another article's download, whose name depends on the format
LINKS_OUTSIDE = ("pdf",)  # formats whose file may link to a file next to it


def links_elsewhere(item: RenderedArticle, addresses: dict[str, str]) -> RenderedArticle:
    """`item` for a download of its own: each link to an id it lacks leads
    to the other article's web address (`addresses`, by slug; '' unknown)
    or its download (`DOWNLOAD`, named by `for_format`), or keeps its text."""
    if 'href="#' not in item.body_html:
        return item
    root = parse_fragment(item.body_html)
    ids = {item.anchor} | {element.get("id") for element in root.iter() if element.get("id")}
    changed = False
    for link in root.iter("a"):
        target = unquote((link.get("href") or "")[1:]) if (link.get("href") or "").startswith("#") else None
        if target is None or target in ids:
            continue
        changed = True
        slug = link.get(ARTICLE)
        if slug is None or slug not in addresses:
            _unwrap(link)
            continue
        fragment = link.get("href")[1:] if target != slug else ""  # `slug--id`, as written in the booklet
        address = addresses[slug]
        if address:
            own = fragment.removeprefix(f"{slug}--")  # the id as the author wrote it, which the site's page has
            link.set("href", f"{address}#{own}" if own and "#" not in address else address)
        else:
            link.set("href", f"{slug}.pdf" + (f"#{fragment}" if fragment else ""))  # a named destination there
            link.set(DOWNLOAD, slug)
    etree.strip_tags(root, _UNWRAPPED)  # their content stays where they were
    return replace(item, body_html=serialize_children(root)) if changed else item


def for_format(rendered: RenderedBook, kind: str) -> RenderedBook:
    """`rendered` as the `kind` exporter writes it: a link to another
    article's download kept where the format may link outside its file
    (the PDF), else its text only (the EPUB)."""
    if kind in LINKS_OUTSIDE or not any(DOWNLOAD in item.body_html for item in rendered.articles):
        return rendered
    articles = []
    for item in rendered.articles:
        if DOWNLOAD not in item.body_html:
            articles.append(item)
            continue
        root = parse_fragment(item.body_html)
        for link in [a for a in root.iter("a") if a.get(DOWNLOAD) is not None]:
            _unwrap(link)
        etree.strip_tags(root, _UNWRAPPED)
        articles.append(replace(item, body_html=serialize_children(root)))
    return replace(rendered, articles=tuple(articles))


_UNWRAPPED = "unwrapped"


def _unwrap(link: etree._Element) -> None:
    """Mark the link to be replaced by its content (`etree.strip_tags`)."""
    link.attrib.clear()
    link.tag = _UNWRAPPED
