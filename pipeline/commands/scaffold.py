"""`pipeline new DIR`: a new book folder that explains itself; `pipeline
init [DIR]`: a book.toml for a folder of Markdown that has none.

`book.toml` lists every key of `config.SCHEMA`, commented, so a user finds
every option where they edit (an installed package has no README beside it:
the header points to `pipeline --help`); the example article shows each
Markdown feature the booklet sets, and `styles/print.css` is a commented
start of the book's own design (they live in styles/templates/new/ with the
other texts a designer may change).

`init` reads the folder as a build would (`load_book`, site flavours
included) and sets what it can tell: the title, the language of the text
(`load.language.guess_language`) and, where the flavour was known only from
the files, `[source] flavor`, since a book.toml beside them changes what
the files tell (a README beside no book.toml means GitHub Markdown).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..load.config import SCHEMA
from ..diagnostics import Diagnostic, error
from ..styles import styles_dir

HEADER = ("# Book settings. Every key is listed with what it does; uncomment a line to use it.",
          "# 'pipeline --help' lists the commands; 'pipeline build --help' (check, serve...) their options.")
INIT_NOTE = "# Written by 'pipeline init' from the folder's files: review the title and the language."
SAMPLE = 100_000  # characters of the articles' text the language is guessed from


@dataclass(frozen=True)
class Setting:
    """A value `book_toml` writes for a key, with a comment line above it;
    `active=False` writes it commented out (to uncomment once checked)."""

    value: str
    note: str = ""
    active: bool = True


def book_toml(title: str, settings: Mapping[tuple[str, str], Setting] | None = None,
              header: tuple[str, ...] = HEADER) -> str:
    """A book.toml with `title` and `settings` ((table, key) -> Setting) set,
    every other key commented out."""
    settings = {("book", "title"): Setting(title), **(settings or {})}
    lines = list(header)
    table = None
    for option in SCHEMA:
        if option.table != table:
            table = option.table
            lines += ["", f"[{table}]"]
        lines.append(f"# {option.doc}" + (f" One of: {', '.join(option.choices)}." if option.choices else ""))
        setting = settings.get((option.table, option.key))
        if setting is None:
            lines.append(f"# {option.key} = {option.example_toml()}")
            continue
        lines += [f"# {setting.note}"] if setting.note else []
        lines.append(f"{'' if setting.active else '# '}{option.key} = {_quote(setting.value)}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    """`text` as a TOML basic string: quotes and backslashes escaped, and any
    character TOML does not allow raw (controls, DEL) as a \\u escape."""
    def escaped(character: str) -> str:
        if character in '"\\':
            return "\\" + character
        if character.isprintable() or character == "\t":
            return character
        return f"\\u{ord(character):04X}" if ord(character) <= 0xFFFF else f"\\U{ord(character):08X}"

    return '"' + "".join(escaped(character) for character in text) + '"'


def new_book(folder: Path) -> tuple[list[Path], list[Diagnostic]]:
    """Create `folder` with book.toml, 01-example.md and styles/print.css; never overwrite."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        return [], [error("O004", f"'{folder}' exists and is not an empty folder", path=folder,
                          hint=_not_empty_hint(folder))]
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "book.toml", folder / "01-example.md", folder / "styles" / "print.css"]
    new = styles_dir() / "templates" / "new"
    written[0].write_text(book_toml(_folder_title(folder)), encoding="utf-8")
    written[1].write_text((new / "example.md").read_text(encoding="utf-8"), encoding="utf-8")
    written[2].parent.mkdir()
    written[2].write_text((new / "styles" / "print.css").read_text(encoding="utf-8"), encoding="utf-8")
    return written, []


def _not_empty_hint(folder: Path) -> str:
    """What to do instead of `new` in a folder that has files: build the
    book it is, or give the Markdown in it a book.toml."""
    if not folder.is_dir():
        return "choose a new folder name"
    if os.path.lexists(folder / "book.toml"):
        return f"it is a book already: pipeline build {folder}; or choose a new folder name"
    return f"to make a book of the Markdown files in it, run: pipeline init {folder}; or choose a new folder name"


def _folder_title(folder: Path) -> str:
    return folder.resolve().name.replace("-", " ").replace("_", " ").strip().capitalize() or "My book"


def init_book(folder: Path) -> tuple[list[Path], list[Diagnostic]]:
    """`pipeline init`: a book.toml for a folder of Markdown files; never overwrite one."""
    if not folder.is_dir():
        return [], [error("O005", f"'{folder}' is not a folder", path=folder,
                          hint="pass the folder that holds the Markdown files; 'pipeline new DIR' creates a "
                               "new book with an example article")]
    return write_book_toml(folder)


def write_book_toml(folder: Path, untitled: frozenset[Path] = frozenset()) -> tuple[list[Path], list[Diagnostic]]:
    """Write `folder`/book.toml from what its files say (`init_settings`);
    O005 if one is there: it is never replaced, not even by a race (the file
    is created exclusively). `untitled`: manuscripts whose title is a
    provisional one (`pipeline import`), no title for the book."""
    path = folder / "book.toml"
    refusal = error("O005", f"'{path}' exists; 'pipeline init' never replaces it", path=path,
                    hint="edit it (every key is described in it when pipeline wrote it), or move it away "
                         "and run 'pipeline init' again")
    if os.path.lexists(path):
        return [], [refusal]
    title, settings = init_settings(folder, untitled)
    text = book_toml(title, settings, header=(*HEADER, INIT_NOTE))
    try:
        with open(path, "x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        return [], [refusal]
    except OSError as exc:
        return [], [error("O005", f"cannot write '{path}': {exc.strerror or exc}", path=path,
                          hint="check that the folder is writable")]
    return [path], []


def init_settings(folder: Path,
                  untitled: frozenset[Path] = frozenset()) -> tuple[str, dict[tuple[str, str], Setting]]:
    """The title and settings a book.toml for `folder` starts with.

    The folder is read as a build reads it (a website's own config, its
    section, its navigation). The title: the site's, else the first
    article's (front matter or first heading; one named after its file says
    nothing, nor does a provisional one), else the folder's name. The language: the site's, else the
    one the text reads as, when sure; one styles/labels.toml has no words
    for is written commented out, since it would warn (C008) at each build
    until the book gives its words."""
    from ..load.manuscripts import load_book
    from ..load.sites import NAMES, detect

    book, diagnostics = load_book(folder)
    site = detect(folder)
    articles = book.articles if book is not None else ()
    named = {d.path for d in diagnostics if d.code == "M004" and "file name" in d.message} | set(untitled)
    named = {path.resolve() for path in named if path is not None}
    first = next((a.title for a in articles[:1] if a.source_path.resolve() not in named), "")
    title = site.title.strip() or first or _folder_title(folder)
    settings: dict[tuple[str, str], Setting] = {}
    language = _language(site.language, articles)
    if language is not None:
        settings[("book", "language")] = language
    if site.flavour not in ("plain", "") and not site.has_config:
        note = f"Read from the files as {NAMES[site.flavour]}; kept here, as a book.toml beside them may change that."
        settings[("source", "flavor")] = Setting(site.flavour, note)
    return title, settings


def _language(said: str, articles) -> Setting | None:
    """The book's language setting: the site's config's, else the articles'
    text's (None when the text is too short or mixed to tell)."""
    from ..load.language import guess_language
    from ..styles import is_language_tag, label_language

    if said and is_language_tag(said):
        language, note = said, "From the site's config."
    else:
        text = "\n\n".join(f"{a.title}\n\n{a.summary}\n\n{a.body}" for a in articles)[:SAMPLE]
        language, note = guess_language(text) or "", "Guessed from the text."
    if not language or not is_language_tag(language):
        return None
    if label_language(language) is None:
        return Setting(language, f"{note} No words for it in labels.toml yet: give them in a [labels] "
                                 "table, then uncomment.", active=False)
    return Setting(language, note)
