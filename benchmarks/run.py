"""Benchmark the pipeline's build on synthetic books of growing size.

Usage: python benchmarks/run.py [--sizes seed,2,20,60,100,300] [--runs 3] [--out benchmarks/out]
                                [--source CHECKOUT]

For each size it generates a book (benchmarks/generate.py; `seed` is the
project's own manuscripts/, copied) and measures,
as the median of several runs, each build as a user runs it (a fresh
`python -m pipeline build` process, so start-up and imports count):

- cold: PDF + EPUB into a fresh output folder (`--jobs` at its default,
  the CPU count), and again with `--jobs 1`;
- no-op: the same command again into the same folder;
- edit: again, after appending a sentence to one manuscript;
- epub: `--format epub` into a fresh folder;
- the peak RSS of each build (see measure.py for how it stays per-build);
- with pandoc on PATH: `--format pdf` and pandoc's EPUB 3 and two PDFs
  (WeasyPrint engine) of the same articles: plain (pandoc's defaults) and
  paged (benchmarks/pandoc-paged.css: A5, contents with page numbers,
  running heads, folios, recto openers, the book's fonts), run next to ours
  in the same run, so the ratios ours / pandoc compare builds made under the
  same machine load;
- once per book, the size of its PDF laid out as one document
  (benchmarks/onepiece.py), against the joined PDF of the cold build.

The machine this runs on is shared and noisy: the report gives medians, and
ratios are the median of per-run ratios, never of numbers from different runs.
Writes results.md (tables, the issue #14 targets, machine), results.json (every raw sample) and,
if matplotlib is importable, results.png into --out.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes.util
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # benchmarks/ is not a package: generate.py is imported from beside this file

SEED = "seed"  # the project's own book, manuscripts/, measured like a size
DEFAULT_SIZES = (SEED, 2, 20, 60, 100, 300)
DEFAULT_RUNS = 3
BIG_SIZE = 300  # books this big take minutes per run: one run unless --runs says otherwise
BIG_SIZE_RUNS = 1
MIB = 1024
LAYOUT_TIME_LIMIT = 7200  # seconds; see build_options()

# Metric key -> column heading, in the order they are measured and shown.
OURS = {
    "cold": "Cold build, PDF+EPUB (s)",
    "cold_jobs1": "Cold, `--jobs 1` (s)",
    "noop": "No-op rebuild (s)",
    "edit": "Rebuild after 1 edit (s)",
    "epub": "EPUB only (s)",
}
SIDE_BY_SIDE = {
    "pdf": "ours, PDF only",
    "typst": "ours, PDF only, --engine typst",
    "pandoc_pdf": "pandoc, PDF (WeasyPrint), plain",
    "pandoc_paged": "pandoc, PDF (WeasyPrint), paged CSS",
    "pandoc_epub": "pandoc, EPUB 3",
}
ONE_PIECE = "one_piece"  # our PDF laid out as one document (onepiece.py), first run only
PAGED_CSS = HERE / "pandoc-paged.css"
# What `pipeline build` imports before it lays out a page (the CLI, the build, both exporters);
# timed alone on the seed book, where start-up is most of a build.
IMPORTS = "import pipeline.commands.cli, pipeline.build, pipeline.export.pdf, pipeline.export.epub"
# Our builds as a user runs them: the ones whose peak RSS the target bounds.
USER_BUILDS = ("cold", "cold_jobs1", "noop", "edit", "epub", "pdf")


class BenchmarkError(RuntimeError):
    """A measured command failed: the numbers would be meaningless, so stop."""


@dataclass(frozen=True)
class Setup:
    """How every command of the benchmark is run, decided once at the start."""

    env: dict[str, str]
    pandoc: str | None
    source: Path  # the checkout measured (its manuscripts/ is the seed book)
    build_options: tuple[str, ...]  # added to every `pipeline build`
    work: Path  # scratch folder; every command runs in it
    engines_only: bool = False  # --engines: the PDF engines side by side, nothing else


@dataclass(frozen=True)
class Sample:
    seconds: float
    max_rss_kib: int


@dataclass
class SizeResult:
    """Everything measured for one book size: raw samples per metric, one per run."""

    articles: int
    words: int
    book: str = "synthetic"  # or SEED
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    output_bytes: dict[str, int] = field(default_factory=dict)
    output_pages: dict[str, int] = field(default_factory=dict)  # PDF page counts: ours, pandoc's two

    @property
    def label(self) -> str:
        return f"seed book ({self.articles})" if self.book == SEED else str(self.articles)

    def add(self, metric: str, sample: Sample) -> None:
        self.samples.setdefault(metric, []).append(sample)

    def median_seconds(self, metric: str) -> float | None:
        values = [s.seconds for s in self.samples.get(metric, [])]
        return statistics.median(values) if values else None

    def median_rss_mib(self, metric: str) -> float | None:
        values = [s.max_rss_kib / MIB for s in self.samples.get(metric, [])]
        return statistics.median(values) if values else None

    def paired_ratio(self, ours: str, *theirs: str) -> float | None:
        """Median of per-run ratios of `ours` to the sum of `theirs`: each run's
        measurements ran back to back, under the same load."""
        runs = zip(self.samples.get(ours, []), *(self.samples.get(name, []) for name in theirs))
        ratios = [a.seconds / total for a, *others in runs if (total := sum(b.seconds for b in others)) > 0]
        return statistics.median(ratios) if ratios else None


# --- command line -----------------------------------------------------------------------------

def parse_sizes(text: str) -> list[int | str]:
    """Article counts, and `seed` for the project's own book."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        sizes: list[int | str] = [SEED if part == SEED else int(part) for part in parts]
    except ValueError:
        sizes = []
    if not sizes or any(size != SEED and int(size) < 1 for size in sizes):
        raise argparse.ArgumentTypeError("sizes are positive article counts or 'seed', e.g. seed,2,20,100")
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES),
                        help="article counts, comma-separated, and 'seed' for manuscripts/ "
                             "(default: seed,2,20,60,100,300)")
    parser.add_argument("--runs", type=int, default=None,
                        help=f"runs per size, median reported (default: {DEFAULT_RUNS}; "
                             f"{BIG_SIZE_RUNS} for {BIG_SIZE}+ articles)")
    parser.add_argument("--big-runs", type=int, default=BIG_SIZE_RUNS,
                        help=f"runs for books of {BIG_SIZE}+ articles when --runs is not given "
                             f"(default: {BIG_SIZE_RUNS})")
    parser.add_argument("--out", type=Path, default=HERE / "out",
                        help="folder for results and scratch books (default: benchmarks/out)")
    parser.add_argument("--source", type=Path, default=REPO,
                        help="checkout whose pipeline/ is benchmarked (default: this one)")
    parser.add_argument("--engines", action="store_true",
                        help="measure only the PDF engines side by side: ours (WeasyPrint), ours with "
                             "--engine typst, pandoc's WeasyPrint PDFs where pandoc is on PATH, and pandoc 3 + Typst "
                             "and Prince where the bench extra is installed (benchmarks/peers.py)")
    parser.add_argument("--report-from", type=Path, default=None, metavar="RESULTS_JSON",
                        help="measure nothing: rewrite results.md and results.png into --out from a "
                             "results.json written earlier (e.g. after installing matplotlib)")
    parser.add_argument("--count-pages", action="store_true",
                        help="with --report-from: first count the PDF pages of books measured without "
                             "page counts (builds each once more, untimed), and rewrite results.json")
    args = parser.parse_args(argv)
    if (args.runs is not None and args.runs < 1) or args.big_runs < 1:
        parser.error("--runs and --big-runs must be at least 1")
    if args.count_pages and not args.report_from:
        parser.error("--count-pages goes with --report-from (a measuring run counts pages itself)")
    return args


def runs_for(size: int | str, runs: int | None, big_runs: int = BIG_SIZE_RUNS) -> int:
    """An explicit --runs applies to every size; else the big book runs --big-runs times."""
    if runs is not None:
        return runs
    return big_runs if size != SEED and int(size) >= BIG_SIZE else DEFAULT_RUNS


# --- the environment --------------------------------------------------------------------------

def build_environment(source: Path) -> dict[str, str]:
    """The builds import pipeline from `source` (not whatever is installed), and pandoc
    finds the venv's `weasyprint` command as its PDF engine."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source.resolve()), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def find_pandoc() -> str | None:
    return shutil.which("pandoc")


def command_output(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str | None:
    """First line of a quick informational command's output, or None if it is unavailable."""
    try:
        completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=60,
                                   check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = completed.stdout.strip().splitlines()
    return lines[0] if lines else None


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_total() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / MIB / MIB:.1f} GiB"
    return "unknown"


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_revision(source: Path) -> str:
    """The benchmarked commit, marked '+changes' when pipeline/ or styles/ differ from it.
    Read-only git commands only (no index refresh)."""
    git = ["git", "--no-optional-locks", "-C", str(source)]
    revision = command_output(git + ["rev-parse", "--short", "HEAD"])
    if revision is None:
        return "unknown"
    dirty = subprocess.run(git + ["diff", "--quiet", "HEAD", "--", "pipeline", "styles"],
                           capture_output=True, check=False).returncode != 0
    return revision + (" +changes" if dirty else "")


def build_options(env: dict[str, str], cwd: Path) -> tuple[str, ...]:
    """Raise the PDF layout time limit, where the CLI has one: a big book can exceed the
    default (300 s for 300 articles here), and the benchmark measures the build, not the guard."""
    completed = subprocess.run([sys.executable, "-m", "pipeline", "build", "--help"], capture_output=True,
                               text=True, env=env, cwd=cwd, check=False)
    return ("--time-limit", str(LAYOUT_TIME_LIMIT)) if "--time-limit" in completed.stdout else ()


def imported_pipeline(env: dict[str, str], cwd: Path) -> Path | None:
    """The pipeline/ folder the builds will import, to check it is the one asked for
    (an installed copy would otherwise stand in, silently, for a wrong --source)."""
    location = command_output([sys.executable, "-c", "import pipeline; print(pipeline.__file__)"], env=env,
                              cwd=cwd)
    return Path(location).resolve().parent if location else None


def machine_info(env: dict[str, str], source: Path, pandoc: str | None, cwd: Path) -> dict[str, object]:
    """What a reader needs to compare these numbers with another machine's."""
    version = command_output([sys.executable, "-m", "pipeline", "--version"], env=env, cwd=cwd)
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory": memory_total(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pipeline": (version or "unknown").removeprefix("pipeline "),
        "pipeline_source": str(source.resolve()),
        "git": git_revision(source),
        "weasyprint": package_version("weasyprint"),
        "harfbuzz_subset": ctypes.util.find_library("harfbuzz-subset") is not None,
        "pandoc": command_output([pandoc, "--version"]) if pandoc else None,
        "load_average_at_start": os.getloadavg(),
    }


# --- measuring ----------------------------------------------------------------------------------

def measured(command: list[str], env: dict[str, str], cwd: Path) -> Sample:
    """Run `command` under a fresh measure.py, so its peak RSS is its own (see measure.py)."""
    completed = subprocess.run([sys.executable, str(HERE / "measure.py"), *command],
                               capture_output=True, text=True, env=env, cwd=cwd, check=False)
    if completed.returncode != 0:
        raise BenchmarkError(f"measure.py failed:\n{completed.stderr}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    if report["returncode"] != 0:
        raise BenchmarkError(f"command failed with exit {report['returncode']}: {' '.join(command)}\n"
                             f"{report['stderr']}")
    return Sample(seconds=report["seconds"], max_rss_kib=report["max_rss_kib"])


def ours(setup: Setup, book: Path, out: Path, *formats: str, jobs: int | None = None) -> list[str]:
    """Our build as a user runs it; `--jobs` left to its default (the CPU count) unless given."""
    command = [sys.executable, "-m", "pipeline", "build", str(book), "--out", str(out), *setup.build_options]
    for name in formats:
        command += ["--format", name]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    return command


def pandoc_command(pandoc: str, articles: list[Path], output: Path, book: PandocBook,
                   paged: bool = False) -> list[str]:
    """pandoc on the same articles; --file-scope keeps each file's [^1] footnote its own.

    Plain is pandoc's defaults. Paged adds what our booklet prints: a contents
    (--toc, as deep as ours: the articles and their sections, numbered by the
    stylesheet's target-counter),
    sections to open on right-hand pages and take running heads from
    (--section-divs), and the paged-media stylesheet (A5, fonts, heads, folios).
    """
    command = [pandoc, "--file-scope", "--metadata", f"title={book.title}", "--metadata", f"lang={book.language}",
               "-o", str(output)]
    if output.suffix == ".pdf":
        command.append("--pdf-engine=weasyprint")
        if paged:
            command += ["--toc", f"--toc-depth={book.toc_depth}", "--section-divs", "--css", str(PAGED_CSS)]
    else:
        command += ["-t", "epub3"]
    return command + [str(path) for path in articles]


@dataclass(frozen=True)
class PandocBook:
    """A book as pandoc gets it: the book's title and language, and one file per article."""

    title: str
    language: str
    articles: list[Path]
    # The contents' depth of our booklet ([book] toc-depth, 2: articles and their sections), given to
    # pandoc as --toc-depth, so that every booklet of the comparison lists the same headings.
    toc_depth: int = 2


def pandoc_book(book: Path, manuscripts: list[Path], folder: Path) -> PandocBook:
    """Each manuscript with its front-matter title as its level-1 heading, as pandoc expects
    chapters (it keeps no per-file metadata: the titles would otherwise be lost). Written
    once per book, before any timing; the text is otherwise the manuscript's."""
    config = tomllib.loads((book / "book.toml").read_text(encoding="utf-8"))["book"]
    fresh_dir(folder)
    articles = []
    for path in manuscripts:
        text = path.read_text(encoding="utf-8")
        title, body = path.stem, text
        if text.startswith("---\n"):
            front, _, body = text[4:].partition("\n---\n")
            title = str((yaml.safe_load(front) or {}).get("title", title))
        target = folder / path.name
        target.write_text(f"# {title}\n\n{body.lstrip()}", encoding="utf-8")
        articles.append(target)
    return PandocBook(title=config["title"], language=config.get("language", "en"), articles=articles,
                      toc_depth=int(config.get("toc-depth", 2)))


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


@contextlib.contextmanager
def appended(path: Path, text: str) -> Iterator[None]:
    """Append `text` to `path` for the duration, then restore it, so every run starts alike."""
    original = path.read_bytes()
    path.write_bytes(original + text.encode("utf-8"))
    try:
        yield
    finally:
        path.write_bytes(original)


def output_sizes(out: Path) -> dict[str, int]:
    return {path.suffix.lstrip("."): path.stat().st_size for path in sorted(out.iterdir())
            if path.suffix in (".pdf", ".epub")}


def one_run(result: SizeResult, book: Path, manuscripts: list[Path], run: int, setup: Setup,
            theirs: PandocBook | None) -> None:
    """One run of every measurement, in a fixed order; pandoc's next to the matching one of ours."""
    work = setup.work
    def record(metric: str, command: list[str]) -> None:
        sample = measured(command, setup.env, work)
        result.add(metric, sample)
        print(f"    {metric:<12} {sample.seconds:8.2f} s  {sample.max_rss_kib / MIB:7.0f} MiB", flush=True)

    if setup.engines_only:
        engines_run(result, book, setup, theirs, record)
        return

    full = fresh_dir(work / "out-full")
    record("cold", ours(setup, book, full))
    result.output_bytes.update(output_sizes(full))
    if not {"pdf", "epub"} <= set(result.output_bytes):
        raise BenchmarkError(f"cold build did not write a PDF and an EPUB into {full}")
    record("cold_jobs1", ours(setup, book, fresh_dir(work / "out-jobs1"), jobs=1))
    record("noop", ours(setup, book, full))
    edited = manuscripts[len(manuscripts) // 2]
    with appended(edited, f"\nOne more sentence, added by the benchmark in run {run}.\n"):
        record("edit", ours(setup, book, full))
    record("epub", ours(setup, book, fresh_dir(work / "out-epub"), "epub"))
    typst = fresh_dir(work / "out-typst")  # the second PDF engine (export/typst), beside ours and pandoc's
    record("typst", ours(setup, book, typst, "pdf") + ["--engine", "typst"])
    result.output_pages["typst"] = _pages(next(typst.glob("*.pdf")))
    if setup.pandoc and theirs:
        pandoc = setup.pandoc
        out = fresh_dir(work / "out-pandoc")
        record("pandoc_epub", pandoc_command(pandoc, theirs.articles, out / "book.epub", theirs))
        record("pdf", ours(setup, book, fresh_dir(work / "out-pdf"), "pdf"))
        record("pandoc_pdf", pandoc_command(pandoc, theirs.articles, out / "book.pdf", theirs))
        record("pandoc_paged", pandoc_command(pandoc, theirs.articles, out / "paged.pdf", theirs, paged=True))
        result.output_bytes.update({"pandoc_pdf": (out / "book.pdf").stat().st_size,
                                    "pandoc_paged": (out / "paged.pdf").stat().st_size})
        result.output_pages.update(pdf_pages(work / "out-pdf", out))
    if result.book == SEED:  # what any build pays before its first page: start-up and imports
        record("imports", [sys.executable, "-c", IMPORTS])
        record("weasyprint_import", [sys.executable, "-c", "import weasyprint"])
    if run == 1:  # the one-piece layout gives the same bytes every time: its size once is enough
        one_piece = fresh_dir(work / "out-one-piece")
        record(ONE_PIECE, [sys.executable, str(HERE / "onepiece.py"), str(book), "--out", str(one_piece),
                           "--format", "pdf", *setup.build_options])
        result.output_bytes["pdf_one_piece"] = output_sizes(one_piece)["pdf"]


def engines_run(result: SizeResult, book: Path, setup: Setup, theirs: PandocBook | None, record) -> None:
    """--engines: the PDF alone, by each engine, back to back (a paired ratio
    compares builds made under the same load)."""
    work = setup.work
    weasy, typst = fresh_dir(work / "out-pdf"), fresh_dir(work / "out-typst")
    record("pdf", ours(setup, book, weasy, "pdf"))
    record("typst", ours(setup, book, typst, "pdf") + ["--engine", "typst"])
    result.output_pages.update({"pdf": _pages(next(weasy.glob("*.pdf"))), "typst": _pages(next(typst.glob("*.pdf")))})
    if setup.pandoc and theirs:
        out = fresh_dir(work / "out-pandoc")
        record("pandoc_pdf", pandoc_command(setup.pandoc, theirs.articles, out / "book.pdf", theirs))
        record("pandoc_paged", pandoc_command(setup.pandoc, theirs.articles, out / "paged.pdf", theirs, paged=True))
        result.output_pages.update({"pandoc_pdf": _pages(out / "book.pdf"), "pandoc_paged": _pages(out / "paged.pdf")})
    if theirs and peers_installed():  # pandoc 3 + Typst, and Prince: the bench extra's binaries
        peers = fresh_dir(work / "out-peers")
        for name in PEERS:
            output = peers / f"{name}.pdf"
            record(f"peer_{name}", [sys.executable, str(HERE / "peers.py"), name, str(output), theirs.title,
                                    theirs.language, str(theirs.toc_depth), *map(str, theirs.articles)])
            result.output_pages[f"peer_{name}"] = _pages(output)


PEERS = ("typst", "prince")  # benchmarks/peers.py


def peers_installed() -> bool:
    """pypandoc-binary and prince-pdf, the `bench` extra (pip install -e '.[bench]')."""
    return all(package_version(name) != "not installed" for name in ("pypandoc-binary", "prince-pdf"))


def engines_table(results: list[SizeResult]) -> str:
    """Each PDF engine's build time, pages and time per page, and Typst's paired ratios."""
    keys = ("pdf", "typst", "pandoc_pdf", "pandoc_paged", "peer_typst", "peer_prince")
    names = "WeasyPrint, Typst, pandoc 2 plain, paged, pandoc 3 + Typst, Prince"
    headings = ["Book", "Runs", f"PDF build (s): {names}", f"Pages: {names}", f"ms per page: {names}",
                "Typst / WeasyPrint", "Typst / pandoc 2 plain", "Typst / pandoc 3 + Typst", "Typst / Prince"]
    rows = [[r.label, str(len(r.samples.get("typst", []))),
             ", ".join(fmt(r.median_seconds(key)) for key in keys),
             ", ".join(str(r.output_pages.get(key, "–")) for key in keys),
             ", ".join(fmt(per_page(r, key), 1) for key in keys),
             fmt(r.paired_ratio("typst", "pdf")), fmt(r.paired_ratio("typst", "pandoc_pdf")),
             fmt(r.paired_ratio("typst", "peer_typst")), fmt(r.paired_ratio("typst", "peer_prince"))]
            for r in results if r.samples.get("typst")]
    return markdown_table(headings, rows)


def _pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def pdf_pages(ours_dir: Path, pandoc_dir: Path) -> dict[str, int]:
    """Page counts of our PDF and pandoc's two, for the time per page (outside any timing)."""
    from pypdf import PdfReader  # a dependency of the pipeline, so in the venv

    ours_pdf = next(ours_dir.glob("*.pdf"))
    return {key: len(PdfReader(path).pages) for key, path in
            (("pdf", ours_pdf), ("pandoc_pdf", pandoc_dir / "book.pdf"), ("pandoc_paged", pandoc_dir / "paged.pdf"))}


def count_pages(results: list[SizeResult], root: Path, setup: Setup) -> None:
    """For results measured before page counts were recorded: build each book once more
    (our PDF, pandoc's two; untimed) and count the pages. The books are deterministic,
    so the counts are those of the measured builds."""
    for result in results:
        if "pdf" in result.output_pages or not setup.pandoc:
            continue
        print(f"  counting pages: {result.label} articles", flush=True)
        book, manuscripts = book_for(SEED if result.book == SEED else result.articles, root, setup)
        theirs = pandoc_book(book, manuscripts, root / "books" / f"{book.name}-pandoc")
        out, pandoc_out = fresh_dir(setup.work / "out-pdf"), fresh_dir(setup.work / "out-pandoc")
        measured(ours(setup, book, out, "pdf"), setup.env, setup.work)
        measured(pandoc_command(setup.pandoc, theirs.articles, pandoc_out / "book.pdf", theirs), setup.env,
                 setup.work)
        measured(pandoc_command(setup.pandoc, theirs.articles, pandoc_out / "paged.pdf", theirs, paged=True),
                 setup.env, setup.work)
        result.output_pages = pdf_pages(out, pandoc_out)


def book_for(size: int | str, root: Path, setup: Setup) -> tuple[Path, list[Path]]:
    """The book measured for `size`: a generated one, or a copy of the seed book (the edit
    measurement appends to a manuscript, and the checkout's own files stay untouched)."""
    if size == SEED:
        book = root / "books" / SEED
        if book.exists():
            shutil.rmtree(book)
        shutil.copytree(setup.source / "manuscripts", book)
        return book, sorted(book.glob("*.md"))
    book = root / "books" / f"{size}-articles"
    return book, generate.generate(int(size), book)


def measure_size(size: int | str, runs: int, root: Path, setup: Setup) -> SizeResult:
    book, manuscripts = book_for(size, root, setup)
    words = sum(generate.word_count(path.read_text(encoding="utf-8")) for path in manuscripts)
    result = SizeResult(articles=len(manuscripts), words=words, book=SEED if size == SEED else "synthetic")
    theirs = pandoc_book(book, manuscripts, root / "books" / f"{book.name}-pandoc") \
        if setup.pandoc or (setup.engines_only and peers_installed()) else None
    for run in range(1, runs + 1):
        print(f"  {result.label} articles, run {run}/{runs}", flush=True)
        one_run(result, book, manuscripts, run, setup, theirs)
    return result


# --- reporting ----------------------------------------------------------------------------------

def fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown_table(headings: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headings) + " |", "|" + "---:|" * len(headings)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main_table(results: list[SizeResult]) -> str:
    headings = ["Articles", "Words", *OURS.values(), "Cold / `--jobs 1`", "Edit / cold", "No-op / cold",
                "EPUB only / cold", "Peak RSS, cold (MiB)", "Peak RSS, EPUB only (MiB)",
                "PDF (MB)", "EPUB (MB)", "PDF / one-piece PDF", "Runs"]
    rows = [[r.label, str(r.words), *(fmt(r.median_seconds(key)) for key in OURS),
             fmt(r.paired_ratio("cold", "cold_jobs1")), fmt(r.paired_ratio("edit", "cold")),
             fmt(r.paired_ratio("noop", "cold"), 3), fmt(r.paired_ratio("epub", "cold")),
             fmt(r.median_rss_mib("cold"), 0), fmt(r.median_rss_mib("epub"), 0),
             fmt(r.output_bytes.get("pdf", 0) / 1e6), fmt(r.output_bytes.get("epub", 0) / 1e6),
             fmt(size_ratio(r), 3), str(len(r.samples["cold"]))] for r in results]
    return markdown_table(headings, rows)


def size_ratio(result: SizeResult) -> float | None:
    """Our joined PDF's size over the same book's PDF laid out as one document."""
    one_piece = result.output_bytes.get("pdf_one_piece")
    return result.output_bytes["pdf"] / one_piece if one_piece and "pdf" in result.output_bytes else None


def pandoc_table(results: list[SizeResult]) -> str:
    headings = ["Articles", "Ours PDF+EPUB (s)", "pandoc plain PDF+EPUB (s)", "pandoc paged PDF+EPUB (s)",
                "PDF+EPUB ours/plain", "PDF+EPUB ours/paged",
                "Ours PDF (s)", "pandoc plain PDF (s)", "pandoc paged PDF (s)", "PDF ours/plain", "PDF ours/paged",
                "Ours EPUB (s)", "pandoc EPUB (s)", "EPUB ours/pandoc",
                "Peak RSS (MiB): ours PDF, pandoc plain, paged", "PDF (MB): ours, plain, paged",
                "Pages: ours, plain, paged", "PDF ms per page: ours, plain, paged"]
    rows = []
    for r in results:
        sizes = [r.output_bytes.get(key) for key in ("pdf", "pandoc_pdf", "pandoc_paged")]
        rows.append([
            r.label, fmt(r.median_seconds("cold")), fmt(_median_sum(r, "pandoc_pdf", "pandoc_epub")),
            fmt(_median_sum(r, "pandoc_paged", "pandoc_epub")),
            fmt(r.paired_ratio("cold", "pandoc_pdf", "pandoc_epub")),
            fmt(r.paired_ratio("cold", "pandoc_paged", "pandoc_epub")),
            fmt(r.median_seconds("pdf")), fmt(r.median_seconds("pandoc_pdf")), fmt(r.median_seconds("pandoc_paged")),
            fmt(r.paired_ratio("pdf", "pandoc_pdf")), fmt(r.paired_ratio("pdf", "pandoc_paged")),
            fmt(r.median_seconds("epub")), fmt(r.median_seconds("pandoc_epub")),
            fmt(r.paired_ratio("epub", "pandoc_epub")),
            ", ".join(fmt(r.median_rss_mib(key), 0) for key in ("pdf", "pandoc_pdf", "pandoc_paged")),
            ", ".join("–" if size is None else fmt(size / 1e6) for size in sizes),
            ", ".join(str(r.output_pages.get(key, "–")) for key in ("pdf", "pandoc_pdf", "pandoc_paged")),
            ", ".join(fmt(per_page(r, key), 0) for key in ("pdf", "pandoc_pdf", "pandoc_paged")),
        ])
    return markdown_table(headings, rows)


def per_page(result: SizeResult, metric: str) -> float | None:
    """Median milliseconds per printed page of a PDF build (start-up included)."""
    seconds, pages = result.median_seconds(metric), result.output_pages.get(metric)
    return seconds * 1000 / pages if seconds is not None and pages else None


def _median_sum(result: SizeResult, *metrics: str) -> float | None:
    """Median over runs of the sum of `metrics` measured in the same run."""
    runs = list(zip(*(result.samples.get(name, []) for name in metrics)))
    return statistics.median(sum(s.seconds for s in run) for run in runs) if runs else None


def peak_rss_mib(result: SizeResult) -> float | None:
    """The largest peak RSS of any of our user builds, over every run (not a median: a bound)."""
    peaks = [s.max_rss_kib / MIB for key in USER_BUILDS for s in result.samples.get(key, [])]
    return max(peaks) if peaks else None


def target_rows(results: list[SizeResult]) -> list[list[str]]:
    """Issue #14's targets against this run's figures: [measure, book, figure, target, met]."""
    rows: list[list[str]] = []

    def add(measure: str, result: SizeResult, value: float | None, limit: float, unit: str = "×",
            digits: int = 2) -> None:
        figure = "not measured" if value is None else f"{value:.{digits}f}{'' if unit == '×' else ' ' + unit}"
        met = "–" if value is None else ("met" if value <= limit else "**not met**")
        bound = f"≤ {limit:g}{'' if unit == '×' else ' ' + unit}"
        rows.append([measure, result.label, figure, bound, met])

    synthetic = [r for r in results if r.book != SEED]
    for r in results:
        if r.book == SEED:
            add("PDF+EPUB / pandoc plain PDF+EPUB", r, r.paired_ratio("cold", "pandoc_pdf", "pandoc_epub"), 1.0)
            add("PDF+EPUB / pandoc paged PDF+EPUB", r, r.paired_ratio("cold", "pandoc_paged", "pandoc_epub"), 1.0)
    for r in synthetic:
        if r.articles in (60, 300):
            add("cold PDF+EPUB / pandoc plain", r, r.paired_ratio("cold", "pandoc_pdf", "pandoc_epub"), 0.8)
            add("cold PDF+EPUB / pandoc paged", r, r.paired_ratio("cold", "pandoc_paged", "pandoc_epub"), 0.5)
    for r in synthetic:
        if r.articles >= 60:
            add("edit of one article / cold", r, r.paired_ratio("edit", "cold"), 0.2)
    for r in results:
        add("no-op / cold", r, r.paired_ratio("noop", "cold"), 0.05, digits=3)
    for r in results:
        add("EPUB only / cold", r, r.paired_ratio("epub", "cold"), 0.25)
    biggest = max(synthetic, key=lambda r: r.articles, default=None)
    if biggest:
        add("peak RSS of any process, any of our builds", biggest, peak_rss_mib(biggest), 300, "MiB", 0)
    for r in results:
        add("PDF size / one-piece PDF size", r, size_ratio(r), 1.3, digits=3)
    return rows


def targets_section(results: list[SizeResult]) -> list[str]:
    return [
        "## Targets (issue #14)",
        "",
        markdown_table(["Measure", "Book", "Figure", "Target", "Met?"], target_rows(results)),
        "",
        ("- Every figure is a median of per-run ratios measured back to back in one run, except peak RSS "
         "(the largest of any of our builds in any run: cold, `--jobs 1`, no-op, edit, EPUB only, PDF only; "
         "the resident set of the largest process, worker or main) and the PDF size (one-piece: the same "
         "book laid out as one WeasyPrint document by `benchmarks/onepiece.py`, measured in the first run)."),
        ("- The issue states the peak-RSS target at 300 articles; the row shows the largest book measured. "
         "The seed book target does not name a pandoc column: both are shown."),
        *floor_lines(results),
    ]


def floor_lines(results: list[SizeResult]) -> list[str]:
    """On the seed book, what start-up alone costs against pandoc's whole run: the part of
    the ratio no layout work can remove."""
    lines = []
    for r in results:
        imports, weasyprint = r.median_seconds("imports"), r.median_seconds("weasyprint_import")
        if r.book != SEED or imports is None:
            continue
        lines.append(
            f"- Start-up on the seed book: `python -c \"{IMPORTS}\"` takes {fmt(imports)} s "
            f"(`import weasyprint` alone {fmt(weasyprint)} s), "
            f"{fmt(r.paired_ratio('imports', 'pandoc_pdf', 'pandoc_epub'))} × pandoc's whole plain PDF+EPUB "
            f"({fmt(_median_sum(r, 'pandoc_pdf', 'pandoc_epub'))} s, whose WeasyPrint pays the same import once); "
            f"our cold build is {fmt(r.median_seconds('cold'))} s.")
    return lines


def machine_lines(machine: dict[str, object]) -> list[str]:
    def load(key: str) -> str:
        return ", ".join(f"{value:.2f}" for value in machine.get(key, ()))  # type: ignore[attr-defined]

    return [
        f"- CPU: {machine['cpu_count']} × {machine['cpu_model']}; memory {machine['memory']}",
        f"- Platform: {machine['platform']}; Python {machine['python']}",
        (f"- pipeline {machine['pipeline']} (git {machine['git']}), WeasyPrint {machine['weasyprint']}, "
         f"HarfBuzz subsetter {'present' if machine['harfbuzz_subset'] else 'absent (fontTools used)'}"),
        f"- pandoc: {machine['pandoc'] or 'not found on PATH'}",
        f"- Extra build options: {machine.get('build_options', 'none')}",
        (f"- Load average (1, 5, 15 min) at start: {load('load_average_at_start')}; "
         f"at end: {load('load_average_at_end')}"),
        *(f"- Note: {note}" for note in machine.get("notes", ())),  # type: ignore[attr-defined]
    ]


def report(results: list[SizeResult], machine: dict[str, object], when: str) -> str:
    parts = [
        "# Build benchmark",
        "",
        (f"Measured {when}. Times are wall-clock medians over the runs shown, each a fresh "
         "`python -m pipeline build` process (start-up and imports included); peak RSS is the largest "
         "resident set of the build process or any of its workers. Synthetic books of about 800 words "
         "per article (`benchmarks/generate.py`), and the seed book (the project's own `manuscripts/`). "
         "The machine is shared: compare ratios, not single numbers."),
        "",
        "## Machine",
        "",
        *machine_lines(machine),
        "",
        *(["## Results", "", main_table(results), ""] if all(r.samples.get("cold") for r in results) else []),
        "## PDF engines side by side",
        "",
        engines_table(results),
        "",
        ("- Each a whole `pipeline build --format pdf` (or pandoc's run), start-up, loading and rendering "
         "included (our modules byte-compiled beforehand, as an install does), back to back in each run; ms per page is the median build time over the PDF's pages; a "
         "ratio is the median of per-run ratios. Typst: `--engine typst` (export/typst, tagged PDF/UA-1)."),
        "",
        ("- cold: PDF + EPUB into a fresh output folder (`--jobs` = CPU count; and with `--jobs 1`); no-op: the same command again into the same "
         "folder; edit: again after appending one sentence to one article; EPUB only: `--format epub` "
         "into a fresh folder."),
        "",
        "## Side by side with pandoc",
        "",
    ]
    if machine["pandoc"]:
        parts += [
            pandoc_table(results),
            "",
            ("- Same articles, run back to back in each run; a ratio is the median of the per-run "
             "ratios. pandoc gets each manuscript with its front-matter title as a level-1 heading "
             "(`--file-scope`, `--metadata title=… lang=…`). **Plain**: pandoc's defaults, "
             "`--pdf-engine=weasyprint` (A4, no contents, no page furniture). **Paged**: the same "
             "with `--toc --toc-depth=2 --section-divs --css benchmarks/pandoc-paged.css`, which prints "
             "what our booklet prints: A5, the book's fonts, a title page, a contents with page numbers "
             "listing the articles and their sections, as ours does (`target-counter`), running heads (`string-set`), folios, each article on a right-hand "
             "page. Ours also prints a cover, openers with summaries, footnotes at the page foot, "
             "PDF bookmarks and page labels; pandoc's EPUB is its default `-t epub3`."),
        ]
    else:
        parts.append("pandoc was not found on PATH, so the side-by-side columns were skipped "
                     "(`make bench` installs it where it can: as root with apt-get).")
    targets = targets_section(results) if all(r.samples.get("cold") for r in results) else []
    return "\n".join(parts + ["", *targets]) + "\n"


def raw_json(results: list[SizeResult], machine: dict[str, object], when: str, args: argparse.Namespace) -> str:
    data = {
        "measured_at": when,
        "machine": machine,
        "settings": {"sizes": args.sizes, "runs": {str(s): runs_for(s, args.runs, args.big_runs) for s in args.sizes}},
        "results": [
            {"articles": r.articles, "words": r.words, "book": r.book, "output_bytes": r.output_bytes,
             "output_pages": r.output_pages,
             "samples": {metric: [asdict(s) for s in samples] for metric, samples in r.samples.items()}}
            for r in results
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def plot(results: list[SizeResult], path: Path) -> bool:
    """Time and peak memory against article count; False (and a note) without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")  # no display on a build machine
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not importable here, so no plot was made "
              "(install it into the venv to get results.png)")
        return False
    labels = {**OURS, **SIDE_BY_SIDE}
    results = [r for r in results if r.book != SEED]  # the x axis is the synthetic books' article count
    if not results:
        return False
    counts = [r.articles for r in results]
    figure, (times, memory) = plt.subplots(1, 2, figsize=(11, 4.5))
    for metric, label in labels.items():
        values = [r.median_seconds(metric) for r in results]
        if all(v is not None for v in values):
            times.plot(counts, values, marker="o", label=label.removesuffix(" (s)").replace("`", ""))
    for metric in ("cold", "epub", "pdf", "pandoc_pdf", "pandoc_paged", "pandoc_epub"):
        values = [r.median_rss_mib(metric) for r in results]
        if all(v is not None for v in values):
            memory.plot(counts, values, marker="o", label=labels[metric].removesuffix(" (s)"))
    times.set(title="Build time (median)", xlabel="articles", ylabel="seconds", xscale="log", yscale="log")
    memory.set(title="Peak RSS of the build", xlabel="articles", ylabel="MiB", xscale="log")
    for axes in (times, memory):
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


# --- main -------------------------------------------------------------------------------------

def load_results(path: Path) -> tuple[list[SizeResult], dict[str, object], str]:
    """The samples, machine and date of an earlier run, from its results.json."""
    data = json.loads(path.read_text(encoding="utf-8"))
    results = []
    for entry in data["results"]:
        result = SizeResult(articles=entry["articles"], words=entry["words"],
                            book=entry.get("book", "synthetic"), output_bytes=entry["output_bytes"],
                            output_pages=entry.get("output_pages", {}))
        for metric, samples in entry["samples"].items():
            for sample in samples:
                result.add(metric, Sample(**sample))
        results.append(result)
    return results, data["machine"], data["measured_at"]


def write_report(results: list[SizeResult], machine: dict[str, object], when: str, out: Path) -> list[str]:
    text = report(results, machine, when)
    (out / "results.md").write_text(text, encoding="utf-8")
    print(text)
    return ["results.md"] + (["results.png"] if plot(results, out / "results.png") else [])


def make_setup(args: argparse.Namespace, out: Path) -> Setup | None:
    """How every command runs; None (and why, on stderr) if the builds would not import --source."""
    env = build_environment(args.source)
    # Byte-compiled first, as pip does when it installs a package: where Python may not write
    # its cache (PYTHONDONTWRITEBYTECODE, a read-only checkout), every build would otherwise
    # compile our modules again (a quarter of a second of each seed build here).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(args.source / "pipeline")],
                   capture_output=True, check=False)
    # Every Python command runs in the scratch folder: `python -m`/`-c` put the current folder
    # first on sys.path, and a pipeline/ there (e.g. run from the repo) would beat --source.
    work = out / "work"
    work.mkdir(exist_ok=True)
    imported = imported_pipeline(env, work)
    if imported != (args.source / "pipeline").resolve():
        print(f"benchmark not started: the builds would not import {args.source / 'pipeline'} "
              f"(they import {imported or 'nothing'}); --source must be a checkout", file=sys.stderr)
        return None
    return Setup(env=env, pandoc=find_pandoc(), source=args.source.resolve(),
                 build_options=build_options(env, work), work=work, engines_only=args.engines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    setup = None if args.report_from and not args.count_pages else make_setup(args, out)
    if setup is None and (args.count_pages or not args.report_from):
        return 2
    if args.report_from:
        results, machine, when = load_results(args.report_from)
        if setup:
            try:
                count_pages(results, out, setup)
            except BenchmarkError as problem:
                print(f"counting pages stopped: {problem}", file=sys.stderr)
                return 1
            data = json.loads(args.report_from.read_text(encoding="utf-8"))
            for entry, result in zip(data["results"], results, strict=True):
                entry["output_pages"] = result.output_pages
            (out / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        written = write_report(results, machine, when, out)
        print(f"wrote {', '.join(str(out / name) for name in written)}")
        return 0
    assert setup is not None  # for the type checker: returned above otherwise
    machine = machine_info(setup.env, args.source, setup.pandoc, setup.work)
    machine["build_options"] = " ".join(setup.build_options) or "none"
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not setup.pandoc:
        print("pandoc: not found on PATH; skipping the side-by-side pandoc measurements")
    results = []
    try:
        for size in args.sizes:
            results.append(measure_size(size, runs_for(size, args.runs, args.big_runs), out, setup))
            # Written after every book, so that a run cut short keeps what it measured.
            (out / "results.json").write_text(raw_json(results, machine, when, args), encoding="utf-8")
    except BenchmarkError as problem:
        print(f"benchmark stopped: {problem}", file=sys.stderr)
        return 1
    machine["load_average_at_end"] = os.getloadavg()
    (out / "results.json").write_text(raw_json(results, machine, when, args), encoding="utf-8")
    print()
    written = ["results.json", *write_report(results, machine, when, out)]
    print(f"wrote {', '.join(str(out / name) for name in written)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
