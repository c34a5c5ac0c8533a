"""Where tasks run: this process, worker processes on this machine, or a
Dask cluster (`cluster.py`). One interface, so that the per-article
booklets and the parts of a long booklet go the same way wherever they run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # (imported when workers start: multiprocessing costs an EPUB-only build 13 ms)
    from concurrent.futures import ProcessPoolExecutor


@dataclass(frozen=True)
class Task:
    """One piece of work: `function(*arguments)`, reading `files` (real
    paths inside `root`, the book folder the arguments' paths are in)."""

    name: str  # what it makes, for progress and errors: an article's slug, "body 3"
    function: Callable[..., Any]  # module-level, so that it pickles by name
    arguments: tuple[Any, ...]
    root: Path
    files: tuple[Path, ...] = ()


class TaskLost(Exception):
    """A task whose workers kept dying (a cluster gives up after a few)."""

    def __init__(self, name: str, detail: str):
        super().__init__(f"{name}: {detail}")
        self.name, self.detail = name, detail


class OverMemory(Exception):
    """A task that went past the workers' memory ceiling (`memory_limit`):
    the build reports it as X008, naming the task."""

    def __init__(self, name: str, limit: int | None):
        super().__init__(f"{name}: past the memory ceiling")
        self.name, self.limit = name, limit


class Executor(Protocol):
    """Runs tasks and gives their results back as they come."""

    @property
    def workers(self) -> int:
        """How many workers ran tasks (for the build's summary)."""
        ...

    @property
    def shares_files(self) -> bool:
        """Whether its tasks see this machine's files (and may use its caches)."""
        ...

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, Any]]:
        """Each task's result, as (its index in `tasks`, the result), in any
        order. A task whose workers kept dying raises `TaskLost`."""
        ...

    def close(self, abandon: bool) -> None:
        """Release the workers; with `abandon`, stop their work at once (a time limit, an error)."""
        ...


class InProcess:
    """One task after the other, in this process (`--jobs 1`)."""

    workers = 1
    shares_files = True  # tasks see this machine's files (the caches)

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, Any]]:
        for index, task in enumerate(tasks):
            yield index, task.function(*task.arguments)

    def close(self, abandon: bool) -> None:
        pass


# Tasks a worker process runs before it is replaced: WeasyPrint's caches
# (fonts, images, parsed stylesheets) grow with every document, and a worker
# that laid out 500 per-article booklets held about 640 MiB. A new worker
# costs about a second (it imports WeasyPrint), once per this many layouts.
TASKS_PER_WORKER = 100


# The address space a worker may reserve (RLIMIT_AS, soft), in MiB: past
# it an allocation fails as MemoryError in the worker, which the build
# reports as X008 naming the task, instead of the kernel's OOM killer
# choosing a process of the machine. Measured VmPeak of layout workers
# (WeasyPrint, Pango, the fonts; --jobs 2 --per-article): 322 MiB on the
# seed book, 367 MiB on 20 articles, 445 MiB on a CJK book, 522 MiB on 100
# articles (RSS at most 164 MiB; a worker kept for 500 booklets held
# 640 MiB, hence TASKS_PER_WORKER). Four times the largest: a long chunk
# has room, a runaway table or template does not. PIPELINE_MEMORY_LIMIT
# (MiB) overrides it; 0: no ceiling.
MEMORY_LIMIT_MIB = 2048
MEMORY_LIMIT_VARIABLE = "PIPELINE_MEMORY_LIMIT"


def memory_limit() -> int | None:
    """The workers' address-space ceiling in bytes (None: none), from
    PIPELINE_MEMORY_LIMIT if it holds a whole number of MiB, else the default."""
    value = os.environ.get(MEMORY_LIMIT_VARIABLE, "").strip()
    mib = int(value) if value.isascii() and value.isdigit() else MEMORY_LIMIT_MIB
    return mib * 1024 * 1024 if mib > 0 else None


def worker_started(parent: int, limit: int | None, check_parent: bool) -> None:
    """A worker's first act: leave Ctrl-C to the build (which reports it in
    one line; a traceback per worker would bury it), die with the build
    (`_die_with_parent`), and take its memory ceiling."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent, check_parent)
    if limit is not None:
        try:
            import resource
        except ImportError:  # Windows: no ceiling
            return
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent(parent: int, check_parent: bool) -> None:
    """Make this worker end when the build that started it ends, even by
    SIGKILL (which runs no clean-up of the build's): on Linux the kernel
    sends the parent-death signal; elsewhere a thread watches the parent.
    A parent that died before the signal was set is caught by the check
    that follows (`check_parent`: the parent is the build, not a fork server).
    Linux sends the signal when the thread that started the worker ends:
    the workers are started by the build's thread, and closed before it ends."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if check_parent and os.getppid() != parent:
                os._exit(1)
            return
    watched = parent if check_parent else os.getppid()
    threading.Thread(target=_watch_parent, args=(watched,), daemon=True, name="parent watch").start()


def _watch_parent(parent: int) -> None:
    """Poll until the parent is gone (this process is adopted by another), then end at once."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


class LocalProcesses:
    """Worker processes on this machine, started on first use and replaced
    after TASKS_PER_WORKER tasks each (between batches: nothing is lost).
    Each ignores Ctrl-C, dies with the build and has a memory ceiling
    (`worker_started`)."""

    shares_files = True

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None
        self.started = False  # whether workers ran at all (for `workers`)
        self.ran = 0  # tasks given to the current workers

    @property
    def workers(self) -> int:
        """The processes that ran tasks: none started for one or two quick ones."""
        return self.jobs if self.started else 1

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, Any]]:
        # Starting workers costs a second or so (each imports WeasyPrint): not
        # for one task, nor for two quick ones (a short book's front matter
        # and furniture) when no worker runs yet.
        if len(tasks) <= 1 or (self.pool is None and len(tasks) < 3):
            yield from InProcess().run(tasks)
            return
        batch = self.jobs * TASKS_PER_WORKER
        for first in range(0, len(tasks), batch):
            yield from self._run_batch(tasks, range(first, min(first + batch, len(tasks))))

    def _run_batch(self, tasks: list[Task], indices: range) -> Iterator[tuple[int, Any]]:
        from concurrent.futures.process import BrokenProcessPool

        if self.pool is not None and self.ran >= self.jobs * TASKS_PER_WORKER:
            self.pool.shutdown(wait=True)  # fresh workers, their memory back to the start
            self.pool = None
        if self.pool is None:
            self.pool, self.ran, self.started = self._pool(), 0, True
        self.ran += len(indices)
        futures = {self.pool.submit(tasks[index].function, *tasks[index].arguments): index for index in indices}
        for future in _as_completed(futures):
            try:
                result = future.result()
            except BrokenProcessPool:
                raise TaskLost(tasks[futures[future]].name, "a worker process died (out of memory?)") from None
            except MemoryError:
                raise OverMemory(tasks[futures[future]].name, memory_limit()) from None
            yield futures[future], result

    def _pool(self) -> "ProcessPoolExecutor":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context()
        check_parent = context.get_start_method() != "forkserver"  # whose children have the server as parent
        return ProcessPoolExecutor(max_workers=self.jobs, mp_context=context, initializer=worker_started,
                                   initargs=(os.getpid(), memory_limit(), check_parent))

    def close(self, abandon: bool) -> None:
        if self.pool is None:
            return
        if abandon:  # e.g. the time limit: stop the workers' layouts too
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.terminate()
        self.pool.shutdown(wait=not abandon, cancel_futures=True)


def _as_completed(futures) -> Iterator[Any]:
    """`concurrent.futures.as_completed`, waiting a tenth of a second at a
    time: a deadline off the main thread (`resources.deadline`'s watchdog)
    lands only between steps of Python code, never inside a wait on a lock."""
    from concurrent.futures import FIRST_COMPLETED, wait

    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
        yield from done


def local_executor(jobs: int) -> Executor:
    return InProcess() if jobs <= 1 else LocalProcesses(jobs)
