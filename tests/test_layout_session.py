"""The layout session (export/pdf/engine.layout_session): every WeasyPrint
call of a build runs in one, with a time limit that holds off the main
thread too (the preview builds in a background thread)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from pipeline import build


def _long_book(root: Path) -> Path:
    """A book whose layout takes well over a second: 400 paragraphs."""
    book = root / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Long"\n', encoding="utf-8")
    body = "\n\n".join(f"Paragraph {n} " + "text " * 80 for n in range(400))
    (book / "a.md").write_text(f"---\ntitle: A\n---\n{body}\n", encoding="utf-8")
    return book


def _in_thread(function):
    """`function()` run in a thread of its own (not the main thread): its result."""
    found = {}

    def run() -> None:
        found["result"] = function()

    thread = threading.Thread(target=run, name="background build")
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the build in a thread did not end"
    return found["result"]


def test_the_layout_time_limit_holds_in_a_background_thread(tmp_path):
    """SIGALRM reaches only the main thread: the preview's background build
    had no layout time limit (this book then built, with no diagnostic). A
    watchdog thread now stops it: X003, and no PDF."""
    book = _long_book(tmp_path)
    result = _in_thread(lambda: build(book, tmp_path / "out", formats=("pdf",), time_limit=1))
    assert [d.code for d in result.diagnostics] == ["X003"], result.diagnostics
    assert "took more than 1 s" in result.diagnostics[0].message
    assert not list((tmp_path / "out").glob("*.pdf"))


def test_a_deadline_off_the_main_thread_leaves_the_thread_quiet_after_it():
    """A deadline that did not fire, and one that did, send nothing into the
    thread's later work (its watchdog is stopped and its pending tick withdrawn)."""
    from pipeline.resources import deadline

    class Late(BaseException):
        pass

    def run():
        events = []
        with deadline(5, Late):
            events.append("quick")
        try:
            with deadline(0.2, Late):
                while True:
                    try:  # a library's catch-all loses one tick, not the next
                        sum(range(1000))
                    except Exception:  # noqa: BLE001
                        pass
        except Late:
            events.append("stopped")
        time.sleep(0.3)  # a late tick would land in the loop below
        for _ in range(200_000):
            pass
        events.append("quiet")
        return events

    assert _in_thread(run) == ["quick", "stopped", "quiet"]

