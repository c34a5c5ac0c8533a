"""Exporters: one small interface (like mdBook's renderers), registered by
name in `registry.py`.

An exporter turns a `RenderedBook` into one file. It never parses Markdown and
never writes to the final output path itself: `build` hands it a temporary path
and moves the result into place atomically. Exporters are imported only when
used, so an EPUB-only build never imports WeasyPrint.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..diagnostics import Diagnostic
from ..epoch import source_date_epoch
from ..progress import Progress

if TYPE_CHECKING:
    from ..model import BookConfig, RenderedBook
    from ..standby import Standby
    from .executors import Executor


@dataclass(frozen=True)
class LayoutSettings:
    """How a page-layout engine may work; read only by exporters that lay
    pages out (the PDF). The EPUB, whose reader lays it out, ignores it."""

    # Seconds a layout may take before it is abandoned (hostile input can make
    # WeasyPrint's layout very slow); 0 for no limit.
    time_limit: float = 300.0
    # Worker processes the layout may use (the chunks of a booklet, export/pdf/runner.py).
    jobs: int = 1
    # Where laid-out parts of a long PDF are cached (cache.Store); None: no cache.
    cache_dir: Path | None = None
    # Where the build runs its tasks when not in processes of its own (a
    # Dask cluster: export/cluster.py); None: --jobs worker processes.
    executor: "Executor | None" = field(default=None, compare=False, repr=False)
    # Typst's compile process, started while the book was read (export/typst/compiler.py);
    # None: one is started when needed. Used once, by the book's booklet; never sent to a worker.
    typesetter: "Standby | None" = field(default=None, compare=False, repr=False)


# Facts one export finds and another uses (provides/needs). Each exporter
# names what it provides and uses; `registry.in_fact_order` runs providers first.
PAGINATION = "pagination"  # tuple[PageBreak, ...]: where the PDF's printed pages begin (the EPUB's page-list)
PRINT_PAGES = "print_pages"  # int: pages of the print interior (the cover's spine)
PRINT_COVER = "print_cover"  # bytes: the full-wrap cover's PDF (its PNG preview)
PAGE_NUMBERS = "page_numbers"  # dict[str, str]: printed page of each article and section (the next build's guess)


def output(name: str) -> str:
    """The fact naming the file the `name` exporter wrote in this build (its
    staged path; None if that export failed): what an export describing the
    others reads (ONIX: the EPUB's package, the PDF's pages). Every exporter
    provides its own, without listing it (`registry.in_fact_order`, `booklets.export_formats`)."""
    return f"output:{name}"


@dataclass(frozen=True)
class ExportContext:
    """What every exporter needs besides the book."""

    timestamp: datetime  # the build's only notion of "now" (reproducible builds)
    version: str
    # Facts found by the exports that ran before (and PAGE_NUMBERS from the
    # previous build, as a first guess), by the names above.
    facts: dict[str, object] = field(default_factory=dict)
    layout: LayoutSettings = field(default_factory=LayoutSettings)
    # Where images downsampled for an output are kept (cache.Store: see
    # export/images.py); None: no cache.
    image_cache: Path | None = None
    # The facts the exporters after this one read (their `uses`), so that an
    # exporter can skip working out one nobody reads (the Typst PDF's page
    # breaks, for an EPUB's page-list, when no EPUB follows); None: unknown, all.
    wanted: frozenset[str] | None = None
    # Where stages and steps are reported (pipeline.progress); never sent to a worker.
    progress: Progress = field(default_factory=Progress, compare=False, repr=False)

    def for_worker(self) -> "ExportContext":
        """This context as a task takes it: without the progress display
        (which holds the terminal), the executor (whose workers it runs on),
        or the caches (folders of this machine); one process per task."""
        return replace(self, progress=Progress(), image_cache=None,
                       layout=replace(self.layout, jobs=1, cache_dir=None, executor=None, typesetter=None))

    def knowing(self, facts: dict[str, object]) -> "ExportContext":
        return replace(self, facts={**self.facts, **facts})


@dataclass(frozen=True)
class Exported:
    """What an exporter reports back: problems, and the facts it provides."""

    diagnostics: tuple[Diagnostic, ...] = ()
    facts: dict[str, object] = field(default_factory=dict)


class Exporter(Protocol):
    name: str
    suffix: str
    provides: tuple[str, ...]  # facts its Exported carries
    uses: tuple[str, ...]  # facts it reads from the context when present

    def export(self, rendered: RenderedBook, target: Path, context: ExportContext) -> Exported:
        """Write the output to `target`; report what went wrong or deserves a warning."""
        ...


def build_timestamp(config: BookConfig) -> datetime:
    """SOURCE_DATE_EPOCH, else the book's date, else the zip epoch; never the clock."""
    epoch = source_date_epoch()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    if config.date:
        return datetime.fromisoformat(config.date).replace(tzinfo=timezone.utc)
    return datetime(1980, 1, 1, tzinfo=timezone.utc)
