"""A library leaves the process it runs in as it found it: a build changes no
global logger setting, and builds in threads keep their own warnings."""

from __future__ import annotations

import logging
import os
import tempfile
import threading

from pipeline import build
from pipeline.export.pdf.engine import captured_warnings as _captured_warnings


def test_a_pdf_build_leaves_the_weasyprint_logger_and_temporary_folders_as_it_found_them(tmp_path, book_dir):
    from unittest import mock

    import weasyprint.text.fonts

    logger = logging.getLogger("weasyprint")
    before = (logger.propagate, logger.level, list(logger.handlers), logger.disabled)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")  # set by the PDF export while it runs (epoch.holding_source_date)
    made = []  # the folders WeasyPrint writes the faces of @font-face rules to

    def recorded(*args, **kwargs):
        made.append(tempfile.mkdtemp(*args, **kwargs))
        return made[-1]

    with mock.patch.object(weasyprint.text.fonts, "mkdtemp", recorded):
        assert build(book_dir, tmp_path / "out", formats=("pdf",), jobs=1).ok
    assert (logger.propagate, logger.level, list(logger.handlers), logger.disabled) == before
    assert os.environ.get("SOURCE_DATE_EPOCH") == epoch
    assert len(made) >= 3 and not any(os.path.exists(folder) for folder in made)  # body, front, furniture


def test_warnings_are_captured_per_thread():
    logger = logging.getLogger("weasyprint")
    captured: dict[str, list[str]] = {}
    both_in = threading.Barrier(2)

    def run(name: str) -> None:
        with _captured_warnings() as messages:
            both_in.wait()
            logger.warning("warning of %s", name)
            both_in.wait()
        captured[name] = list(messages)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert captured == {"first": ["warning of first"], "second": ["warning of second"]}


def test_local_workers_are_replaced_after_their_share_of_tasks(monkeypatch):
    """A worker's memory grows with every layout (WeasyPrint's caches): the
    pool is renewed between batches, and every task's result still comes back."""
    from pathlib import Path

    from pipeline.export import executors
    from pipeline.export.executors import Task

    monkeypatch.setattr(executors, "TASKS_PER_WORKER", 2)
    runner = executors.LocalProcesses(jobs=2)
    try:
        results = dict(runner.run([Task(f"t{n}", os.getpid, (), Path(".")) for n in range(9)]))
    finally:
        runner.close(abandon=False)
    assert sorted(results) == list(range(9))
    assert len(set(results.values())) > 2  # more processes than two: replaced along the way
    assert os.getpid() not in results.values() and runner.workers == 2
