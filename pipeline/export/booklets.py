"""A booklet made whole: the book's, and each article's download, the same way.

`make_booklet` runs a booklet's exporters in fact order (`export_formats`:
the PDF before the EPUB that lists its pages, the imposed PDF after the PDF
it is made from), each knowing the facts of those before it. The build
calls it in its own process for the book, writing straight into the
outputs it has staged (`Booklet.targets`); the per-article downloads go to
an executor as tasks (export/articles.py, tasks.py), whose booklets are
made in a private folder and come back as bytes, since a worker may be
another machine.

The page numbers of a booklet's last layout are its next layout's guess,
kept in the build's cache by slug (`guess_file`), beside the record of what
making an article's booklet reported (`record_file`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import scratch
from ..diagnostics import Diagnostic, has_errors
from ..formats import FORMATS
from ..model import RenderedBook
from ..sandbox import TemplateFailed
from . import PAGE_NUMBERS, ExportContext, output
from .crosslinks import for_format
from .registry import exporter_for


@dataclass(frozen=True)
class Booklet:
    """One booklet to make, whole: the formats in fact order."""

    rendered: RenderedBook
    formats: tuple[str, ...]
    context: ExportContext  # a worker's has no progress display and no caches
    guess: dict[str, str] = field(default_factory=dict)  # the last layout's page numbers
    # Where each format's file goes, on this machine (the build's staged
    # outputs); none: a private folder, and the files come back as bytes.
    targets: tuple[tuple[str, Path], ...] = ()


@dataclass(frozen=True)
class Made:
    """What making a booklet gave: each format's file's bytes (when it had no
    `targets`; else the files are there), the problems found, and the page
    numbers (the next guess)."""

    files: tuple[tuple[str, bytes], ...]
    diagnostics: tuple[Diagnostic, ...]
    page_numbers: dict[str, str]


def make_booklet(booklet: Booklet) -> Made:
    """Export `booklet` into its targets, or into a private folder whose
    files are returned as bytes. Nothing is returned of a booklet with errors."""
    if booklet.targets:
        return _made(booklet, read=False)
    with scratch.folder("booklet") as folder:
        slug = booklet.rendered.book.slug
        targets = tuple((name, Path(folder) / FORMATS[name].file_name(slug)) for name in booklet.formats)
        return _made(replace(booklet, targets=targets), read=True)


def _made(booklet: Booklet, read: bool) -> Made:
    """`booklet` exported into its targets; their bytes returned if `read`."""
    context = booklet.context.knowing({PAGE_NUMBERS: booklet.guess})
    diagnostics, pages = export_formats(booklet.rendered, booklet.targets, context)
    if has_errors(diagnostics):
        return Made((), tuple(diagnostics), {})
    files = tuple((name, target.read_bytes()) for name, target in booklet.targets) if read else ()
    return Made(files, tuple(diagnostics), pages)


def export_formats(rendered: RenderedBook, targets: tuple[tuple[str, Path], ...],
                   context: ExportContext) -> tuple[list[Diagnostic], dict[str, str]]:
    """Run each exporter of `targets` in turn (each knows the facts of those
    before it, the files they wrote among them); return the problems and the
    PDF's page numbers (empty without a PDF)."""
    diagnostics: list[Diagnostic] = []
    pages: dict[str, str] = {}
    config = rendered.book.config
    for index, (name, target) in enumerate(targets):
        context.progress.start(f"writing the {name.upper()}")
        wanted = frozenset(fact for later, _ in targets[index + 1:] for fact in exporter_for(later, config).uses)
        try:
            exported = exporter_for(name, config).export(for_format(rendered, name), target,
                                                         replace(context, wanted=wanted))  # crosslinks.py
        except TemplateFailed as exc:  # a template of the book's own styles/ may fail or be refused
            diagnostics.append(exc.diagnostic())
            break
        except OSError as exc:  # a write that failed names no file: this output is the one (X002)
            exc.filename = exc.filename or str(target)
            raise
        diagnostics += exported.diagnostics
        pages = exported.facts.get(PAGE_NUMBERS) or pages
        written = None if has_errors(exported.diagnostics) else target  # export.output: what a later export may read
        context = context.knowing({**exported.facts, output(name): written})
    return diagnostics, pages


def guess_file(cache: Path, slug: str) -> Path:
    """The page numbers of the last layout of the booklet `slug`."""
    return cache / f"pages-{slug}.json"


def record_file(cache: Path, slug: str) -> Path:
    """What making the download `slug` reported, and from what (its key)."""
    return cache / f"made-{slug}.json"
