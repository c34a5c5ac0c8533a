"""Typst's compile, in a process of its own.

The compile is one long call into Rust: no signal or watchdog of the build
stops it, and a book's template can loop or allocate without end. So it runs
in a child process with the workers' memory ceiling, which dies with the
build and is killed past the layout's time limit. A plain subprocess, not
multiprocessing: a Dask worker is a daemonic process, which may not have
children of multiprocessing's.

The process is a `Standby`: the build starts it as soon as it knows the book
is typeset by Typst (`standby`), so that Python, typst-py and pikepdf load
while the book is read; `run` gives it the folder to compile (or starts one
there and then, for a download's booklet made in a worker). In that folder:
root/ (Typst's root: main.typ, the template, the images), fonts/ (the only
fonts it may use), arguments.json in; result.pdf and result.json out.

This module imports nothing of the build at its top, so the process is
ready in a tenth of a second.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ...standby import Standby, wait_for_work
from ..executors import memory_limit, worker_started

TARGET = "pipeline.export.typst.compiler:main"
FACTS_LABEL = "pipeline-facts"  # the document's metadata the compile queries (document._facts)


class TypstFailed(RuntimeError):
    """Typst's own error: its first line, and where Typst says it is
    (`where`: [file under the compile's root, line, column], or None)."""

    def __init__(self, message: str, where: list | None = None):
        super().__init__(message)
        self.where = where


class Stopped(Exception):
    """The compile went past the layout's time limit (`code` X003) or the
    workers' memory ceiling (X008)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def standby() -> Standby:
    """A compile process, started now and made ready, for `run` to give work."""
    return Standby(TARGET, str(os.getpid()), str(memory_limit() or 0))


def run(folder: Path, arguments: dict, seconds: float, ready: Standby | None = None):
    """Compile `folder` (see the module's docstring) with `arguments`
    (`_compile`'s) in `ready`, or in a process started now; ended after
    `seconds` (0: never). Returns (PDF bytes, warnings, page numbers, page
    breaks); the warnings as (message, where) pairs (`place`). Raises Stopped,
    TypstFailed with Typst's own error, or RuntimeError."""
    (folder / "arguments.json").write_text(json.dumps(arguments), encoding="utf-8")
    if ready is None or not ready.tell(folder):
        ready = standby()
        ready.tell(folder)
    child = ready.process
    try:
        if not _ended_within(child, seconds):
            raise Stopped("X003", f"typesetting the PDF (Typst) took more than {seconds:g} s")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    result = folder / "result.json"
    if child.returncode != 0 or not result.is_file():
        said = ready.said()
        if child.returncode < 0 or "MemoryError" in said or "memory allocation" in said:  # Rust aborts
            limit = memory_limit()
            raise Stopped("X008", "typesetting the PDF (Typst) went past the memory ceiling"
                          + (f" of {limit // 1048576} MiB" if limit else ""))
        last = said.strip().splitlines()[-1] if said.strip() else "nothing said"
        raise RuntimeError(f"its process ended without a PDF (exit status {child.returncode}: {last[:300]})")
    outcome = json.loads(result.read_text(encoding="utf-8"))
    if "error" in outcome:  # Typst's
        raise TypstFailed(outcome["error"], outcome.get("where"))
    warnings = [(item["message"], item["where"]) for item in outcome["warnings"]]
    return (folder / "result.pdf").read_bytes(), warnings, outcome["pages"], outcome["pagination"]


def _ended_within(child, seconds: float) -> bool:
    """Whether `child` ended within `seconds` (0: waited for without end),
    known the moment it ends (a pidfd, Linux), else within 50 ms. A signal
    handler's exception (a deadline of the build) still comes through."""
    import select
    import subprocess
    import time

    ends = time.monotonic() + seconds if seconds > 0 else None
    try:
        handle = os.pidfd_open(child.pid)
    except (AttributeError, OSError):  # (not Linux, or the child is gone already)
        handle = None
    try:
        while child.poll() is None:
            left = None if ends is None else ends - time.monotonic()
            if left is not None and left <= 0:
                return False
            if handle is not None:
                select.select([handle], [], [], left)
            else:
                try:
                    child.wait(timeout=min(left, 0.1) if left is not None else 0.1)
                except subprocess.TimeoutExpired:
                    pass
        return True
    finally:
        if handle is not None:
            os.close(handle)


def main() -> None:
    """The compile's process: the workers' start (ignore Ctrl-C, die with
    the build, the memory ceiling), typst and pikepdf loaded, then the
    folder it is told compiled, its outcome written there."""
    import sys

    parent, limit = int(sys.argv[1]), int(sys.argv[2])
    worker_started(parent, limit or None, True)
    import pikepdf  # noqa: F401  (loaded while the build reads the book)
    import typst  # noqa: F401

    folder = wait_for_work()
    if folder is None:
        return
    arguments = json.loads((folder / "arguments.json").read_text(encoding="utf-8"))
    outcome = _compile(folder, **arguments)
    if isinstance(outcome, dict):
        (folder / "result.json").write_text(json.dumps(outcome), encoding="utf-8")
        return
    pdf, found, pages, pagination = outcome
    (folder / "result.pdf").write_bytes(pdf)
    (folder / "result.json").write_text(json.dumps({"warnings": found, "pages": pages,
                                                    "pagination": pagination}), encoding="utf-8")


def _compile(folder: Path, standards: list[str], timestamp: int, language: str, rtl: bool):
    """In the compile's process: (PDF, warnings, page numbers, page breaks)
    as plain data (FACTS_LABEL: document._facts), or Typst's error
    ({"error": its first line, "where": `place`}). Packages only from
    folders of the compile's own (none are there): never the user's."""
    import typst

    root, fonts, packages = folder / "root", folder / "fonts", folder / "packages"
    try:
        faces = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(fonts)])
        compiler = typst.Compiler(root=str(root), font_paths=faces, ignore_system_fonts=True,
                                  package_path=str(packages), package_cache_path=str(packages))
        pdf, found = compiler.compile_with_warnings(str(root / "main.typ"), format="pdf",
                                                    pdf_standards=standards, timestamp=timestamp)
        facts = json.loads(compiler.query(f"<{FACTS_LABEL}>", field="value", one=True, root=str(root)))
        pages, pagination = facts["pages"], facts["breaks"] or []
    except RuntimeError as exc:  # typst.TypstError
        return {"error": first_line(exc), "where": place(exc, root)}
    return finished(pdf, language, rtl), [{"message": str(item), "where": place(item, root)} for item in found], \
        pages, pagination


# typst-py's diagnostic names the place as "┌─ PATH:LINE:COLUMN": PATH as seen from the working
# folder, LINE from 1, COLUMN from 0 (the caret under `#set par(justify: x)`'s x says 18).
_PLACE = re.compile(r"┌─ (.+?):(\d+):(\d+)\s*$", re.M)


def place(problem: object, root: Path) -> list | None:
    """Where Typst says its error or warning `problem` is: [file, as a path
    under `root`, line, column] (1-based); None where it names no file there
    (a problem of the whole document, a font)."""
    match = _PLACE.search(getattr(problem, "diagnostic", "") or "")
    if match is None:
        return None
    shown = Path(match.group(1))
    for candidate in (shown, Path.cwd() / shown, Path("/") / shown):
        try:
            name = candidate.resolve().relative_to(root.resolve()).as_posix()
        except (OSError, ValueError):
            continue
        return [name, int(match.group(2)), int(match.group(3)) + 1]  # (typst-py counts columns from 0)
    return None


def finished(pdf: bytes, language: str, rtl: bool) -> bytes:
    """The PDF with the book's language tag as its /Lang (Typst writes the
    language and region only: "zh", not "zh-Hans") and the reading
    direction of that language (`rtl`: a viewer shows the spreads bound on
    the right when it is right to left): Typst writes /Direction from its
    own list of right-to-left languages, which is not ours
    (styles.direction). Where either differs, it is set again and the file
    saved deterministically; else the bytes are Typst's."""
    import io

    import pikepdf

    wanted = pikepdf.Name.R2L if rtl else pikepdf.Name.L2R
    with pikepdf.open(io.BytesIO(pdf)) as document:
        root = document.Root
        preferences = root.get("/ViewerPreferences")
        if preferences is not None and preferences.get("/Direction") == wanted and str(root.get("/Lang")) == (language or str(root.get("/Lang"))):
            return pdf
        if preferences is None:
            root.ViewerPreferences = pikepdf.Dictionary()
            preferences = root.ViewerPreferences
        preferences.Direction = wanted
        if language:
            root.Lang = pikepdf.String(language)
        buffer = io.BytesIO()
        document.save(buffer, deterministic_id=True)
        return buffer.getvalue()


def first_line(exc: object) -> str:
    """The first line of an error's message (at most 300 characters)."""
    message = getattr(exc, "message", None) or str(exc)
    return message.strip().splitlines()[0][:300] if message.strip() else type(exc).__name__
