"""The lint pass: problems of a rendered book that no single stage sees
(a skipped heading level, two articles with one title, characters no font
of the book draws). `build` and `check` both run it, after rendering, so
they judge a book alike (`--strict` included).
"""

from __future__ import annotations

import re

from ..diagnostics import Diagnostic, warning
from ..fonts import font_diagnostics
from ..model import Article, RenderedBook
from ..styles import book_labels

_HEADING = re.compile(r"^(#{1,6})\s+\S")


def lint(rendered: RenderedBook) -> list[Diagnostic]:
    book = rendered.book
    found: list[Diagnostic] = []
    for article in book.articles:
        found += heading_skips(article)
    found += font_diagnostics(book, book_labels(book.config))
    found += duplicate_titles(book.articles)
    return found


def heading_skips(article: Article) -> list[Diagnostic]:
    """A heading more than one level below the previous one (## then ####);
    the first counts from the title's level (### under an mdBook ## title)."""
    found, previous, fenced = [], article.title_level, False
    for index, line in enumerate(article.body.split("\n")):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if not match:
            continue
        level = len(match.group(1))
        if level > previous + 1:
            found.append(warning("R006", f"heading level {level} follows level {previous}; a level is skipped",
                                 hint=f"use {'#' * (previous + 1)} here, or add the missing level",
                                 path=article.source_path, line=article.body_line + index, column=1))
        previous = level
    return found


def duplicate_titles(articles: tuple[Article, ...]) -> list[Diagnostic]:
    seen: dict[str, Article] = {}
    found = []
    for article in articles:
        key = " ".join(article.title.lower().split())
        if key in seen:
            found.append(warning("M009", f"title '{article.title}' is also the title of "
                                         f"{seen[key].source_path.name}",
                                 hint="give each article its own title", path=article.source_path, line=1))
        seen.setdefault(key, article)
    return found


