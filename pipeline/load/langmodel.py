"""py3langid's model, unpacked once per machine.

The wheel ships its model LZMA-compressed (4.5 MB); unpacking it costs 0.6 s
of CPU (0.9 s with its arrays rebuilt) in every build that checks a language,
more than the Typst layout of a short book, and the test suite builds
hundreds of books. So the unpacked arrays are kept in the user's cache
folder ($XDG_CACHE_HOME/pipeline, else ~/.cache/pipeline), one folder per
model (named by the digest of the model file: a new py3langid makes a new
folder), and mapped from there read-only: loading takes some 20 ms, and the
processes of parallel builds share the pages.

The files are plain arrays (.npy, read without pickle) and a JSON list of
labels, checked for shape before use: a cache folder that is damaged, cannot
be written or cannot be read is passed over, and the model unpacked as
before. Nothing of a book is kept there, and no book names its path.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

_ARRAYS = ("ptc", "pc", "nextmove", "row", "output")
# Each file's largest size in bytes (the model's own are 28 MB, 1 kB, 39 MB, 0.2 MB, 0.4 MB, 1 kB): a
# damaged header cannot make a check read gigabytes, nor a device or a pipe stand for a file.
_LIMITS = {"ptc.npy": 1 << 28, "pc.npy": 1 << 16, "nextmove.npy": 1 << 28, "row.npy": 1 << 24,
           "output.npy": 1 << 24, "classes.json": 1 << 16}


def _plain_file(path: Path, limit: int) -> bool:
    """A regular file (a link to one is followed) of at most `limit` bytes."""
    import stat

    status = path.stat()
    return stat.S_ISREG(status.st_mode) and status.st_size <= limit


def identifier():
    """py3langid's LanguageIdentifier with probabilities that sum to 1,
    read from the machine's cache, which is filled when it lacks the model."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model

    source = MODEL_DIR / MODEL_FILE
    folder = _folder(source)
    parts = _mapped(folder) if folder else None
    if parts is not None:
        mapped = _identifier_of(parts)
        if _reads_right(mapped):
            return mapped
        # (else arrays of the right shape holding something else: unpacked again, replaced)
    parts = load_model(source)  # (ptc, pc, classes, nextmove, row, output)
    if folder:
        _keep(folder, parts)
    return _identifier_of(parts)


def _identifier_of(parts: tuple):
    from py3langid.langid import LanguageIdentifier

    ptc, pc, classes, nextmove, row, output = parts
    return LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)


# Two sentences whose language any sound copy of the model is sure of.
_KNOWN = (("en", "The harbour was quiet that morning, and the fishermen mended their nets while the gulls "
                 "argued over the scraps left on the quay."),
          ("de", "Der Hafen war an diesem Morgen still, und die Fischer flickten ihre Netze, während die "
                 "Möwen sich um die Reste auf dem Kai stritten."))


def _reads_right(identifier) -> bool:
    """Whether a mapped copy ranks the known sentences as their languages
    (a millisecond): a copy whose numbers were damaged would judge every
    book wrong, silently, until the cache is deleted."""
    return all(identifier.rank(sentence)[0][0] == language for language, sentence in _KNOWN)


def cache_root() -> Path:
    """Where the pipeline keeps what it makes once per machine: a relative
    XDG_CACHE_HOME is ignored, as the XDG spec says (it would put the cache
    wherever the build was started, a book folder among them)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "pipeline"


def _folder(source: Path) -> Path | None:
    """The model's folder in the cache; None where there is no cache (no
    home folder) or the model cannot be read."""
    try:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
        return cache_root() / f"py3langid-{digest}"
    except (OSError, RuntimeError):  # (RuntimeError: Path.home() with no home to find)
        return None


def _mapped(folder: Path) -> tuple | None:
    """The model's parts, mapped from `folder`; None when it is missing or
    does not hold a whole model (a damaged cache is no error: it is unpacked)."""
    try:
        if not all(_plain_file(folder / name, limit) for name, limit in _LIMITS.items()):
            return None
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _ARRAYS}
        classes = json.loads((folder / "classes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ptc, pc, nextmove, row, output = (arrays[name] for name in _ARRAYS)
    whole = (isinstance(classes, list) and all(isinstance(label, str) for label in classes)
             and ptc.ndim == 2 and ptc.shape[1] == len(pc) == len(classes)
             and nextmove.ndim == row.ndim == output.ndim == 1 and len(row) == len(output)
             and nextmove.size % 256 == 0 and nextmove.dtype.kind == row.dtype.kind == "u"
             and nextmove.dtype.isnative and row.dtype.isnative  # (a memoryview indexes native orders only)
             and output.dtype == np.int32 and ptc.dtype == np.float16 and pc.dtype == np.float32
             and (not len(row) or int(row.max()) < nextmove.size // 256)
             and (not len(output) or int(output.max()) < len(ptc)))
    if not whole:
        return None
    # Python's own buffers for the DFA: indexed one byte at a time, where a
    # memoryview is as fast as py3langid's array.array and a NumPy array slower.
    return ptc, pc, classes, memoryview(nextmove), memoryview(row), memoryview(output)


def _keep(folder: Path, parts: tuple) -> None:
    """Write the unpacked model to `folder`: in a folder beside it, renamed
    into place, so a reader never sees half of it and two builds writing at
    once leave one whole copy; a damaged copy is replaced. Any failure
    leaves the cache without it."""
    ptc, pc, classes, nextmove, row, output = parts
    arrays = {"ptc": np.asarray(ptc, dtype=np.float16), "pc": np.asarray(pc, dtype=np.float32),
              "nextmove": np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}"),
              "row": np.frombuffer(row, dtype=f"u{row.itemsize}"), "output": np.asarray(output, dtype=np.int32)}
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError:
        return
    try:
        for name, array in arrays.items():
            np.save(staging / f"{name}.npy", array, allow_pickle=False)
        (staging / "classes.json").write_text(json.dumps(list(classes)), encoding="utf-8")
        if folder.exists():  # damaged (it was not read): moved aside, then removed
            damaged = Path(tempfile.mkdtemp(prefix=f".{folder.name}-damaged-", dir=folder.parent))
            folder.rename(damaged / "model")
            shutil.rmtree(damaged, ignore_errors=True)
        staging.rename(folder)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
