"""`pipeline new DIR`: a new book folder that explains itself.

`book.toml` lists every key of `config.SCHEMA`, commented, so a user finds
every option where they edit; the example article shows each Markdown
feature the booklet sets, and `styles/print.css` is a commented start of
the book's own design (they live in styles/templates/new/ with the other
texts a designer may change).
"""

from __future__ import annotations

from pathlib import Path

from ..load.config import SCHEMA
from ..diagnostics import Diagnostic, error
from ..styles import styles_dir


def book_toml(title: str) -> str:
    """A book.toml with `title` set and every other key commented out."""
    lines = ["# Book settings. Every key is listed; uncomment a line to use it.",
             "# Reference: README.md, 'book.toml reference'."]
    table = None
    for option in SCHEMA:
        if option.table != table:
            table = option.table
            lines += ["", f"[{table}]"]
        lines.append(f"# {option.doc}" + (f" One of: {', '.join(option.choices)}." if option.choices else ""))
        if option.key == "title":
            lines.append(f"title = {_quote(title)}")
        else:
            lines.append(f"# {option.key} = {_example(option)}")
    return "\n".join(lines) + "\n"


def _example(option) -> str:
    examples = {"authors": '["A. Writer"]', "keywords": '["keyword", "another"]', "language": '"en"',
                "identifier": '"urn:uuid:…"', "date": '"2026-01-31"', "articles": '["01-example.md"]',
                "cover": '"images/cover.png"', "accent": '"#2a6f97"', "text-font": '"Book Serif"',
                "heading-font": '"Book Sans"', "logo": '"images/logo.png"', "cover-background": '"#1f3a4d"',
                "lines": '["© 2026 A. Writer", "Licensed under CC BY 4.0"]',
                "base-url": '"https://example.org/downloads/"', "max-dpi": "300", "max-image-pixels": "4000000",
                "trim": '"5.5in 8.5in"', "bleed": '"0.125in"'}
    if option.key in examples:
        return examples[option.key]
    if option.kind == "bool":
        return "true" if option.key == "embed-fonts" else "false"
    if option.kind == "int":
        return "2"
    if option.kind == "choice":
        return _quote(option.choices[0])
    return '"…"'


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def new_book(folder: Path) -> tuple[list[Path], list[Diagnostic]]:
    """Create `folder` with book.toml, 01-example.md and styles/print.css; never overwrite."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        return [], [error("O004", f"'{folder}' exists and is not an empty folder",
                          hint="choose a new folder name", path=folder)]
    folder.mkdir(parents=True, exist_ok=True)
    title = folder.resolve().name.replace("-", " ").replace("_", " ").strip().capitalize() or "My book"
    written = [folder / "book.toml", folder / "01-example.md", folder / "styles" / "print.css"]
    new = styles_dir() / "templates" / "new"
    written[0].write_text(book_toml(title), encoding="utf-8")
    written[1].write_text((new / "example.md").read_text(encoding="utf-8"), encoding="utf-8")
    written[2].parent.mkdir()
    written[2].write_text((new / "styles" / "print.css").read_text(encoding="utf-8"), encoding="utf-8")
    return written, []
