"""Run one command and print its wall time and peak memory as one JSON line.

Usage: python benchmarks/measure.py COMMAND [ARGS...]

Why a separate process: `getrusage(RUSAGE_CHILDREN).ru_maxrss` is the
largest peak RSS among *all* children a process has waited for, ever. The
benchmark runner starts many builds, so asking it would give the peak of the
largest build so far. This runner is started fresh for each measurement and
waits for exactly one command, so the number it reports is that command's
peak (or of its largest descendant, e.g. pandoc's PDF engine). It uses only
the standard library, so it works where /usr/bin/time does not exist, and the
wall time is taken here around the child alone, without this runner's own
start-up.

Output (stdout, one line): {"seconds": 1.23, "max_rss_kib": 123456,
"returncode": 0, "stderr": "<last lines of the command's stderr>"}
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

STDERR_TAIL = 4000  # characters of the command's stderr kept for error reports


def max_rss_kib(usage: resource.struct_rusage) -> int:
    """ru_maxrss in KiB: Linux reports KiB, macOS bytes."""
    return usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss


def measure(command: list[str]) -> dict[str, object]:
    start = time.perf_counter()
    completed = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, errors="replace", check=False)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "seconds": seconds,
        "max_rss_kib": max_rss_kib(usage),
        "returncode": completed.returncode,
        "stderr": completed.stderr[-STDERR_TAIL:],
    }


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(measure(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
