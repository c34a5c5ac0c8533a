"""A stranger's book, or a bad environment, cannot make a build outlive,
outgrow or outlast its bounds (#26): the fingerprint never reads a file the
build does not use; layout workers have a memory ceiling, ignore Ctrl-C and
die with the build; a build that cannot write, or is interrupted, says so
in one coded line, keeps the previous outputs and leaves no temporary file;
the next build removes what a killed one left."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import build
from pipeline.cache import fingerprint
from pipeline.export import executors
from pipeline.export.tasks import Task
from pipeline.output import TEMPORARY

from conftest import MANUSCRIPTS, ROOT, previous_outputs

WORDS = "tide harbour lantern morning gentle river stone quiet field window letter garden".split()


def _book(root: Path, articles: int) -> Path:
    """A book of `articles` short articles (enough parts that the PDF is laid out by workers)."""
    book = root / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Processes"\ndate = "2026-01-01"\n', encoding="utf-8")
    for number in range(1, articles + 1):
        paragraphs = "\n\n".join(" ".join(WORDS[(number + p + k) % len(WORDS)] for k in range(60))
                                 .capitalize() for p in range(12))
        (book / f"{number:02d}.md").write_text(f"---\ntitle: Article {number}\n---\n\n{paragraphs}\n",
                                               encoding="utf-8")
    return book


def _temporaries(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.tmp"))


def _cli(*arguments: str, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", *arguments], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **options)


# ---------------------------------------------------------------- fingerprint


def test_the_fingerprint_reads_only_the_files_a_build_may_read(tmp_path, monkeypatch):
    """A file the build never reads counts by name, size and time: changing
    its bytes in place (same size, same time) keeps the key; touching it changes it."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    book = _book(tmp_path, 1)
    stray = book / "notes.bin"
    stray.write_bytes(b"a" * 100)
    key = fingerprint(book, {})
    stamp = stray.stat()
    stray.write_bytes(b"b" * 100)
    os.utime(stray, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert fingerprint(book, {}) == key  # not read
    os.utime(stray, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000_000))
    assert fingerprint(book, {}) != key
    manuscript = book / "01.md"  # a manuscript is read: its content counts, whatever its stat
    stamp, before = manuscript.stat(), fingerprint(book, {})
    manuscript.write_bytes(manuscript.read_bytes().replace(b"Article 1", b"Article I"))
    os.utime(manuscript, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert fingerprint(book, {}) != before


def test_a_huge_sparse_file_in_the_book_is_never_read(tmp_path):
    """The issue's 3 GB sparse file took 3.2 GB and 14.6 s to fingerprint."""
    book = _book(tmp_path, 1)
    with open(book / "big.bin", "wb") as stream:
        stream.truncate(3 << 30)
    with open(book / "styles.css", "wb") as stream:  # a name the build reads, past any size it reads
        stream.truncate(1 << 30)
    # VmHWM: this process's own peak (ru_maxrss would carry the forking test process's, kept across exec).
    script = ("import sys; from pathlib import Path; from pipeline.cache import fingerprint; "
              "fingerprint(Path(sys.argv[1]), {}); "
              "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))")
    done = subprocess.run([sys.executable, "-c", script, str(book)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) < 200 * 1024  # KiB: the files were not read into memory


# ---------------------------------------------------------------- memory ceiling


def _limits() -> tuple[int, int]:
    return resource.getrlimit(resource.RLIMIT_AS)


def _greedy(*arguments) -> int:
    """A runaway layout: eight GiB at once."""
    return len(bytes(8 << 30))  # calloc: no page is touched if it succeeds


def test_workers_have_the_memory_ceiling_and_the_variable_sets_it(monkeypatch):
    monkeypatch.setenv("PIPELINE_MEMORY_LIMIT", "3000")
    runner = executors.LocalProcesses(jobs=2)
    try:
        limits = dict(runner.run([Task(f"t{n}", _limits, (), Path(".")) for n in range(3)]))
    finally:
        runner.close(abandon=False)
    assert {soft for soft, _ in limits.values()} == {3000 << 20}
    assert {hard for _, hard in limits.values()} == {_limits()[1]}  # the hard limit is left as it was
    assert _limits()[0] == resource.RLIM_INFINITY or _limits()[0] != 3000 << 20  # not the build's own


def test_a_layout_past_the_memory_ceiling_is_x008_naming_the_part(tmp_path, monkeypatch):
    from pipeline.export.pdf import engine

    monkeypatch.setenv("PIPELINE_MEMORY_LIMIT", "1500")
    monkeypatch.setattr(engine, "lay_out_dated", _greedy)  # workers are forked: they see it too
    out = tmp_path / "out"
    result = build(_book(tmp_path, 13), out, formats=("pdf",), jobs=2, cache=False)
    [diagnostic] = result.diagnostics
    assert diagnostic.code == "X008" and "1500 MiB" in diagnostic.message
    assert "'body" in diagnostic.message or "'front" in diagnostic.message  # the part being laid out
    assert ".md" in diagnostic.message and diagnostic.path is not None and diagnostic.path.suffix == ".md"
    assert not out.exists() or _temporaries(out) == []


def test_a_normal_build_fits_under_the_default_ceiling(tmp_path, monkeypatch):
    monkeypatch.delenv("PIPELINE_MEMORY_LIMIT", raising=False)
    result = build(_book(tmp_path, 13), tmp_path / "out", formats=("pdf",), jobs=2, cache=False)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert executors.memory_limit() == executors.MEMORY_LIMIT_MIB << 20


# ---------------------------------------------------------------- outputs that cannot be written


def test_an_output_folder_under_a_file_or_too_long_is_located_not_a_traceback(tmp_path):
    """Under a file: O006 names the file before anything is built; a name too long for the
    file system: X002 with the system's words."""
    (tmp_path / "file").write_text("", encoding="utf-8")
    for out, said in ((tmp_path / "file" / "out", f"error[O006]: output folder '{tmp_path / 'file' / 'out'}' "
                                                  f"cannot be made: '{tmp_path / 'file'}' is a file"),
                      (tmp_path / ("x" * 300), "File name too long")):
        run = _cli("build", str(MANUSCRIPTS), "--out", str(out), "-q")
        stdout, stderr = run.communicate(timeout=300)
        assert run.returncode == 1, stderr
        assert said in stderr and "Traceback" not in stderr, stderr
        assert "O006" in said or "error[X002]" in stderr


def test_a_read_only_output_folder_is_x002_and_the_old_outputs_stay(tmp_path, monkeypatch, built_book):
    """As root a chmod 0555 folder is still writable: the read-only file
    system is the error its first new file gets (`output.temporary_beside`)."""
    from pipeline import output

    out = tmp_path / "out"
    previous = previous_outputs(out, built_book)

    def read_only(*arguments, **options):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), options.get("dir"))

    monkeypatch.setattr(output.tempfile, "mkstemp", read_only)
    result = build(MANUSCRIPTS, out, formats=("epub",), cache=False)
    [diagnostic] = result.diagnostics
    assert diagnostic.code == "X002" and "Read-only file system" in diagnostic.message
    assert str(out) in diagnostic.message
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == previous


def test_a_full_disk_while_joining_the_pdf_is_x002_and_leaves_no_temporary_file(tmp_path, monkeypatch,
                                                                                  built_book):
    """qpdf writing a file onto a full disk aborted the process (rc 134)."""
    from pipeline.export.pdf import join

    out = tmp_path / "out"
    previous = previous_outputs(out, built_book)

    class Full:
        def __init__(self, path, mode):
            self.stream = open(path, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.stream.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(join, "open", Full, raising=False)
    result = build(MANUSCRIPTS, out, cache=False, jobs=1)
    [diagnostic] = result.diagnostics
    assert diagnostic.code == "X002" and "No space left on device" in diagnostic.message
    assert "kratom-and-muscle-soreness.pdf'" in diagnostic.message  # the output, not its temporary name
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == previous
    assert _temporaries(out) == []


def _tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True).returncode == 0


def test_a_really_full_disk_is_x002_in_a_process_that_survives(tmp_path):
    """On a real full file system (a 200 KiB tmpfs, where mounting is allowed)."""
    disk = tmp_path / "disk"
    if not _tmpfs(disk, "200k"):
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        out = disk / "out"
        first = _cli("build", str(MANUSCRIPTS), "--out", str(out), "--format", "epub", "-q")
        assert first.wait(timeout=300) == 0
        epub = {p.name: p.read_bytes() for p in out.glob("*.epub")}
        run = _cli("build", str(MANUSCRIPTS), "--out", str(out), "-q")
        stdout, stderr = run.communicate(timeout=300)
        assert run.returncode == 1 and "error[X002]" in stderr and "Traceback" not in stderr, stderr
        assert {p.name: p.read_bytes() for p in out.glob("*.epub")} == epub and not list(out.glob("*.pdf"))
        assert _temporaries(out) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


# ---------------------------------------------------------------- Ctrl-C, SIGKILL


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (from /proc: psutil is not needed)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def _staged(out: Path) -> list[Path]:
    """The book's outputs being written: `.NAME.xxxxxxxx.tmp` in the output
    folder (output.StagedOutputs), not the caches' own temporaries."""
    return sorted(p for p in out.glob(".*.tmp") if TEMPORARY.fullmatch(p.name))


def _outputs(out: Path) -> dict[Path, bytes]:
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()
            and ".pipeline-cache" not in p.parts}


_DROPPED_INTERRUPT = """
import os, signal, time
from pipeline.interrupts import check, remembered

class Finalized:
    def __del__(self):  # where Python can only drop an exception (as in an at-fork handler)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)

with remembered():
    Finalized()
    try:
        check()
    except KeyboardInterrupt:
        print("stopped")
"""


def test_a_ctrl_c_python_drops_stops_the_command_and_prints_nothing_of_it():
    """The Ctrl-C that landed in a place no exception can leave (CI saw it in
    logging's at-fork handler while a worker started): remembered, raised
    again by `check`, and no "Exception ignored" report beside the one line."""
    run = subprocess.run([sys.executable, "-c", _DROPPED_INTERRUPT], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (0, "stopped\n", "")


@needs_proc
def test_ctrl_c_prints_one_line_exits_130_and_keeps_the_old_outputs(tmp_path):
    """A real SIGINT to the build's process group, sent while its PDF is
    being laid out by workers and written to a staged temporary file."""
    book, out = _book(tmp_path, 13), tmp_path / "out"
    assert _cli("build", str(book), "--out", str(out), "-q", "--jobs", "2").wait(timeout=600) == 0
    before = _outputs(out)
    changed = book / "03.md"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nChanged.\n", encoding="utf-8")
    # --no-cache: every part laid out again, on workers. In a session of its
    # own, so that the signal goes to the whole group, as a terminal's Ctrl-C does.
    run = _cli("build", str(book), "--out", str(out), "-q", "--jobs", "2", "--no-cache",
               start_new_session=True)
    assert _until(lambda: run.poll() is not None or (len(_children(run.pid)) >= 2 and _staged(out)), 120)
    assert run.poll() is None, f"the build ended before it was signalled: {run.communicate()}"
    workers = _children(run.pid)
    os.killpg(run.pid, signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    assert stderr.splitlines() == [stderr.strip()] and stderr.startswith("error[X007]"), stderr
    assert _outputs(out) == before
    assert _temporaries(out) == []
    assert _until(lambda: not any(map(_alive, workers)), 10)


@needs_proc
def test_a_killed_build_leaves_no_worker_and_the_next_build_no_temporary_file(tmp_path):
    """SIGKILL, which nothing can catch, while the build writes its staged
    outputs: the previous outputs stay whole, the temporary files it was
    writing are left; the next build (alone in the folder) removes them, and
    only them, and succeeds."""
    book, out = _book(tmp_path, 13), tmp_path / "out"
    assert _cli("build", str(book), "--out", str(out), "-q", "--jobs", "2").wait(timeout=600) == 0
    before = _outputs(out)
    changed = book / "03.md"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nChanged.\n", encoding="utf-8")
    mine = out / "notes.tmp"  # the user's own file, never a build's to remove
    mine.write_bytes(b"mine")
    run = _cli("build", str(book), "--out", str(out), "-q", "--jobs", "2", "--no-cache")
    assert _until(lambda: run.poll() is not None or (len(_children(run.pid)) >= 2 and _staged(out)), 120)
    assert run.poll() is None, f"the build ended before it was signalled: {run.communicate()}"
    workers = _children(run.pid)
    run.kill()
    run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL
    assert _until(lambda: not any(map(_alive, workers)), 10), "workers outlived their build"
    left = _staged(out)
    assert left, "the killed build left no temporary file: it was not killed while writing"
    assert {name: data for name, data in _outputs(out).items()
            if name.name != mine.name and not TEMPORARY.fullmatch(name.name)} == before
    assert _cli("build", str(book), "--out", str(out), "-q", "--jobs", "1").wait(600) == 0
    assert _temporaries(out) == [mine] and mine.read_bytes() == b"mine"
    after = _outputs(out)
    assert after.keys() == before.keys() | {mine.relative_to(out)}
    assert {".pdf", ".epub"} <= {name.suffix for name in before if after[name] != before[name]}  # rebuilt


def test_a_ctrl_c_that_python_drops_still_stops_the_build_before_it_commits(tmp_path, monkeypatch, built_book):
    """Python drops a KeyboardInterrupt raised where no exception can leave
    (an at-fork handler while a child process starts: "Exception ignored");
    the signal is remembered, and the build stops before its commit (X007, 130)."""
    import io

    from pipeline.commands.cli import main
    from pipeline.export import booklets

    out = tmp_path / "out"
    previous = previous_outputs(out, built_book)
    real = booklets.export_formats

    def dropped_on_the_way(*arguments):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)  # the handler runs here
        except KeyboardInterrupt:
            pass  # as Python's "Exception ignored" does
        return real(*arguments)

    monkeypatch.setattr(booklets, "export_formats", dropped_on_the_way)
    stderr = io.StringIO()
    assert main(["build", str(MANUSCRIPTS), "--out", str(out), "--format", "epub", "-q"], io.StringIO(), stderr) == 130
    assert stderr.getvalue().startswith("error[X007]"), stderr.getvalue()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == previous
    assert _temporaries(out) == []


def test_a_ctrl_c_in_a_just_forked_worker_is_ignored_there_and_raised_in_the_build():
    """A worker forked while the command line's handler is installed gets a
    Ctrl-C before it sets its own handler: it is ignored there (it raised
    inside Python's at-fork handlers and printed a traceback, one build in
    five in a stress run), and the build's own process still stops."""
    script = (
        "import os, signal\n"
        "from pipeline import interrupts\n"
        "with interrupts.remembered():\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        try:\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "            sum(range(100000))\n"
        "            os._exit(0)\n"
        "        except KeyboardInterrupt:\n"
        "            os._exit(3)\n"
        "    print('worker', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
        "    try:\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        sum(range(100000))\n"
        "    except KeyboardInterrupt:\n"
        "        print('build interrupted')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == ["worker 0", "build interrupted"], (done.stdout, done.stderr)
    assert done.stderr == ""
