"""Where tasks run: this process, worker processes on this machine, or a
Dask cluster (`cluster.py`). One interface, so that the per-article
booklets and the parts of a long booklet go the same way wherever they run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from .tasks import Task, TaskLost

if TYPE_CHECKING:  # (imported when workers start: multiprocessing costs an EPUB-only build 13 ms)
    from concurrent.futures import ProcessPoolExecutor


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
        order. A task whose workers kept dying raises `tasks.TaskLost`."""
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


class LocalProcesses:
    """Worker processes on this machine, started on first use and replaced
    after TASKS_PER_WORKER tasks each (between batches: nothing is lost)."""

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
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        if self.pool is not None and self.ran >= self.jobs * TASKS_PER_WORKER:
            self.pool.shutdown(wait=True)  # fresh workers, their memory back to the start
            self.pool = None
        if self.pool is None:
            self.pool, self.ran, self.started = ProcessPoolExecutor(max_workers=self.jobs), 0, True
        self.ran += len(indices)
        futures = {self.pool.submit(tasks[index].function, *tasks[index].arguments): index for index in indices}
        for future in as_completed(futures):
            try:
                result = future.result()
            except BrokenProcessPool:
                raise TaskLost(tasks[futures[future]].name, "a worker process died (out of memory?)") from None
            yield futures[future], result

    def close(self, abandon: bool) -> None:
        if self.pool is None:
            return
        if abandon:  # e.g. the time limit: stop the workers' layouts too
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.terminate()
        self.pool.shutdown(wait=not abandon, cancel_futures=True)


def local_executor(jobs: int) -> Executor:
    return InProcess() if jobs <= 1 else LocalProcesses(jobs)
