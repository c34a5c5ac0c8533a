"""A build's private folders under the system's temporary folder.

Each is named for the process that made it (`pipeline-KIND-PID-RANDOM`).
A build that ends, fails or is interrupted removes its own; one killed
outright (SIGKILL, the kernel's memory killer, a container stopped) removes
nothing, and on a server that builds all day such folders would fill the
disk (a Typst compile folder holds the book's images and fonts). So each
build first removes what builds killed before it left (`sweep`): the
folders of this user whose process no longer runs, untouched for an hour
(a process of another PID namespace sharing /tmp is not seen here; the hour
keeps its running build's folders).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path

ABANDONED_AFTER = 3600  # seconds untouched before a dead process's folder is removed
KINDS = ("typst", "language", "booklet", "onix", "task")  # the folders builds make (`folder`, `made`)
# Exactly the names `folder` and `made` give (tempfile's 8 random letters), never
# another program's `pipeline-run-2023-final`; a pid of at most Linux's pid_max.
_NAME = re.compile(rf"pipeline-(?:{'|'.join(KINDS)})-([0-9]{{1,7}})-[a-z0-9_]{{8}}")
PID_MAX = 4_194_304


def folder(kind: str) -> tempfile.TemporaryDirectory:
    """A private folder for `kind` of work, removed when the `with` ends."""
    return tempfile.TemporaryDirectory(prefix=_prefix(kind))


def made(kind: str) -> Path:
    """A private folder for `kind` of work, removed by the caller."""
    return Path(tempfile.mkdtemp(prefix=_prefix(kind)))


def _prefix(kind: str) -> str:
    if kind not in KINDS:  # (the sweep removes only these)
        raise ValueError(f"unknown kind of private folder: {kind}")
    return f"pipeline-{kind}-{os.getpid()}-"


def sweep(root: Path | None = None, now: float | None = None) -> list[Path]:
    """Remove the folders killed builds left in `root` (the temporary
    folder); return them. Never one of another user, of a process that
    runs, touched within ABANDONED_AFTER, or a link."""
    root = Path(tempfile.gettempdir()) if root is None else root
    now = time.time() if now is None else now
    removed = []
    try:
        candidates = list(root.glob("pipeline-*-*-*"))
    except OSError:
        return removed
    for path in candidates:
        match = _NAME.fullmatch(path.name)
        pid = int(match[1]) if match else 0
        if pid in (0, os.getpid()) or pid > PID_MAX:
            continue
        try:
            status = path.lstat()  # (of the name itself: a link is no folder here)
        except OSError:
            continue
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() \
                or now - status.st_mtime < ABANDONED_AFTER or _running(pid):
            continue
        try:
            shutil.rmtree(path)
        except (OSError, RecursionError):  # what cannot be removed stays; the build goes on
            continue
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    return True
