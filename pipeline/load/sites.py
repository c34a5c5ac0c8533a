"""Website content folders: which generator wrote a folder, and what its own
config says (#27).

People point the tool at the content folder of their website (Hugo, Jekyll,
Docusaurus, Astro or a Next.js blog, MkDocs, mdBook) or at a folder of GitHub
Markdown. `detect` finds the flavour from the folder and its parents up to the
site's root (where its config lies), never by guessing silently: the build
says which flavour it read and from where (`Site.note`). The site's config
gives the book's title, authors, language, base URL, the folder of its
content, the folders a site-root path (`/img/x.png`) resolves in, the
authors table that front matter's author ids name, and its navigation (the
book's order). Every file is read through the read gate, inside the site's
root; no config is executed (a JS config is read for simple literal values
only; YAML with unknown tags, such as MkDocs' `!ENV`, reads them as nothing).
"""

from __future__ import annotations

import functools
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, error, shorten, warning
from ..model import FLAVOURS
from ..output import is_output_folder
from ..resources import ResourceRefused, read_bytes
from ..text.sourcetext import NotUtf8, decode
from .frontmatter import nested_past

NAMES = {"hugo": "a Hugo site", "jekyll": "a Jekyll site", "docusaurus": "a Docusaurus site",
         "astro": "an Astro site", "next": "a Next.js-style blog", "mkdocs": "a MkDocs site",
         "mdbook": "an mdBook", "gfm": "GitHub Markdown", "plain": "a folder of Markdown"}
MANUSCRIPT_SUFFIXES = (".md", ".markdown", ".mdx")
MAX_CONFIG_BYTES = 2 * 1024 * 1024  # a site's config or nav file: far beyond a real one
MAX_ENTRIES = 20_000  # nav entries and table items looked at: a hostile config cannot make us loop
CLIMB = 6  # parent folders looked at for a site's config
BLOG_SECTIONS = ("posts", "blog", "post", "_posts")  # the default section of a site with posts
ALERT = re.compile(r"^\s*>\s*\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]", re.IGNORECASE | re.MULTILINE)
_chosen_section = ""


def choose_section(name: str | None) -> None:
    """The section (`--section NAME`) this command builds when pointed at a
    site's root: the command's one setting, as the read gate's is."""
    global _chosen_section
    _chosen_section = (name or "").strip().strip("/")


def chosen_section() -> str:
    return _chosen_section


@dataclass(frozen=True)
class Site:
    """What a folder is: its flavour, the site it belongs to and what that
    site's config says. Paths are real (resolved) paths."""

    flavour: str
    root: Path  # the site's root: every read stays inside it
    content: Path  # the folder whose manuscripts make the book
    config: Path | None = None  # the site's own config file, if any
    found_by: str = ""  # how the flavour was known: a config's name, "[source] flavor", "its files"
    kind: str = ""  # a finer name for the note ("next" for a Next.js blog read as astro)
    title: str = ""
    authors: tuple[str, ...] = ()
    language: str = ""
    description: str = ""
    base_url: str = ""
    static: tuple[Path, ...] = ()
    authors_table: dict[str, str] = field(default_factory=dict)  # author id -> display name
    nav: tuple[Path, ...] = ()  # manuscripts in the order of the site's navigation (mkdocs nav, SUMMARY.md)
    nav_ids: tuple[str, ...] = ()  # Docusaurus sidebar: doc ids in order
    nav_only: bool = False  # only the navigation's files are pages (mdBook)
    nav_missing: int = 0  # navigation entries whose file is not there
    blog: bool = False  # a section of posts: ordered by date, oldest first
    problems: tuple[Diagnostic, ...] = ()

    @property
    def has_config(self) -> bool:
        """A site's own config (or layout: a Next.js blog's src/content/blog/)
        says what its pages are: not a bare folder of files."""
        return self.config is not None or self.kind == "next"

    def note(self) -> str:
        """What the build says once: which flavour it reads, from where."""
        name = NAMES.get(self.kind or self.flavour, self.flavour)
        where = f"content: {_shown(self.content, self.root)}"
        if self.found_by and not self.has_config:
            where += f"; {self.found_by}"
        if self.nav_missing:
            where += f"; {self.nav_missing} page(s) of its navigation are not in the folder"
        return f"reading {name}: {self.root} ({where})"


def _shown(path: Path, root: Path) -> str:
    return "." if path == root else path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def detect(folder: Path, flavour: str = "", section: str | None = None) -> Site:
    """The site `folder` belongs to. `flavour` ([source] flavor) overrides
    the detection; `section` ([source] section, --section) picks the
    section when `folder` is the site's root (default: its posts or blog;
    for MkDocs and mdBook the whole docs or src folder)."""
    start = folder.resolve()
    section = chosen_section() if section is None else section
    found = _find(start)
    if found is not None and (not flavour or flavour == found[0] or (flavour == "astro" and found[0] == "next")):
        kind, root, config = found
        return _read_site(kind, root, config, start, section)
    if flavour:
        return _bare(start, flavour, "[source] flavor")
    return _bare(start, _from_files(start), "its files")


def _find(start: Path) -> tuple[str, Path, Path | None] | None:
    """(kind, site root, config file) of the nearest site `start` is in,
    looking at it and its parents (not past a repository's root), then at a
    `website/` sub-folder (Docusaurus in a repository)."""
    for depth, candidate in enumerate([start, *start.parents][:CLIMB + 1]):
        found = _config_at(candidate)
        if found is not None:
            kind, config = found
            if depth == 0 or _covers(kind, candidate, config, start):
                return kind, candidate, config
            return None
        if (candidate / ".git").exists():
            break
    found = _config_at(start / "website")
    if found is not None and found[0] == "docusaurus":
        return "docusaurus", start, found[1]
    return None


def _config_at(folder: Path) -> tuple[str, Path | None] | None:
    """The flavour whose config lies in `folder`, and the config file."""
    if not folder.is_dir():
        return None
    for kind, names, needs in _SIGNS:
        for name in names:
            path = folder / name
            if path.is_file() and (not needs or (folder / needs).is_dir()) and \
                    (kind != "mdbook" or _is_mdbook(path)) and (kind != "hugo" or _is_hugo(folder, path)):
                return kind, path
    if (folder / "src" / "content" / "blog").is_dir():
        return "next", None
    return None


_JS = ("js", "mjs", "cjs", "ts", "mts")
# (flavour, config names, a folder that must be beside it); first match wins.
_SIGNS = (
    ("mkdocs", ("mkdocs.yml", "mkdocs.yaml"), ""),
    ("mdbook", ("book.toml",), ""),
    ("docusaurus", tuple(f"docusaurus.config.{e}" for e in _JS), ""),
    ("hugo", ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml"), ""),
    ("jekyll", ("_config.yml", "_config.yaml"), "_posts"),
    ("astro", tuple(f"astro.config.{e}" for e in _JS), "src/content"),
)


def _is_mdbook(path: Path) -> bool:
    """An mdBook's book.toml (its src folder holds SUMMARY.md), not ours."""
    data = _load(path, path.parent)
    book = data.get("book") if isinstance(data.get("book"), dict) else {}
    source = book.get("src", "src") if isinstance(book.get("src", "src"), str) else "src"
    return (path.parent / source / "SUMMARY.md").is_file()


def _is_hugo(folder: Path, path: Path) -> bool:
    """hugo.* always; config.* only beside content/ or with mounts of content."""
    if path.name.startswith("hugo."):
        return True
    return (folder / "content").is_dir() or _mounts(_load(path, folder)).get("content") is not None


def _covers(kind: str, root: Path, config: Path | None, start: Path) -> bool:
    """Whether a site found in a parent of `start` holds `start` as content
    (a folder of a Hugo site's content/, not its layouts/)."""
    site = _read_site(kind, root, config, root, "")
    return start.is_relative_to(site.content) or start.is_relative_to(_whole_content(site))


def _whole_content(site: Site) -> Path:
    """The folder all of a site's sections are in."""
    if site.flavour in ("jekyll", "docusaurus"):
        return site.root
    if site.blog and site.content.parent.is_relative_to(site.root):
        return site.content.parent
    return site.content


def _read_site(kind: str, root: Path, config: Path | None, start: Path, section: str) -> Site:
    """The Site of flavour `kind` whose config is `config`, read."""
    reader = {"hugo": _hugo, "jekyll": _jekyll, "docusaurus": _docusaurus, "mkdocs": _mkdocs,
              "mdbook": _mdbook, "astro": _astro, "next": _astro}[kind]
    site = reader(root, config)
    site = replace(site, kind=kind, found_by=config.name if config else "")
    data = config is not None and config.suffix in (".toml", ".json", ".yml", ".yaml")  # (a .js/.mjs is read by pattern)
    unreadable = config_problem(config, root) if data else None
    if unreadable is not None:
        site = replace(site, problems=site.problems + (unreadable,))
    site = _with_section(site, start, section)
    return replace(site, static=tuple(p for p in dict.fromkeys(site.static) if p.is_dir() and p.is_relative_to(root)))


def _with_section(site: Site, start: Path, section: str) -> Site:
    """The content folder: the folder pointed at when it is inside the
    site's content; else `section`, else the site's posts (or all of it)."""
    if start != site.root and start.is_relative_to(_whole_content(site)):
        return replace(site, content=start, blog=site.blog or _is_blog_folder(site, start))
    if not section:
        return site
    base = _whole_content(site)
    for candidate in _section_folders(site, base, section):
        if candidate.is_dir() and candidate.is_relative_to(site.root):
            return replace(site, content=candidate, blog=candidate.name.strip("_") in BLOG_SECTIONS)
    sections = sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if base.is_dir() else []
    return replace(site, problems=site.problems + (error(
        "C006", f"the site has no section '{shorten(section)}' in {_shown(base, site.root)}",
        hint=f"sections there: {', '.join(sections[:12]) or 'none'}", path=site.root),))


def _section_folders(site: Site, base: Path, section: str) -> list[Path]:
    """Where section `section` may be: a Docusaurus site's docs or blog
    path, a Jekyll collection (`_posts`), a folder of the content."""
    special = {"docs": docusaurus_docs(site), "blog": site.content} if site.flavour == "docusaurus" else {}
    found = [special[section]] if special.get(section) else []
    return found + [(base / name).resolve() for name in (section, f"_{section}")]


def _is_blog_folder(site: Site, folder: Path) -> bool:
    return any(part in BLOG_SECTIONS for part in folder.relative_to(site.root).parts)


def _default_section(base: Path) -> Path | None:
    """A site's posts: the first of its blog sections that is there."""
    for name in BLOG_SECTIONS:
        if (base / name).is_dir():
            return base / name
    return None


def _bare(start: Path, flavour: str, found_by: str) -> Site:
    """A folder with no site config: its files are the content, site-root
    paths resolve against the folder itself (and its static/ or public/)."""
    static = (start, start / "static", start / "public")
    return Site(flavour=flavour, root=start, content=start, found_by=found_by,
                static=tuple(p for p in static if p.is_dir()), blog=flavour in ("jekyll",))


def _from_files(start: Path) -> str:
    """gfm for GitHub documents (no front matter; alerts, or a README or
    CONTRIBUTING beside no book.toml), else plain. Stops at the first file
    with front matter (a book of ours, or posts copied out of a site)."""
    alerts, names, outputs = False, set(), {}
    for path in sorted(start.rglob("*"))[:500]:
        if path.suffix.lower() not in MANUSCRIPT_SUFFIXES or not path.is_file() or \
                any(part.startswith(".") for part in path.relative_to(start).parts) or \
                _in_output_folder(path, start, outputs):
            continue
        names.add(path.stem.upper())
        try:
            text = decode(read_bytes(path, (start,))[:200_000])
        except (ResourceRefused, NotUtf8, UnicodeDecodeError):
            continue
        if text.lstrip().startswith(("---", "+++", "{")):
            return "plain"
        alerts = alerts or bool(ALERT.search(text))
    if alerts or (names & {"README", "CONTRIBUTING"} and not (start / "book.toml").exists()):
        return "gfm"
    return "plain"


def _in_output_folder(path: Path, start: Path, known: dict[Path, bool]) -> bool:
    """Whether `path` lies in an output folder under `start` (`output.is_output_folder`);
    `known` remembers the folders already looked at."""
    for folder in path.relative_to(start).parents:
        if folder != Path("."):
            if folder not in known:
                known[folder] = is_output_folder(start / folder)
            if known[folder]:
                return True
    return False


# A folder above the book ---------------------------------------------------------------------------------------


def book_elsewhere(root: Path) -> Diagnostic | None:
    """C006 when `root` is no book but a folder just below it is one: no
    book.toml of its own, in no website, and a sub-folder with a book.toml
    (`_not_this_folder`). Cheap (one listing; the site's detection only
    when there is such a sub-folder), so a build says it before hashing a
    project's every file."""
    if (root / "book.toml").is_file():
        return None
    below = _books_below(root)
    if not below or detect(root).has_config:
        return None
    return _not_this_folder(root, below)


def _books_below(root: Path) -> list[Path]:
    """The folders just below `root` that hold a book.toml (ours or an
    mdBook's), hidden and output folders aside; at most three."""
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    return [p for p in folders if (p / "book.toml").is_file() and not is_output_folder(p)][:3]


def _not_this_folder(root: Path, below: list[Path]) -> Diagnostic:
    """C006 for a folder with no book.toml of its own above a book folder
    (`pipeline build` in a project whose book is in `manuscripts/`).

    Why not build the book below instead: a command builds the folder it is
    given (or the one it runs in), never one it picked; building another
    would put the outputs where nobody looked (`manuscripts/_dist/`) and
    change meaning the day this folder gets a book.toml. Nor is the folder
    read as a book of loose Markdown (a README, docs/, and the book's own
    manuscripts, mixed): the hint names the book folder to pass instead."""
    names = " or ".join(f"'{p.name}'" for p in below)
    return error("C006", f"{folder_named(root)} has no book.toml; the book is in {names} below it",
                 hint=f"name the book folder, e.g. `pipeline build {below[0]}`; or make this one a book "
                      "of its own with `pipeline init`")


def folder_named(root: Path) -> str:
    """A folder as a message names it: 'this folder (/home/ann/notes)' for the one the command runs in."""
    return f"this folder ({root.resolve()})" if root.resolve() == Path.cwd().resolve() else f"'{root}'"


# Reading configs ------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _site_loader() -> type:
    """Safe YAML where a tag we do not know (`!ENV`, `!!python/name:`)
    reads as nothing (yaml is imported here: a no-op rebuild needs none)."""
    import yaml

    class SiteLoader(yaml.SafeLoader):
        pass

    def unknown(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> None:
        return None

    SiteLoader.add_multi_constructor("!", unknown)
    SiteLoader.add_multi_constructor("tag:yaml.org,2002:python/", unknown)
    return SiteLoader


def _text(path: Path, root: Path) -> str:
    """A site file's text through the gate; '' when it cannot be read."""
    try:
        raw = read_bytes(path, (root,))
        return decode(raw) if len(raw) <= MAX_CONFIG_BYTES else ""
    except (ResourceRefused, NotUtf8, OSError):
        return ""


def _load(path: Path | None, root: Path) -> dict[str, Any]:
    """A TOML, YAML or JSON file of the site as a mapping ({} when it is
    missing, invalid or not a mapping: the site's config is read for what it
    can give, never validated as ours)."""
    if path is None:
        return {}
    data, _ = _parsed(path, root)
    return data if isinstance(data, dict) else {}


def _parsed(path: Path, root: Path) -> tuple[Any, Exception | None]:
    """The file's data, or its parser's error: parsed once while the file is
    unchanged (a site's config is read by several of the readers above, and
    by `config_problem`). The data is shared: nothing may change it."""
    try:
        stat = path.stat()
        version = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = (0, -1)
    return _parsed_version(path, root, version)


@functools.lru_cache(maxsize=16)
def _parsed_version(path: Path, root: Path, version: tuple[int, int]) -> tuple[Any, Exception | None]:
    import yaml

    text = _text(path, root)
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text), None
        if path.suffix == ".json":
            return json.loads(text), None
        deep = nested_past(text, MAX_NESTING)
        if deep is not None:  # (PyYAML's parser would take minutes to give up)
            return None, yaml.MarkedYAMLError(problem=f"lists and mappings nested more than {MAX_NESTING} levels "
                                                      "deep", problem_mark=deep)
        return yaml.load(text, Loader=_site_loader()), None  # noqa: S506 (a SafeLoader)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, yaml.YAMLError, ValueError, RecursionError) as exc:
        return None, exc


MAX_NESTING = 100  # lists and mappings in a site's YAML config: a real one nests a few levels


def config_problem(path: Path, root: Path) -> Diagnostic | None:
    """C013, a warning, where the site's config cannot be read (TOML, YAML
    or JSON), at the line and column its parser names: the book then takes
    nothing from it (its title, language, authors), which went unsaid."""
    _, exc = _parsed(path, root)
    if exc is None:
        return None
    line, column, said = 1, 1, str(exc)
    if isinstance(exc, tomllib.TOMLDecodeError):
        found = re.search(r"\(at line (\d+), column (\d+)\)", said)
        if found:
            line, column = int(found.group(1)), int(found.group(2))
            said = said[:found.start()].strip()
    elif isinstance(exc, json.JSONDecodeError):
        line, column, said = exc.lineno, exc.colno, exc.msg
    else:  # YAML's errors (a MarkedYAMLError carries its place), a value too deep
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)  # where it began
        if mark is not None:
            line, column = mark.line + 1, mark.column + 1
        said = getattr(exc, "problem", None) or type(exc).__name__
    return warning("C013", f"the site's config {path.name} cannot be read ({shorten(said, 120)}); the book takes "
                           "nothing from it (title, language, authors)", path=path, line=line, column=column,
                   hint=f"correct {path.name} there (the site's own build would stop on it too)")


def _string(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _author_names(value: Any, depth: int = 0) -> tuple[str, ...]:
    """Author names from a string, a mapping with `name`, or a list of those
    (not deeper: YAML can make a list that holds itself)."""
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if depth > 2:
        return ()
    if isinstance(value, dict):
        return _author_names(value.get("name"), depth + 1)
    if isinstance(value, list):
        return tuple(name for item in value[:100] for name in _author_names(item, depth + 1))
    return ()


def authors_table(path: Path, root: Path) -> dict[str, str]:
    """An authors file (id -> a mapping with `name`, or a name) as id ->
    display name; MkDocs' `.authors.yml` keeps them under `authors:`."""
    data = _load(path, root) if path.is_file() else {}
    if isinstance(data.get("authors"), dict) and path.name == ".authors.yml":
        data = data["authors"]
    table = {}
    for key, value in list(data.items())[:MAX_ENTRIES]:
        name = _author_names(value)
        if name:
            table[str(key)] = name[0]
    return table


def _first_table(root: Path, *candidates: Path) -> dict[str, str]:
    for path in candidates:
        if path.is_file() and path.resolve().is_relative_to(root):
            return authors_table(path, root)
    return {}


def _mounts(data: dict[str, Any]) -> dict[str, list[str]]:
    """Hugo's module.mounts as target -> sources (folders only are of use)."""
    module = data.get("module") if isinstance(data.get("module"), dict) else {}
    found: dict[str, list[str]] = {}
    for mount in (module.get("mounts") if isinstance(module.get("mounts"), list) else [])[:200]:
        if isinstance(mount, dict) and isinstance(mount.get("source"), str) and isinstance(mount.get("target"), str):
            found.setdefault(mount["target"].strip("/"), []).append(mount["source"])
    return found


def _inside(root: Path, name: str) -> Path:
    """`root / name`, resolved; the root itself when it would lead out."""
    path = (root / name).resolve()
    return path if path.is_relative_to(root) else root


def _hugo(root: Path, config: Path | None) -> Site:
    data = _load(config, root)
    mounts = _mounts(data)
    content = _inside(root, (mounts.get("content") or [_string(data.get("contentDir")) or "content"])[0])
    static = [_inside(root, _string(data.get("staticDir")) or "static")] + \
        [_inside(root, source) for source in mounts.get("static", [])]
    data_dir = _inside(root, (mounts.get("data") or [_string(data.get("dataDir")) or "data"])[0])
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    section = _default_section(content)
    return Site("hugo", root, section or content, config, title=_string(data.get("title")),
                authors=_author_names(params.get("author")) or _author_names(data.get("author")),
                language=_string(data.get("languageCode")) or _string(data.get("defaultContentLanguage")),
                description=_string(params.get("description")), base_url=_string(data.get("baseURL")),
                static=tuple(static), blog=section is not None,
                authors_table=_first_table(root, *(data_dir / f"authors.{e}" for e in ("yml", "yaml", "toml", "json"))))


def _jekyll(root: Path, config: Path | None) -> Site:
    data = _load(config, root)
    base = _string(data.get("url")).rstrip("/") + "/" + _string(data.get("baseurl")).strip("/")
    return Site("jekyll", root, root / "_posts", config, title=_string(data.get("title")) or _string(data.get("name")),
                authors=_author_names(data.get("author")), language=_string(data.get("lang")),
                description=_string(data.get("description")), base_url=base.rstrip("/") if base != "/" else "",
                static=(root,), blog=True,
                authors_table=_first_table(root, root / "_data" / "authors.yml", root / "_data" / "authors.yaml"))


def _js_value(text: str, key: str, start: int = 0) -> str:
    """A simple literal `key: 'value'` of a JS config (never executed)."""
    found = re.compile(rf"\b{key}\s*:\s*(['\"`])([^'\"`\n]*)\1").search(text, start)
    return found.group(2).strip() if found else ""


def _js_path(text: str, plugin: str) -> str:
    """The `path:` of a Docusaurus preset's `docs: {…}` or `blog: {…}`, when written as a literal."""
    found = re.search(rf"\b{plugin}\s*:\s*\{{", text)
    if not found:
        return ""
    window = text[found.end():found.end() + 2000]
    end = re.search(r"\n\s{0,8}(docs|blog|theme|pages)\s*:", window)
    return _js_value(window[:end.start()] if end else window, "path")


def _docusaurus(root: Path, config: Path | None) -> Site:
    folder = config.parent if config else root
    text = _text(config, root) if config else ""
    blog = _inside(root, str(folder.relative_to(root) / (_js_path(text, "blog") or "blog")))
    docs_path = _js_path(text, "docs") or "docs"
    docs = (folder / docs_path).resolve()
    locale = _js_value(text, "defaultLocale")
    base = _js_value(text, "url").rstrip("/") + "/" + _js_value(text, "baseUrl").strip("/")
    # The blog is the book, unless the site has none (`blog: false`, a docs-only site, or no posts): then its docs.
    no_blog = re.search(r"\bblog\s*:\s*false\b", text) is not None or not _has_pages(blog)
    content, is_blog = (docs, False) if no_blog and docs.is_dir() and docs.is_relative_to(root) else (blog, True)
    return Site("docusaurus", root, content, config, title=_js_value(text, "title"), language=locale,
                description=_js_value(text, "tagline"), base_url=base.rstrip("/") if base != "/" else "",
                static=(folder / "static",), blog=is_blog,
                nav_ids=_sidebar_ids(folder / "sidebars.json", root) if docs.is_relative_to(root) else (),
                authors_table=_first_table(root, blog / "authors.yml", blog / "authors.yaml"))


def _has_pages(folder: Path) -> bool:
    """Whether `folder` holds a Markdown page (.md, .mdx) at any depth
    (links to folders not followed; at most MAX_ENTRIES names looked at)."""
    import os

    seen = 0
    for _, _, names in os.walk(folder) if folder.is_dir() else ():
        if any(name.endswith((".md", ".mdx", ".markdown")) for name in names):
            return True
        seen += len(names)
        if seen > MAX_ENTRIES:
            break
    return False


def docusaurus_docs(site: Site) -> Path | None:
    """A Docusaurus site's docs folder (its config's docs path), inside the site."""
    if site.flavour != "docusaurus" or site.config is None:
        return None
    docs = (site.config.parent / (_js_path(_text(site.config, site.root), "docs") or "docs")).resolve()
    return docs if docs.is_relative_to(site.root) and docs.is_dir() else None


def _sidebar_ids(path: Path, root: Path) -> tuple[str, ...]:
    """The doc ids of sidebars.json in order: strings, {"type": "doc",
    "id": …}, categories' items, and {"Label": [ids]} mappings."""
    if not path.is_file():
        return ()
    ids: list[str] = []
    pending: list[Any] = [_load(path, root)]
    while pending and len(ids) < MAX_ENTRIES:
        item = pending.pop(0)
        if isinstance(item, str):
            ids.append(item)
        elif isinstance(item, list):
            pending[:0] = item[:MAX_ENTRIES]
        elif isinstance(item, dict):
            if isinstance(item.get("id"), str):
                ids.append(item["id"])
            else:
                pending[:0] = [v for k, v in item.items() if k in ("items",) or isinstance(v, (list, dict))][:MAX_ENTRIES]
    return tuple(dict.fromkeys(ids))


def _mkdocs(root: Path, config: Path | None) -> Site:
    data = _load(config, root)
    docs = _inside(root, _string(data.get("docs_dir")) or "docs")
    theme = data.get("theme") if isinstance(data.get("theme"), dict) else {}
    nav, missing = _mkdocs_nav(data.get("nav"), docs)
    return Site("mkdocs", root, docs, config, title=_string(data.get("site_name")),
                authors=_author_names(data.get("site_author")), language=_string(theme.get("language")),
                description=_string(data.get("site_description")), base_url=_string(data.get("site_url")),
                static=(docs,), nav=nav, nav_missing=missing,
                authors_table=_first_table(root, docs / "blog" / ".authors.yml"))


def _mkdocs_nav(nav: Any, docs: Path) -> tuple[tuple[Path, ...], int]:
    """The pages of an mkdocs.yml `nav` in order (links to other sites left
    out), and how many of them are not in the docs folder."""
    pages, missing, pending, seen = [], 0, [nav], 0
    while pending and seen < MAX_ENTRIES:
        item, seen = pending.pop(0), seen + 1
        if isinstance(item, str) and not re.match(r"^[a-z]+://", item):
            path = (docs / item).resolve()
            if path.is_file() and path.is_relative_to(docs):
                pages.append(path)
            elif path.suffix.lower() in MANUSCRIPT_SUFFIXES:
                missing += 1
        elif isinstance(item, list):
            pending[:0] = item[:MAX_ENTRIES]
        elif isinstance(item, dict):
            pending[:0] = list(item.values())[:MAX_ENTRIES]
    return tuple(dict.fromkeys(pages)), missing


def mdbook_config(path: Path) -> dict[str, Any]:
    """mdBook's [book] table (title, authors, language, description, src)."""
    data = _load(path, path.parent)
    return data.get("book") if isinstance(data.get("book"), dict) else {}


def _mdbook(root: Path, config: Path | None) -> Site:
    book = mdbook_config(config) if config else {}
    source = _inside(root, _string(book.get("src")) or "src")
    nav, missing = summary_pages(source / "SUMMARY.md", source, root)
    authors = tuple(a for a in book.get("authors", []) if isinstance(a, str)) \
        if isinstance(book.get("authors"), list) else ()
    return Site("mdbook", root, source, config, title=_string(book.get("title")), authors=authors,
                language=_string(book.get("language")), description=_string(book.get("description")),
                static=(source,), nav=nav, nav_only=True, nav_missing=missing)


_SUMMARY_LINK = re.compile(r"^\s*(?:[-*+]\s+)?\[(?:[^\]\\]|\\.)*\]\(([^)]*)\)\s*$")


def summary_pages(path: Path, source: Path, root: Path) -> tuple[tuple[Path, ...], int]:
    """The chapters of an mdBook's SUMMARY.md in its order (prefix, numbered
    and suffix chapters); part titles (`# Part`), separators (`---`) and
    draft chapters (`[Title]()`) are left out. Also how many chapters it
    names whose file is not there."""
    pages, missing = [], 0
    text = re.sub(r"<!--.*?-->", "", _text(path, root), flags=re.DOTALL)
    for line in text.split("\n")[:MAX_ENTRIES]:
        found = _SUMMARY_LINK.match(line)
        if not found or not found.group(1).strip():
            continue
        target = (source / found.group(1).strip().split("#")[0].replace("%20", " ")).resolve()
        if target.is_file() and target.is_relative_to(source):
            pages.append(target)
        else:
            missing += 1
    return tuple(dict.fromkeys(pages)), missing


def _astro(root: Path, config: Path | None) -> Site:
    text = _text(config, root) if config else ""
    content = root / "src" / "content"
    section = _default_section(content)
    return Site("astro", root, section or content, config, base_url=_js_value(text, "site"),
                static=(root / "public",), blog=section is not None)


def is_mdbook(path: Path) -> bool:
    """Whether `path` (a book.toml) is an mdBook's config rather than ours."""
    return _is_mdbook(path)


# The manuscripts of a site, and their order ----------------------------------------------------------------------

SKIPPED_FOLDERS = frozenset({"_drafts", "node_modules", "_includes", "_layouts", "_site", "_sass", "_data"})
# Files of a repository that are no page of its site (when a site's config says what the pages are).
NOT_PAGES = frozenset({"README", "LICENSE", "LICENCE", "CONTRIBUTING", "CHANGELOG", "CODE_OF_CONDUCT",
                       "SECURITY", "SUPPORT", "CODEOWNERS", "AUTHORS"})
MAX_FILES = 20_000  # files looked at in a content folder
INDEX_NAMES = ("index", "_index")
FOLDER_PAGES = (*INDEX_NAMES, "readme")  # a page that stands for its folder (lower case), as a website shows it
_LISTING = re.compile(r"<(BlogCard|DocCardList|BlogPostList|PostList|BlogList)\b")


def site_manuscripts(site: Site) -> list[Path]:
    """The manuscripts of the site's content folder and its sub-folders
    (*.md, *.markdown, *.mdx), in path order (a plain folder with
    manuscripts of its own: those only, as ever): hidden folders, drafts,
    node_modules, template folders and output folders (`_dist`, or one
    holding a build's `.pipeline-cache/`) are left out, and so are a
    repository's README, LICENSE, CONTRIBUTING… when a site's config says
    what its pages are. An mdBook's are its SUMMARY.md's chapters."""
    if site.nav_only:
        return list(site.nav)
    if site.flavour == "plain":
        top = sorted(p for p in site.content.iterdir() if p.suffix.lower() in MANUSCRIPT_SUFFIXES)
        if top:  # a book folder of ours: its articles side by side, sub-folders hold other things
            return top
    found, seen = [], 0
    for folder, folders, files in _walk(site.content):
        folders[:] = sorted(f for f in folders if not f.startswith(".") and f not in SKIPPED_FOLDERS
                            and not is_output_folder(Path(folder) / f))
        for name in sorted(files):
            seen += 1
            path = Path(folder) / name
            if seen > MAX_FILES or path.suffix.lower() not in MANUSCRIPT_SUFFIXES or name.startswith("."):
                continue
            if site.has_config and path.stem.upper() in NOT_PAGES:
                continue
            found.append(path)
    return found


def _walk(folder: Path):
    import os

    return os.walk(folder, followlinks=False)


def ordered(groups: list[tuple[Path, list]], site: Site) -> list[tuple[Path, list]]:
    """The manuscripts (each with the articles read from it) in the site's
    order: its navigation (mkdocs.yml nav, SUMMARY.md, a Docusaurus
    sidebars.json) first; then, for a section of posts, the section's index
    and the posts oldest first (a book reads from the start: weight, then
    date, as Hugo orders); else folder by folder (`_category_.json`
    positions), an index first, then weight or position, then name."""
    nav = {path: place for place, path in enumerate(site.nav)}
    ids = {doc: place for place, doc in enumerate(site.nav_ids)} if not site.blog else {}
    return sorted(groups, key=lambda group: _place(group[0], group[1], site, nav, ids))


def _place(path: Path, articles: list, site: Site, nav: dict[Path, int], ids: dict[str, int]) -> tuple:
    real = path.resolve()
    first = articles[0] if articles else None
    order = getattr(first, "order", None)
    position = nav.get(real)
    if position is None and ids:
        position = min((ids[doc] for doc in _doc_ids(real, site) if doc in ids), default=None)
    if position is not None:
        return 0, position, ()
    tree = _tree(real, site, order)
    if site.blog:
        day = _day(getattr(first, "date", "")) or path_date(real) or "~"  # undated last
        # The section's own index first; an index.md in a post's folder (a page bundle) is that post.
        index = real.stem == "_index" or (real.stem in INDEX_NAMES and real.parent == site.content.resolve())
        return 1, 0, ((0 if index else 1, order is None, order or 0.0, day),) + tree
    return 1, 0, tree


def _tree(real: Path, site: Site, order: float | None) -> tuple:
    """Folder by folder: a folder's `_category_.json` position, then its
    name; in the last folder an index first, then `order`, then the name."""
    parts = real.relative_to(site.content).parts if real.is_relative_to(site.content) else (real.name,)
    key, folder = [], site.content
    for name in parts[:-1]:
        folder = folder / name
        key.append((1, _category_position(folder, site.root), name))
    # A folder's index first; on GitHub a folder's README is its index (the page GitHub shows for it).
    index = (real.stem in INDEX_NAMES or site.flavour == "gfm" and real.stem.lower() in FOLDER_PAGES) \
        and site.flavour != "plain"
    key.append((0 if index else 1, float("inf") if order is None else order, parts[-1]))
    return tuple(key)


def _category_position(folder: Path, root: Path) -> float:
    """A Docusaurus `_category_.json`'s (or .yml's) position, else none (∞)."""
    for name in ("_category_.json", "_category_.yml", "_category_.yaml"):
        if (folder / name).is_file():
            value = _load(folder / name, root).get("position")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
    return float("inf")


_FRONT_ID = re.compile(r"\A---\n(?:.*\n)*?id:\s*['\"]?([^'\"\n]+?)['\"]?\s*\n(?:.*\n)*?---", re.MULTILINE)


def _doc_ids(real: Path, site: Site) -> set[str]:
    """The ids a Docusaurus sidebar may name a doc by: its front matter's
    `id` (in its folder), or its path without suffix and number prefixes."""
    relative = real.relative_to(site.content).with_suffix("") if real.is_relative_to(site.content) else Path(real.stem)
    plain = "/".join(re.sub(r"^\d+[-_]", "", part) for part in relative.parts)
    ids = {relative.as_posix(), plain}
    found = _FRONT_ID.search(_text(real, site.root)[:8000])
    if found:
        ids |= {found.group(1).strip(), "/".join(relative.parts[:-1] + (found.group(1).strip(),))}
    return ids


_DAY = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


def _day(text: str) -> str:
    """YYYY-MM-DD of a date as written ('2013-05-06 02:12:52 +0200', '2023/03/16'), '' if none."""
    import datetime

    found = _DAY.search(text or "")
    if not found:
        return ""
    try:
        return datetime.date(*(int(part) for part in found.groups())).isoformat()
    except ValueError:
        return ""


def path_date(path: Path) -> str:
    """The date a post's path gives: Jekyll's and Docusaurus's file names
    (`2023-03-16-slug.md`, also as a folder), a Next.js blog's folders
    (`2023/03/16/slug.md`); '' if none."""
    text = path.as_posix()
    found = re.search(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/[^/]+$", text) or \
        re.search(r"(?:^|/)(\d{4})-(\d{2})-(\d{2})-[^/]*(?:/[^/]+)?$", text)
    return _day("-".join(found.groups())) if found else ""


def without_listings(groups: list[tuple[Path, list]], site: Site) -> tuple[list[tuple[Path, list]], str]:
    """The manuscripts less the section indexes that are only a listing (a
    Hugo home page with no body, a Next.js blog index of <BlogCard>s, an
    MkDocs blog index that is a heading): the site fills them with links to
    the posts the book holds anyway. Also the title of the content folder's
    own index, if it was left out (the book's title where the site gives none)."""
    kept, title = [], ""
    for path, articles in groups:
        if path.stem in INDEX_NAMES and site.flavour not in ("plain", "mdbook") and _is_listing(articles):
            if path.resolve().parent == site.content and articles:
                title = articles[0].title
            continue
        kept.append((path, articles))
    return kept, title


def _is_listing(articles: list) -> bool:
    body = "\n".join(getattr(article, "body", "") for article in articles)
    body = re.sub(r"<!--.*?-->|\{/\*.*?\*/\}", "", body, flags=re.DOTALL)
    return not body.strip() or bool(_LISTING.search(body))


# What the command line says of a folder ----------------------------------------------------------------------------


def _source_table(folder: Path) -> tuple[str, str]:
    """[source] flavor and section of our book.toml in `folder`, read
    leniently (load_config validates them and reports what is wrong)."""
    path = folder / "book.toml"
    if not path.is_file() or _is_mdbook(path):
        return "", ""
    source = _load(path, folder.resolve()).get("source")
    source = source if isinstance(source, dict) else {}
    flavour = source.get("flavor") if source.get("flavor") in FLAVOURS else ""
    return flavour, _string(source.get("section"))


def _detected(folder: Path) -> Site | None:
    """The site of `folder` as a build reads it (its [source] table, the
    chosen section); None where it is no folder."""
    if not folder.is_dir():
        return None
    flavour, section = _source_table(folder)
    return detect(folder, flavour, chosen_section() or section)


def describe(folder: Path) -> str:
    """The note a build prints once: which flavour `folder` is read as and
    from where; '' for a plain folder of Markdown (or none at all)."""
    site = _detected(folder)
    return site.note() if site is not None and site.flavour != "plain" else ""


def site_key(folder: Path) -> dict[str, str]:
    """What a no-op rebuild must also compare when `folder` is in a site:
    the site read (flavour, root, section's folder) and its config's and
    navigation's contents, which may lie outside `folder`."""
    import hashlib

    site = _detected(folder)
    if site is None or site.flavour == "plain":
        return {}
    digest = hashlib.sha256()
    for path in (site.config, site.config.parent / "sidebars.json" if site.config else None,
                 site.content / "SUMMARY.md"):
        if path is not None and path.is_file():
            digest.update(_text(path, site.root).encode())
    digest.update(json.dumps(sorted(site.authors_table.items())).encode())
    return {"flavour": site.flavour, "root": str(site.root), "content": str(site.content),
            "config": digest.hexdigest()}
