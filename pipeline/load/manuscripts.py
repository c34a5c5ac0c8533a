"""Load stage: a book folder -> a `Book` of `Article`s, plus diagnostics.

Reads only book.toml and the manuscripts of the folder; never imports a
renderer. Text is normalised here once (BOM, CRLF/CR line ends) so later
stages see one form.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Callable, Mapping

from .bibliography import article_references, book_references, citation_style, without_duplicates
from .config import config_source, mdbook_book_config, read_config, with_site
from ..diagnostics import Diagnostic, error, shorten, warning
from .frontmatter import split
from .language import Ranker, book_origin, check_languages, preload
from ..model import Article, Book, BookConfig
from ..resources import (HardLinked, ImageRejected, NotFound, OutsideBook, ResourceRefused, deadline, inside,
                         inspect_image, read_bytes, resolve_path)
from ..text.sourcetext import ConfigSource, NotUtf8, decode, position
from .sites import (FOLDER_PAGES, Site, book_elsewhere, chosen_section, detect, folder_named, is_mdbook, ordered,
                    path_date, site_manuscripts, without_listings)
from .structure import ArticleText, split_articles, title_block

MAX_MANUSCRIPT_BYTES = 2 * 1024 * 1024  # about 300,000 words: far beyond an article
# One manuscript's Markdown parsed (the parse its rendering reuses): a 2 MiB manuscript of prose takes
# a few seconds; 100,000 unclosed brackets two, a file of them hours.
READ_SECONDS = 60.0


class _ReadTimeLimit(BaseException):
    """Raised by the deadline on a manuscript's parse (a BaseException: no library catch-all swallows it)."""


MAX_SLUG = 60
# Flavours whose pages take their title from their first heading, by convention (no M004 for it).
HEADING_TITLED = ("mdbook", "gfm", "mkdocs")


def slugify(text: str) -> str:
    """ASCII slug for file names and ids, by transliteration (anyascii):
    'Ça va, Zoë?' -> 'ca-va-zoe', '一个很高的人' -> 'yi-ge-hen-gao-de-ren'.
    '' when nothing usable results; cut at a word boundary past MAX_SLUG."""
    from anyascii import anyascii

    # Syllabic scripts written without spaces (Han, kana, Hangul) transliterate
    # to run-together syllables: keep each character's syllable apart.
    ascii_text = "".join(anyascii(c) + (" " if _syllabic(c) else "") for c in unicodedata.normalize("NFC", text))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug if len(slug) <= MAX_SLUG else slug[:MAX_SLUG + 1].rsplit("-", 1)[0]


def _syllabic(character: str) -> bool:
    """Han, kana or Hangul: one syllable a character, written without spaces."""
    point = ord(character)
    return 0x3040 <= point <= 0x30FF or 0x3400 <= point <= 0x9FFF or 0xAC00 <= point <= 0xD7AF or \
        0xF900 <= point <= 0xFAFF or 0x20000 <= point <= 0x2FFFF


def load_book(root: Path, section: str | None = None,
              later: list[Callable[[], list[Diagnostic]]] | None = None,
              configured: Callable[[BookConfig], None] | None = None) -> tuple[Book | None, list[Diagnostic]]:
    """Read book.toml and every manuscript; return the book and all diagnostics.

    With `later`, the check of the book's language is begun and left to run
    (`language.Ranker`, whose process starts before the book is read): the
    function that waits for its diagnostics is appended there, for the
    caller to call before it reports. `configured` is called with the
    book's config as soon as it is read, before the manuscripts: a build
    starts there what it will need once the book is read.

    `root` may be a website's content folder or root (`sites.detect`): its
    flavour, its own config (which a book.toml of ours, if any, overrides),
    its section (`section`, else --section, else [source] section) and its
    navigation decide which manuscripts make the book, and in what order."""
    if not root.is_dir():
        return None, [error("C006", f"book folder '{root}' does not exist",
                            hint="pass the folder that holds book.toml and the *.md manuscripts")]
    if later is None:
        preload()  # the language detector's model, unpacked while the book is read (check_languages)
    elsewhere = book_elsewhere(root)
    if elsewhere is not None:
        return None, [elsewhere]
    ranker = Ranker() if later is not None else None
    try:
        return _loaded(root, section, later, ranker, configured)
    finally:
        if ranker is not None:
            ranker.stop()  # if no check was begun: its process ends


def _loaded(root: Path, section: str | None, later: list | None, ranker: "Ranker | None",
            configured: Callable[[BookConfig], None] | None) -> tuple[Book | None, list[Diagnostic]]:
    """`load_book`'s work, the language ranked by `ranker` (with `later`)."""
    config_path = root / "book.toml"
    config, source, diagnostics, site = _config_and_site(root, config_path, section)
    if configured is not None:
        configured(config)
    located = source or ConfigSource(config_path)  # where messages point (line 1 of a file not read)
    diagnostics += site.problems
    paths, found = _manuscript_paths(root, config.articles, located, site) \
        if not any(d.is_error for d in site.problems) else ([], [])
    diagnostics += found
    if not paths and not found and not site.problems:
        missing = _no_manuscripts(root, config_path, site)
        if missing.path is None:  # no book at all: the lack of a book.toml (C004) goes without saying
            diagnostics = [d for d in diagnostics if d.code != "C004"]
        diagnostics.append(missing)
    groups = []
    for path in paths:
        found_articles, found = load_articles(path, site.root, site.flavour, site.authors_table, home=site.content)
        diagnostics += found
        groups.append((path, found_articles))
    if not config.articles:
        groups = ordered(groups, site)
    groups, index_title = without_listings(groups, site)
    if index_title and not site.title and "title" not in located.given("book"):
        config = with_site(config, set(), title=index_title)
    articles = [_dated(article, site) for _, found_articles in groups for article in found_articles]
    articles, found = _unique_slugs(articles, root)
    diagnostics += found
    # (a book.toml there but unread, C007 or C001, tells no language's origin)
    origin = book_origin(root, source, config.language, site) if source or not config_path.is_file() else None
    if origin is not None:  # (a language book.toml gives and the loader refused is C003 already)
        if later is None:
            diagnostics += check_languages(config.language, origin, articles, root)
        else:
            later.append(ranker.check(config.language, origin, articles, root))
    cover, found = _cover(root, config.cover, located)
    diagnostics += found
    styles, found = _styles(root)
    diagnostics += found
    logo, found = _logo(root, config.logo, located)
    diagnostics += found
    references, found = book_references(root, config, located)
    diagnostics += found
    config, csl_style, found = citation_style(root, config, located)
    diagnostics += found
    for article in articles:  # an article's own entry of a key the book has too: the article's is used
        diagnostics += without_duplicates(article.references, earlier=references)[1] if article.references else []
    book_slug = slugify(config.title) or slugify(root.resolve().name) or "book"
    ours = config_path.exists() and site.flavour != "mdbook"  # (an mdBook's book.toml is its own)
    book = Book(root=root, slug=book_slug, config=config, articles=tuple(articles),
                config_path=config_path if ours else None, config_source=source if ours else None,
                cover=cover, styles=styles, logo=logo, flavour=site.flavour, site_root=site.root,
                static=site.static, site_url=site.base_url if _web_address(site.base_url) else "",
                references=references, csl_style=csl_style)
    return book, diagnostics


def _no_manuscripts(root: Path, config_path: Path, site: Site) -> Diagnostic:
    """C006 for a book with no manuscripts; for a folder with neither a
    book.toml nor any Markdown (`pipeline build` run in the wrong folder),
    saying so plainly and how to go on."""
    if not config_path.is_file() and not site.has_config:
        return error("C006", f"{folder_named(root)} is not a book folder: it has no book.toml and no "
                     "manuscripts (*.md)", hint="name the book's folder (`pipeline build DIR`), or make this "
                     "one a book with `pipeline init` and add one Markdown file per article")
    where = f"'{root}'" if site.content == root.resolve() else f"'{site.content}' ({site.flavour} content)"
    return error("C006", f"no manuscripts (*.md) in {where}", hint="add one Markdown file per article",
                 path=config_path if config_path.is_file() else root)


def _web_address(url: str) -> bool:
    """Whether a site's base URL is a full http(s) address (a bare path or a template is not)."""
    return re.match(r"https?://[^/\s{}]+", url or "") is not None


def _dated(article: Article, site: Site) -> Article:
    """An article with no date of its own takes its path's (a Next.js
    blog's `2023/03/16/slug.md`)."""
    if article.date or not site.blog:
        return article
    return replace(article, date=path_date(article.source_path))


def _config_and_site(root: Path, config_path: Path,
                     section: str | None) -> tuple[BookConfig, ConfigSource | None, list[Diagnostic], Site]:
    """The book's config and the site it is read from. An mdBook's book.toml
    is mdBook's config (its [book] title, authors, language), not ours;
    where a site's own config was found and there is no book.toml of ours,
    that config is the book's (no C004); what book.toml does not say, the
    site's config fills. book.toml's source comes with it (None when there is
    none, or it could not be read), read once for every message to point into."""
    fallback = _title_from_name(root.resolve().name)
    if config_path.is_file() and is_mdbook(config_path):
        site = detect(root, "", section)
        return mdbook_book_config(config_path, fallback), config_source(config_path), [], site
    config, source, diagnostics = read_config(config_path, fallback_title=fallback)
    chosen = section if section is not None else (chosen_section() or config.source_section)
    site = detect(root, config.source_flavor, chosen)
    if site.has_config:
        diagnostics = [d for d in diagnostics if d.code != "C004"]
    given = set(source.given("book")) if source else set()
    config = with_site(config, given, site.title, site.authors, site.language, site.description)
    return config, source, diagnostics, site


# Markup a book's template may not write: no script reaches an output.
_SCRIPTING = re.compile(r"<\s*script\b|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def _styles(root: Path) -> tuple[Path | None, list[Diagnostic]]:
    """The book's own styles folder, checked: inside the book, its templates
    valid Jinja without scripting, its CSS and templates UTF-8."""
    from ..styles import BOOK_STYLES, book_styles

    try:
        folder = book_styles(root)
    except ResourceRefused as exc:
        return None, [error("C009", f"the book's {BOOK_STYLES}/ folder is refused: {exc}",
                            hint="make styles/ a folder inside the book folder", path=root / BOOK_STYLES)]
    if folder is None:
        return None, []
    diagnostics = []
    names = ["print.css", "epub.css"] + sorted(
        p.relative_to(folder).as_posix() for p in (folder / "templates").rglob("*") if p.is_file())
    for name in names:
        path = folder / name
        if not path.is_file():
            continue
        try:
            text = decode(read_bytes(path, (root,)))
        except HardLinked as exc:
            diagnostics.append(hard_linked(exc, root / BOOK_STYLES / name))
            continue
        except ResourceRefused as exc:
            diagnostics.append(error("C009", f"styles/{name} is refused: {exc}",
                                     hint="keep the book's styles inside the book folder",
                                     path=root / BOOK_STYLES / name))
            continue
        except NotUtf8 as exc:
            diagnostics.append(error("C009", f"styles/{name} is {exc}", hint="save it as UTF-8",
                                     path=root / BOOK_STYLES / name, line=exc.line, column=exc.column))
            continue
        if name.startswith("templates/"):
            diagnostics += _template_problems(root / BOOK_STYLES / name, text)
        if name == "print.css":
            diagnostics += _print_css_problems(root / BOOK_STYLES / name, text, root)
    return folder, diagnostics + _font_problems(root)


def _print_css_problems(path: Path, css: str, root: Path) -> list[Diagnostic]:
    """The loads of the book's print.css (`path`) that the PDF may not make,
    as C009 errors at their line and column, naming the URL as the book wrote
    it: an @import, a URL that is not relative (a scheme, a host, an absolute
    path), or one whose file is missing or outside the book. Checked before
    layout, where the fetcher's refusal could only name book.toml."""
    from ..csscheck import loads, shown

    found = []
    for load in loads(css):
        problem, hint = _print_css_refusal(path, load.url, root) if load.kind == "url" else \
            (f"imports '{shown(load.url)}'", "put the rules in styles/print.css itself")
        if problem:
            found.append(error("C009", f"styles/print.css {problem}", hint=hint, path=path, line=load.line,
                               column=load.column))
    return found


def _print_css_refusal(path: Path, url: str, root: Path) -> tuple[str, str]:
    """Why print.css (`path`) may not load `url`, and the fix ('' if it may):
    only a relative URL of an existing file inside the book, as WeasyPrint
    would resolve it against the styles folder."""
    from urllib.parse import unquote, urlsplit

    from ..csscheck import shown

    try:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith(("/", "\\")) or not parts.path:
            return (f"refers to '{shown(url)}', which is not a file of the book",
                    "name a file of the book relative to styles/print.css")
        resolve_path(path.parent / unquote(parts.path), (root,))
    except HardLinked:
        return (f"refers to '{shown(url)}', which has other hard links (it may be a file outside the book); "
                "it was not read", "copy the file (cp, not ln or cp -l); or, for a folder you trust, "
                                   "pass --trust-hard-links")
    except OutsideBook:
        return (f"refers to '{shown(url)}', which is outside the book folder",
                "put the file inside the book folder")
    except (ResourceRefused, OSError, ValueError):  # missing, unreadable, a name too long, a bad URL
        return f"refers to '{shown(url)}', which is not a file of the book", \
            "check the name: it is relative to styles/print.css"
    return "", ""


def _font_problems(root: Path) -> list[Diagnostic]:
    """Font files of the book's styles/fonts/ that cannot be used: a link
    out of the book, or not a font its name table describes."""
    from ..fonts import FONT_SUFFIXES, PACKAGED_FAMILIES, book_faces

    folder = root / "styles" / "fonts"
    if not folder.is_dir():
        return []
    usable = {face.path for face in book_faces(root)}
    found = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES):
        try:
            real = inside(path, (root,))
        except HardLinked as exc:
            found.append(hard_linked(exc, path))
            continue
        except ResourceRefused as exc:
            found.append(error("C009", f"font {path.name} is refused: {exc}", path=path,
                               hint="put the font file itself into styles/fonts/"))
            continue
        if real not in usable:
            ours = ", ".join(sorted(PACKAGED_FAMILIES))
            found.append(error("C009", f"{path.name} is not a font the book can use (unreadable, or named "
                                       f"like a packaged family: {ours})",
                               hint="a TrueType or OpenType font with a family name of its own", path=path))
    return found


def _template_problems(path: Path, text: str) -> list[Diagnostic]:
    import jinja2

    from ..sandbox import guarded_environment

    found = _SCRIPTING.search(text)
    if found:
        line, column = position(text, found.group(0))
        return [error("C009", f"template {path.name} writes scripting ({found.group(0).strip()!r}); "
                              "no script reaches the book's outputs", hint="remove it", path=path,
                      line=line, column=column)]
    try:
        # The parse and the Python it makes (30 nested loops: SyntaxError), in the environment a build
        # renders in: its filters and operators are bounded, so Jinja folds no 3 GB constant here.
        guarded_environment(jinja2.BaseLoader()).compile(text)
    except jinja2.TemplateSyntaxError as exc:
        return [error("C009", f"template {path.name}: {exc.message}", hint="fix the Jinja syntax",
                      path=path, line=exc.lineno, column=1)]
    except (RecursionError, SyntaxError, MemoryError, ValueError) as exc:
        return [error("C009", f"template {path.name} cannot be compiled: {type(exc).__name__}",
                      hint="nest its expressions and blocks less deeply", path=path)]
    return []


def _logo(root: Path, name: str, source: ConfigSource) -> tuple[Path | None, list[Diagnostic]]:
    """[style] logo: a raster image inside the book (drawn on the EPUB's
    cover image too, where SVG cannot be drawn)."""
    if not name:
        return None, []
    config_path, line = source.path, source.line_of("style", "logo")[0]
    try:
        path = resolve_path(root / name, (root,))
        kind = inspect_image(path).media_type
    except HardLinked as exc:
        return None, [hard_linked(exc, config_path, line)]
    except (ResourceRefused, ImageRejected) as exc:
        return None, [error("R002", f"logo: {exc}", path=config_path, line=line,
                            hint="name a PNG or JPEG file inside the book folder, "
                                 "e.g. logo = \"images/logo.png\"")]
    if kind not in ("image/png", "image/jpeg"):
        return None, [error("R002", f"logo: a {kind} image; the logo must be PNG or JPEG", path=config_path,
                            line=line, hint="export the logo as PNG (with a transparent background)")]
    return path, []


def _cover(root: Path, name: str, source: ConfigSource) -> tuple[Path | None, list[Diagnostic]]:
    """The cover image named in book.toml, checked like any image of the book."""
    if not name:
        return None, []
    config_path, (line, column) = source.path, source.line_of("book", "cover")
    try:
        path = resolve_path(root / name, (root,))
        inspect_image(path)
    except HardLinked as exc:
        return None, [hard_linked(exc, config_path, line, column)]
    except (ResourceRefused, ImageRejected) as exc:
        return None, [error("R002", f"cover image: {exc}", path=config_path, line=line, column=column,
                            hint="name a PNG or JPEG file inside the book folder, e.g. cover = \"cover.png\"")]
    return path, []


def _manuscript_paths(root: Path, listed: tuple[str, ...], source: ConfigSource,
                      site: Site) -> tuple[list[Path], list[Diagnostic]]:
    """The manuscripts, each checked by the read gate: an entry of
    `articles` or a `*.md` link whose real path is outside the book is
    refused (located, naming the target, never opened). Without `articles`,
    those of the site's content folder (`sites.site_manuscripts`)."""
    if not listed:
        return _found_manuscripts(root, site)
    paths, diagnostics, config_path = [], [], source.path
    for name in listed:
        line, column = source.find(_toml_string(name), "book", "articles")
        try:
            resolve_path(root / name, (root,))
        except OutsideBook as exc:
            diagnostics.append(error(
                "C007", f"article '{shorten(name)}' listed in book.toml is outside the book folder "
                        f"('{shorten(str(exc.target))}'); it was not read",
                hint="list manuscripts by their path inside the book folder, e.g. \"01-intro.md\"",
                path=config_path, line=line, column=column))
        except HardLinked as exc:
            diagnostics.append(hard_linked(exc, config_path, line, column))
        except ResourceRefused as exc:  # missing, or a name the system refuses (too long, a NUL byte, a loop)
            why = "does not exist" if isinstance(exc, NotFound) else f"cannot be read: {exc}"
            diagnostics.append(error("C005", f"article '{shorten(name)}' listed in book.toml {why}",
                                     hint="fix the name in [book] articles or add the file",
                                     path=config_path, line=line, column=column))
        else:
            paths.append(root / name)
    return paths, diagnostics


def _found_manuscripts(root: Path, site: Site) -> tuple[list[Path], list[Diagnostic]]:
    """The manuscripts of the site's content folder and its sub-folders
    (`sites.site_manuscripts`), named under `root` as it was given (a
    relative book folder gives relative names); links that lead outside
    the site are refused."""
    paths, diagnostics = [], []
    real_root = root.resolve()
    for path in site_manuscripts(site):
        path = root / path.relative_to(real_root) if path.is_relative_to(real_root) else path
        try:
            resolved = inside(path, (site.root,))
        except ResourceRefused as exc:
            diagnostics.append(_refused_manuscript(path, exc))
            continue
        if resolved.is_file():
            paths.append(path)
    return paths, diagnostics


def load_article(path: Path, root: Path | None = None, flavour: str = "plain",
                 authors: Mapping[str, str] | None = None) -> tuple[Article | None, list[Diagnostic]]:
    """Read one manuscript as one article (the first, if it holds several)."""
    articles, diagnostics = load_articles(path, root, flavour, authors)
    return (articles[0] if articles else None), diagnostics


def load_articles(path: Path, root: Path | None = None, flavour: str = "plain",
                  authors: Mapping[str, str] | None = None, home: Path | None = None
                  ) -> tuple[list[Article], list[Diagnostic]]:
    """Read one manuscript through the read gate (inside `root`, default its
    own folder): decode, normalise line ends, split front matter (its keys
    read as `flavour` names them, author ids looked up in `authors`), then
    cut it into articles (see `structure.split_articles`). A draft is left
    out (M013, from `split`). `home` (default `root`): the folder whose
    index is the site's home page (`page_name`)."""
    allowed = (root or path.parent,)
    home = home or allowed[0]
    try:
        size = resolve_path(path, allowed).stat().st_size
        if size > MAX_MANUSCRIPT_BYTES:
            return [], [error("M008", f"manuscript is {size / 1048576:.1f} MiB; the limit is "
                                      f"{MAX_MANUSCRIPT_BYTES // 1048576} MiB", path=path, line=1,
                              hint="split it into several articles")]
        text = decode(read_bytes(path, allowed))
    except ResourceRefused as exc:
        return [], [_refused_manuscript(path, exc)]
    except NotUtf8 as exc:
        return [], [error("M005", exc.describe(), hint=exc.fix(str(path)), path=path,
                          line=exc.line, column=exc.column)]
    front, diagnostics = split(text, path, flavour, authors)
    if front.values.get("draft"):
        return [], diagnostics
    references, nocite, found = article_references(front.values, front.where, path, allowed[0], text)
    diagnostics += found
    values = dict(front.values)
    body, body_line = front.body, front.body_line
    if not front.present:
        block = title_block(body)
        if block is not None:
            values.update(block.values)
            body, body_line = block.body, body_line + block.lines
    try:
        with deadline(READ_SECONDS, _ReadTimeLimit):
            parts = split_articles(body, body_line, values.get("title") or "", whole=flavour != "plain")
    except _ReadTimeLimit:  # a stranger's pathological Markdown: located, the build stops
        return [], diagnostics + [error("X003", f"reading {path.name} (its Markdown) took more than "
                                                f"{READ_SECONDS:g} s", path=path, line=body_line,
                                        hint="look for thousands of unclosed brackets, emphasis marks or links")]
    front_failed = any(d.is_error for d in diagnostics)  # a title it had is already reported
    articles = []
    for index, part in enumerate(parts):
        own = values if index == 0 else {}
        part, found = _printable_title(part, path, text)
        diagnostics += found
        title = part.title
        if not title:
            title = _title_from_name(page_name(path, home))
        if not part.title and not front_failed:
            diagnostics.append(warning(
                "M004", f"{'no front matter; ' if not front.present else ''}the title '{title}' is taken "
                        "from the file name",
                hint="start the file with a heading, or with '---', a 'title:' line and '---'",
                path=path, line=1, column=1))
        elif not front.present and index == 0 and not values.get("title") and flavour not in HEADING_TITLED:
            diagnostics.append(warning(
                "M004", f"no front matter; the title '{title}' is taken from the first heading",
                hint="start the file with '---', a 'title:' line and '---'", path=path, line=1, column=1))
        slug, given = _slug(path, part, own, several=len(parts) > 1, home=home)
        if not given and index == 0:
            slug = _url_slug(own.get("url", "")) or slug
        articles.append(Article(
            slug=slug,
            slug_given=given,
            title=title.strip(),
            source_path=path,
            body=part.body,
            body_line=part.body_line,
            summary=own.get("summary", "").strip(),
            blurb=own.get("blurb", "").strip(),
            subtitle=own.get("subtitle", "").strip(),
            authors=tuple(own.get("authors", ())),
            language=values.get("language", ""),  # the whole file's
            title_markdown=part.title_markdown,
            title_level=part.title_level,
            date=str(own.get("date", "")),
            tags=tuple(own.get("tags", ())),
            image=own.get("image", ""),
            image_place=front.where.get("image", (0, 0)) if index == 0 else (0, 0),
            url=own.get("url", ""),
            order=own.get("order"),
            references=references,  # the whole file's, as its language
            nocite=nocite if index == 0 else (),  # one list, not one in each part
        ))
    return articles, diagnostics


def _printable_title(part: ArticleText, path: Path, text: str) -> tuple[ArticleText, list[Diagnostic]]:
    """A heading's title without the characters XML forbids (lxml raises on
    them in the EPUB writer), as the render removes them from the body: with
    R001 where the first of them is written. Front matter's are M002 (`frontmatter`)."""
    from ..xhtml import XML_FORBIDDEN

    found = XML_FORBIDDEN.search(part.title + part.title_markdown)
    if not found:
        return part, []
    line, column = position(text, found.group(0))
    return replace(part, title=XML_FORBIDDEN.sub("", part.title),
                   title_markdown=XML_FORBIDDEN.sub("", part.title_markdown)), [warning(
        "R001", f"removed character U+{ord(found.group(0)):04X} from a title, which XML does not allow",
        hint="delete the character; it is usually an invisible control character",
        path=path, line=line, column=column)]


def _slug(path: Path, part: ArticleText, own: dict, several: bool, home: Path | None = None) -> tuple[str, bool]:
    """An article's slug, and whether the author chose it.

    A slug names the article's downloads (`articles/<slug>.pdf`), so it must
    not move when an editor retitles the article: it is the front matter's
    `slug`, else the file name without its order prefix
    (`01-reading-the-tides.md` -> `reading-the-tides`). In a file cut into
    several articles by `#` headings, an article opened by a heading takes
    the heading's own id (`# Tides {#tides}`), else the file name's slug
    joined to the heading's (`book.md`, `# Tides` -> `book-tides`). A
    page named index below `home` is named by its folder (`page_name`)."""
    given = slugify(str(own.get("slug") or ""))
    if given:
        return given, True
    if several and part.heading:
        if slugify(part.heading_id):
            return slugify(part.heading_id), True
        return slugify(f"{_unnumbered(page_name(path, home))} {part.heading}"), False
    return slugify(_unnumbered(page_name(path, home))), False


def page_name(path: Path, home: Path | None = None) -> str:
    """The name a manuscript's page has on its website: the file's, or, for
    an `index.md`, `_index.md` or `README.md` in a folder below `home` (a
    Hugo page bundle, a Docusaurus post folder, a GitHub folder's readme),
    its folder's: `posts/first-trip/index.md` is the page /posts/first-trip/."""
    if path.stem.lower() in FOLDER_PAGES and home is not None and path.parent.resolve() != home.resolve():
        return path.parent.name
    return path.stem


def _unnumbered(stem: str) -> str:
    """A file name without its order prefix (`01-`, `2_`, `003 `) or its
    date (Jekyll's `2023-03-16-`); a name that is only a number stays as it is."""
    return re.sub(r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}-|[0-9]+[-_. ]+)", "", stem) or stem


def _url_slug(url: str) -> str:
    """The slug a web address gives (`/docs/variables/` -> `variables`), ''
    for a pattern (`/:year/:title/`) or a root: taken like a file name's, so
    two equal ones are numbered, not an error."""
    path = re.sub(r"^[a-z][a-z0-9+.-]*://[^/]*", "", url.split("?")[0].split("#")[0], flags=re.IGNORECASE)
    last = next((part for part in reversed(path.split("/")) if part), "")
    return "" if ":" in last else slugify(re.sub(r"\.html?$", "", last))


def _title_from_name(name: str) -> str:
    words = re.sub(r"^[0-9]+[-_ ]*", "", name).replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def _unique_slugs(articles: list[Article], root: Path) -> tuple[list[Article], list[Diagnostic]]:
    """Every article a slug of its own, the same from build to build.

    A slug given in front matter (or a heading's `{#id}`) is kept (two equal
    ones are an error: the author named them). A slug derived from the file
    name that is empty becomes `article-N` (N: its place in the book); one
    that is taken gets `-2`, `-3`... with a warning.
    """
    diagnostics = []
    given: dict[str, Article] = {}
    for article in articles:
        if article.slug_given and article.slug in given:
            diagnostics.append(error(
                "M007", f"slug '{article.slug}' is also given to {given[article.slug].source_path.name}",
                hint="give each article its own 'slug:' in its front matter (or '{#…}' after its heading)",
                path=article.source_path, line=_slug_line(article, root)))
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
                "M011", f"slug '{base}' (derived from the file name) is already used; this article's is '{slug}'",
                hint="give the article a 'slug:' in its front matter to choose its own",
                path=article.source_path, line=1))
        taken.add(slug)
        result.append(replace(article, slug=slug))
    return result, diagnostics


def hard_linked(exc: HardLinked, path: Path, line: int = 0, column: int = 0) -> Diagnostic:
    """C011 for a file of the book with other hard links, located where the
    book names it (book.toml's line) or at the file itself."""
    return error("C011", str(exc), path=path, line=line, column=column,
                 hint="copy the file into the book (cp, not ln or cp -l); or, for a folder you trust, "
                      "pass --trust-hard-links")


def _refused_manuscript(path: Path, exc: ResourceRefused) -> Diagnostic:
    if isinstance(exc, HardLinked):
        return hard_linked(exc, path)
    where = f"a link to '{exc.target}', outside the book folder" if isinstance(exc, OutsideBook) else str(exc)
    return error("M010", f"manuscript is {where}; it was not read", path=path,
                 hint="copy the file into the book folder instead of linking to it")


def _slug_line(article: Article, root: Path) -> int:
    """The line that names an article's slug: a heading's `{#slug}`, else
    the front matter's `slug:` (neither can be on line 1 of a file that
    has them: a heading starts with '#', front matter with '---')."""
    for needle in (f"{{#{article.slug}", "slug:"):
        line, column = _position_in(article.source_path, root, needle)
        if (line, column) != (1, 1):
            return line
    return 1


def _position_in(path: Path, root: Path, needle: str) -> tuple[int, int]:
    """Where `needle` first is in a file of the book (read through the gate)."""
    try:
        return position(decode(read_bytes(path, (root,))), needle)
    except (ResourceRefused, NotUtf8):
        return 1, 1


def _toml_string(value: str) -> str:
    """How `value` is most likely written in TOML (a basic string)."""
    return json.dumps(value, ensure_ascii=False)
