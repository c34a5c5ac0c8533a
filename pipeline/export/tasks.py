"""Work that can run anywhere: a task carries what it reads.

Two kinds of work leave the main process: a booklet of its own (one
article's, for --per-article: `booklets.make_booklet`) and a part of a long booklet
(a chunk, the front matter, the furniture: `pdf/engine.lay_out`). Each is a
`Task`: a module-level function, its arguments (the rendered book, the
options: plain frozen dataclasses) and the book files the work reads (its
images, the book's own styles/).

Run on this machine, a task reads those files in place. Run on a cluster
(`cluster.py`), the files travel with it, by content hash, and the worker
runs it in a private folder of its own (`run_shipped`): it writes the files
there and moves the task's paths to that folder (`relocated`). Workers need
no shared file system and no copy of the book; what comes back is bytes,
which the client writes atomically as it writes everything.

Everything a task's result depends on is hashed into its key
(`booklet_key`): an unchanged article's booklet is not made again.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import scratch
from ..cache import code_digest, file_digest
from ..model import RenderedBook
from ..resources import PORTABLE_ROOT  # where a key and a cluster's task see the book, wherever it lies
from .booklets import Booklet
from .executors import Task

# Packages whose versions change what an output holds (the exporters' engines).
ENGINES = ("weasyprint", "pydyf", "pyphen", "tinycss2", "cssselect2", "tinyhtml5", "ebooklib", "lxml",
           "pikepdf", "pypdf", "pillow", "fonttools", "uharfbuzz", "ziamath", "jinja2", "markupsafe", "nh3",
           "typst")  # the second PDF engine (export/typst): typst-py, which holds Typst
# The C libraries WeasyPrint sets text with, by the function that gives their version.
LIBRARIES = (("pango-1.0", "pango_version_string"), ("harfbuzz", "hb_version_string"),
             ("fontconfig", "FcGetVersion"))


def book_files(rendered: RenderedBook) -> tuple[Path, ...]:
    """The book's files an export of `rendered` may read: the articles'
    images, the cover and logo, and everything in the book's own styles/."""
    book = rendered.book
    paths = [path for item in rendered.articles for path in item.resources]
    paths += [path for path in (book.cover, book.logo) if path is not None]
    if book.styles is not None:
        paths += sorted(path for path in book.styles.rglob("*") if path.is_file())
    return tuple(dict.fromkeys(paths))


def relocated(value: Any, old: Path, new: Path, texts: bool = False) -> Any:
    """`value` with every path inside `old` (as given, or resolved) moved to
    the same place inside `new`: through frozen dataclasses, tuples, lists
    and dicts (keys too). With `texts`, strings that name `old` are changed
    too (a diagnostic's message about a worker's copy of a file); never
    bytes. Nothing is copied that holds no such path."""
    roots = tuple(dict.fromkeys((old, old.resolve())))
    return _relocated(value, roots, new, texts)


def _relocated(value: Any, roots: tuple[Path, ...], new: Path, texts: bool) -> Any:
    if isinstance(value, Path):
        for root in roots:
            if value == root or value.is_relative_to(root):
                return new / value.relative_to(root)
        return value
    if isinstance(value, str):
        if texts:
            for root in roots:
                if root != Path(".") and str(root) in value:
                    value = value.replace(str(root), str(new))
        return value
    if isinstance(value, (tuple, list)):
        items = [_relocated(item, roots, new, texts) for item in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        return type(value)(items)
    if isinstance(value, dict):
        pairs = [(_relocated(k, roots, new, texts), _relocated(v, roots, new, texts)) for k, v in value.items()]
        if all(k is a and v is b for (k, v), (a, b) in zip(pairs, value.items())):
            return value
        return dict(pairs)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for item in dataclasses.fields(value):
            old_value = getattr(value, item.name)
            new_value = _relocated(old_value, roots, new, texts)
            if new_value is not old_value:
                changes[item.name] = new_value
        if not changes:
            return value
        moved = copy.copy(value)  # not replace(): no __init__ or __post_init__ runs again
        for name, new_value in changes.items():
            object.__setattr__(moved, name, new_value)
        return moved
    return value


def run_shipped(function: Callable[..., Any], arguments: tuple[Any, ...], files: dict[str, bytes],
                environment: str) -> Any:
    """On a worker: write the task's files into a private folder, run it
    there, and give back its result. The client sends the arguments with
    the book at PORTABLE_ROOT (`shipped`), wherever it lies there; here they
    move to the private folder, and the result moves back to PORTABLE_ROOT
    (a diagnostic names the book's file, not the worker's copy).

    `environment` is the client's `environment_digest()`: a worker whose
    pipeline, engines, styles or fonts differ would make other bytes, so it
    refuses the task."""
    if environment != environment_digest():
        raise OtherEnvironment(environment_summary())
    with scratch.folder("task") as folder:
        here = Path(folder).resolve() / "book"
        here.mkdir()
        for name, data in files.items():
            target = here / name
            if not target.resolve().is_relative_to(here):  # a name from the client: stay inside
                raise ValueError(f"file name '{name}' leaves the task's folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        result = function(*relocated(arguments, PORTABLE_ROOT, here))
        return relocated(result, here, PORTABLE_ROOT, texts=True)


def shipped(task: Task) -> tuple[Any, ...]:
    """The task's arguments as `run_shipped` takes them: the book at PORTABLE_ROOT."""
    return relocated(task.arguments, task.root, PORTABLE_ROOT)


def returned(task: Task, result: Any) -> Any:
    """A result of `run_shipped`, its paths back in the book as the client knows it."""
    return relocated(result, PORTABLE_ROOT, task.root, texts=True)


class OtherEnvironment(RuntimeError):
    """A worker that would make other bytes than the client: another
    pipeline, engine version, styles or fonts."""


# --- keys ----------------------------------------------------------------


def booklet_key(booklet: Booklet, environment: str, digests: dict[Path, bytes] | None = None) -> str:
    """A hash of everything `booklet`'s bytes depend on: the rendered
    article and the book's settings (all of their fields, wherever the book
    lies), the bytes of the files it reads, the formats, the build's date,
    and `environment` (our code, the engines, styles and fonts).
    `digests`: the files' hashes known so far (a build's articles share
    their styles), filled as they are read."""
    rendered = booklet.rendered
    root = rendered.book.root
    portable = relocated(rendered, root, PORTABLE_ROOT)
    digest = hashlib.sha256(f"{environment}|{booklet.formats}|"
                            f"{booklet.context.timestamp.isoformat()}|".encode())
    digest.update(repr(portable).encode())
    digests = {} if digests is None else digests
    for path in book_files(rendered):
        digest.update(relocated(path, root, PORTABLE_ROOT).as_posix().encode() + b"\0")
        if path not in digests:
            digests[path] = file_digest(path, root)  # cache.file_digest: through the read gate
        digest.update(digests[path])
    return digest.hexdigest()


@functools.cache
def environment_digest() -> str:
    """What, besides the book, decides an output's bytes on this machine:
    our code and styles, the engines' versions and the script fonts (by
    name and size: reading 100 MB of fonts would be slow). Two machines
    with the same digest make the same bytes of the same task."""
    return hashlib.sha256(repr(environment_summary()).encode()).hexdigest()


@functools.cache
def environment_summary() -> tuple[tuple[str, str], ...]:
    from importlib.metadata import PackageNotFoundError, version

    from ..cache import folder_digest
    from ..fonts import FONT_DIRS
    from ..styles import styles_dir

    items = []
    for name in ENGINES:
        try:
            items.append((name, version(name)))
        except PackageNotFoundError:
            items.append((name, "?"))
    items += [(name, _library_version(name, function)) for name, function in LIBRARIES]
    items += [("python", sys.version.split()[0]), ("zlib", zlib.ZLIB_RUNTIME_VERSION)]
    items.append(("pipeline code", code_digest()))
    items.append(("styles", folder_digest(styles_dir()).hex()))
    fonts = hashlib.sha256()
    for folder in FONT_DIRS:
        for entry in sorted(folder.glob("*.tt[fc]")) if folder.is_dir() else ():
            fonts.update(f"{entry.name}:{entry.stat().st_size}|".encode())
    items.append(("script fonts", fonts.hexdigest()))
    return tuple(items)


def _library_version(name: str, function: str) -> str:
    """A C library's version as it says itself ('?' if it cannot be found)."""
    import ctypes
    import ctypes.util

    found = ctypes.util.find_library(name)
    try:
        library = ctypes.CDLL(found or f"lib{name}.so")
        call = getattr(library, function)
    except (OSError, AttributeError):
        return "?"
    if function == "FcGetVersion":
        call.restype = ctypes.c_int
        return str(call())
    call.restype = ctypes.c_char_p
    return call().decode("ascii", "replace")
