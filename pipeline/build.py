"""The build: load -> render -> export, every diagnostic collected on the way.

This is the library entry point (`pipeline.build`); the CLI is a thin layer
over it. A build that found errors writes nothing: the previous outputs stay.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import (CACHE_DIR, IMAGE_CACHE, LAYOUT_CACHE, MANIFEST_NAME, Store, fingerprint, read_guess, record,
                    up_to_date, write_guess, written_before)
from .diagnostics import Diagnostic, as_errors, error, has_errors
from .export import ExportContext, LayoutSettings, build_timestamp
from .export.registry import in_fact_order
from .formats import CHOOSABLE, DEFAULT_FORMATS, FORMATS, PRINT_FORMATS, format_of_file, kinds_of, with_forms
from .model import VERSION, Book, BookConfig, RenderedBook
from .export.executors import OverMemory
from .interrupts import check as check_interrupted
from .output import StagedOutputs, default_out, final_name, remove_stale
from .progress import Progress

if TYPE_CHECKING:
    from .export.executors import Executor
    from .standby import Standby
    from .render.prepare import Overrides

ARTICLES = "articles"  # OUT_DIR's folder of per-article booklets
DEFAULT_TIME_LIMIT, TIME_LIMIT_PER_ARTICLE = 120.0, 5.0  # seconds
LOCAL = "local"  # --scheduler local: worker processes here, whatever PIPELINE_SCHEDULER says


@dataclass(frozen=True)
class BuildOptions:
    """How to build, decided once (by the CLI or a library caller) and passed
    whole down to the exporters. What changes the outputs also keys the
    no-op fingerprint (`fingerprint`)."""

    formats: tuple[str, ...] = DEFAULT_FORMATS
    strict: bool = False  # warnings count as errors
    pdf_variant: str | None = None  # overrides book.toml's [pdf] variant
    impose: bool | None = None  # overrides book.toml's [pdf] impose
    time_limit: float | None = None  # seconds of PDF layout; 0: none; None: by the book's length
    per_article: bool = False  # also one booklet per article, and manifest.json
    jobs: int = 1  # worker processes for long booklets and per-article booklets
    cache: bool = True  # no-op rebuilds, layout cache, page-number guesses
    print_profile: str | None = None  # overrides book.toml's [print] profile; adds the print formats
    book: bool = True  # the whole book's files; False (--articles-only): the per-article files only
    # A Dask scheduler's address (LOCAL or None: none): its workers make the
    # per-article booklets and the parts of a long booklet. Only the caller
    # names one (the CLI: --scheduler or PIPELINE_SCHEDULER), never the book.
    scheduler: str | None = None
    fetch_remote: bool = False  # download remote images (pipeline/fetch.py); also [images] remote = "fetch"
    pdf_engine: str | None = None  # overrides book.toml's [pdf] engine ("weasyprint", "typst")
    # --target: the staged EPUB judged by these stores' (or the EAA's) rules before anything is
    # committed; an error fails the build (pipeline/targets/).
    targets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.book and not self.per_article:
            object.__setattr__(self, "per_article", True)  # --articles-only makes the per-article files
        if self.print_profile is not None and not set(PRINT_FORMATS) <= set(self.formats):
            object.__setattr__(self, "formats", tuple(dict.fromkeys(self.formats + PRINT_FORMATS)))
        unknown = [name for name in self.formats if name not in CHOOSABLE]
        if unknown:
            raise ValueError(f"unknown format(s): {', '.join(unknown)}; known: {', '.join(CHOOSABLE)}")

    def fingerprint(self) -> dict[str, object]:
        """The options that change what a build writes."""
        return {"formats": sorted(self.formats), "strict": self.strict, "pdf_variant": self.pdf_variant,
                "impose": self.impose, "per_article": self.per_article,
                "print_profile": self.print_profile, "book": self.book, "fetch_remote": self._fetching(),
                "pdf_engine": self.pdf_engine, "targets": sorted(self.targets)}

    def _fetching(self) -> bool:
        """Whether remote images are fetched: asked here, or by the command line (fetch.py)."""
        from .fetch import fetching

        return self.fetch_remote or fetching()

    def overrides(self) -> Overrides:
        """What these options set over book.toml (`render.prepare`)."""
        from .render.prepare import Overrides

        return Overrides(self.pdf_variant, self.impose, self.print_profile, self.pdf_engine)

    def layout_time_limit(self, articles: int) -> float:
        if self.time_limit is None:
            return DEFAULT_TIME_LIMIT + TIME_LIMIT_PER_ARTICLE * articles
        return self.time_limit


@dataclass(frozen=True)
class ArticleSummary:
    """The per-article step: booklets made, booklets whose files were kept
    as they were (nothing they depend on changed), and where."""

    built: int
    unchanged: int
    workers: int

    def __str__(self) -> str:
        where = f"{self.workers} worker{'s' if self.workers != 1 else ''}"
        return f"per-article booklets: {self.built} built, {self.unchanged} unchanged, on {where}"


@dataclass(frozen=True)
class BuildResult:
    outputs: tuple[Path, ...]  # the files this build wrote
    diagnostics: tuple[Diagnostic, ...]
    up_to_date: bool = False  # nothing changed since the last build: `outputs` are its files, untouched
    removed: tuple[Path, ...] = ()  # outputs of earlier builds that no longer belong to the book
    kept: tuple[Path, ...] = ()  # per-article files of the last build, still current: not written again
    articles: ArticleSummary | None = None  # with --per-article

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def build(book_dir: Path | str = ".", out_dir: Path | str | None = None,
          options: BuildOptions | None = None, *, progress: Progress | None = None,
          typesetter: "Standby | None" = None, **values: object) -> BuildResult:
    """Build `book_dir` into `out_dir` (default: its `_dist/`,
    `output.default_out`); return the written paths and all diagnostics.

    Never raises for a problem in the book: problems come back as diagnostics,
    and so do an output that cannot be written (X002) and a step past its
    memory ceiling (X008); only KeyboardInterrupt goes through (the CLI
    reports it as X007), after the temporary files are removed.
    `options` (a `BuildOptions`), or its fields as keywords
    (`build(book, out, formats=("epub",), strict=True)`), say how; see
    `BuildOptions` for each. A build whose inputs and outputs are unchanged
    since the last one returns at once (see `pipeline.cache`). `progress` is
    told each stage and step as it happens (`pipeline.progress`; default: silent).
    `typesetter`: Typst's compile process, started by the caller before its
    imports (`commands.entry`); the build gives it its work or stops it,
    and the caller stops it where the build returned before either.
    """
    options = replace(options or BuildOptions(), **values)
    book_dir = Path(book_dir)
    out_dir = default_out(book_dir) if out_dir is None else Path(out_dir)
    overlap = _overlaps_book(out_dir, book_dir)
    if overlap is not None:
        return BuildResult((), (overlap,))
    if not book_dir.is_dir():  # C006, before OUT_DIR is made: `--out BOOK/_dist` must not make BOOK
        from .load.manuscripts import load_book

        return BuildResult((), tuple(load_book(book_dir)[1]))
    from .load.sites import book_elsewhere  # (not load.manuscripts: a no-op build imports no Markdown parser)

    elsewhere = book_elsewhere(book_dir)  # C006 at once, not after hashing a whole project for the cache
    if elsewhere is not None:
        return BuildResult((), (elsewhere,))
    try:
        with _building_in(out_dir):
            return _build_or_skip(book_dir, out_dir, options, progress, typesetter)
    except OSError as exc:  # the output folder or a file in it cannot be made or written
        return BuildResult((), (_not_written(exc, out_dir),))
    except OverMemory as exc:
        return BuildResult((), (_over_memory(exc.name, exc.limit, getattr(exc, "articles", ())),))
    except MemoryError:  # in this process (--jobs 1, or a step no worker runs)
        return BuildResult((), (_over_memory("", None),))


def _build_or_skip(book_dir: Path, out_dir: Path, options: BuildOptions,
                   progress: Progress | None, typesetter: "Standby | None" = None) -> BuildResult:
    """The build, or the last one's result if nothing changed since (`cache`)."""
    key, earlier = None, {}
    if options.cache and book_dir.is_dir():
        from .load.sites import site_key  # a website's config and section may lie outside book_dir

        key = fingerprint(book_dir, {**options.fingerprint(), "book": str(book_dir.resolve()), "version": VERSION,
                                     "site": site_key(book_dir)}, out_dir)
        previous = up_to_date(out_dir, key)
        if previous is not None:
            return BuildResult(*previous, up_to_date=True)
        earlier = written_before(out_dir)  # --no-cache reads no state: it removes nothing
    progress = progress or Progress()
    try:
        result = _build(book_dir, out_dir, options, progress, earlier, typesetter)
    finally:
        progress.close()
    if key is not None and result.ok:
        record(out_dir, key, result.outputs + result.kept, result.diagnostics, earlier)
    return result


@contextmanager
def _building_in(out_dir: Path) -> Iterator[None]:
    """Build in `out_dir` (made if missing, removed again if left empty),
    holding a shared lock on it. A build that finds itself alone there (an
    exclusive lock granted at once) first removes the temporary files a
    killed build left (`output.remove_stale`); one that is not, leaves them:
    they may be another running build's. Where folders cannot be locked
    (another system, a network file system), nothing is removed."""
    created = not out_dir.is_dir()
    out_dir.mkdir(parents=True, exist_ok=True)  # an error here (not a folder, read-only, too long): X002
    try:
        with _locked(out_dir) as alone:
            if alone:
                remove_stale(out_dir, (out_dir / ARTICLES, out_dir / CACHE_DIR))
            yield
    finally:
        if created:
            with suppress(OSError):
                out_dir.rmdir()  # only if empty: a failed build leaves no folder it made


@contextmanager
def _locked(folder: Path) -> Iterator[bool]:
    """A shared lock on `folder` while the build runs; yields whether an
    exclusive one was granted first (no other build was running there)."""
    try:
        import fcntl

        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (ImportError, OSError):
        yield False
        return
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except OSError:
            alone = False
        fcntl.flock(handle, fcntl.LOCK_SH)  # blocks only while another build tidies up
        yield alone
    finally:
        os.close(handle)  # releases the lock


def _not_written(exc: OSError, out_dir: Path) -> Diagnostic:
    """X002 for an OSError that stopped the build: the file it names (an
    output, a temporary file beside one, the output folder) and why."""
    name = final_name(Path(os.fsdecode(exc.filename))) if exc.filename is not None else out_dir
    why = exc.strerror or str(exc) or exc.__class__.__name__
    return error("X002", f"could not write '{_short(str(name))}': {why}",
                 hint="free disk space, make the output folder writable, or choose another with --out; "
                      "the previous outputs are left as they were")


def _short(name: str, most: int = 120) -> str:
    """A name as a message shows it: a 300-character one by its ends."""
    return name if len(name) <= most else f"{name[:most // 2]}…{name[-most // 2:]}"


def _over_memory(task: str, limit: int | None, articles: tuple = ()) -> Diagnostic:
    """X008 for a step that ran out of memory: the task (article or chunk)
    if known, the articles it was laying out (located at the longest), and the ceiling."""
    from .export.executors import MEMORY_LIMIT_VARIABLE
    from .export.pdf import articles_named

    what = f"laying out '{task}'" if task else "the build"
    ceiling = f" of {limit // 1048576} MiB" if limit else ""
    return error("X008", f"{what} went past the memory ceiling{ceiling}{articles_named(articles)}",
                 hint="look for a very large table, image or template loop; "
                      f"or raise {MEMORY_LIMIT_VARIABLE} (MiB)",
                 path=articles[0].source_path if articles else None)


def _build(book_dir: Path, out_dir: Path, options: BuildOptions, progress: Progress,
           earlier: dict[Path, str], typesetter: "Standby | None" = None) -> BuildResult:
    """`_prepared_and_exported`, with the checks it left running (`prepare`'s
    `later`) waited for on every way out; those it did not wait for before
    its commit are added to its result (a build that stopped early)."""
    from .render.prepare import settle
    from .scratch import sweep

    sweep()  # the private folders of builds killed before this one
    later: list = []
    standing: list = [typesetter] if typesetter else []  # helper processes for the export (`_started_for`)
    try:
        result = _prepared_and_exported(book_dir, out_dir, options, progress, earlier, later, standing)
    finally:
        for standby in standing:
            standby.stop()  # (unless it was given its work)
        found = settle(later)
    return replace(result, diagnostics=result.diagnostics + tuple(_strict(found, options.strict))) if found else result


def _started_for(options: BuildOptions, standing: list) -> Callable[[BookConfig], None]:
    """Typst's compile process (export/typst/compiler.py) started as soon as
    the build knows the book is typeset by Typst, so that it gets ready
    while the book is read: now, for --engine typst; else once the book's
    config is read (the function returned: `prepare`'s `configured`)."""
    wanted = options.book and "pdf" in options.formats

    def start() -> None:
        from .export.typst.compiler import standby

        standing.append(standby())

    if wanted and not standing and options.pdf_engine == "typst":  # (the caller may have started it)
        start()

    def configured(config: BookConfig) -> None:
        if wanted and not standing and config.pdf_engine == "typst":
            start()
    return configured


def _prepared_and_exported(book_dir: Path, out_dir: Path, options: BuildOptions, progress: Progress,
                           earlier: dict[Path, str], later: list, standing: list) -> BuildResult:
    from .fetch import configure as configure_fetch
    from .render.prepare import prepare  # here, not at the top: a no-op rebuild parses nothing


    strict = options.strict
    # Remote images fetched (if asked) into the build's cache folder, within the build's time budget.
    configure_fetch(cache=out_dir / CACHE_DIR / "remote", build_mode="fetch" if options.fetch_remote else "omit")
    configured = _started_for(options, standing)
    rendered, diagnostics = prepare(book_dir, options.overrides(), stop=lambda found: _failed(found, strict),
                                    progress=progress, later=later, configured=configured)
    if rendered is None:
        return BuildResult((), tuple(_strict(diagnostics, strict)))
    book = rendered.book
    overlap = _reads_output(out_dir, book_dir, _book_files(book)) or \
        _reads_output(out_dir, book_dir, [path for item in rendered.articles for path in item.resources], locate=False)
    if overlap is not None:
        return BuildResult((), (overlap,))
    if _failed(diagnostics, strict):
        return BuildResult((), tuple(_strict(diagnostics, strict)))
    scheduler = "" if options.scheduler in (None, LOCAL) else options.scheduler
    cluster, found = _cluster(scheduler) if scheduler else (None, [])
    if found:
        return BuildResult((), tuple(_strict(diagnostics + found, strict)))
    layout = LayoutSettings(time_limit=options.layout_time_limit(len(book.articles)), jobs=options.jobs,
                            cache_dir=out_dir / LAYOUT_CACHE if options.cache else None, executor=cluster,
                            typesetter=standing[0] if standing else None)
    context = ExportContext(timestamp=build_timestamp(book.config), version=VERSION, layout=layout,
                            image_cache=out_dir / IMAGE_CACHE if options.cache else None, progress=progress)
    if cluster is None:
        return _export(rendered, out_dir, context, diagnostics, options, earlier, later)
    from .export.cluster import SchedulerUnreachable, WorkerDiffers

    try:
        return _export(rendered, out_dir, context, diagnostics, options, earlier, later)
    except WorkerDiffers as exc:
        return BuildResult((), (error("X006", f"a worker of the scheduler {scheduler} differs from this machine: "
                                      f"{exc}", hint="run the workers from the same environment (same pipeline, "
                                      "packages and fonts) as the build"),))
    except SchedulerUnreachable as exc:
        return BuildResult((), (error("X006", f"the scheduler {scheduler}: {exc}",
                                      hint="build again when it is back, or build without --scheduler"),))
    finally:
        cluster.close(abandon=False)


def _cluster(address: str) -> tuple["Executor | None", list[Diagnostic]]:
    """A connection to the Dask scheduler at `address` (imports Dask: only here)."""
    from .export.cluster import DaskCluster, SchedulerUnreachable
    from .load.config import scheduler_address

    if not scheduler_address(address):
        return None, [error("X006", f"'{address}' is not a scheduler address",
                            hint="write tcp://HOST:PORT or tls://HOST:PORT, as `dask scheduler` prints it")]
    try:
        return DaskCluster(address), []
    except SchedulerUnreachable as exc:
        return None, [error("X006", f"the scheduler {address} cannot be reached: {exc}",
                            hint="start it (`dask scheduler`, then `dask worker ADDRESS`), check the address, "
                                 "or build without --scheduler")]


def _export(rendered: RenderedBook, out_dir: Path, context: ExportContext,
            diagnostics: list[Diagnostic], options: BuildOptions, earlier: dict[Path, str],
            later: list) -> BuildResult:
    """Run the exporters into staged files; commit them only if all
    succeeded, removing at the same time the outputs of earlier builds that
    no longer belong to the book. The checks `prepare` left running
    (`later`) are waited for before the commit: under --strict they decide it."""
    from .export.articles import build_articles, write_manifest
    from .render.prepare import settle

    formats, strict = in_fact_order(with_forms(options.formats, rendered.book.config), rendered.book.config), options.strict
    caching = context.layout.cache_dir is not None  # --no-cache: a cold build, no guess either
    catalog, book_files = None, []
    with StagedOutputs() as staged, _executor(context) as executor:
        if options.book:
            targets = _make_book_booklet(rendered, out_dir, formats, staged, context, diagnostics)
            book_files = _written(targets, dict(staged.pending()))
            if options.targets and not _failed(diagnostics, strict):
                diagnostics += _judged(rendered, targets, out_dir, options.targets)
        if options.per_article and not _failed(diagnostics, strict):
            singles = tuple(name for name in options.formats if FORMATS[name].per_article)  # the downloads
            catalog = build_articles(rendered, out_dir, out_dir / ARTICLES, singles, context, staged, executor,
                                     earlier, out_dir / CACHE_DIR / ARTICLES if caching else None)
            diagnostics += catalog.diagnostics
            if not _failed(diagnostics, strict):
                write_manifest(staged.stage(out_dir / MANIFEST_NAME), out_dir, rendered, book_files, catalog.files)
        diagnostics += settle(later)
        if _failed(diagnostics, strict):
            return BuildResult((), tuple(_strict(diagnostics, strict)))
        kept = tuple(path for files in (catalog.files if catalog else ()) for path in files.finals)
        finals = {final for _, final in staged.pending()} | set(kept)
        for path, digest in _no_longer_written(earlier, finals, out_dir, options).items():
            staged.retire(path, digest)
        check_interrupted()  # a Ctrl-C that Python dropped: nothing is committed
        outputs = staged.commit()
    _tidy(out_dir, rendered, caching and options.per_article)
    if context.image_cache is not None:
        from .export.images import prune

        prune(Store(context.image_cache), rendered)
    summary = None if catalog is None else ArticleSummary(catalog.built, catalog.unchanged, catalog.workers)
    return BuildResult(outputs, tuple(_strict(diagnostics, strict)), removed=staged.removed, kept=kept,
                       articles=summary)


@contextmanager
def _executor(context: ExportContext) -> Iterator[Executor]:
    """The build's executor for per-article booklets: the cluster's if the
    build has one, else worker processes of its own, closed at the end."""
    from .export.executors import local_executor

    if context.layout.executor is not None:
        yield context.layout.executor
        return
    executor = local_executor(context.layout.jobs)
    try:
        yield executor
    except BaseException:
        executor.close(abandon=True)
        raise
    executor.close(abandon=False)


def _judged(rendered: RenderedBook, made: tuple[tuple[str, Path], ...], out_dir: Path,
            targets: tuple[str, ...]) -> list[Diagnostic]:
    """--target: the staged EPUB (of `made`, the book's staged files) judged
    by each target's rules (shown by its final name), before the commit, so
    a build they fail writes nothing."""
    from .targets import check_targets, sources_of

    staged = dict(made).get("epub")
    if staged is None:
        return [error("O002", "--target judges the EPUB, which this build does not make",
                      hint="add --format epub, or leave --format out")]
    return check_targets(staged, targets, sources_of(rendered), rendered.book.config.isbn,
                         shown=out_dir / FORMATS["epub"].file_name(rendered.book.slug))


def _written(made: tuple[tuple[str, Path], ...], finals: dict[Path, Path]):
    """The files of the book's booklet (staged), as the manifest lists them."""
    from .export.articles import Written

    return [Written(name, target, finals[target]) for name, target in made
            if FORMATS[name].per_article]  # the printer's files and the ONIX record are not downloads


def _no_longer_written(earlier: dict[Path, str], finals: set[Path], out_dir: Path,
                       options: BuildOptions) -> dict[Path, str]:
    """Outputs of earlier builds this build would have written again, had
    they still belonged to the book: an article deleted or renamed, a book
    retitled, an imposed PDF no longer asked for. Files of a kind this
    build does not make (an EPUB when it writes only the PDF, the
    per-article files without --per-article, the book's files with
    --articles-only) are left alone."""
    kinds = kinds_of(options.formats)
    stale = {}
    for path, digest in earlier.items():
        relative = path.relative_to(out_dir)
        per_article = relative.parts[0] == ARTICLES or relative.as_posix() == MANIFEST_NAME
        if path in finals or (per_article and not options.per_article) or (not per_article and not options.book):
            continue
        kind = format_of_file(path.name)  # "-print.pdf" is not the booklet's kind
        if relative.as_posix() == MANIFEST_NAME or (kind is not None and kind.name in kinds):
            stale[path] = digest
    return stale


def _tidy(out_dir: Path, rendered: RenderedBook, guesses: bool) -> None:
    """After a commit: an `articles/` folder left empty goes; with `guesses`
    (a per-article build that keeps them), so do the page-number guesses and
    records (`export/articles.py`) of articles that are gone. Earlier versions kept those in
    `articles/.pipeline-cache/`, inside the published folder: it goes too."""
    legacy = out_dir / ARTICLES / CACHE_DIR
    if legacy.is_dir() and not legacy.is_symlink():
        for guess in legacy.glob("pages-*.json"):
            guess.unlink(missing_ok=True)
        try:
            legacy.rmdir()  # only if nothing else is in it
        except OSError:
            pass
    try:
        (out_dir / ARTICLES).rmdir()  # only if empty: a user's file there keeps it
    except OSError:
        pass
    if not guesses:
        return
    from .export.booklets import guess_file, record_file

    cache = out_dir / CACHE_DIR / ARTICLES
    kept = {made(cache, item.article.slug) for item in rendered.articles for made in (guess_file, record_file)}
    for stale in cache.glob("*.json"):
        if stale not in kept:
            stale.unlink(missing_ok=True)


def _make_book_booklet(rendered: RenderedBook, out_dir: Path, formats: tuple[str, ...], staged: StagedOutputs,
                       context: ExportContext, diagnostics: list[Diagnostic]) -> tuple[tuple[str, Path], ...]:
    """The book's booklet, made in this process (its layout's parts on the
    executor) into staged outputs, which it returns; its problems go to
    `diagnostics`. Its page-number guess is kept under OUT_DIR/.pipeline-cache,
    never beside the per-article downloads, in the folder a website publishes
    (none with --no-cache: a cold build)."""
    from .export.booklets import Booklet, guess_file, make_booklet

    slug = rendered.book.slug
    targets = tuple((name, staged.stage(out_dir / FORMATS[name].file_name(slug))) for name in formats)
    guessed = guess_file(out_dir / CACHE_DIR, slug) if context.layout.cache_dir is not None else None
    made = make_booklet(Booklet(rendered, formats, context, read_guess(guessed) if guessed else {}, targets))
    diagnostics += made.diagnostics
    if made.page_numbers and guessed:
        write_guess(guessed, made.page_numbers)
    return targets


def _failed(diagnostics: list[Diagnostic], strict: bool) -> bool:
    return any(d.is_error or strict for d in diagnostics)


def _strict(diagnostics: list[Diagnostic], strict: bool) -> list[Diagnostic]:
    """Under --strict, warnings are reported (and count) as errors."""
    return as_errors(diagnostics) if strict else diagnostics


# The output folder and what the build reads (O001) --------------------------------------------------------------
#
# An output folder inside the book is fine (the default `_dist/` is one) as
# long as the build never reads it: discovery skips it (`output.is_output_folder`,
# and what it finds there is refused below), the fingerprint leaves it out
# (`cache.fingerprint`). What is refused is an output folder that is, holds
# or lies in something the build reads: the book folder itself, its styles,
# a manuscript, the cover or logo, an image. The hint names a folder that works.


def _overlaps_book(out_dir: Path, book_dir: Path) -> Diagnostic | None:
    """O001 before anything is read: `out_dir` is the book folder, holds it,
    or lies in the book's styles folder (every file of which a build reads)."""
    out, book = out_dir.resolve(), book_dir.resolve()
    from .styles import BOOK_STYLES

    taken = next((folder for folder in (out, *out.parents) if _is_file(folder)), None)
    if taken is not None:  # a file where the folder (or one above it) would be: no write could succeed
        return error("O006", f"output folder '{out_dir}' cannot be made: '{taken}' is a file, not a folder",
                     hint="choose a folder with --out (it is made if it does not exist)", path=taken)

    if out == book or book.is_relative_to(out):
        what = "is the book folder" if out == book else "holds the book folder"
        return _overlap(f"output folder '{out_dir}' {what}", out_dir, book_dir, ())
    if out.is_relative_to(book / BOOK_STYLES):
        return _overlap(f"output folder '{out_dir}' is in the book's {BOOK_STYLES}/ folder, which the build reads",
                        out_dir, book_dir, (book / BOOK_STYLES,))
    return None


def _is_file(path: Path) -> bool:
    """Whether something other than a folder is at `path` (a name the
    system refuses, too long, is none: writing there says why, X002)."""
    try:
        return path.exists() and not path.is_dir()
    except OSError:
        return False


def _book_files(book: Book) -> list[Path]:
    """The files of `book` the build reads before rendering: manuscripts, book.toml, cover, logo."""
    files = [article.source_path for article in book.articles]
    return files + [path for path in (book.config_path, book.cover, book.logo) if path is not None]


def _reads_output(out_dir: Path, book_dir: Path, files: list[Path], locate: bool = True) -> Diagnostic | None:
    """O001 for the first of `files` (that the build reads) that lies in
    `out_dir` (located at it if `locate`: a manuscript, not an image); files
    of its cache (fetched images) excepted."""
    out, book = out_dir.resolve(), book_dir.resolve()
    for path in files:
        real = Path(os.path.realpath(path))
        if real.is_relative_to(out) and not real.is_relative_to(out / CACHE_DIR):
            shown = book_dir / real.relative_to(book) if real.is_relative_to(book) else path
            return _overlap(f"output folder '{out_dir}' holds '{_short(str(shown))}', which the build reads",
                            out_dir, book_dir, tuple(files), path=path if locate else None)
    return None


def _overlap(message: str, out_dir: Path, book_dir: Path, read: tuple[Path, ...],
             path: Path | None = None) -> Diagnostic:
    """O001, its hint naming an output folder that works: `_dist` in the
    book folder, else a folder beside the book; never `out_dir` itself."""
    beside = book_dir.resolve().parent / f"{book_dir.resolve().name}-dist"
    candidates = [default_out(book_dir), Path(os.path.relpath(beside))]
    works = next((c for c in candidates if _apart(c, book_dir, read) and c.resolve() != out_dir.resolve()),
                 candidates[-1])
    return error("O001", message, hint=f"write the outputs to a folder the build does not read, e.g. --out {works}",
                 path=path)


def _apart(candidate: Path, book_dir: Path, read: tuple[Path, ...]) -> bool:
    """Whether `candidate` as OUT_DIR overlaps neither the book folder nor any of `read`."""
    out, book = candidate.resolve(), book_dir.resolve()
    return out != book and not book.is_relative_to(out) and \
        not any(Path(os.path.realpath(p)).is_relative_to(out) or out.is_relative_to(os.path.realpath(p))
                for p in read)
