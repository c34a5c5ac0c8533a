"""Load stage: a book folder -> a `Book` of `Article`s, plus diagnostics.

Reads only book.toml and the manuscripts of the folder; never imports a
renderer. Text is normalised here once (BOM, CRLF/CR line ends) so later
stages see one form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from pathlib import Path

from .config import load_config
from .diagnostics import Diagnostic, error, warning
from .frontmatter import split
from .images import ImageRejected, inspect_image
from .model import Article, Book
from .resources import ResourceRefused, resolve_path

MAX_MANUSCRIPT_BYTES = 2 * 1024 * 1024  # about 300,000 words: far beyond an article
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$")


MAX_SLUG = 60


def slugify(text: str) -> str:
    """ASCII slug for file names and ids, by transliteration (anyascii):
    'Ça va, Zoë?' -> 'ca-va-zoe', '一个很高的人' -> 'yi-ge-hen-gao-de-ren'.
    '' when nothing usable results; cut at a word boundary past MAX_SLUG."""
    from anyascii import anyascii

    # Syllabic scripts written without spaces (Han, kana, Hangul) transliterate
    # to run-together syllables: keep each character's syllable apart.
    ascii_text = "".join(anyascii(c) + (" " if _spaceless(c) else "") for c in unicodedata.normalize("NFC", text))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug if len(slug) <= MAX_SLUG else slug[:MAX_SLUG + 1].rsplit("-", 1)[0]


def _spaceless(character: str) -> bool:
    point = ord(character)
    return 0x3040 <= point <= 0x30FF or 0x3400 <= point <= 0x9FFF or 0xAC00 <= point <= 0xD7AF or \
        0xF900 <= point <= 0xFAFF or 0x20000 <= point <= 0x2FFFF


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
        article, found = load_article(path)
        diagnostics += found
        if article is not None:
            articles.append(article)
    articles, found = _unique_slugs(articles)
    diagnostics += found
    cover, found = _cover(root, config.cover, config_path)
    diagnostics += found
    book_slug = slugify(config.title) or slugify(root.resolve().name) or "book"
    book = Book(root=root, slug=book_slug, config=config, articles=tuple(articles),
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
    """Read one manuscript: decode, normalise line ends, split front matter."""
    if path.stat().st_size > MAX_MANUSCRIPT_BYTES:
        return None, [error("M008", f"manuscript is {path.stat().st_size / 1048576:.1f} MiB; the limit is "
                                    f"{MAX_MANUSCRIPT_BYTES // 1048576} MiB", path=path, line=1,
                            hint="split it into several articles")]
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [error("M005", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                            hint="save the file as UTF-8", path=path, line=line, column=column)]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    front, diagnostics = split(text, path)
    values = front.values
    title = values.get("title") or ""
    body = front.body
    if not title:
        title, body = _title_from_body(body, path)
        if not front.present:
            diagnostics.append(warning(
                "M004", f"no front matter; the title '{title}' is taken from "
                        f"{'the first heading' if body is not front.body else 'the file name'}",
                hint="start the file with '---', a 'title:' line and '---'", path=path, line=1, column=1))
    article = Article(
        slug=slugify(values.get("slug") or title),
        slug_given=bool(slugify(values.get("slug") or "")),
        title=title.strip(),
        source_path=path,
        body=body,
        body_line=front.body_line,
        summary=values.get("summary", "").strip(),
        blurb=values.get("blurb", "").strip(),
        subtitle=values.get("subtitle", "").strip(),
        authors=tuple(values.get("authors", ())),
        language=values.get("language", ""),
    )
    return article, diagnostics


def _title_from_body(body: str, path: Path) -> tuple[str, str]:
    """Use the first level-1 heading as the title (and drop it from the body)."""
    lines = body.split("\n")
    for index, line in enumerate(lines):
        match = _H1.match(line)
        if match:
            return match.group(1), "\n".join(lines[:index] + [""] + lines[index + 1:])
    return _title_from_name(path.stem), body


def _title_from_name(name: str) -> str:
    words = re.sub(r"^[0-9]+[-_ ]*", "", name).replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def _unique_slugs(articles: list[Article]) -> tuple[list[Article], list[Diagnostic]]:
    """Every article a slug of its own, the same from build to build.

    A slug given in front matter is kept (two equal ones are an error: the
    author named them). A slug derived from the title that is empty becomes
    `article-N` (N: its place in the book); one that is taken gets `-2`,
    `-3`... with a warning.
    """
    diagnostics = []
    given: dict[str, Article] = {}
    for article in articles:
        if article.slug_given and article.slug in given:
            diagnostics.append(error(
                "M007", f"slug '{article.slug}' is also given to {given[article.slug].source_path.name}",
                hint="give each article its own 'slug:' in its front matter",
                path=article.source_path, line=_line_of(article.source_path, "slug:")))
        if article.slug_given:
            given.setdefault(article.slug, article)
    taken = set(given)
    result = []
    for number, article in enumerate(articles, start=1):
        if article.slug_given:
            result.append(article)
            continue
        base = article.slug or f"article-{number}"
        slug, suffix = base, 1
        while slug in taken:
            suffix += 1
            slug = f"{base}-{suffix}"
        if slug != base:
            diagnostics.append(warning(
                "M010", f"slug '{base}' (from the title) is already used; this article's is '{slug}'",
                hint="give the article a 'slug:' in its front matter to choose its own",
                path=article.source_path, line=1))
        taken.add(slug)
        result.append(replace(article, slug=slug))
    return result, diagnostics


def _line_of(path: Path, needle: str) -> int:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
            if needle in line:
                return number
    except OSError:
        pass
    return 1
