"""`pipeline serve`: a live preview on 127.0.0.1 (after mdBook and Quarto).

`/` is the whole book as one reading page with screen styles. A watcher
(watchfiles) re-renders it when any file of the book or the styles changes;
the open page learns of it through server-sent events (`/events`) and
reloads. A book with errors keeps showing its last good version under an
overlay that lists the problems with file and line; warnings (a link broken
by renaming a heading, a skipped heading level) are in a panel that opens
on a click. Both are printed in the terminal too, located like the CLI's,
each time they change. The server never dies of a bad manuscript. The PDF and EPUB are rebuilt in the background and
linked from the page (`/download/<name>`).

The server listens on 127.0.0.1 only, and answers only requests addressed to
a loopback name (`Host: 127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`) or
to a name the user gave with `--host`. Any other Host gets 421: a web page
the author visits cannot read the unpublished book through DNS rebinding
(the check webpack-dev-server, Vite and Jupyter make).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..diagnostics import has_errors
from ..resources import ResourceRefused, media_type, resolve_path
from ..styles import book_labels, render_template, styles_dir

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def host_allowed(header: str | None, port: int, names: tuple[str, ...] = ()) -> bool:
    """Whether a request's Host header names this server: a loopback name or
    one of `names`, with this server's port or none."""
    if not header:
        return False
    host = header.strip().lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        name, given_port = name + "]", rest.removeprefix(":") if rest.startswith(":") else None
        if rest and given_port is None:
            return False
    else:
        name, colon, given_port = host.partition(":")
        given_port = given_port if colon else None
    if given_port is not None and given_port != str(port):
        return False
    return name in LOOPBACK_NAMES or name in {n.strip().lower() for n in names}


class Preview:
    """The current page and its version; waiters are woken on every change."""

    def __init__(self, book_dir: Path, out_dir: Path, report: Callable[[str], None] = lambda line: None):
        self.book_dir, self.out_dir = book_dir, out_dir
        self.report = report  # where the terminal's lines go
        self._reported: tuple[str, ...] = ()
        self.version = 0
        self.page = ""
        self.articles: tuple = ()
        self.book = None  # the last book that rendered (its own templates and styles)
        self.changed = threading.Condition()
        self.downloads: list[str] = []
        self._build_lock = threading.Lock()
        self.css = b""  # the book's EPUB stylesheet: ours, [style]'s choices, its own epub.css
        self.fonts: tuple[Path, ...] = ()  # folders its url(../fonts/NAME) are served from: the book's, ours

    def refresh(self) -> None:
        """Re-render the reading page (fast: no PDF); keep the last good text on errors."""
        from ..load.manuscripts import load_book
        from ..render.articles import render_book
        from ..render.lint import lint
        from ..xhtml import article_for_html_parser

        book, problems = load_book(self.book_dir)
        if book is not None:
            rendered, found = render_book(book)
            problems += found + lint(rendered)  # what `build` would say of the book
            problems += self._design(rendered)
            if not has_errors(problems) or not self.articles:
                self.articles, self.config, self.book = rendered.articles, book.config, book
        errors = [p.format(relative_to=Path.cwd()) for p in problems if p.is_error]
        warnings = [p.format(relative_to=Path.cwd()) for p in problems if not p.is_error]
        self._tell(errors + warnings)
        with self.changed:
            self.version += 1
            self.page = render_template("preview.html", design=self.book, book=self.config,
                                        articles=[article_for_html_parser(a) for a in self.articles],
                                        labels=book_labels(self.config), problems=errors, warnings=warnings,
                                        version=self.version, downloads=self.downloads)
            self.changed.notify_all()

    def _design(self, rendered) -> list:
        """The book's look in the preview: its EPUB stylesheet (without the
        script faces, which the EPUB subsets: the browser draws those) and
        the folders of the fonts it names. A url() that is not a font is C009,
        as in a build."""
        from ..diagnostics import error
        from ..export.epub import CssRefused, book_stylesheet
        from ..fonts import font_choice

        try:
            self.css = book_stylesheet(rendered, True, [], font_choice(rendered.book))
        except CssRefused as exc:
            return [error("C009", str(exc), path=rendered.book.styles / "epub.css", line=exc.line,
                          column=exc.column)]
        own = rendered.book.styles / "fonts" if rendered.book.styles is not None else None
        self.fonts = ((own,) if own is not None and own.is_dir() else ()) + (styles_dir() / "fonts",)
        return []

    def _tell(self, lines: list[str]) -> None:
        """Print the book's problems in the terminal when they change (a save
        that fixes nothing and breaks nothing prints nothing)."""
        if tuple(lines) == self._reported:
            return
        self._reported = tuple(lines)
        for line in lines:
            self.report(line)
        if not lines:
            self.report("no problems")

    def build_outputs(self) -> None:
        """Rebuild the PDF and EPUB in the background; link them once done."""
        from ..build import build

        with self._build_lock:
            result = build(self.book_dir, self.out_dir)
        for problem in result.diagnostics:  # those of the PDF and EPUB only: the page has the others
            if problem.code.startswith(("X", "O")):
                self.report(problem.format(relative_to=Path.cwd()))
        if result.ok:
            self.downloads = [path.name for path in result.outputs]
            self.refresh()

    def wait_for_change(self, seen: int, timeout: float) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version


def make_handler(preview: Preview, names: tuple[str, ...] = ()) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's API)
            if not host_allowed(self.headers.get("Host"), self.server.server_address[1], names):
                self._refuse_host()
                return
            path = unquote(urlsplit(self.path).path)
            if path == "/":
                self._send(preview.page.encode("utf-8"), "text/html; charset=utf-8")
            elif path == "/events":
                self._events()
            elif path == "/style/book.css":
                self._send(preview.css, "text/css; charset=utf-8")
            elif path.startswith("/style/"):
                self._file(path.removeprefix("/style/"), styles_dir())
            elif path.startswith("/fonts/"):
                name = path.removeprefix("/fonts/")
                folder = next((f for f in preview.fonts if (f / name).is_file()), styles_dir() / "fonts")
                # the book's fonts folder must lie inside the book (a link out of it is refused)
                self._file(name, folder, preview.book_dir if folder != styles_dir() / "fonts" else None)
            elif path.startswith("/download/"):
                self._file(path.removeprefix("/download/"), preview.out_dir)
            else:
                self._file(path.lstrip("/"), preview.book_dir)  # the book's images

        def _file(self, name: str, folder: Path, root: Path | None = None) -> None:
            """A file of `folder` through the gate: inside `folder`, or inside the
            book `root` when given (the book's own fonts)."""
            try:
                path = resolve_path(folder / name, (folder,) if root is None else (root,))
            except ResourceRefused:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            self._send(path.read_bytes(), media_type(path))

        def _refuse_host(self) -> None:
            body = (b"This preview answers only to 127.0.0.1, localhost and [::1] on its port, "
                    b"and to names given with --host.\n")
            self.send_response(HTTPStatus.MISDIRECTED_REQUEST)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seen = -1
            try:
                while True:
                    seen = preview.wait_for_change(seen, timeout=15) if seen >= 0 else preview.version
                    self.wfile.write(f"data: {seen}\n\n".encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the terminal shows builds, not requests

    return Handler


def watch(preview: Preview, stop: threading.Event) -> None:
    """Re-render on every change of the book or the styles."""
    from watchfiles import watch as watch_files

    for _changes in watch_files(preview.book_dir, styles_dir(), stop_event=stop, debounce=200):
        preview.refresh()
        threading.Thread(target=preview.build_outputs, daemon=True).start()


def start(book_dir: Path, out_dir: Path, port: int, names: tuple[str, ...] = (),
          report: Callable[[str], None] = lambda line: None) -> tuple[ThreadingHTTPServer, threading.Event]:
    """Start serving in background threads; return the server and the stop switch.

    `names` are Host names the preview answers to besides the loopback ones;
    `report` is given each line the terminal shows (the book's problems)."""
    preview = Preview(book_dir, out_dir, report)
    preview.refresh()
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(preview, names))
    server.daemon_threads = True
    stop = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=watch, args=(preview, stop), daemon=True).start()
    threading.Thread(target=preview.build_outputs, daemon=True).start()
    return server, stop

