"""Retailer and accessibility-law targets: `pipeline check --target
kdp|apple|kobo|google|eaa` (and `build --target`) judge a built EPUB by a
store's published rules (stores.py) or by what the European Accessibility
Act asks (eaa.py).

Each target is a table of `rules.Rule`s, each with its source beside it.
Each finding is located in the EPUB (member and line) and, where the
author's file made it, in that file: a chapter's manuscript (by the text
the finding names: the image's file name, the heading, the comment), the
book's own styles/epub.css or fonts, or book.toml. The rendered XHTML
carries no manuscript line numbers, so a finding the text cannot place is
located at the manuscript alone.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["TARGET_NAMES", "check_targets", "parse_targets", "sources_of", "target"]

TARGET_NAMES = ("kdp", "apple", "kobo", "google", "eaa")


def parse_targets(values: Iterable[str]) -> tuple[str, ...]:
    """--target values (repeated, or comma lists) as target names, each once;
    ValueError naming the unknown ones."""
    names = [part.strip().lower() for value in values for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in TARGET_NAMES]
    if unknown:
        raise ValueError(f"unknown target(s): {', '.join(unknown)}; known: {', '.join(TARGET_NAMES)}")
    return tuple(dict.fromkeys(names))


def __getattr__(name: str):
    """The judging (judge.py, with lxml) is imported on first use: the
    command line names the targets in its help, and a no-op build imports
    nothing heavy."""
    if name in ("check_targets", "sources_of", "target"):
        from . import judge

        return getattr(judge, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
