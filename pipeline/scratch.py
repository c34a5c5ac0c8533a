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
import tempfile
import time
from pathlib import Path

ABANDONED_AFTER = 3600  # seconds untouched before a dead process's folder is removed
_NAME = re.compile(r"pipeline-[a-z]+-(\d+)-[A-Za-z0-9_]+")


def folder(kind: str) -> tempfile.TemporaryDirectory:
    """A private folder for `kind` of work, removed when the `with` ends."""
    return tempfile.TemporaryDirectory(prefix=_prefix(kind))


def made(kind: str) -> Path:
    """A private folder for `kind` of work, removed by the caller."""
    return Path(tempfile.mkdtemp(prefix=_prefix(kind)))


def _prefix(kind: str) -> str:
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
        if match is None or int(match[1]) == os.getpid():
            continue
        try:
            status = path.lstat()
        except OSError:
            continue
        if not path.is_dir() or path.is_symlink() or status.st_uid != os.getuid() \
                or now - status.st_mtime < ABANDONED_AFTER or _running(int(match[1])):
            continue
        shutil.rmtree(path, ignore_errors=True)
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
