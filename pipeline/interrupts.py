"""Ctrl-C, remembered as well as raised.

Python turns SIGINT into KeyboardInterrupt wherever the main thread happens
to be. Where that is a place no exception can leave (an at-fork handler
while a worker or the Typst compile is being started, a finalizer), Python
prints "Exception ignored" and the build would go on and commit its
outputs. The command line's handler (`remembered`) also remembers the signal,
and the build asks (`check`) before it commits, so a Ctrl-C always stops it
with the previous outputs left as they were. And Python's report of the
exception it dropped ("Exception ignored in: ... KeyboardInterrupt", seen in
logging's at-fork handler while a layout worker was being started) goes to
`sys.unraisablehook`, which `remembered` quiets for KeyboardInterrupt alone:
the one line a stopped build prints stays its only line.

A worker forked while a command runs inherits the handler until it sets
its own (`executors.worker_started`); a Ctrl-C to the process group that
lands in it before then would raise inside Python's own at-fork handlers
and print a traceback ("Exception ignored in: Random.seed"), more than the
one line a stopped build prints. In any process but the command's, the
handler ignores Ctrl-C from then on, as a worker does.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_received = threading.Event()
_command: list[int] = []  # the process the command line's handler was installed in


def _handler(signum, frame) -> None:
    import os

    if _command and os.getpid() != _command[-1]:  # a forked worker, not yet its own handler
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return
    _received.set()
    raise KeyboardInterrupt


def _quiet_interrupts(previous):
    """An unraisable hook that drops a KeyboardInterrupt (remembered by
    `_handler`, raised again by `check`) and passes anything else on."""

    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and _received.is_set():
            return
        previous(unraisable)

    return hook


@contextmanager
def remembered() -> Iterator[None]:
    """Ctrl-C remembered while a command runs (the command line, in its main
    thread); the handler before it is put back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    import os

    _received.clear()
    _command.append(os.getpid())
    previous = signal.signal(signal.SIGINT, _handler)
    unraisable = sys.unraisablehook
    sys.unraisablehook = _quiet_interrupts(unraisable)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = unraisable
        _command.pop()
        _received.clear()  # remembered for this command only


def check() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C came, even one Python dropped."""
    if _received.is_set():
        raise KeyboardInterrupt
