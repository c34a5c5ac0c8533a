"""Tasks on a Dask distributed cluster (`--scheduler tcp://HOST:PORT`).

Imported only when a build names a scheduler: a local build never loads Dask.

Each task travels whole (see `tasks.py`): its arguments, with the book's
paths at PORTABLE_ROOT, and the book files it reads, each sent to the
cluster once per build by its content hash (a small task keyed by the
sha256 that gives the bytes back: forty articles sharing a logo send it
once); a worker fetches what it lacks from the one that holds it, and the
scheduler makes it again if that one dies. The worker runs
`tasks.run_shipped`, which refuses work if its environment (our code and
styles, the engines, the fonts) differs from the client's, since it would
make other bytes.

A worker that dies mid-task has its task started again by the scheduler,
up to its `allowed-failures` limit (Dask's default: 3); then the task is
lost and the build fails with X005, naming it.

Before Dask connects, `_probe` checks within `ANSWER_TIMEOUT` that a Dask
peer answers at the address: Dask's own connect retries a refused port
until its timeout, waits for ever on a peer that accepts and says nothing
(its handshake read has no timeout), and takes another server's answer
("HTTP/1.1 400...") as the length of a frame to allocate (MemoryError).
"""

from __future__ import annotations

import socket
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..resources import ResourceRefused, inside, read_bytes
from .executors import Task, TaskLost
from .tasks import OtherEnvironment, environment_digest, environment_summary, returned, run_shipped, shipped

CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler, and for it to have a worker, before the build gives up
ANSWER_TIMEOUT = 4.0  # seconds for a peer to accept the connection and send its first bytes (`_probe`)
MAX_HANDSHAKE = 1 << 20  # bytes: a scheduler's first message (its handshake) is a few hundred


class SchedulerUnreachable(Exception):
    """The scheduler did not answer (wrong address, not started, a firewall),
    has no worker, or was lost in the middle of the build."""


class WorkerDiffers(Exception):
    """A worker runs another pipeline, engine, styles or fonts than the client."""


class DaskCluster:
    """An `executors.Executor` whose workers are a Dask cluster's."""

    shares_files = False  # its workers see none of this machine's files

    def __init__(self, address: str, timeout: float | None = None):
        from distributed import Client

        timeout = timeout or CONNECT_TIMEOUT
        _probe(address, min(timeout, ANSWER_TIMEOUT))
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, MemoryError, ValueError) as exc:
            raise SchedulerUnreachable(str(exc) or exc.__class__.__name__) from None
        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            self.client.close()
            raise SchedulerUnreachable(f"it has no worker after {timeout:g} s") from None
        self.address = address
        self.shipped: dict[str, Any] = {}  # sha256 -> the future of those bytes on the cluster
        self.by_path: dict[Path, Any] = {}  # a file read this build -> its future
        self.environment = environment_digest()

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed
        from distributed.client import FutureCancelledError
        from distributed.comm import CommClosedError
        from distributed.scheduler import KilledWorker

        futures = {}
        for index, task in enumerate(tasks):
            # A key of its own: keys are the scheduler's, shared by every
            # client; another build's task must never stand for this one.
            future = self.client.submit(run_shipped, task.function, shipped(task), self._files(task),
                                        self.environment, key=f"pipeline-{task.name}-{uuid.uuid4().hex}")
            futures[future] = index
        try:
            for future in as_completed(list(futures), loop=self.client.loop):
                index = futures.pop(future)
                try:
                    result = future.result()
                    future.release()  # the worker may forget it: the client has it now
                    yield index, returned(tasks[index], result)
                except KilledWorker as exc:
                    raise TaskLost(tasks[index].name, f"the worker running it died, each of the "
                                   f"{exc.allowed_failures + 1} time(s) it was started") from None
                except FutureCancelledError:
                    raise TaskLost(tasks[index].name, "the scheduler cancelled it") from None
                except OtherEnvironment as exc:
                    raise WorkerDiffers(_differences(exc.args[0] if exc.args else ())) from None
        except (CommClosedError, OSError) as exc:
            raise SchedulerUnreachable(f"the connection was lost: {exc}") from None
        finally:
            self.client.cancel(list(futures))  # on an error, the others' work stops too

    def _files(self, task: Task) -> dict[str, Any]:
        """The task's files by their name in the book, each the future of its
        bytes on the cluster. A file the read gate refuses (a link out of the
        book) is not sent: the task meets the same refusal a local one does."""
        root = task.root.resolve()
        files = {}
        for path in task.files:
            try:
                real = inside(path, (root,))
            except ResourceRefused:
                continue
            files[real.relative_to(root).as_posix()] = self._ship(real, root)
        return files

    def _ship(self, path: Path, root: Path) -> Any:
        """The future of `path`'s bytes on the cluster, sent once by content
        (and read once per build)."""
        if path not in self.by_path:
            import hashlib

            data = read_bytes(path, (root,))
            digest = hashlib.sha256(data).hexdigest()
            if digest not in self.shipped:
                # A task that returns the bytes, not `scatter`: a scattered
                # value dies with the worker that holds it (and every task
                # needing it is cancelled); a task's result is made again.
                # (`bytes` of bytes is the same bytes: the task returns `data`.)
                self.shipped[digest] = self.client.submit(bytes, data, key=f"pipeline-file-{digest}",
                                                          pure=False)
            self.by_path[path] = self.shipped[digest]
        return self.by_path[path]

    def close(self, abandon: bool) -> None:
        self.shipped.clear()
        self.by_path.clear()
        self.client.close()


def _probe(address: str, timeout: float) -> None:
    """Raise SchedulerUnreachable unless something at `address` accepts a
    connection within `timeout` s and, for tcp://, starts its answer as a Dask
    peer does: with the 8-byte length of a small first message, sent on
    accepting (a tls:// peer waits for the client to speak first, so there
    the connection alone is checked)."""
    scheme, _, place = address.partition("://")
    host, _, port = place.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as connection:
            head = _first_bytes(connection, 8) if scheme == "tcp" else bytes(8)
    except socket.timeout:
        raise SchedulerUnreachable(f"no answer within {timeout:g} s") from None
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SchedulerUnreachable(why) from None
    if len(head) < 8 or struct.unpack("<Q", head)[0] > MAX_HANDSHAKE:
        raise SchedulerUnreachable("what answers there is not a Dask scheduler")


def _first_bytes(connection: socket.socket, count: int) -> bytes:
    """Up to `count` bytes the peer sends first (fewer if it closes)."""
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _differences(theirs: tuple[tuple[str, str], ...]) -> str:
    """What differs between a worker's environment and ours, in words."""
    ours, their = dict(environment_summary()), dict(theirs)
    names = [name for name in dict.fromkeys([*ours, *their]) if ours.get(name) != their.get(name)]
    return "; ".join(f"{name}: {their.get(name, 'none')} there, {ours.get(name, 'none')} here" for name in names) \
        or "unknown"
