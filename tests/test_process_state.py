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
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
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


def _embedded_fonts(pdf) -> dict[str, bytes]:
    """The font files embedded in `pdf`, by their base font name."""
    from pypdf import PdfReader

    found = {}
    for page in PdfReader(pdf).pages:
        for font in (page.get("/Resources", {}).get("/Font") or {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                data = descriptor and descriptor.get_object().get("/FontFile2")
                if data is not None:
                    found[str(descendant.get_object()["/BaseFont"])] = data.get_object().get_data()
    return found


def test_a_pdf_build_writes_no_environment_and_dates_the_fonts_it_rewrites(tmp_path, monkeypatch):
    """Emoji make WeasyPrint save their font again with fontTools, which
    stamps it with the clock unless SOURCE_DATE_EPOCH says otherwise, read
    from the environment. The build writes no environment (shared by every
    thread), yet the font carries the build's date: two builds a day apart
    by the clock give the same bytes."""
    import io
    import types

    import fontTools.misc.timeTools as time_tools
    import pytest
    from fontTools.ttLib import TTFont

    from pipeline.fonts import Face

    if Face("NotoColorEmoji.ttf").path is None:
        pytest.skip("Noto Color Emoji is not installed (fonts-noto-color-emoji)")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    written = []
    setter, deleter = os._Environ.__setitem__, os._Environ.__delitem__
    monkeypatch.setattr(os._Environ, "__setitem__", lambda env, key, value: (written.append(key), setter(env, key, value))[1])
    monkeypatch.setattr(os._Environ, "__delitem__", lambda env, key: (written.append(key), deleter(env, key))[1])
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Dated"\ndate = "2024-03-05"\n', encoding="utf-8")
    (book / "one.md").write_text("---\ntitle: One\n---\n\nDone \U0001F389 and checked \u2705.\n", encoding="utf-8")
    first = build(book, tmp_path / "first", formats=("pdf",), jobs=1, cache=False)
    real = time_tools.time.time
    monkeypatch.setattr(time_tools, "time", types.SimpleNamespace(time=lambda: real() + 86_400))
    second = build(book, tmp_path / "second", formats=("pdf",), jobs=1, cache=False)
    assert first.ok and second.ok, [d.format() for d in first.diagnostics + second.diagnostics]
    assert written == []
    assert first.outputs[0].read_bytes() == second.outputs[0].read_bytes()
    emoji = [data for name, data in _embedded_fonts(first.outputs[0]).items() if "emoji" in name.lower()]
    assert emoji, "no emoji font embedded: the test proves nothing"
    book_date = 1709596800  # 2024-03-05, seconds since 1970
    assert TTFont(io.BytesIO(emoji[0]))["head"].modified == book_date - time_tools.epoch_diff
