"""Load stage: a book folder -> a `Book` of `Article`s, plus diagnostics.

Reads only book.toml and the manuscripts of the folder; never imports a
renderer. Text is normalised here once (BOM, CRLF/CR line ends) so later
stages see one form.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from .config import load_config
from .diagnostics import Diagnostic, error, warning
from .frontmatter import split
from .images import ImageRejected, inspect_image
from .model import Article, Book
from .resources import ResourceRefused, resolve_path
from .structure import split_articles, title_block

MAX_MANUSCRIPT_BYTES = 2 * 1024 * 1024  # about 300,000 words: far beyond an article


def slugify(text: str) -> str:
    """ASCII slug for file names and ids: 'Ça va, Zoë?' -> 'ca-va-zoe'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "untitled"


def load_book(root: Path) -> tuple[Book | None, list[Diagnostic]]:
    """Read book.toml and every manuscript; return the book and all diagnostics."""
    if not root.is_dir():
        return None, [error("C006", f"book folder '{root}' does not exist",
                            hint="pass the folder that holds book.toml and the *.md manuscripts")]
    config_path = root / "book.toml"
    config, diagnostics = load_config(config_path, fallback_title=_title_from_name(root.resolve().name))
    paths, found = _manuscript_paths(root, config.articles, config_path)
    diagnostics += found
    if not paths and not found:
        diagnostics.append(error("C006", f"no manuscripts (*.md) in '{root}'",
                                 hint="add one Markdown file per article", path=config_path))
    articles = []
    for path in paths:
        found_articles, found = load_articles(path)
        diagnostics += found
        articles += found_articles
    diagnostics += _duplicate_slugs(articles)
    cover, found = _cover(root, config.cover, config_path)
    diagnostics += found
    book = Book(root=root, slug=slugify(config.title), config=config, articles=tuple(articles),
                config_path=config_path if config_path.exists() else None, cover=cover)
    return book, diagnostics


def _cover(root: Path, name: str, config_path: Path) -> tuple[Path | None, list[Diagnostic]]:
    """The cover image named in book.toml, checked like any image of the book."""
    if not name:
        return None, []
    line = _line_of(config_path, "cover")
    try:
        path = resolve_path(root / name, (root,))
        inspect_image(path)
    except (ResourceRefused, ImageRejected) as exc:
        return None, [error("R002", f"cover image: {exc}", path=config_path, line=line,
                            hint="name a PNG or JPEG file inside the book folder, e.g. cover = \"cover.png\"")]
    return path, []


def _manuscript_paths(root: Path, listed: tuple[str, ...],
                      config_path: Path) -> tuple[list[Path], list[Diagnostic]]:
    if not listed:
        return sorted(root.glob("*.md")), []
    paths, diagnostics = [], []
    for name in listed:
        path = root / name
        if not path.is_file():
            diagnostics.append(error("C005", f"article '{name}' listed in book.toml does not exist",
                                     hint="fix the name in [book] articles or add the file",
                                     path=config_path, line=_line_of(config_path, name)))
        else:
            paths.append(path)
    return paths, diagnostics


def load_article(path: Path) -> tuple[Article | None, list[Diagnostic]]:
    """Read one manuscript as one article (the first, if it holds several)."""
    articles, diagnostics = load_articles(path)
    return (articles[0] if articles else None), diagnostics


def load_articles(path: Path) -> tuple[list[Article], list[Diagnostic]]:
    """Read one manuscript: decode, normalise line ends, split front matter,
    then cut it into articles (see `structure.split_articles`)."""
    if path.stat().st_size > MAX_MANUSCRIPT_BYTES:
        return [], [error("M008", f"manuscript is {path.stat().st_size / 1048576:.1f} MiB; the limit is "
                                  f"{MAX_MANUSCRIPT_BYTES // 1048576} MiB", path=path, line=1,
                          hint="split it into several articles")]
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return [], [error("M005", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                          hint="save the file as UTF-8", path=path, line=line, column=column)]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    front, diagnostics = split(text, path)
    values = dict(front.values)
    body, body_line = front.body, front.body_line
    if not front.present:
        block = title_block(body)
        if block is not None:
            values.update(block.values)
            body, body_line = block.body, body_line + block.lines
    parts = split_articles(body, body_line, values.get("title") or "")
    front_failed = any(d.is_error for d in diagnostics)  # a title it had is already reported
    articles = []
    for index, part in enumerate(parts):
        own = values if index == 0 else {}
        title = part.title
        if not title:
            title = _title_from_name(path.stem)
        if not part.title and not front_failed:
            diagnostics.append(warning(
                "M004", f"{'no front matter; ' if not front.present else ''}the title '{title}' is taken "
                        "from the file name",
                hint="start the file with a heading, or with '---', a 'title:' line and '---'",
                path=path, line=1, column=1))
        elif not front.present and index == 0 and not values.get("title"):
            diagnostics.append(warning(
                "M004", f"no front matter; the title '{title}' is taken from the first heading",
                hint="start the file with '---', a 'title:' line and '---'", path=path, line=1, column=1))
        articles.append(Article(
            slug=slugify(own.get("slug") or title),
            title=title.strip(),
            source_path=path,
            body=part.body,
            body_line=part.body_line,
            summary=own.get("summary", "").strip(),
            blurb=own.get("blurb", "").strip(),
            subtitle=own.get("subtitle", "").strip(),
            authors=tuple(own.get("authors", ())),
            title_markdown=part.title_markdown,
            title_level=part.title_level,
            date=str(own.get("date", "")),
        ))
    return articles, diagnostics


def _title_from_name(name: str) -> str:
    words = re.sub(r"^[0-9]+[-_ ]*", "", name).replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def _duplicate_slugs(articles: list[Article]) -> list[Diagnostic]:
    seen: dict[str, Article] = {}
    diagnostics = []
    for article in articles:
        if article.slug in seen:
            diagnostics.append(error(
                "M007", f"slug '{article.slug}' is also used by {seen[article.slug].source_path.name}",
                hint="give one of them a different title or a 'slug:' in its front matter",
                path=article.source_path, line=1))
        seen[article.slug] = article
    return diagnostics


def _line_of(path: Path, needle: str) -> int:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
            if needle in line:
                return number
    except OSError:
        pass
    return 1
