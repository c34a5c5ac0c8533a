"""A build killed outright leaves its private folders in the temporary
folder; the next build removes them, and never a running build's."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import build, scratch

from conftest import ROOT


def _dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _left(root: Path, kind: str, pid: int, age: float) -> Path:
    folder = root / f"pipeline-{kind}-{pid}-abc12345"
    (folder / "inside").mkdir(parents=True)
    (folder / "inside" / "book.png").write_bytes(b"x" * 100)
    then = time.time() - age
    os.utime(folder, (then, then))
    return folder


def test_only_a_dead_processs_old_folders_are_swept(tmp_path):
    dead = _dead_pid()
    gone = _left(tmp_path, "typst", dead, 2 * scratch.ABANDONED_AFTER)
    fresh = _left(tmp_path, "language", dead, 10)  # perhaps a build of another PID namespace, running
    alive = _left(tmp_path, "typst", os.getppid(), 2 * scratch.ABANDONED_AFTER)  # a process that runs
    mine = _left(tmp_path, "booklet", os.getpid(), 2 * scratch.ABANDONED_AFTER)
    link = tmp_path / f"pipeline-typst-{dead}-linkedto"
    link.symlink_to(fresh)
    others = [_left(tmp_path, "x", dead, 2 * scratch.ABANDONED_AFTER).rename(tmp_path / name) for name in (
        f"pipeline-run-{dead}-final", f"pipeline-data-{dead}-abc12345", f"pipeline-typst-{dead}-backup",
        "pipeline-typst-\u0663\u0663\u0663-abc12345", f"someone-{dead}-abc12345")]
    huge = [_left(tmp_path, "typst", pid, 2 * scratch.ABANDONED_AFTER) for pid in (99999999999999999999, 4294967296)]
    assert scratch.sweep(tmp_path) == [gone]
    assert not gone.exists() and fresh.exists() and alive.exists() and mine.exists()
    assert link.is_symlink() and all(path.exists() for path in others + huge)


def test_a_folder_the_sweep_cannot_remove_leaves_the_build_going(tmp_path):
    """A dead build's folder nested deeper than Python recurses: left, not a crash."""
    folder = _left(tmp_path, "typst", _dead_pid(), 0)
    deep = folder
    for _ in range(1200):
        deep = deep / "d"
        deep.mkdir()
    then = time.time() - 2 * scratch.ABANDONED_AFTER
    os.utime(folder, (then, then))
    try:
        scratch.sweep(tmp_path)  # no exception, whatever is left
    finally:  # the chain removed from the deepest up (pytest's own removal of tmp_path would recurse too deep)
        while deep != folder:
            if deep.exists():
                deep.rmdir()
            deep = deep.parent
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc (Linux)")
def test_a_build_killed_outright_leaves_folders_the_next_build_removes(tmp_path, monkeypatch):
    """A Typst build SIGKILLed while it compiles leaves its compile folder
    (it could not remove it); a later build removes it once it is old."""
    import tempfile

    root = tmp_path / "tmp"
    root.mkdir()
    environment = {**os.environ, "TMPDIR": str(root)}
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "build", str(ROOT / "manuscripts"), "--out",
                                str(tmp_path / "out"), "--engine", "typst", "--format", "pdf", "--no-cache", "--quiet"],
                               env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list(root.glob(f"pipeline-typst-{process.pid}-*")) and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    left = list(root.glob(f"pipeline-typst-{process.pid}-*"))
    if not left:
        pytest.skip("the build ended before its compile folder could be caught")
    old = time.time() - 2 * scratch.ABANDONED_AFTER
    for folder in left:
        os.utime(folder, (old, old))
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    assert build(ROOT / "manuscripts", tmp_path / "again", formats=("epub",), cache=False).ok
    assert not any(folder.exists() for folder in left)
