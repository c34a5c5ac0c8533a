"""Writing outputs without ever losing the previous ones.

Exporters write to temporary files in the output folder; only when every
output of the build is complete are they renamed over their final names
(`os.replace` is atomic within one file system). A failed, interrupted or
killed build leaves the previous outputs byte-for-byte intact and no
half-written file under a final name.

Temporary files are created private (0600, by `tempfile.mkstemp`); each
gets the mode a plainly created file would have (0666 less the umask,
usually 0644) before it takes its final name, so what the pipeline writes,
outputs and imported manuscripts alike, is as readable as the user's other files.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path

# The output folder a build writes to when none is named: `_dist` inside the
# book folder (as mdBook's `book/` and Quarto's `_book/` sit in the project).
# The leading underscore keeps it out of what Jekyll, Docusaurus and Quarto
# publish, should the book folder be a website's too.
DEFAULT_OUT = "_dist"
# The folder every build keeps its state and caches in, inside OUT_DIR
# (`cache.CACHE_DIR`): a folder holding one is an output folder of ours.
CACHE_NAME = ".pipeline-cache"

# The name of every temporary file this module makes: `.NAME.` + mkstemp's
# eight random letters, digits or '_' + `.tmp` (`temporary_beside`).
TEMPORARY = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")


def default_out(book_dir: Path) -> Path:
    """OUT_DIR when none is given: `_dist` in the book folder, whatever the
    folder the command runs in, so that a book's outputs stay with it (two
    books never share, and prune, one `dist/`)."""
    return book_dir / DEFAULT_OUT


def is_output_folder(folder: Path) -> bool:
    """Whether `folder` is an output folder, which the book's discovery
    walks never read: one named `_dist`, or one an earlier build wrote into
    (it holds `.pipeline-cache/`). A previous build's files, or a
    manuscript copied among them, are not the book."""
    return folder.name == DEFAULT_OUT or (folder / CACHE_NAME).is_dir()


def file_mode() -> int:
    """0666 less the process's umask: the mode `open()` gives a new file.
    Read from /proc where it can be (setting the umask to learn it is not
    safe while other threads create files), else by setting it back at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def temporary_beside(path: Path) -> tuple[int, str]:
    """A new private file `.NAME.xxxxxxxx.tmp` in `path`'s folder (made if
    missing): open handle and name. Named so that `remove_stale` knows it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def final_name(path: Path) -> Path:
    """The output a temporary file stands for (`.book.pdf.x1y2z3w4.tmp`:
    `book.pdf`), or `path` itself: what a message about it names."""
    match = TEMPORARY.fullmatch(path.name)
    return path.with_name(match["name"]) if match else path


def remove_stale(folder: Path, trees: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """Remove the temporary files (`TEMPORARY`) a killed build left in
    `folder` and anywhere under `trees` (links are not followed, other
    files are never touched); return them. Only for a build that knows no
    other is running there (`build._building_in`)."""
    folders = [str(folder)]
    folders += [root for tree in trees if not tree.is_symlink() for root, _, _ in os.walk(tree)]
    removed = []
    for name in folders:
        try:
            entries = list(os.scandir(name))
        except OSError:
            continue
        for entry in entries:
            if TEMPORARY.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                except OSError:
                    continue
                removed.append(Path(entry.path))
    return tuple(removed)


def write_atomically(path: Path, content: bytes) -> None:
    """Write `path` whole or not at all: a reader sees the old file or the
    new one, never half of one (temporary file beside it, fsync, rename)."""
    handle, name = temporary_beside(path)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(name, file_mode())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


class StagedOutputs:
    """Temporary files staged for final names, committed all together; and
    outputs of an earlier build that no longer belong to the book, removed
    at the same commit (never before every new output is complete)."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._retired: list[tuple[Path, str]] = []
        self.removed: tuple[Path, ...] = ()  # what the commit removed

    def stage(self, final: Path) -> Path:
        """A fresh temporary path beside `final`, to write the output to."""
        handle, name = temporary_beside(final)
        os.close(handle)
        self._staged.append((Path(name), final))
        return Path(name)

    def pending(self) -> tuple[tuple[Path, Path], ...]:
        """(temporary, final) pairs staged so far, not yet committed."""
        return tuple(self._staged)

    def retire(self, path: Path, sha256: str) -> None:
        """Remove `path` at commit, if it is still the file the pipeline
        wrote there (its content's sha256 is `sha256`): a file the user put
        or changed under that name is kept."""
        self._retired.append((path, sha256))

    def commit(self) -> tuple[Path, ...]:
        """Move every staged file to its final name, then remove the retired
        ones; return the final names."""
        mode = file_mode()
        for temporary, final in self._staged:
            os.chmod(temporary, mode)
            os.replace(temporary, final)
        finals = tuple(final for _, final in self._staged)
        self._staged.clear()
        self.removed = tuple(path for path, digest in self._retired
                             if path not in finals and _remove_if_holds(path, digest))
        self._retired.clear()
        return finals

    def __enter__(self) -> "StagedOutputs":
        return self

    def __exit__(self, *exc_info: object) -> None:
        for temporary, _ in self._staged:  # anything not committed is discarded
            temporary.unlink(missing_ok=True)


def holds(path: Path, sha256: str) -> bool:
    """Whether `path` is a plain file (not a link) whose content has this sha256."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        with open(path, "rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest() == sha256
    except OSError:
        return False


def _remove_if_holds(path: Path, sha256: str) -> bool:
    if not holds(path, sha256):
        return False
    try:
        path.unlink()
    except OSError:
        return False
    return True
