"""Render: a `Book` -> a `RenderedBook` of sanitized XHTML per article.

The parser (markdown-it-py, CommonMark + GFM) is `pipeline.text.markdown`,
below this stage, which the loader uses too to find titles. `articles` turns
each article into XHTML (ids, links, images, quotes from `text.quotes`),
and `lint` judges the rendered book, the same way for `build` and `check`.
Exporters read what this stage makes; they never parse Markdown.
"""


__all__ = ["render_book"]


def __getattr__(name: str):
    """Imported on first use: a no-op rebuild reads book.toml (load.config)
    and stops there, without loading the Markdown parser."""
    if name in __all__:
        from . import articles

        return getattr(articles, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
