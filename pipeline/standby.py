"""A helper process started before its work is known.

Some of a build's work needs a second Python with heavy imports or data:
the language ranker's model (load/language.py), Typst's compile
(export/typst/compiler.py). Started when the build begins, such a process
makes itself ready (imports, unpacking) on the other core while the book is
read, then waits for one line on its stdin: the folder its work is in, or
nothing, which ends it. So the build pays for the process only where it
would have waited for it anyway.

A process, not a thread: the PDF's layout workers are forked, and must not
inherit a thread's half-held state. Told in one line, never by the end of
the stream, which a forked worker may hold open. The child side calls
`wait_for_work`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path


class Standby:
    """`function` of `module` (`module:function`), run with `arguments`
    in a process of its own from now on; told its folder once (`tell`), or
    stopped (`stop`: killed, never waited for to get ready)."""

    def __init__(self, target: str, *arguments: str):
        module, function = target.split(":")
        # -P: `python -c` would put the working folder first on the import path, and a build run in a
        # book folder would import the book's json.py or numpy/ in the helper instead of the library's.
        self._errors = tempfile.TemporaryFile()  # what it says on stderr, for `said` (a file: it never blocks)
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-c", f"from {module} import {function}; {function}()", *arguments],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._errors)
        self._told = False

    @property
    def told(self) -> bool:
        return self._told

    def tell(self, folder: Path | str) -> bool:
        """Give the process its work: False when it cannot be told (it
        ended early, or was told already), and the work is the caller's."""
        if self._told:
            return False
        self._told = True
        try:
            self.process.stdin.write(str(folder).encode() + b"\n")
            self.process.stdin.flush()
            return True
        except OSError:
            return False
        finally:
            self._close()

    def stop(self) -> None:
        """No work for it (or the build ends): the process is killed, if it
        was never told, and reaped."""
        if not self._told:
            self._told = True
            self.process.kill()
            self.process.wait()
            self._close()

    def said(self, characters: int = 2000) -> str:
        """The end of what the process wrote on stderr (a traceback, Rust's
        "memory allocation failed"), once it has ended."""
        self._errors.seek(0, 2)
        self._errors.seek(max(self._errors.tell() - characters, 0))
        return self._errors.read().decode("utf-8", "replace")

    def _close(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:  # (the pipe broke: the process had ended)
            pass

    def __getstate__(self) -> dict:
        raise TypeError("a Standby belongs to the process that started it: it is never sent to a worker")


def wait_for_work() -> Path | None:
    """In the helper process, once ready: the folder it was told, or None
    when it was stopped (an empty line, or the build gone)."""
    line = sys.stdin.readline().strip()
    return Path(line) if line else None
