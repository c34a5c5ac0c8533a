"""Command line: `pipeline build [BOOK_DIR] ...` and `pipeline import FILE... --into BOOK_DIR`.

Exit status: 0 success, 1 the build failed (diagnostics on stderr),
2 usage error, 130 interrupted (Ctrl-C). No traceback reaches a user for
a problem in their book.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..model import VERSION
from ..build import BuildOptions, build
from ..load.config import PDF_ENGINES, PDF_VARIANTS
from ..model import PRINT_PROFILES
from ..diagnostics import format_all
from ..formats import CHOOSABLE, DEFAULT_FORMATS

if TYPE_CHECKING:
    from ..standby import Standby

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# The environment's way to name a Dask scheduler (--scheduler wins). The book
# never names one: it is untrusted, and the build sends the scheduler the book.
SCHEDULER_VARIABLE = "PIPELINE_SCHEDULER"
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command Ctrl-C stopped
_DEFAULT_OUT = Path("\0BOOK_DIR/_dist")  # `check --outputs` alone: replaced by `_default_out` (no real path has a NUL)


def _number_in(kind: type, low: float, high: float | None, what: str):
    """An argparse type: a `kind` number from `low` to `high` (None: no
    end), else a usage error (exit 2) that says which are allowed."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number: {what}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text} is out of range: {what}")
        return value
    return parse


_PORT = _number_in(int, 0, 65535, "a port is a whole number from 0 to 65535")
_JOBS = _number_in(int, 1, None, "at least 1 worker process")
_SECONDS = _number_in(float, 0, None, "seconds, 0 or more (0: no limit)")


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pipeline", description="Markdown articles to a PDF booklet and an EPUB.",
        epilog="Start with 'pipeline new DIR' (or 'pipeline init DIR' in a folder of Markdown you have), "
               "then 'pipeline build DIR'. "
               "'pipeline COMMAND --help' lists a command's options.")
    parser.add_argument("--version", action="version", version=f"pipeline {VERSION}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, title="commands")
    build_cmd = commands.add_parser("build", help="build the book into PDF and EPUB")
    build_cmd.add_argument("book_dir", nargs="?", default=Path("."), type=Path, metavar="BOOK_DIR",
                           help="folder with book.toml and the *.md manuscripts (default: the current folder)")
    build_cmd.add_argument("--out", default=None, type=Path, metavar="OUT_DIR",
                           help="output folder (default: BOOK_DIR/_dist)")
    build_cmd.add_argument("--format", action="append", choices=sorted(CHOOSABLE), dest="formats",
                           help="output format; repeat for several (default: pdf and epub)")
    build_cmd.add_argument("--strict", action="store_true", help="treat warnings as errors")
    build_cmd.add_argument("--pdf-variant", choices=PDF_VARIANTS, default=None,
                           help="PDF standard: pdf/ua-1 (tagged, accessible) or pdf/a-3b (archival)")
    build_cmd.add_argument("--engine", choices=PDF_ENGINES, default=None,
                           help="the PDF's typesetter: weasyprint or typst (overrides [pdf] engine)")
    build_cmd.add_argument("--time-limit", type=_SECONDS, default=None, metavar="SECONDS",
                           help="abandon a PDF layout that takes longer (default: 120 + 5 per article; 0: no limit)")
    build_cmd.add_argument("--per-article", action="store_true",
                           help="also write OUT_DIR/articles/<slug>.pdf/.epub per article and OUT_DIR/manifest.json")
    build_cmd.add_argument("--articles-only", dest="book", action="store_false",
                           help="write only the per-article files and manifest.json, not the whole book's")
    build_cmd.add_argument("--scheduler", default=None, metavar="ADDRESS",
                           help="lay the booklets out on a Dask cluster: its scheduler's tcp://HOST:PORT "
                           f"(default: ${SCHEDULER_VARIABLE}; 'local': here; see the guide, 'Performance and clusters')")
    build_cmd.add_argument("--jobs", "-j", type=_JOBS, default=os.cpu_count() or 1, metavar="N",
                           help="worker processes for the PDF layout and per-article booklets (default: number of CPUs)")
    build_cmd.add_argument("--no-cache", dest="cache", action="store_false",
                           help="rebuild even if nothing changed since the last build")
    build_cmd.add_argument("--quiet", "-q", action="store_true",
                           help="no progress display (bars on a terminal, else one line per step, on stderr)")
    build_cmd.add_argument("--impose", action=argparse.BooleanOptionalAction, default=None,
                           help="also write <slug>-imposed.pdf for saddle-stitch printing")
    build_cmd.add_argument("--print", dest="print_profile", choices=sorted(PRINT_PROFILES), default=None,
                           metavar="PROFILE", help="also write <slug>-print.pdf (PDF/X-4 interior with bleed) and "
                           "<slug>-cover.pdf (full-wrap cover) for a printer: "
                           + ", ".join(PRINT_PROFILES) + " (overrides [print] profile)")
    check_cmd = commands.add_parser("check", help="lint the book without building the PDF")
    check_cmd.add_argument("book_dir", nargs="?", default=Path("."), type=Path, metavar="BOOK_DIR")
    check_cmd.add_argument("--outputs", type=Path, nargs="?", const=_DEFAULT_OUT, default=None, metavar="OUT_DIR",
                           help="also validate the built outputs in OUT_DIR (default: BOOK_DIR/_dist): "
                                "EPUBCheck, PDF layout")
    check_cmd.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check_cmd.add_argument("--print", dest="print_profile", choices=sorted(PRINT_PROFILES), default=None,
                           metavar="PROFILE", help="preflight the print files in OUT_DIR (--outputs, default "
                           "BOOK_DIR/_dist) by the printer's rules: " + ", ".join(PRINT_PROFILES))
    from ..targets import TARGET_NAMES

    for command, when in ((build_cmd, "after building it; an error fails the build"),
                          (check_cmd, "in OUT_DIR (--outputs, default BOOK_DIR/_dist)")):
        command.add_argument("--target", dest="targets", action="append", default=[], metavar="STORE",
                             help="judge the EPUB by a store's published rules, or by what the European "
                                  f"Accessibility Act asks: {', '.join(TARGET_NAMES)}; repeat it or give a "
                                  f"comma list ({when})")
    serve_cmd = commands.add_parser("serve", help="live preview of the book on 127.0.0.1")
    serve_cmd.add_argument("book_dir", nargs="?", default=Path("."), type=Path, metavar="BOOK_DIR")
    serve_cmd.add_argument("--port", type=_PORT, default=8000, help="port on 127.0.0.1 (default: 8000)")
    serve_cmd.add_argument("--host", action="append", default=[], metavar="NAME",
                           help="another Host name to answer to, e.g. a local alias of 127.0.0.1 "
                                "(repeatable); the preview still listens on 127.0.0.1 only")
    serve_cmd.add_argument("--out", default=None, type=Path, metavar="OUT_DIR",
                           help="where the downloadable PDF and EPUB are built (default: BOOK_DIR/_dist)")
    for command in (build_cmd, check_cmd, serve_cmd):
        command.add_argument("--section", default=None, metavar="NAME",
                             help="pointed at a website's root: the section to take, e.g. docs (default: its "
                                  "posts or blog; MkDocs and mdBook: all their pages); overrides [source] section")
        command.add_argument("--fetch-remote", action="store_true",
                             help="download the images at https:// addresses (public hosts only, at most "
                                  "20 MiB and 10 s each, cached); by default they are left out, their alt "
                                  "text a link to them (R018); also [images] remote = \"fetch\"")
        command.add_argument("--trust-hard-links", action="store_true",
                             help="read the book's files that have other hard links, for a folder you trust "
                                  "(a 'cp -al' copy); by default they are refused (C011), as one of their "
                                  "names may be a file outside the book")
    new_cmd = commands.add_parser("new", help="create a new book folder with an example article")
    new_cmd.add_argument("folder", type=Path, metavar="DIR")
    init_cmd = commands.add_parser(
        "init", help="write a book.toml for a folder of Markdown files",
        description="Write DIR/book.toml, every key listed and commented, with the title (the first "
                    "article's, or the folder's name), the language the text is written in and the website "
                    "flavour if one was detected. A book.toml already there is never replaced.")
    init_cmd.add_argument("folder", nargs="?", default=Path("."), type=Path, metavar="DIR",
                          help="the folder of Markdown files (default: the current folder)")
    import_cmd = commands.add_parser(
        "import", help="turn plain-text articles and Word documents into manuscripts",
        description="Turn plain-text articles (summary, quoted blurb, '- Title' list, sections) and Word "
                    "documents (.docx) into numbered Markdown manuscripts of a book folder. Importing a file "
                    "again replaces its manuscript (renamed after --title if given) unless it was edited "
                    "since; a book folder without book.toml gets one, as 'pipeline init' writes it.")
    import_cmd.add_argument("files", nargs="+", type=Path, metavar="FILE",
                            help="plain-text article (UTF-8) or Word document (.docx)")
    import_cmd.add_argument("--into", required=True, type=Path, metavar="BOOK_DIR",
                            help="book folder to write NN-<slug>.md into (created if missing)")
    import_cmd.add_argument("--title", help="the article's title (one FILE only); default: the document's own "
                                            "title, else a provisional one (I004)")
    import_cmd.add_argument("--force", action="store_true",
                            help="replace a manuscript of the same article, even one edited since its import")
    return parser


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None,
         typesetter: "Standby | None" = None) -> int:
    """Run the command `argv`; its exit status. `typesetter`: Typst's
    compile process, already started for a build (`commands.entry`)."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    if not (sys.argv[1:] if argv is None else argv):  # `pipeline` alone: what it can do, not an error
        argument_parser().print_help(stdout)
        return EXIT_OK
    try:
        args = argument_parser().parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    from ..resources import trust_hard_links

    trust_hard_links(getattr(args, "trust_hard_links", False))  # the read gate's one setting, for this command
    if args.command in ("build", "check", "serve"):
        _default_out(args)
        _site_note(args, stderr)
    _fetch_setting(args)
    commands = {"import": _import, "check": _check, "new": _new, "init": _init, "serve": _serve,
                "build": functools.partial(_build, typesetter=typesetter)}
    from ..interrupts import remembered

    try:
        with remembered():  # a Ctrl-C Python drops (during a fork) still stops the build before it commits
            return commands[args.command](args, stdout, stderr)
    except KeyboardInterrupt:  # Ctrl-C: one line, not a traceback; the build removed its temporary files
        from ..diagnostics import error

        kept = "; the previous outputs are left as they were" if args.command in ("build", "import", "new") else ""
        print(error("X007", f"interrupted (Ctrl-C){kept}").format(), file=stderr)
        return EXIT_INTERRUPTED


def _build(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, typesetter: "Standby | None" = None) -> int:
    import time

    from ..progress import for_stream

    started = time.perf_counter()
    formats = tuple(dict.fromkeys(args.formats or DEFAULT_FORMATS))
    targets = _targets(args.targets, stderr)
    if targets is None:
        return EXIT_USAGE
    progress = for_stream(stderr, quiet=args.quiet)
    try:
        options = BuildOptions(formats=formats, strict=args.strict, pdf_variant=args.pdf_variant,
                               impose=args.impose, time_limit=args.time_limit, per_article=args.per_article,
                               jobs=args.jobs, cache=args.cache, print_profile=args.print_profile,
                               book=args.book, scheduler=_scheduler(args.scheduler), pdf_engine=args.engine,
                               targets=targets)
        result = build(args.book_dir, args.out, options, progress=progress, typesetter=typesetter)
    finally:
        progress.close()  # the terminal gets its cursor back, whatever happened
    if result.up_to_date:  # nothing was written: say so, not "wrote" for files left as they were
        code = _report((), result.diagnostics, stdout, stderr, "build failed: {errors} error(s)")
        print(f"up to date ({time.perf_counter() - started:.2f} s): {args.out}", file=stdout)
        return code
    code = _report(result.outputs, result.diagnostics, stdout, stderr,
                   "build failed: {errors} error(s); previous outputs left unchanged")
    for path in result.removed:  # outputs that no longer belong to the book
        print(f"removed {path}", file=stdout)
    if result.articles is not None and code == EXIT_OK:
        print(result.articles, file=stdout)
    return code


def _fetch_setting(args: argparse.Namespace) -> None:
    """--fetch-remote, for this command (fetch.py); fetched images are kept
    in the output folder's cache (check: in the user's cache)."""
    from ..cache import CACHE_DIR
    from ..fetch import configure

    out = getattr(args, "out", None) if args.command in ("build", "serve") else None
    configure(mode="fetch" if getattr(args, "fetch_remote", False) else "omit",
              cache=out / CACHE_DIR / "remote" if out is not None else None)


def _default_out(args: argparse.Namespace) -> None:
    """OUT_DIR where none was named (--out, or --outputs alone): `_dist` in
    the book folder (`output.default_out`), known only once BOOK_DIR is."""
    from ..output import default_out

    if getattr(args, "out", "") is None:
        args.out = default_out(args.book_dir)
    if getattr(args, "outputs", None) is _DEFAULT_OUT:
        args.outputs = default_out(args.book_dir)


def _site_note(args: argparse.Namespace, stderr: TextIO) -> None:
    """Choose the command's section (--section) and say once, on stderr,
    which website flavour the book is read as and from where (nothing for
    a plain folder of Markdown, nor with --quiet)."""
    from ..load.sites import choose_section, describe

    choose_section(args.section)
    note = describe(args.book_dir)
    if note and not getattr(args, "quiet", False):
        print(f"note: {note}", file=stderr, flush=True)


def _scheduler(given: str | None) -> str | None:
    """The scheduler the person running the build names: --scheduler, else
    $PIPELINE_SCHEDULER, else none (a local build)."""
    return given or os.environ.get(SCHEDULER_VARIABLE, "").strip() or None


def _import(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from . import importer

    done = importer.run(args)
    code = _report(done.written, done.diagnostics, stdout, stderr, "import failed: {errors} error(s); nothing written")
    for path in done.removed:  # an earlier import of the same file, renamed after its new title
        print(f"removed {path} (replaced)", file=stdout)
    return code


def _targets(values: list[str], stderr: TextIO) -> tuple[str, ...] | None:
    """--target values as target names; None (said on stderr) for an unknown one."""
    from ..targets import parse_targets

    try:
        return parse_targets(values)
    except ValueError as exc:
        print(f"pipeline: error: argument --target: {exc}", file=stderr)
        return None


def _check(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from .check import check_book
    from ..diagnostics import as_errors

    targets = _targets(args.targets, stderr)
    if targets is None:
        return EXIT_USAGE
    diagnostics = check_book(args.book_dir, args.outputs, args.print_profile, targets)
    if args.strict:
        diagnostics = as_errors(diagnostics)
    code = _report((), diagnostics, stdout, stderr, "check failed: {errors} error(s)")
    if code == EXIT_OK:
        print(f"checked {args.book_dir}: {len(diagnostics)} warning(s)", file=stdout)
    return code


def _serve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import time

    from .serve import start

    if not args.book_dir.is_dir():
        print(f"error: book folder '{args.book_dir}' does not exist", file=stderr)
        return EXIT_FAILED
    try:
        server, stop = start(args.book_dir, args.out, args.port, tuple(args.host),
                             report=lambda line: print(line, file=stderr, flush=True))
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}; try --port", file=stderr)
        return EXIT_FAILED
    print(f"serving {args.book_dir} at http://127.0.0.1:{args.port}/ (Ctrl-C to stop)", file=stdout)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stop.set()
        server.shutdown()
    return EXIT_OK


def _new(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from .scaffold import new_book

    written, diagnostics = new_book(args.folder)
    return _report(written, diagnostics, stdout, stderr, "new failed: {errors} error(s)")


def _init(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from .scaffold import init_book

    written, diagnostics = init_book(args.folder)
    return _report(written, diagnostics, stdout, stderr, "init failed: {errors} error(s); nothing written")


def _report(outputs, diagnostics, stdout: TextIO, stderr: TextIO, failure: str) -> int:
    """Diagnostics to stderr (all of them), written paths to stdout, exit status."""
    for line in format_all(diagnostics, relative_to=Path.cwd()):
        print(line, file=stderr)
    errors = sum(d.is_error for d in diagnostics)
    if errors:
        print(failure.format(errors=errors), file=stderr)
        return EXIT_FAILED
    for path in outputs:
        print(f"wrote {path} ({_size(path)})", file=stdout)
    return EXIT_OK


def _size(path: Path) -> str:
    """A file's size as people read it: '840 B', '12.4 kB', '1.2 MB' (SI units, as
    browsers and file managers give download sizes)."""
    try:
        size = path.stat().st_size
    except OSError:
        return "size unknown"
    if size < 1000:
        return f"{size} B"
    return f"{size / 1000:.1f} kB" if size < 999_950 else f"{size / 1_000_000:.1f} MB"
