"""The build: load -> render -> export, every diagnostic collected on the way.

This is the library entry point (`pipeline.build`); the CLI is a thin layer
over it. A build that found errors writes nothing: the previous outputs stay.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from . import __version__
from .diagnostics import Diagnostic, Severity, error, has_errors
from .export import REGISTRY, ExportContext, build_timestamp, get_exporter
from .load import load_book
from .output import StagedOutputs
from .render import render_book

DEFAULT_FORMATS = ("pdf", "epub")


@dataclass(frozen=True)
class BuildResult:
    outputs: tuple[Path, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def build(book_dir: Path | str = "manuscripts", out_dir: Path | str = "dist",
          formats: tuple[str, ...] = DEFAULT_FORMATS, strict: bool = False) -> BuildResult:
    """Build `book_dir` into `out_dir`; return the written paths and all diagnostics.

    Never raises for a problem in the book: problems come back as diagnostics.
    With `strict`, warnings count as errors.
    """
    book_dir, out_dir = Path(book_dir), Path(out_dir)
    unknown = [name for name in formats if name not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown format(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    diagnostics: list[Diagnostic] = []
    if _is_inside(out_dir, book_dir):
        return BuildResult((), (error("O001", f"output folder '{out_dir}' is inside the book folder",
                                      hint="choose an output folder outside the book, e.g. --out dist"),))
    book, found = load_book(book_dir)
    diagnostics += found
    if book is None or _failed(diagnostics, strict):
        return BuildResult((), tuple(_strict(diagnostics, strict)))
    rendered, found = render_book(book)
    diagnostics += found
    if _failed(diagnostics, strict):
        return BuildResult((), tuple(_strict(diagnostics, strict)))
    context = ExportContext(timestamp=build_timestamp(book.config), version=__version__)
    with StagedOutputs() as staged:
        for name in formats:
            exporter = get_exporter(name)
            diagnostics += exporter.export(rendered, staged.stage(out_dir / f"{book.slug}{exporter.suffix}"),
                                           context)
        if _failed(diagnostics, strict):
            return BuildResult((), tuple(_strict(diagnostics, strict)))
        return BuildResult(staged.commit(), tuple(_strict(diagnostics, strict)))


def _failed(diagnostics: list[Diagnostic], strict: bool) -> bool:
    return any(d.is_error or strict for d in diagnostics)


def _strict(diagnostics: list[Diagnostic], strict: bool) -> list[Diagnostic]:
    """Under --strict, warnings are reported (and count) as errors."""
    if not strict:
        return diagnostics
    return [replace(d, severity=Severity.ERROR) for d in diagnostics]


def _is_inside(out_dir: Path, book_dir: Path) -> bool:
    out, book = out_dir.resolve(), book_dir.resolve()
    return out == book or out.is_relative_to(book) or book.is_relative_to(out)
