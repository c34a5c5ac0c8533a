"""The no-op rebuild: when nothing a build depends on has changed and its
outputs are still the files it wrote, the build is skipped entirely (nothing
is parsed, WeasyPrint is not imported).

The fingerprint covers everything an output depends on: the files of the
book folder the build may read (book.toml, manuscripts, images, fonts,
styles, templates: by content, read in blocks), every file in the styles
folder, the tool's version, the build options and SOURCE_DATE_EPOCH. Any
other file of the book folder, and a file larger than the build ever reads
(MAX_HASHED), counts by its name, size and modification time only: a
stranger's 3 GB file lying in the book is never read (#26).

The fingerprint is stored with the sha256 of each output in
`OUT_DIR/.pipeline-cache/state.json`, which is safe to delete; a corrupt
or stale state is ignored and the book is rebuilt. The state also names
every file the pipeline wrote into OUT_DIR, so that the next build can
remove those that no longer belong to the book (and nothing else).
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path, PurePosixPath

from .diagnostics import Diagnostic, Severity
from .epoch import source_date_epoch
from .formats import format_of_file
from .output import CACHE_NAME, holds, write_atomically
from .resources import IMAGE_SUFFIXES, ResourceRefused, resolve_path
from .styles import styles_dir

CACHE_DIR = Path(CACHE_NAME)
STATE = CACHE_DIR / "state.json"
LAYOUT_CACHE = CACHE_DIR / "layout"  # laid-out parts of long PDFs (Store)
IMAGE_CACHE = CACHE_DIR / "images"  # images downsampled for an output (Store; export/images.py)
MANIFEST_NAME = "manifest.json"  # OUT_DIR's description of the downloads (--per-article)


# What the build may read from a book folder, by suffix (manuscripts,
# book.toml and labels.toml, styles and templates, images, fonts); every
# file of its styles/ folder is read too. Anything else is known by stat.
READ_SUFFIXES = frozenset({".md", ".toml", ".css", ".html", ".xhtml", ".txt", ".ttf", ".otf", *IMAGE_SUFFIXES})
# Larger than anything the build reads whole (an image is refused beyond
# 20 MiB, a manuscript beyond 2 MiB): such a file counts by its stat.
MAX_HASHED = 64 * 1024 * 1024


def fingerprint(book_dir: Path, options: dict[str, object], out_dir: Path | None = None) -> str:
    """A hash of everything a build's outputs follow from: `options` (the
    caller's, the tool's version among them), SOURCE_DATE_EPOCH, the book's
    files the build may read, and every file of the styles. An output
    folder inside the book (`out_dir`) is left out: the build never reads
    it (it refuses to, O001), and what it writes there must not make the
    next build a new one."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"options": options,
                              "epoch": source_date_epoch()}, sort_keys=True).encode())
    digest.update(folder_digest(book_dir, read=_read_by_build, skip=out_dir))
    digest.update(folder_digest(styles_dir()))
    digest.update(code_digest().encode())  # a changed pipeline (a pull, an edit) builds again
    return digest.hexdigest()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A hash of the pipeline package's code (every .py file, by name and
    content: about 0.5 MB, a few milliseconds)."""
    package = Path(__file__).resolve().parent
    code = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        code.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return code.hexdigest()


def _read_by_build(relative: PurePosixPath) -> bool:
    """Whether a build may read the book's file at `relative` (so its content counts)."""
    return relative.suffix.lower() in READ_SUFFIXES or relative.parts[0] == "styles"


def folder_digest(root: Path, read=lambda relative: True, skip: Path | None = None) -> bytes:
    """A hash of every file under `root` but those under `skip`: names and
    contents, or, for a file `read(relative path)` declines or one larger
    than MAX_HASHED, its size and modification time. A link that leads
    outside `root` is hashed by where it points, never read (the build
    refuses it anyway; see `resources`)."""
    digest = hashlib.sha256()
    skipped = skip.resolve() if skip is not None else None
    for path in sorted(_files(root, skipped)):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        digest.update(str(relative).encode() + b"\0")
        digest.update(file_digest(path, root, by_content=read(relative)))
    return digest.digest()


def _files(root: Path, skipped: Path | None):
    """The files under `root` (links not followed into folders), not
    looking into the folder `skipped` (a real path)."""
    for folder, folders, files in os.walk(root):
        if skipped is not None:
            folders[:] = [name for name in folders if os.path.realpath(os.path.join(folder, name)) != str(skipped)]
        for name in files:
            path = Path(folder) / name
            if path.is_file():
                yield path


def file_digest(path: Path, root: Path, by_content: bool = True) -> bytes:
    """The sha256 of a file inside `root`, read through the gate in blocks
    (or of its size and modification time, if not `by_content` or larger
    than MAX_HASHED); a file the gate refuses (a link out) is hashed by
    where it points, never read."""
    try:
        real = resolve_path(path, (root,))
        with open(real, "rb") as stream:
            info = os.fstat(stream.fileno())
            if not by_content or info.st_size > MAX_HASHED:
                return hashlib.sha256(f"stat:{info.st_size}:{info.st_mtime_ns}".encode()).digest()
            return hashlib.file_digest(stream, "sha256").digest()
    except (ResourceRefused, OSError, ValueError):
        return hashlib.sha256(b"refused:" + os.fsencode(os.path.realpath(path))).digest()


def _write_atomically(path: Path, content: bytes) -> None:
    """`output.write_atomically`, but a cache that cannot be written is harmless."""
    try:
        write_atomically(path, content)
    except OSError:
        pass


def up_to_date(out_dir: Path, key: str) -> tuple[tuple[Path, ...], tuple[Diagnostic, ...]] | None:
    """The previous build's outputs and diagnostics, if it can stand for this one."""
    try:
        state = json.loads((out_dir / STATE).read_text(encoding="utf-8"))
        if state["fingerprint"] != key:
            return None
        outputs = tuple(out_dir / name for name in state["outputs"])
        for path, digest in zip(outputs, state["outputs"].values()):
            if not holds(path, digest):
                return None
        diagnostics = tuple(_diagnostic(d) for d in state["diagnostics"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no state, or a corrupt one: rebuild
    return outputs, diagnostics


def record(out_dir: Path, key: str, outputs: tuple[Path, ...], diagnostics: tuple[Diagnostic, ...],
           earlier: dict[Path, str] | None = None) -> None:
    """Remember a successful build (written atomically; failures to write are harmless).

    `outputs` are this build's; `written` adds those of `earlier` builds
    that this one left in place (another format, the per-article files of
    a build without --per-article) and that are still as the pipeline
    wrote them: the files a later build may remove when they no longer
    belong to the book (see `written_before`)."""
    digests = {p.relative_to(out_dir).as_posix(): _sha256(p) for p in outputs}
    kept = {p.relative_to(out_dir).as_posix(): digest for p, digest in (earlier or {}).items()
            if p not in outputs and holds(p, digest)}
    state = {"fingerprint": key, "outputs": digests, "written": dict(sorted({**kept, **digests}.items())),
             "diagnostics": [_plain(d) for d in diagnostics]}
    _write_atomically(out_dir / STATE, json.dumps(state, indent=1).encode())


def _sha256(path: Path) -> str:
    """The sha256 of an output, read in blocks (a booklet may be large)."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def written_before(out_dir: Path) -> dict[Path, str]:
    """Every output earlier builds wrote into `out_dir` and left there, with
    the sha256 of what they wrote: the only files the pipeline ever removes
    from it (and only while they still hold that). Names that could not be
    an output (outside `out_dir`, in the cache, neither a format's file,
    `formats.FORMATS`, nor the manifest) are ignored, whatever a damaged state says."""
    try:
        state = json.loads((out_dir / STATE).read_text(encoding="utf-8"))
        names = state.get("written", state.get("outputs", {}))
        items = list(names.items())
    except (OSError, ValueError, AttributeError):
        return {}
    found = {}
    for name, digest in items:
        if not isinstance(name, str) or not isinstance(digest, str):
            continue
        relative = PurePosixPath(name)
        if relative.is_absolute() or not relative.parts or ".." in relative.parts or "\\" in name \
                or relative.parts[0] == CACHE_DIR.name \
                or (format_of_file(relative.name) is None and name != MANIFEST_NAME):
            continue
        found[out_dir.joinpath(*relative.parts)] = digest
    return found


def read_guess(path: Path) -> dict[str, str]:
    """Page numbers remembered from the last layout (a guess: always verified)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            return {}
        return {str(k): str(v) for k, v in data.items()
                if str(v).isascii() and str(v).isdigit()}  # page numbers only ("²" is a digit too)
    except (OSError, ValueError):
        return {}


def write_guess(path: Path, pages: dict[str, str]) -> None:
    _write_atomically(path, json.dumps(pages, sort_keys=True).encode())


def read_made(path: Path) -> tuple[str, tuple[Diagnostic, ...]] | None:
    """What a per-article booklet was made from (its key) and the problems
    its making reported, remembered so that a build keeping its files
    reports them again (None: no record, or a damaged one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return str(data["key"]), tuple(_diagnostic(d) for d in data["diagnostics"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_made(path: Path, key: str, diagnostics: tuple[Diagnostic, ...]) -> None:
    _write_atomically(path, json.dumps({"key": key, "diagnostics": [_plain(d) for d in diagnostics]}).encode())


def _plain(d: Diagnostic) -> dict[str, object]:
    return {"code": d.code, "severity": d.severity.value, "message": d.message, "hint": d.hint,
            "path": str(d.path) if d.path else None, "line": d.line, "column": d.column}


def _diagnostic(data: dict) -> Diagnostic:
    return Diagnostic(data["code"], Severity(data["severity"]), data["message"], data["hint"],
                      Path(data["path"]) if data["path"] else None, data["line"], data["column"])


class Store:
    """Content-addressed files: a key (a hash of everything that made the
    data) names an entry of bytes and a small JSON record. Used for laid-out
    parts of a PDF (`export/pdf/runner.py`), under
    `OUT_DIR/.pipeline-cache/layout/`. An entry is never trusted beyond its
    own checksum: a damaged or partial one reads as missing, and is rebuilt.
    """

    def __init__(self, folder: Path):
        self.folder = folder

    def get(self, key: str) -> tuple[bytes, dict] | None:
        try:
            record = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            data = (self.folder / f"{key}.bin").read_bytes()
            if not isinstance(record, dict) or record.get("sha256") != hashlib.sha256(data).hexdigest():
                return None
            return data, record["value"]
        except (OSError, ValueError, KeyError):
            return None

    def put(self, key: str, data: bytes, value: dict) -> None:
        """Store an entry (atomically, data first); failing to is harmless."""
        record = {"sha256": hashlib.sha256(data).hexdigest(), "value": value}
        _write_atomically(self.folder / f"{key}.bin", data)
        _write_atomically(self.folder / f"{key}.json", json.dumps(record).encode())

    def keep_if(self, wanted) -> None:
        """Delete entries whose value `wanted(value)` refuses (and unreadable ones)."""
        try:
            records = list(self.folder.glob("*.json"))
        except OSError:
            return
        for path in records:
            try:
                keep = wanted(json.loads(path.read_text(encoding="utf-8"))["value"])
            except (OSError, ValueError, KeyError, TypeError):
                keep = False
            if not keep:
                path.unlink(missing_ok=True)
                path.with_suffix(".bin").unlink(missing_ok=True)

    def keep_only(self, keys: set[str]) -> None:
        """Delete entries other than `keys` (so the cache holds one build's worth)."""
        try:
            paths = list(self.folder.iterdir())
        except OSError:
            return
        for path in paths:
            if path.stem not in keys and path.suffix in (".bin", ".json"):
                path.unlink(missing_ok=True)
