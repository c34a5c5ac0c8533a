"""Benchmark a catalog: every article's downloadable PDF and EPUB, built
here or on a Dask cluster, cold and after one edit (issue #18).

Usage: python benchmarks/catalog.py [--articles 1000] [--scaling 100] [--runs 3] [--out benchmarks/out]

For a synthetic book of --articles articles (benchmarks/generate.py), each
build is a fresh `python -m pipeline build BOOK --articles-only` process
(each article's PDF and EPUB, and manifest.json), measured side by side:

- local: `--jobs 2` (worker processes on this machine);
- cluster: `--scheduler` of a loopback cluster started here as a user
  starts one (`dask scheduler`, then two `dask worker --nthreads 1`);

each cold (a fresh output folder: once; it is long) and after appending a
sentence to one article (--runs times, the sentence removed between runs:
exactly one booklet is made again each time). Then how throughput grows
with workers: --scaling articles, cold, on a cluster of 1 worker and of 2.
And the per-task overhead of the cluster: the time per task of a task that
does nothing (it still travels: the environment check, a private folder,
the result back), in this process and on the 2-worker cluster.

Writes catalog.md and catalog.json into --out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import generate  # noqa: E402  (benchmarks/ is not a package)
from run import build_environment, fresh_dir, machine_info, measured  # noqa: E402

DASK = Path(sys.executable).with_name("dask")


class LoopbackCluster:
    """`dask scheduler` and N `dask worker --nthreads 1` on 127.0.0.1."""

    def __init__(self, workers: int, folder: Path, env: dict[str, str]):
        self.processes = []
        file = folder / f"scheduler-{workers}.json"
        file.unlink(missing_ok=True)
        self._start([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(file)], env, folder / "scheduler.log")
        deadline = time.monotonic() + 120
        while not file.exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"the scheduler did not start: see {folder / 'scheduler.log'}")
            time.sleep(0.2)
        self.address = json.loads(file.read_text(encoding="utf-8"))["address"]
        for index in range(workers):
            self._start([str(DASK), "worker", self.address, "--nthreads", "1", "--no-dashboard",
                         "--host", "127.0.0.1"], env, folder / f"worker{index}.log")
        from distributed import Client

        with Client(self.address, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)

    def _start(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.processes.append(subprocess.Popen(command, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT))

    def __enter__(self) -> "LoopbackCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=60)


def command(book: Path, out: Path, where: list[str]) -> list[str]:
    return [sys.executable, "-m", "pipeline", "build", str(book), "--out", str(out), "--articles-only", "-q",
            "--time-limit", "0", *where]


def cold_and_edits(book: Path, out: Path, where: list[str], runs: int, env: dict[str, str],
                   edited: Path) -> dict[str, object]:
    fresh_dir(out)
    cold = measured(command(book, out, where), env, REPO)
    edits = []
    original = edited.read_bytes()
    for run in range(runs):
        edited.write_bytes(original + f"\n\nA sentence added for run {run}.\n".encode())
        try:
            edits.append(measured(command(book, out, where), env, REPO).seconds)
        finally:
            edited.write_bytes(original)
    # Back to the original text: one more build, untimed, so the next run starts from it.
    measured(command(book, out, where), env, REPO)
    return {"cold": cold.seconds, "cold_rss_mib": cold.max_rss_kib / 1024, "edits": edits,
            "edit_median": statistics.median(edits)}


def task_overhead(address: str | None, count: int = 400) -> float:
    """Seconds per task of a task that does nothing, through our executors."""
    from pipeline.export.executors import Task
    from pipeline.export.tasks import environment_digest, relocated, run_shipped

    root = Path("/nonexistent-book")
    if address is None:  # in process, through the same wrapper a worker runs
        start = time.perf_counter()
        for index in range(count):
            run_shipped(relocated, (index, root, root), {}, environment_digest())
        return (time.perf_counter() - start) / count
    from pipeline.export.cluster import DaskCluster

    cluster = DaskCluster(address)
    try:
        tasks = [Task(f"noop{i}", relocated, (i, root, root), root) for i in range(count)]
        list(cluster.run(tasks[:20]))  # the workers import what the wrapper needs, once
        start = time.perf_counter()
        results = dict(cluster.run(tasks))
        assert sorted(results.values()) == list(range(count))
        return (time.perf_counter() - start) / count
    finally:
        cluster.close(abandon=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--scaling", type=int, default=100, help="articles of the 1- and 2-worker runs")
    parser.add_argument("--runs", type=int, default=3, help="runs of the after-one-edit builds")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    work = fresh_dir(out / "catalog-work")
    env = build_environment(REPO)
    env.pop("SOURCE_DATE_EPOCH", None)
    book = work / "book"
    generate.generate(args.articles, book)
    edited = sorted(book.glob("*.md"))[len(list(book.glob("*.md"))) // 2]
    results: dict[str, object] = {"articles": args.articles, "runs": args.runs,
                                  "machine": machine_info(env, REPO, None, REPO)}
    print(f"catalog of {args.articles} articles: local --jobs 2", flush=True)
    results["local"] = cold_and_edits(book, work / "local", ["--jobs", "2"], args.runs, env, edited)
    print(results["local"], flush=True)
    with LoopbackCluster(2, work, env) as cluster:
        print("the same on a 2-worker loopback cluster", flush=True)
        results["cluster"] = cold_and_edits(book, work / "cluster", ["--scheduler", cluster.address],
                                            args.runs, env, edited)
        print(results["cluster"], flush=True)
        results["overhead_cluster"] = task_overhead(cluster.address)
    results["overhead_local"] = task_overhead(None)
    small = work / "small"
    generate.generate(args.scaling, small)
    scaling = {}
    for workers in (1, 2):
        with LoopbackCluster(workers, work, env) as cluster:
            target = fresh_dir(work / f"scaling-{workers}")
            scaling[workers] = measured(command(small, target, ["--scheduler", cluster.address]), env, REPO).seconds
            print(f"{args.scaling} articles on {workers} worker(s): {scaling[workers]:.1f} s", flush=True)
    results["scaling"], results["scaling_n"] = scaling, args.scaling
    (out / "catalog.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (out / "catalog.md").write_text(report(results), encoding="utf-8")
    print(report(results))
    return 0


def report(r: dict) -> str:
    local, cluster, n = r["local"], r["cluster"], r["articles"]
    scaling = {int(k): v for k, v in r["scaling"].items()}
    lines = [
        f"# Catalog: {n} per-article booklets (PDF + EPUB each, `--articles-only`)", "",
        f"Cold: one run each; after one edit: the median of {r['runs']} runs. Each a fresh "
        "`python -m pipeline build` process; local and cluster measured back to back in one run.", "",
        "| Where | Cold (s) | Booklets per minute | After one edit (s) | Edit / cold |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, item in (("local, --jobs 2", local), ("loopback cluster, 2 workers × 1 thread", cluster)):
        lines.append(f"| {name} | {item['cold']:.1f} | {60 * n / item['cold']:.1f} | {item['edit_median']:.2f} "
                     f"| {item['edit_median'] / item['cold']:.3f} |")
    lines += [
        "", f"Cluster / local, cold: {cluster['cold'] / local['cold']:.2f}; after one edit: "
        f"{cluster['edit_median'] / local['edit_median']:.2f}.", "",
        f"Throughput with workers: {r['scaling_n']} articles, cold, one run each, on a loopback cluster:", "",
        "| Workers | Seconds | Booklets per minute |", "|---:|---:|---:|",
    ]
    return "\n".join(lines + [f"| {w} | {s:.1f} | {60 * r['scaling_n'] / s:.1f} |" for w, s in sorted(scaling.items())]
                     + ["", f"Per-task overhead of a task that does nothing: {1000 * r['overhead_cluster']:.1f} ms "
                        f"on the cluster, {1000 * r['overhead_local']:.2f} ms in process.", ""])


if __name__ == "__main__":
    raise SystemExit(main())
