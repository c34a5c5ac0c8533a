"""Render: a `Book` -> a `RenderedBook` of sanitized XHTML per article.

`markdown` parses (markdown-it-py, CommonMark + GFM), `articles` turns each
article into XHTML (ids, links, images, quotes from `quotes`), and `lint`
judges the rendered book, the same way for `build` and `check`.
Exporters read what this stage makes; they never parse Markdown.
"""

from .articles import render_book

__all__ = ["render_book"]
