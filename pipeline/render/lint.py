"""The lint pass: problems of a rendered book that no single stage sees
(a skipped heading level, two articles with one title, characters no font
of the book draws). `build` and `check` both run it, after rendering, so
they judge a book alike (`--strict` included).
"""

from __future__ import annotations

from pathlib import Path

from ..diagnostics import Diagnostic, did_you_mean, warning, with_suggestion
from ..fonts import font_diagnostics
from ..model import Article, RenderedBook
from ..styles import book_labels
from .code import find_lexer, language_names
from ..text.markdown import note_mismatches, parse


def lint(rendered: RenderedBook) -> list[Diagnostic]:
    book = rendered.book
    found: list[Diagnostic] = []
    for article in book.articles:
        tokens = parse(article.body)  # once for both checks
        found += heading_skips(article, tokens)
        found += unknown_languages(article, tokens)
        found += footnote_mismatches(article)
    found += font_diagnostics(book, book_labels(book.config))
    found += duplicate_titles(book.articles, book.root)
    return found


def heading_skips(article: Article, tokens=None) -> list[Diagnostic]:
    """A heading more than one level below the previous one (## then ####);
    the first counts from the title's level (### under an mdBook ## title).
    Headings as the parser sees them, so a `####` line in a fence is code and
    a heading in a quote or a list item counts."""
    found, previous = [], article.title_level
    lines = article.body.split("\n")
    for token in tokens if tokens is not None else parse(article.body):
        if token.type != "heading_open" or token.map is None:
            continue
        level = int(token.tag[1])
        if level > previous + 1:
            line = lines[token.map[0]]
            column = line.find(token.markup) + 1 if token.markup and token.markup in line else 1
            found.append(warning("R006", f"heading level {level} follows level {previous}; a level is skipped",
                                 hint=f"use {'#' * (previous + 1)} here, or add the missing level",
                                 path=article.source_path, line=article.body_line + token.map[0], column=column))
        previous = level
    return found


def footnote_mismatches(article: Article) -> list[Diagnostic]:
    """R022: a footnote call that names no note (`[^missing]`: printed as
    written, brackets and all), and a note that no call names (left out of
    the book: nothing leads to it)."""
    found = []
    for item in note_mismatches(article.body):
        place = {"path": article.source_path, "line": article.body_line + item.line, "column": item.column}
        if item.called:
            found.append(warning("R022", f"the footnote call [^{item.label}] names no note; it is printed as written",
                                 hint=f"add the note on a line of its own, '[^{item.label}]: Its text.', or "
                                      f"write \\[^{item.label}] if the brackets are meant", **place))
        else:
            found.append(warning("R022", f"the note [^{item.label}] is never called; it is left out of the book",
                                 hint=f"call it in the text with [^{item.label}], or delete the note", **place))
    return found


def unknown_languages(article: Article, tokens=None) -> list[Diagnostic]:
    """A fence whose language Pygments does not know (```` ```pyhton ````):
    its code is printed plain. A fence without a language is plain code,
    on purpose, and not reported."""
    found = []
    lines = article.body.split("\n")
    for token in tokens if tokens is not None else parse(article.body):
        language = token.info.split(" ")[0] if token.type == "fence" else ""
        if not language or find_lexer(language) or token.map is None:
            continue
        line = lines[token.map[0]]
        after = line.index(token.markup) + len(token.markup) if token.markup in line else 0
        column = after + len(line[after:]) - len(line[after:].lstrip()) + 1
        suggestion = did_you_mean(language.lower(), language_names())
        found.append(warning(
            "R016", f"unknown code language '{language}': the block is printed without highlighting",
            hint=with_suggestion(suggestion, "name a language Pygments knows (python, sh, json, ...), "
                                             "or none for plain code"),
            path=article.source_path, line=article.body_line + token.map[0], column=column))
    return found


def duplicate_titles(articles: tuple[Article, ...], root: Path | None = None) -> list[Diagnostic]:
    seen: dict[str, Article] = {}
    found = []
    for article in articles:
        key = " ".join(article.title.lower().split())
        if key in seen:
            line, column = _title_place(article, root) if root is not None else (1, 0)
            found.append(warning("M009", f"title '{article.title}' is also the title of "
                                         f"{seen[key].source_path.name}",
                                 hint="give each article its own title", path=article.source_path,
                                 line=line, column=column))
        seen.setdefault(key, article)
    return found


def _title_place(article: Article, root: Path) -> tuple[int, int]:
    """Where the article's title is written: its last place above the body
    (a `title:` line, a heading, a `%` line); else the file's first line."""
    from ..text.sourcetext import positions
    from ..resources import ResourceRefused, read_bytes

    try:
        text = read_bytes(article.source_path, (root,)).decode("utf-8-sig")
    except (ResourceRefused, OSError, UnicodeDecodeError):
        return 1, 0
    written = article.title_markdown or article.title
    above = [(line, column) for line, column in positions(text.replace("\r\n", "\n"), written)
             if line < article.body_line]
    return above[-1] if above else (1, 0)
