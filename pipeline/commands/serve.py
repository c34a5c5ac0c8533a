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

Anything that reaches the port is untrusted too. A request line longer than
`MAX_REQUEST_LINE` gets 414 and a malformed one 400; a request head that has
not arrived within `PreviewServer.head_timeout` seconds (however slowly it
trickles in) closes the connection; beyond `PreviewServer.max_connections`
at once a connection gets 503. No request prints a traceback. The `/events`
stream is long-lived by design; it ends once its client has gone.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..diagnostics import has_errors
from ..model import BookConfig
from ..resources import ResourceRefused, media_type, resolve_path
from ..styles import book_labels, render_template, styles_dir

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
MAX_REQUEST_LINE = 2048  # bytes of "GET /path HTTP/1.1"; longer is 414
MAX_REQUEST_HEAD = 65536  # bytes of the request line and headers together; more is 431
MESSAGE_LIMIT = 200  # characters of an exception's message shown on the page and in the terminal


def crash_line(what: str, exc: BaseException) -> str:
    """One line for an exception the preview survived: its type and message
    (shortened), no traceback."""
    message = " ".join(str(exc).split())
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT - 1] + "…"
    kind = type(exc).__name__
    return f"error: {what}: {kind}: {message}" if message else f"error: {what}: {kind}"


RELOAD_SCRIPT = '<script src="/style/preview.js"></script>\n'


def with_reload_script(page: str) -> str:
    """The checked page with our reload script (styles/preview.js) before
    its </body>, or at its end: no template writes script."""
    at = page.rfind("</body>")
    return page[:at] + RELOAD_SCRIPT + page[at:] if at >= 0 else page + RELOAD_SCRIPT


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
        self.config = BookConfig(title=book_dir.name)  # until book.toml is read: a page for the problems
        self.changed = threading.Condition()
        self.downloads: list[str] = []
        self._build_lock = threading.Lock()
        self.css = b""  # the book's EPUB stylesheet: ours, [style]'s choices, its own epub.css
        self.fonts: tuple[Path, ...] = ()  # folders its url(../fonts/NAME) are served from: the book's, ours

    def refresh(self) -> None:
        """Re-render the reading page (fast: no PDF); keep the last good text on errors.

        An exception of the rebuild (a bug, or an input the checks missed) is
        one line in the page's problems and the terminal; the page keeps its
        last good text and the next save tries again."""
        try:
            errors, warnings = self._check()
        except Exception as exc:  # noqa: BLE001 (the preview outlives any rebuild)
            errors, warnings = [crash_line("the preview could not rebuild the book", exc)], []
        self._tell(errors + warnings)
        try:
            self._show(errors, warnings)
        except Exception as exc:  # noqa: BLE001 (the last good page stays)
            self._tell(errors + warnings + [crash_line("the preview could not render its page", exc)])

    def _check(self) -> tuple[list[str], list[str]]:
        """Load, render and lint the book; keep it if it has no errors (or
        nothing has rendered yet); return its errors and warnings, located."""
        from ..render.prepare import prepare

        rendered, problems = prepare(self.book_dir)  # what `build` would say of the book
        if rendered is not None:
            problems += self._design(rendered)
            if not has_errors(problems) or not self.articles:
                self.articles, self.config, self.book = rendered.articles, rendered.book.config, rendered.book
        errors = [p.format(relative_to=Path.cwd()) for p in problems if p.is_error]
        warnings = [p.format(relative_to=Path.cwd()) for p in problems if not p.is_error]
        return errors, warnings

    def _show(self, errors: list[str], warnings: list[str]) -> None:
        from ..xhtml import article_for_html_parser

        from ..sandbox import TemplateFailed

        with self.changed:
            self.version += 1
            context = {"config": self.config, "articles": [article_for_html_parser(a) for a in self.articles],
                       "labels": book_labels(self.config), "warnings": warnings, "version": self.version,
                       "downloads": self.downloads}
            try:
                page = render_template("preview.html", book=self.book, problems=errors, **context)
            except TemplateFailed as exc:  # the book's template is refused: our page, saying why
                refused = exc.diagnostic().format(relative_to=Path.cwd())
                self._tell(errors + warnings + [refused])
                page = render_template("preview.html", problems=errors + [refused], **context)
            self.page = with_reload_script(page)
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

        try:
            with self._build_lock:
                result = build(self.book_dir, self.out_dir)
        except Exception as exc:  # noqa: BLE001 (a failed background build leaves the last outputs linked)
            self.report(crash_line("the preview could not build the PDF and EPUB", exc))
            return
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


class _HeadTooLarge(Exception):
    """The request head went past MAX_REQUEST_HEAD bytes."""


class _HeadReader(io.RawIOBase):
    """A connection's bytes, read under a deadline and a byte budget while the
    request head arrives: a client that trickles a byte every few seconds runs
    out of time as surely as one that sends nothing (a timeout per `recv`
    alone would wait for it forever)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.deadline: float | None = None  # time.monotonic() by which the head must be in
        self.budget: int | None = None  # bytes the head may still take

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request head did not arrive in time")
            self.sock.settimeout(left)
        if self.budget is not None:
            if self.budget <= 0:
                raise _HeadTooLarge
            buffer = memoryview(buffer)[:self.budget]
        count = self.sock.recv_into(buffer)
        if self.budget is not None:
            self.budget -= count
        return count


class PreviewServer(ThreadingHTTPServer):
    """The preview's HTTP server: one thread a connection, at most
    `max_connections` at once (more get 503); a connection whose request head
    is not in after `head_timeout` seconds is closed; a write that a client
    does not take within `write_timeout` seconds ends its connection. No
    request's failure prints a traceback."""

    daemon_threads = True
    head_timeout = 10.0
    write_timeout = 60.0
    max_connections = 32
    events_poll = 1.0  # how often the /events stream looks whether its client is gone
    events_heartbeat = 15.0  # seconds between two messages of an unchanged /events stream

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]):
        self._active = 0
        self._active_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        with self._active_lock:
            busy = self._active >= self.max_connections
            if not busy:
                self._active += 1
        if busy:
            self._refuse_busy(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release()

    def _release(self) -> None:
        with self._active_lock:
            self._active -= 1

    def _refuse_busy(self, request: socket.socket) -> None:
        """503 at once, on the accepting thread, without waiting for the client."""
        body = b"The preview has too many connections open; try again in a moment.\n"
        head = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                b"Retry-After: 1\r\nConnection: close\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        try:
            request.setblocking(False)
            try:
                # what has come already: closing over unread bytes would reset the connection
                request.recv(MAX_REQUEST_HEAD)
            except OSError:
                pass
            request.send(head + body)
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        pass  # the handler answers what it can (400, 414, 500); a connection's failure is not the terminal's


def make_handler(preview: Preview, names: tuple[str, ...] = ()) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server: PreviewServer
        default_request_version = "HTTP/1.0"  # so that an answer to a malformed line has its status line

        def setup(self) -> None:
            super().setup()
            self.rfile.close()  # read through the deadline instead
            self._head = _HeadReader(self.connection)
            self.rfile = io.BufferedReader(self._head)

        def handle_one_request(self) -> None:
            """http.server's, with a shorter request line (414), a bounded head
            (431), a deadline for it, and no traceback for any request."""
            self._answered = False
            self._head.deadline = time.monotonic() + self.server.head_timeout
            self._head.budget = MAX_REQUEST_HEAD
            self.close_connection = True
            try:
                line = self.rfile.readline(MAX_REQUEST_LINE + 1)
                if not line:
                    return
                if len(line) > MAX_REQUEST_LINE:
                    self.requestline = self.request_version = self.command = ""
                    self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                    self._linger()
                    return
                self.raw_requestline = line
                if not self.parse_request():  # it has answered 400, 431 or 505
                    self._linger()
                    return
                if self.headers.defects:  # a line that is no "Name: value" (the rest would pass for a body)
                    self.send_error(HTTPStatus.BAD_REQUEST, "Malformed header")
                    self._linger()
                    return
            except _HeadTooLarge:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
                self._linger()
                return
            except OSError:  # timed out, reset: nothing to answer to
                return
            self._head.deadline = self._head.budget = None
            self.connection.settimeout(self.server.write_timeout)
            method = getattr(self, "do_" + self.command, None)
            try:
                if method is None:
                    self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")
                    return
                method()
                self.wfile.flush()
            except OSError:  # the client went, or stopped reading
                return
            except Exception:  # noqa: BLE001 (a bug, or a request the checks missed: 500, not a traceback)
                if not self._answered:
                    try:
                        self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR)
                    except OSError:
                        pass

        def _linger(self) -> None:
            """After an error answer, read what the client is still sending
            (a little, briefly) so that closing does not reset the connection
            before the client has read the answer."""
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.settimeout(1.0)
                for _ in range(16):
                    if not self.connection.recv(65536):
                        break
            except OSError:
                pass

        def send_response_only(self, code, message=None) -> None:
            self._answered = True
            super().send_response_only(code, message)

        def do_GET(self) -> None:  # noqa: N802 (http.server's API)
            if not host_allowed(self.headers.get("Host"), self.server.server_address[1], names):
                self._refuse_host()
                return
            try:
                path = unquote(urlsplit(self.path).path)
            except ValueError:  # "http://[x/": not a URL
                self.send_error(HTTPStatus.BAD_REQUEST)
                return
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
                body = path.read_bytes()
            except (ResourceRefused, OSError, ValueError):  # outside, missing, a name too long, a NUL
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            self._send(body, media_type(path))

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
            seen, said = preview.version, 0.0
            try:
                while True:
                    if said == 0.0 or time.monotonic() - said >= self.server.events_heartbeat:
                        self.wfile.write(f"data: {seen}\n\n".encode())
                        self.wfile.flush()
                        said = time.monotonic()
                    version = preview.wait_for_change(seen, timeout=self.server.events_poll)
                    if version != seen:
                        seen, said = version, 0.0
                    elif self._client_gone():
                        return
            except OSError:  # the client went, or stopped reading
                return

        def _client_gone(self) -> bool:
            """Whether the client has closed its end (an EventSource sends nothing after its request)."""
            try:
                self.connection.settimeout(0)
                try:
                    return self.connection.recv(1, socket.MSG_PEEK) == b""
                finally:
                    self.connection.settimeout(self.server.write_timeout)
            except BlockingIOError:
                return False
            except OSError:
                return True

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the terminal shows builds, not requests

    return Handler


def outside(out_dir: Path) -> Callable[[object, str], bool]:
    """watchfiles' default filter, and no change inside the output folder:
    the build never reads it, and its own writes there (`_dist/` in the
    book, by default) must not start another rebuild."""
    import os

    from watchfiles import DefaultFilter

    default, out = DefaultFilter(), os.path.realpath(out_dir)
    return lambda change, path: default(change, path) and \
        os.path.commonpath((os.path.realpath(path), out)) != out


def watch(preview: Preview, stop: threading.Event) -> None:
    """Re-render on every change of the book or the styles."""
    from watchfiles import watch as watch_files

    said, gone = "", False
    while not stop.is_set():
        if not preview.book_dir.is_dir():  # removed (and not yet back): a watch on it would see nothing
            gone = True
            stop.wait(1.0)
            continue
        if gone:  # back: show it as it is now
            gone = False
            preview.refresh()
        try:
            for _changes in watch_files(preview.book_dir, styles_dir(), stop_event=stop, debounce=200,
                                        watch_filter=outside(preview.out_dir)):
                said = ""
                preview.refresh()  # a failed rebuild is a problem on the page, not an exception
                threading.Thread(target=preview.build_outputs, daemon=True).start()
                if not preview.book_dir.is_dir():
                    break  # watch it again once it is back
        except Exception as exc:  # noqa: BLE001 (the folder went away, a report failed: watch again)
            line = crash_line("the preview stopped watching the book; it tries again", exc)
            if line != said:  # once, not every two seconds
                said = line
                try:
                    preview.report(line)
                except Exception:  # noqa: BLE001, S110 (the terminal is gone: keep watching)
                    pass
            stop.wait(2.0)


def start(book_dir: Path, out_dir: Path, port: int, names: tuple[str, ...] = (),
          report: Callable[[str], None] = lambda line: None) -> tuple[PreviewServer, threading.Event]:
    """Start serving in background threads; return the server and the stop switch.

    `names` are Host names the preview answers to besides the loopback ones;
    `report` is given each line the terminal shows (the book's problems)."""
    preview = Preview(book_dir, out_dir, report)
    preview.refresh()
    server = PreviewServer(("127.0.0.1", port), make_handler(preview, names))
    stop = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=watch, args=(preview, stop), daemon=True).start()
    threading.Thread(target=preview.build_outputs, daemon=True).start()
    return server, stop

