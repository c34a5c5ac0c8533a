"""Lays parts out: from the layout cache, else in worker processes (or in
this one, with one job).

The executor is one interface (`Executor`: parts in, laid-out parts out)
with two local implementations, this process and worker processes, so that
another (a cluster) can stand in for them. Every laid-out part is kept in a content-addressed cache
(`cache.Store`): the key hashes the part's HTML (which holds any page
numbers it prints), its images, the styles, the layout engine's and our
code's versions, the variant and the page size. The cache is never trusted
beyond its checksums (Store) and its own format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, replace
from pathlib import Path
from typing import Protocol

from ...cache import Store, folder_digest
from ...fonts import FONT_DIRS
from ...model import PageBreak, RenderedBook
from ...styles import design_css, styles_dir
from .. import ExportContext
from .furniture import Slot
from .parts import Laid, Part

LAYOUT_FORMAT = "3"  # bump when a cached part's meaning changes
ENGINE = ("weasyprint", "pydyf", "pyphen", "tinycss2", "cssselect2", "tinyhtml5")  # lay the parts out
# Our own code that decides what a laid-out part holds, from this folder.
LAYOUT_CODE = ("__init__.py", "parts.py", "engine.py", "booklet.py", "furniture.py", "../pagebreaks.py",
               "../../fonts.py", "../../styles.py")


class Keys:
    """Cache keys: what a part's layout depends on besides its HTML: the
    styles (ours, the book's own styles/ folder and [style]'s colours), the
    layout engine's versions and our own layout code (so an
    upgrade or a change never mixes old and new parts), the variant and the
    page size."""

    def __init__(self, book: RenderedBook, context: ExportContext, variant: dict[str, str]):
        from importlib.metadata import PackageNotFoundError, version

        digest = hashlib.sha256(f"{LAYOUT_FORMAT}|{context.version}|{sorted(variant.items())}|"
                                f"{book.book.config.pdf_page_size}|{book.book.config.language}".encode())
        for name in ENGINE:
            try:
                digest.update(f"|{name}={version(name)}".encode())
            except PackageNotFoundError:
                digest.update(f"|{name}=?".encode())
        here = Path(__file__).parent
        for name in LAYOUT_CODE:
            digest.update(name.encode() + b"\0" + (here / name).read_bytes())
        digest.update(folder_digest(styles_dir()))
        if book.book.styles is not None:  # the book's own styles: its print.css, fonts, templates
            digest.update(b"|book-styles" + folder_digest(book.book.styles))
        digest.update(f"|design={design_css(book.book.config)}".encode())
        for folder in FONT_DIRS:  # the script fonts, by name, size and date (hashing 100 MB would be slow)
            for entry in sorted(folder.glob("*.tt[fc]")) if folder.is_dir() else ():
                stat = entry.stat()
                digest.update(f"|{entry.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        self.salt = digest.digest()

    def keyed(self, part: Part, images: dict[Path, bytes]) -> Part:
        """`part` with its key, and the bytes to serve for its images (of
        `images`, the print-sized ones), which the key covers."""
        digest = hashlib.sha256(self.salt + f"|{part.kind}|{part.css}|".encode() + part.html.encode())
        resources = [p for item in part.book.articles for p in item.resources] if part.kind == "body" else []
        if part.kind == "front":
            resources += [path.resolve() for path in (part.book.book.cover, part.book.book.logo) if path is not None]
        served = {path: images[path] for path in resources if path in images}
        for path in resources:
            try:
                digest.update(hashlib.sha256(served[path] if path in served else path.read_bytes()).digest())
            except OSError:
                digest.update(b"missing")
        return replace(part, key=digest.hexdigest(), images=served)


class Executor(Protocol):
    """Where parts are laid out. The local ones are below; a cluster's (a
    Dask client, say) is another implementation of the same two methods."""

    def lay_out(self, parts: list[Part], variant: dict[str, str]) -> Iterator[tuple[int, Laid]]:
        """Each part laid out, as (its index in `parts`, the result), in any order."""
        ...

    def close(self, abandon: bool) -> None:
        """Release the workers; with `abandon`, stop their work at once (a time limit, an error)."""
        ...


class InProcess:
    """One part after the other, in this process (`--jobs 1`)."""

    def lay_out(self, parts: list[Part], variant: dict[str, str]) -> Iterator[tuple[int, Laid]]:
        from .engine import lay_out

        for index, part in enumerate(parts):
            yield index, lay_out(part, variant)

    def close(self, abandon: bool) -> None:
        pass


class LocalProcesses:
    """Worker processes on this machine, started on first use."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None

    def lay_out(self, parts: list[Part], variant: dict[str, str]) -> Iterator[tuple[int, Laid]]:
        from .engine import lay_out

        # Starting workers costs a second or so (each imports WeasyPrint): not
        # for one part, nor for the two quick ones of a short book (its front
        # matter and furniture) when no worker runs yet.
        if len(parts) <= 1 or (self.pool is None and len(parts) < 3):
            yield from InProcess().lay_out(parts, variant)
            return
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.jobs)
        # The longest first: the front matter and the furniture are quick.
        order = sorted(range(len(parts)), key=lambda i: parts[i].kind != "body")
        futures = {self.pool.submit(lay_out, parts[i], variant): i for i in order}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def close(self, abandon: bool) -> None:
        if self.pool is None:
            return
        if abandon:  # e.g. the time limit: stop the workers' layouts too
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.terminate()
        self.pool.shutdown(wait=not abandon, cancel_futures=True)


def local_executor(jobs: int) -> Executor:
    return InProcess() if jobs <= 1 else LocalProcesses(jobs)


class Runner:
    """Lays out parts, the cached ones from the cache, the others on an
    executor; a context manager, so that the executor's workers end with it
    (at once on an error)."""

    def __init__(self, context: ExportContext, variant: dict[str, str], store: Store | None, keys: Keys,
                 executor: Executor | None = None, images: dict[Path, bytes] | None = None):
        self.context, self.variant, self.store, self.keys = context, variant, store, keys
        self.images = images or {}  # print-sized bytes of the book's images (export/images.py)
        self.executor = executor or local_executor(context.layout.jobs)
        self.used: set[str] = set()

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.executor.close(abandon=kind is not None)

    def __call__(self, parts: list[Part], stage: str) -> list[Laid]:
        """`parts` laid out, in their order."""
        parts = [self.keys.keyed(part, self.images) for part in parts]
        results: list[Laid | None] = [self._cached(part) for part in parts]
        todo = [index for index, laid in enumerate(results) if laid is None]
        progress = self.context.progress
        progress.start(stage, total=len(todo))
        for position, laid in self.executor.lay_out([parts[i] for i in todo], self.variant):
            index = todo[position]
            results[index] = laid
            self._store(parts[index], laid)
            progress.advance()
        return results

    def _cached(self, part: Part) -> Laid | None:
        found = self.store.get(part.key) if self.store is not None else None
        if found is None:
            return None
        data, value = found
        try:
            laid = Laid(data, int(value["page_count"]), {str(k): int(v) for k, v in value["local_pages"].items()},
                        tuple(PageBreak(**b) for b in value["breaks"]),
                        tuple(None if o is None else int(o) for o in value["owners"]),
                        tuple(Slot(**s) for s in value["slots"]), tuple(map(str, value["warnings"])))
        except (KeyError, TypeError, ValueError):
            return None
        self.used.add(part.key)
        return laid

    def _store(self, part: Part, laid: Laid) -> None:
        if self.store is None:
            return
        self.store.put(part.key, laid.pdf, {"page_count": laid.page_count, "local_pages": laid.local_pages,
                                            "breaks": [asdict(b) for b in laid.breaks], "owners": list(laid.owners),
                                            "slots": [asdict(s) for s in laid.slots],
                                            "warnings": list(laid.warnings)})
        self.used.add(part.key)
