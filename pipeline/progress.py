"""Progress of a build: which stage it is in and how far along.

A long book takes minutes to lay out, so the CLI shows where the time goes:
one rich progress bar per stage (and per chunk of a parallel layout) on a
terminal, one plain line per step when the output is a log, nothing with
`--quiet`. The build only calls `start` and `advance`; how that is shown is
decided here, once. The library default (`Progress`) shows nothing.

Progress never reaches a worker process (it holds a terminal); workers'
steps are reported by the parent as their results come back.
"""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    """Shows nothing: the library default and `--quiet`."""

    def start(self, stage: str, total: int | None = None) -> None:
        """A new stage begins; `total` steps if known (e.g. chunks to lay out)."""

    def advance(self, steps: int = 1) -> None:
        """`steps` more steps of the current stage are done."""

    def close(self) -> None:
        """The build is over: finish the display."""


class LineProgress(Progress):
    """One line per stage and per step, with the seconds since the build began:
    readable in a CI log or a file, where a redrawn bar would be noise."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.began = time.monotonic()
        self.stage, self.total, self.done = "", None, 0

    def _line(self, text: str) -> None:
        print(f"[{time.monotonic() - self.began:6.1f} s] {text}", file=self.stream, flush=True)

    def start(self, stage: str, total: int | None = None) -> None:
        self.stage, self.total, self.done = stage, total, 0
        self._line(stage if total is None else f"{stage} (0/{total})")

    def advance(self, steps: int = 1) -> None:
        before, self.done = self.done, self.done + steps
        if not self.total:
            self._line(f"{self.stage}: step {self.done}")
        elif self.total <= 20 or self.done * 10 // self.total > before * 10 // self.total:
            self._line(f"{self.stage} ({self.done}/{self.total})")  # long stages: every tenth


class RichProgress(Progress):
    """A rich progress bar per stage, on a terminal."""

    def __init__(self, stream: TextIO):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, SpinnerColumn, \
            TextColumn, TimeElapsedColumn

        # No redirection of stdout/stderr: worker processes are forked from
        # this one and must not write through rich's (possibly locked) proxy.
        self.bars = Bars(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                         TimeElapsedColumn(), console=Console(file=stream), transient=False,
                         redirect_stdout=False, redirect_stderr=False)
        self.task = None

    def _finish_task(self) -> None:
        """Show the current stage as complete (a stage without a total, as one step)."""
        if self.task is not None:
            total = next(task.total for task in self.bars.tasks if task.id == self.task) or 1
            self.bars.update(self.task, total=total, completed=total)

    def start(self, stage: str, total: int | None = None) -> None:
        if self.task is None:
            self.bars.start()  # only now: a no-op rebuild shows (and hides the cursor) nothing
        self._finish_task()
        self.task = self.bars.add_task(stage, total=total)

    def advance(self, steps: int = 1) -> None:
        if self.task is not None:
            self.bars.advance(self.task, steps)

    def close(self) -> None:
        if self.task is not None:
            self._finish_task()
            self.bars.stop()
            self.task = None


def for_stream(stream: TextIO, quiet: bool = False) -> Progress:
    """Bars on a terminal, lines elsewhere, nothing when quiet."""
    if quiet:
        return Progress()
    if stream.isatty():
        return RichProgress(stream)
    return LineProgress(stream)
