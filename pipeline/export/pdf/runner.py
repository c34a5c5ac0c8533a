"""Lays parts out: from the layout cache, else as tasks on an executor
(`export/executors.py`: this process, worker processes, or a Dask cluster).

Every laid-out part is kept in a content-addressed cache (`cache.Store`):
the key hashes the part's HTML (which holds any page numbers it prints),
its images, the book's styles, the variant and the page size, and the
environment (`tasks.environment_digest`: our code and styles, the engines'
versions, the script fonts). The cache is never trusted beyond its
checksums (Store) and its own format.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, replace
from pathlib import Path

from ...cache import Store, folder_digest
from ...model import PageBreak, RenderedBook
from ...styles import design_css
from .. import ExportContext
from ..executors import Executor, Task, local_executor
from ..tasks import book_files, environment_digest
from .furniture import Slot
from .parts import Laid, Part

LAYOUT_FORMAT = "4"  # bump when a cached part's meaning changes


class Keys:
    """Cache keys: what a part's layout depends on besides its HTML: the
    book's own styles/ folder and [style]'s colours, the variant, the page
    size, and the environment (our code and styles, the engines, the fonts:
    an upgrade or a change never mixes old and new parts)."""

    def __init__(self, rendered: RenderedBook, context: ExportContext, variant: dict[str, str]):
        digest = hashlib.sha256(f"{LAYOUT_FORMAT}|{context.version}|{sorted(variant.items())}|"
                                f"{rendered.book.config.pdf_page_size}|{rendered.book.config.language}|"
                                f"{environment_digest()}".encode())
        if rendered.book.styles is not None:  # the book's own styles: its print.css, fonts, templates
            digest.update(b"|book-styles" + folder_digest(rendered.book.styles))
        digest.update(f"|design={design_css(rendered.book.config)}".encode())
        self.salt = digest.digest()

    def keyed(self, part: Part, images: dict[Path, bytes]) -> Part:
        """`part` with its key, and the bytes to serve for its images (of
        `images`, the print-sized ones), which the key covers."""
        digest = hashlib.sha256(self.salt + f"|{part.kind}|{part.css}|".encode() + part.html.encode())
        resources = [p for item in part.rendered.articles for p in item.resources] if part.kind == "body" else []
        if part.kind == "front":
            resources += [path.resolve() for path in (part.rendered.book.cover, part.rendered.book.logo) if path is not None]
        served = {path: images[path] for path in resources if path in images}
        for path in resources:
            try:
                digest.update(hashlib.sha256(served[path] if path in served else path.read_bytes()).digest())
            except OSError:
                digest.update(b"missing")
        return replace(part, key=digest.hexdigest(), images=served)


class Runner:
    """Lays out parts, the cached ones from the cache, the others as tasks
    on the build's executor (`context.layout.executor`: a cluster, say),
    else on worker processes of its own; a context manager, so that its own
    workers end with it (at once on an error)."""

    def __init__(self, context: ExportContext, variant: dict[str, str], store: Store | None, keys: Keys,
                 images: dict[Path, bytes] | None = None):
        self.context, self.variant, self.store, self.keys = context, variant, store, keys
        self.images = images or {}  # print-sized bytes of the book's images (export/images.py)
        self.shared = context.layout.executor
        self.executor: Executor = self.shared or local_executor(context.layout.jobs)
        self.used: set[str] = set()

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if self.shared is None:
            self.executor.close(abandon=kind is not None)

    def __call__(self, parts: list[Part], stage: str) -> list[Laid]:
        """`parts` laid out, in their order."""
        parts = [self.keys.keyed(part, self.images) for part in parts]
        results: list[Laid | None] = [self._cached(part) for part in parts]
        todo = [index for index, laid in enumerate(results) if laid is None]
        progress = self.context.progress
        progress.start(stage, total=len(todo))
        todo.sort(key=lambda i: parts[i].kind != "body")  # the longest first: the others are quick
        tasks = [_task(parts[i], self.variant, self.context.timestamp) for i in todo]
        from ..executors import OverMemory
        from .engine import TimeLimit

        try:
            for position, laid in self.executor.run(tasks):
                index = todo[position]
                results[index] = laid
                self._store(parts[index], laid)
                progress.advance()
        except (TimeLimit, OverMemory) as exc:  # the articles still being laid out (X003's, X008's place), longest first
            exc.articles = tuple(sorted((item.article for index in todo if results[index] is None
                                         for item in parts[index].rendered.articles), key=lambda a: -len(a.body)))
            raise
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


def _task(part: Part, variant: dict[str, str], timestamp) -> Task:
    """Laying out `part`, as a task that names the book files it may read."""
    from .engine import lay_out_dated

    return Task(part.kind, lay_out_dated, (part, variant, timestamp), part.rendered.book.root, book_files(part.rendered))
