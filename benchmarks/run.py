"""Benchmark the pipeline's build on synthetic books of growing size.

Usage: python benchmarks/run.py [--sizes 2,20,100,300] [--runs 3] [--out benchmarks/out] [--source CHECKOUT]

For each size it generates a book (benchmarks/generate.py) and measures,
as the median of several runs, each build as a user runs it (a fresh
`python -m pipeline build` process, so start-up and imports count):

- cold: PDF + EPUB into a fresh output folder (`--jobs` at its default,
  the CPU count), and again with `--jobs 1`;
- no-op: the same command again into the same folder;
- edit: again, after appending a sentence to one manuscript;
- epub: `--format epub` into a fresh folder;
- the peak RSS of each build (see measure.py for how it stays per-build);
- with pandoc on PATH: `--format pdf` and pandoc's PDF (WeasyPrint engine)
  and EPUB 3 of the same files, run next to ours in the same run, so the
  ratios ours / pandoc compare builds made under the same machine load.

The machine this runs on is shared and noisy: the report gives medians, and
ratios are the median of per-run ratios, never of numbers from different runs.
Writes results.md (table + machine), results.json (every raw sample) and,
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
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # benchmarks/ is not a package: generate.py is imported from beside this file

DEFAULT_SIZES = (2, 20, 100, 300)
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
    "pandoc_pdf": "pandoc, PDF (WeasyPrint)",
    "pandoc_epub": "pandoc, EPUB 3",
}


class BenchmarkError(RuntimeError):
    """A measured command failed: the numbers would be meaningless, so stop."""


@dataclass(frozen=True)
class Setup:
    """How every command of the benchmark is run, decided once at the start."""

    env: dict[str, str]
    pandoc: str | None
    build_options: tuple[str, ...]  # added to every `pipeline build`
    work: Path  # scratch folder; every command runs in it


@dataclass(frozen=True)
class Sample:
    seconds: float
    max_rss_kib: int


@dataclass
class SizeResult:
    """Everything measured for one book size: raw samples per metric, one per run."""

    articles: int
    words: int
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    output_bytes: dict[str, int] = field(default_factory=dict)

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

def parse_sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("sizes are positive article counts, e.g. 2,20,100")
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES),
                        help="article counts, comma-separated (default: 2,20,100,300)")
    parser.add_argument("--runs", type=int, default=None,
                        help=f"runs per size, median reported (default: {DEFAULT_RUNS}; "
                             f"{BIG_SIZE_RUNS} for {BIG_SIZE}+ articles)")
    parser.add_argument("--out", type=Path, default=HERE / "out",
                        help="folder for results and scratch books (default: benchmarks/out)")
    parser.add_argument("--source", type=Path, default=REPO,
                        help="checkout whose pipeline/ is benchmarked (default: this one)")
    parser.add_argument("--report-from", type=Path, default=None, metavar="RESULTS_JSON",
                        help="measure nothing: rewrite results.md and results.png into --out from a "
                             "results.json written earlier (e.g. after installing matplotlib)")
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def runs_for(size: int, runs: int | None) -> int:
    """An explicit --runs applies to every size; by default the big book runs once."""
    if runs is not None:
        return runs
    return BIG_SIZE_RUNS if size >= BIG_SIZE else DEFAULT_RUNS


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


def pandoc_command(pandoc: str, manuscripts: list[Path], output: Path, title: str) -> list[str]:
    """pandoc on the same files; --file-scope keeps each file's [^1] footnote its own."""
    command = [pandoc, "--file-scope", "--metadata", f"title={title}", "-o", str(output)]
    if output.suffix == ".pdf":
        command.append("--pdf-engine=weasyprint")
    else:
        command += ["-t", "epub3"]
    return command + [str(path) for path in manuscripts]


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


def one_run(result: SizeResult, book: Path, manuscripts: list[Path], run: int, setup: Setup) -> None:
    """One run of every measurement, in a fixed order; pandoc's next to the matching one of ours."""
    work = setup.work
    def record(metric: str, command: list[str]) -> None:
        sample = measured(command, setup.env, work)
        result.add(metric, sample)
        print(f"    {metric:<12} {sample.seconds:8.2f} s  {sample.max_rss_kib / MIB:7.0f} MiB", flush=True)

    full = fresh_dir(work / "out-full")
    record("cold", ours(setup, book, full))
    result.output_bytes = output_sizes(full)
    if set(result.output_bytes) != {"pdf", "epub"}:
        raise BenchmarkError(f"cold build did not write a PDF and an EPUB into {full}")
    record("cold_jobs1", ours(setup, book, fresh_dir(work / "out-jobs1"), jobs=1))
    record("noop", ours(setup, book, full))
    edited = manuscripts[len(manuscripts) // 2]
    with appended(edited, f"\nOne more sentence, added by the benchmark in run {run}.\n"):
        record("edit", ours(setup, book, full))
    record("epub", ours(setup, book, fresh_dir(work / "out-epub"), "epub"))
    if setup.pandoc:
        pandoc = setup.pandoc
        title = f"Benchmark Book of {len(manuscripts)} Articles"
        theirs = fresh_dir(work / "out-pandoc")
        record("pandoc_epub", pandoc_command(pandoc, manuscripts, theirs / "book.epub", title))
        record("pdf", ours(setup, book, fresh_dir(work / "out-pdf"), "pdf"))
        record("pandoc_pdf", pandoc_command(pandoc, manuscripts, theirs / "book.pdf", title))


def measure_size(size: int, runs: int, root: Path, setup: Setup) -> SizeResult:
    book = root / "books" / f"{size}-articles"
    manuscripts = generate.generate(size, book)
    words = sum(generate.word_count(path.read_text(encoding="utf-8")) for path in manuscripts)
    result = SizeResult(articles=size, words=words)
    for run in range(1, runs + 1):
        print(f"  {size} articles, run {run}/{runs}", flush=True)
        one_run(result, book, manuscripts, run, setup)
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
                "PDF (MB)", "EPUB (MB)", "Runs"]
    rows = [[str(r.articles), str(r.words), *(fmt(r.median_seconds(key)) for key in OURS),
             fmt(r.paired_ratio("cold", "cold_jobs1")), fmt(r.paired_ratio("edit", "cold")),
             fmt(r.paired_ratio("noop", "cold"), 3), fmt(r.paired_ratio("epub", "cold")),
             fmt(r.median_rss_mib("cold"), 0), fmt(r.median_rss_mib("epub"), 0),
             fmt(r.output_bytes.get("pdf", 0) / 1e6), fmt(r.output_bytes.get("epub", 0) / 1e6),
             str(len(r.samples["cold"]))] for r in results]
    return markdown_table(headings, rows)


def pandoc_table(results: list[SizeResult]) -> str:
    headings = ["Articles", "Ours PDF+EPUB (s)", "pandoc PDF+EPUB (s)", "PDF+EPUB ratio ours/pandoc",
                "Ours PDF (s)", "pandoc PDF (s)", "PDF ratio ours/pandoc",
                "Ours EPUB (s)", "pandoc EPUB (s)", "EPUB ratio ours/pandoc",
                "Ours PDF peak (MiB)", "pandoc PDF peak (MiB)"]
    rows = [[str(r.articles), fmt(r.median_seconds("cold")), fmt(_median_sum(r, "pandoc_pdf", "pandoc_epub")),
             fmt(r.paired_ratio("cold", "pandoc_pdf", "pandoc_epub")),
             fmt(r.median_seconds("pdf")), fmt(r.median_seconds("pandoc_pdf")),
             fmt(r.paired_ratio("pdf", "pandoc_pdf")), fmt(r.median_seconds("epub")),
             fmt(r.median_seconds("pandoc_epub")), fmt(r.paired_ratio("epub", "pandoc_epub")),
             fmt(r.median_rss_mib("pdf"), 0), fmt(r.median_rss_mib("pandoc_pdf"), 0)] for r in results]
    return markdown_table(headings, rows)


def _median_sum(result: SizeResult, *metrics: str) -> float | None:
    """Median over runs of the sum of `metrics` measured in the same run."""
    runs = list(zip(*(result.samples.get(name, []) for name in metrics)))
    return statistics.median(sum(s.seconds for s in run) for run in runs) if runs else None


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
    ]


def report(results: list[SizeResult], machine: dict[str, object], when: str) -> str:
    parts = [
        "# Build benchmark",
        "",
        (f"Measured {when}. Times are wall-clock medians over the runs shown, each a fresh "
         "`python -m pipeline build` process (start-up and imports included); peak RSS is the build "
         "process's maximum resident set. Synthetic books of about 800 words per article "
         "(`benchmarks/generate.py`). The machine is shared: compare ratios, not single numbers."),
        "",
        "## Machine",
        "",
        *machine_lines(machine),
        "",
        "## Results",
        "",
        main_table(results),
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
            ("- Same manuscripts, run back to back in each run; a ratio is the median of the per-run "
             "ratios. Ours builds a designed booklet (cover, contents with page numbers, openers, "
             "footnotes at the page foot, embedded subset fonts); pandoc's default HTML-to-PDF does less."),
        ]
    else:
        parts.append("pandoc was not found on PATH, so the side-by-side columns were skipped.")
    return "\n".join(parts) + "\n"


def raw_json(results: list[SizeResult], machine: dict[str, object], when: str, args: argparse.Namespace) -> str:
    data = {
        "measured_at": when,
        "machine": machine,
        "settings": {"sizes": args.sizes, "runs": {str(s): runs_for(s, args.runs) for s in args.sizes}},
        "results": [
            {"articles": r.articles, "words": r.words, "output_bytes": r.output_bytes,
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
    counts = [r.articles for r in results]
    figure, (times, memory) = plt.subplots(1, 2, figsize=(11, 4.5))
    for metric, label in labels.items():
        values = [r.median_seconds(metric) for r in results]
        if all(v is not None for v in values):
            times.plot(counts, values, marker="o", label=label.removesuffix(" (s)").replace("`", ""))
    for metric in ("cold", "epub", "pdf", "pandoc_pdf", "pandoc_epub"):
        values = [r.median_rss_mib(metric) for r in results]
        if all(v is not None for v in values):
            memory.plot(counts, values, marker="o", label=labels[metric].removesuffix(" (s)"))
    times.set(title="Build time (median)", xlabel="articles", ylabel="seconds")
    memory.set(title="Peak RSS of the build", xlabel="articles", ylabel="MiB")
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
                            output_bytes=entry["output_bytes"])
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.report_from:
        written = write_report(*load_results(args.report_from), out)
        print(f"wrote {', '.join(str(out / name) for name in written)}")
        return 0
    env = build_environment(args.source)
    # Every Python command runs in the scratch folder: `python -m`/`-c` put the current folder
    # first on sys.path, and a pipeline/ there (e.g. run from the repo) would beat --source.
    work = out / "work"
    work.mkdir(exist_ok=True)
    imported = imported_pipeline(env, work)
    if imported != (args.source / "pipeline").resolve():
        print(f"benchmark not started: the builds would not import {args.source / 'pipeline'} "
              f"(they import {imported or 'nothing'}); --source must be a checkout", file=sys.stderr)
        return 2
    setup = Setup(env=env, pandoc=find_pandoc(), build_options=build_options(env, work), work=work)
    machine = machine_info(env, args.source, setup.pandoc, work)
    machine["build_options"] = " ".join(setup.build_options) or "none"
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not setup.pandoc:
        print("pandoc: not found on PATH; skipping the side-by-side pandoc measurements")
    results = []
    try:
        for size in args.sizes:
            results.append(measure_size(size, runs_for(size, args.runs), out, setup))
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
