"""Building on a Dask cluster: a real scheduler and two single-thread
workers on 127.0.0.1, started as a user starts them (`dask scheduler`,
`dask worker`), each in its own process with no view of the book but what
the tasks carry. And per-article incremental builds, which a cluster build
shares with a local one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from pipeline import build
from pipeline.commands.cli import main
from test_design import NOTO_SERIF, _font_names

DASK = Path(sys.executable).with_name("dask")
DYING_WORKER = Path(__file__).parent / "tools" / "dying_worker.py"
ARTICLES = 16  # enough for both workers to take several, one of them to die on its first


def _article(number: int) -> str:
    words = "tide harbour rope knot weather sail chart compass anchor mooring".split()
    text = " ".join(words[(number + i) % len(words)] for i in range(40 + number % 9)).capitalize()
    return (f"---\ntitle: \"Note {number}\"\nsummary: A short note, number {number}.\n---\n\n"
            f"## First part\n\n{text}.\n\n## Second part\n\n{text[::-1].capitalize()}.\n")


def _book(root: Path) -> Path:
    """ARTICLES short articles, one with an image; the book's own styles/ with a
    font for its headings, words of its own and a rule of its own: files a
    worker has only if the task brings them."""
    book = root / "book"
    (book / "images").mkdir(parents=True)
    style = '\n[style]\nheading-font = "Noto Serif"\n' if NOTO_SERIF.is_file() else ""
    (book / "book.toml").write_text(f'[book]\ntitle = "Harbour notes"\ndate = "2026-02-01"\n{style}',
                                    encoding="utf-8")
    (book / "styles" / "fonts").mkdir(parents=True)
    if NOTO_SERIF.is_file():
        shutil.copy(NOTO_SERIF, book / "styles" / "fonts")
    (book / "styles" / "labels.toml").write_text('[en]\ncontents = "In this logbook"\n', encoding="utf-8")
    (book / "styles" / "print.css").write_text("h2 { letter-spacing: 0.05em; }\n", encoding="utf-8")
    logo = Path(__file__).parent / "fixtures" / "rich" / "images"
    image = next(iter(sorted(logo.glob("*.png"))), None) if logo.is_dir() else None
    for number in range(1, ARTICLES + 1):
        body = _article(number)
        if number == 3 and image is not None:  # an image: a file the task must carry to the worker
            (book / "images" / image.name).write_bytes(image.read_bytes())
            body += f"\n![A figure](images/{image.name})\n"
        (book / f"{number:02d}-note-{number}.md").write_text(body, encoding="utf-8")
    return book


class Cluster:
    """A scheduler and its workers, as subprocesses; stopped at the end."""

    def __init__(self, folder: Path, workers: list[dict[str, str]], scheduler_env: dict[str, str] | None = None):
        self.folder, self.processes = folder, []
        file = folder / "scheduler.json"
        env = {**os.environ, **(scheduler_env or {})}
        self._start([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(file)], env, "scheduler")
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.address = json.loads(file.read_text(encoding="utf-8"))["address"]
        for index, extra in enumerate(workers):
            self._start([str(DASK), "worker", self.address, "--nthreads", "1", "--no-dashboard",
                         "--host", "127.0.0.1", "--name", f"w{index}", "--preload", str(DYING_WORKER)],
                        {**os.environ, **extra}, f"worker{index}")
        from distributed import Client

        with Client(self.address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(len(workers), timeout=60)

    def _start(self, command: list[str], env: dict[str, str], name: str) -> None:
        log = open(self.folder / f"{name}.log", "wb")
        self.processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                               cwd=self.folder))

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    marker = folder / "died-on"
    running = Cluster(folder, [{"PIPELINE_TEST_DIE_ONCE": str(marker)}, {}])
    running.marker = marker
    yield running
    running.stop()


@pytest.fixture(scope="module")
def both(tmp_path_factory, cluster):
    """The same book of ARTICLES articles built with --per-article locally and on the cluster."""
    root = tmp_path_factory.mktemp("catalog")
    book = _book(root)
    local = build(book, root / "local", per_article=True, jobs=2)
    remote = build(book, root / "remote", per_article=True, scheduler=cluster.address)
    assert local.ok and remote.ok, [d.format() for d in remote.diagnostics]
    return book, root / "local", root / "remote", local, remote


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".pipeline-cache" not in p.parts}


def test_a_cluster_build_gives_a_local_builds_bytes(both):
    book, local_out, remote_out, local, remote = both
    local_files, remote_files = _files(local_out), _files(remote_out)
    assert len(local_files) == 2 * ARTICLES + 3  # each article's PDF and EPUB, the book's two, the manifest
    assert local_files.keys() == remote_files.keys()
    differing = [name for name in local_files if local_files[name] != remote_files[name]]
    assert differing == []
    assert (local.articles.built, local.articles.unchanged) == (ARTICLES, 0)
    assert (remote.articles.built, remote.articles.unchanged, remote.articles.workers) == (ARTICLES, 0, 2)
    # The book's own styles reached the workers: its words (its font: below).
    whole = PdfReader(remote_out / "harbour-notes.pdf")
    assert "In this logbook" in "".join(page.extract_text() for page in whole.pages[:6])


@pytest.mark.skipif(not NOTO_SERIF.is_file(), reason=f"fonts-noto-core is not installed ({NOTO_SERIF})")
def test_the_books_own_heading_font_reaches_the_workers(both):
    """The book's styles/fonts/ (Noto Serif, copied in from fonts-noto-core)
    is in an article laid out on a cluster worker."""
    _, _, remote_out, _, _ = both
    single = PdfReader(remote_out / "articles" / "note-3.pdf")
    fonts = {name for page in single.pages for name in _font_names(page.get("/Resources"))}
    assert any(name.endswith("+Noto-Serif") for name in fonts), fonts


def test_a_killed_workers_task_is_retried_elsewhere(both, cluster):
    """The first worker died on its first booklet (the process ended
    mid-task); the scheduler gave the task to a worker again and the build
    still made every booklet, the same bytes as locally."""
    book, local_out, remote_out, local, remote = both
    slug = cluster.marker.read_text(encoding="utf-8")
    assert slug.startswith("note-")
    for suffix in (".pdf", ".epub"):
        name = f"articles/{slug}{suffix}"
        assert (remote_out / name).read_bytes() == (local_out / name).read_bytes()


def test_an_edit_rewrites_exactly_that_articles_two_files(both, cluster):
    book, local_out, remote_out, local, remote = both
    before = {p: p.stat().st_mtime_ns for p in (remote_out / "articles").iterdir()}
    manifest = json.loads((remote_out / "manifest.json").read_text(encoding="utf-8"))
    keys = {a["slug"]: a["key"] for a in manifest["articles"]}
    with open(book / "07-note-7.md", "a", encoding="utf-8") as source:
        source.write("\nOne more line, written later.\n")
    time.sleep(0.01)
    again = build(book, remote_out, per_article=True, scheduler=cluster.address)
    assert again.ok, [d.format() for d in again.diagnostics]
    assert (again.articles.built, again.articles.unchanged) == (1, ARTICLES - 1)
    changed = {p.name for p, mtime in before.items() if p.stat().st_mtime_ns != mtime}
    assert changed == {"note-7.pdf", "note-7.epub"}
    written = {p.relative_to(remote_out).as_posix() for p in again.outputs}
    assert {"articles/note-7.pdf", "articles/note-7.epub", "manifest.json"} <= written
    assert not any(name.startswith("articles/") and "note-7." not in name for name in written)
    new_keys = {a["slug"]: a["key"] for a in json.loads((remote_out / "manifest.json").read_text())["articles"]}
    assert {slug for slug in keys if keys[slug] != new_keys[slug]} == {"note-7"}
    # The edit reached the booklet: its text is in the new PDF.
    text = "".join(page.extract_text() for page in PdfReader(remote_out / "articles" / "note-7.pdf").pages)
    assert "written later" in text
    # The same edit built locally: the same one booklet made, the same bytes.
    here = build(book, local_out, per_article=True, jobs=2)
    assert (here.articles.built, here.articles.unchanged) == (1, ARTICLES - 1)
    assert _files(local_out) == _files(remote_out)


def test_an_unreachable_scheduler_is_a_clean_error(tmp_path, monkeypatch):
    from pipeline.export import cluster as dask_cluster

    monkeypatch.setattr(dask_cluster, "CONNECT_TIMEOUT", 2.0)
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Nowhere"\n', encoding="utf-8")
    (book / "01-note-1.md").write_text(_article(1), encoding="utf-8")
    stdout, stderr = StringIO(), StringIO()
    code = main(["build", str(book), "--out", str(tmp_path / "out"), "--per-article", "-q",
                 "--scheduler", "tcp://127.0.0.1:9"], stdout, stderr)
    assert code == 1
    assert "error[X006]: the scheduler tcp://127.0.0.1:9 cannot be reached" in stderr.getvalue()
    assert "Traceback" not in stderr.getvalue() + stdout.getvalue()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.pdf"))


def test_a_task_whose_workers_keep_dying_fails_the_build_with_x005(tmp_path):
    """A scheduler that gives up at the first death, a worker that dies on
    one article each time: the build fails, naming that article."""
    running = Cluster(tmp_path, [{"PIPELINE_TEST_DIE_ON": "note-2"}],
                      {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"})
    try:
        book = tmp_path / "book"
        book.mkdir()
        (book / "book.toml").write_text('[book]\ntitle = "Doomed"\n', encoding="utf-8")
        for number in (1, 2):
            (book / f"0{number}-note-{number}.md").write_text(_article(number), encoding="utf-8")
        result = build(book, tmp_path / "out", book=False, scheduler=running.address)
    finally:
        running.stop()
    errors = [d for d in result.diagnostics if d.is_error]
    assert [d.code for d in errors] == ["X005"]
    assert "'note-2'" in errors[0].message
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and ".pipeline-cache" not in p.parts]
    assert written == []  # no output of a failed build


def test_a_local_build_never_imports_dask(tmp_path):
    script = ("import sys; from pipeline import build; "
              f"r = build({str(_small_book(tmp_path))!r}, {str(tmp_path / 'out')!r}, per_article=True, jobs=1); "
              "print(r.ok, sorted(m for m in ('dask', 'distributed') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[-2] == "True []"


def _small_book(root: Path) -> Path:
    book = root / "small"
    book.mkdir()
    (book / "book.toml").write_text('[book]\ntitle = "Small"\n', encoding="utf-8")
    (book / "01.md").write_text(_article(1), encoding="utf-8")
    return book
