"""A book made ready to export: load -> render -> lint, written once.

`build`, `check` and `serve` all start here, so they judge a book alike:
the same diagnostics in the same order, the same settings over book.toml
(`Overrides`: what the command line sets, the print profile among them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ..diagnostics import Diagnostic
from ..load.manuscripts import load_book
from ..model import Book, BookConfig, RenderedBook
from ..progress import Progress
from . import articles  # by module: a test may put its own render_book there (test_serve)
from .lint import lint


@dataclass(frozen=True)
class Overrides:
    """Settings the caller puts over book.toml's (None: the book's own)."""

    pdf_variant: str | None = None  # [pdf] variant
    impose: bool | None = None  # [pdf] impose
    print_profile: str | None = None  # [print] profile
    pdf_engine: str | None = None  # [pdf] engine

    def applied(self, book: Book) -> Book:
        config = self.applied_to(book.config)
        return book if config is book.config else replace(book, config=config)

    def applied_to(self, config: BookConfig) -> BookConfig:
        changes = {key: value for key, value in (("pdf_variant", self.pdf_variant), ("pdf_impose", self.impose),
                                                 ("print_profile", self.print_profile),
                                                 ("pdf_engine", self.pdf_engine)) if value is not None}
        if self.pdf_variant is not None:  # asked for in so many words: the downloads follow it too
            changes["pdf_variant_given"] = True
        return replace(config, **changes) if changes else config


def prepare(book_dir: Path, overrides: Overrides = Overrides(), *,
            stop: Callable[[list[Diagnostic]], bool] | None = None,
            progress: Progress | None = None,
            later: list[Callable[[], list[Diagnostic]]] | None = None,
            configured: Callable[[BookConfig], None] | None = None) -> tuple[RenderedBook | None, list[Diagnostic]]:
    """The book in `book_dir` loaded, with `overrides`, rendered and
    linted; and every diagnostic on the way, in that order. None for a book
    that could not be loaded, or whose loading's diagnostics `stop` refuses
    (a build does not render a book it will not write); a book with errors
    is rendered otherwise (check reports everything, the preview shows it).

    With `later`, checks that take long and only warn (the language's) run
    on beside what follows: `later` receives the functions that wait for
    their diagnostics (`settle`), which the caller calls before it reports.
    `configured` is called with the book's config, `overrides` applied, as
    soon as it is read (`load_book`)."""
    progress = progress or Progress()
    progress.start("loading the book")
    told = (lambda config: configured(overrides.applied_to(config))) if configured else None
    book, diagnostics = load_book(book_dir, later=later, configured=told)
    if book is None or (stop is not None and stop(diagnostics)):
        return None, list(diagnostics) + settle(later)
    book = overrides.applied(book)
    progress.start("rendering articles", total=len(book.articles))
    rendered, found = articles.render_book(book, on_article=progress.advance)
    return rendered, list(diagnostics) + list(found) + lint(rendered)


def settle(later: list[Callable[[], list[Diagnostic]]] | None) -> list[Diagnostic]:
    """The diagnostics of the checks `prepare` left running, waited for
    (each once: `later` is emptied)."""
    found: list[Diagnostic] = []
    while later:
        found += later.pop(0)()
    return found
