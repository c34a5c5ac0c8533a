"""The PDF booklet typeset by Typst (typst-py, in process): the second PDF
engine, chosen by `[pdf] engine = "typst"` or `pipeline build --engine typst`.

It takes the same `RenderedBook` as the WeasyPrint exporter (the sanitized
XHTML of each article, never the Markdown), writes it as Typst markup
(`markup`), puts it in the template (`styles/typst/booklet.typ`, or the
book's own `styles/typst/booklet.typ`: `document`) and compiles it:

- in a private folder that is Typst's root, holding main.typ, the template
  and copies of exactly the images and formula drawings the book uses:
  nothing else is readable from the document;
- with exactly the fonts we chose (`document.font_files`: ours, the Noto
  faces of the scripts used, the book's own), no system or embedded font,
  so the output does not depend on the machine;
- tagged (PDF/UA-1) always, /Lang and the title set, and with the build's
  timestamp, so that the bytes are reproducible.

What Typst cannot do that the book asks for (a book's print.css, written
for WeasyPrint) is refused with a located message (X009), never dropped.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from ...diagnostics import Diagnostic, error, warning
from ...model import RenderedBook
from ...styles import is_rtl, styles_dir
from .. import PAGE_NUMBERS, PAGINATION, ExportContext, Exported
from .document import Document, breaks, document

# [pdf] variant -> Typst's PDF standards; tagged (PDF/UA-1) whatever the variant.
STANDARDS = {"none": ["ua-1"], "pdf/ua-1": ["ua-1"], "pdf/a-3b": ["ua-1", "a-3b"]}
# A package (`#import "@preview/…"`, `#include` alike) would make Typst fetch from the network, or read
# the user's own package folders: any `import` or `include` not followed by a plain file name (a string
# literal with no `@` and no escape) is refused, since an expression or an escape can spell "@preview".
_PACKAGE = re.compile(r"""(?<![\w-])(?:import|include)(?![\w-])(?!\s*"[^"\\@\n]*")""")


class TypstExporter:
    name = "pdf"
    suffix = ".pdf"
    provides = (PAGINATION, PAGE_NUMBERS)
    uses = (PAGE_NUMBERS,)

    def export(self, rendered: RenderedBook, target: Path, context: ExportContext) -> Exported:
        refused = refusals(rendered)
        if refused:
            return Exported(tuple(refused))
        template, problem = template_text(rendered)
        if problem is not None:
            return Exported((problem,))
        context.progress.start("typesetting the PDF (Typst)")
        made = document(rendered, template)
        try:
            pdf, pages, pagination, warnings = compile_pdf(made, rendered, context)
        except RuntimeError as exc:  # typst.TypstError: the document or a book's template failed
            return Exported((failure(_first_line(exc), rendered),))
        except _Stopped as exc:
            return Exported((error(exc.code, str(exc), path=rendered.book.config_path,
                                   hint="a book's own styles/typst/booklet.typ may be at fault; a long book may "
                                        "need --time-limit SECONDS or PIPELINE_MEMORY_LIMIT (MiB)"),))
        target.write_bytes(finished(pdf, rendered.book.config.language))
        return Exported(tuple(warnings), {PAGE_NUMBERS: pages, PAGINATION: pagination})


def refusals(rendered: RenderedBook) -> list[Diagnostic]:
    """What the book asks that Typst cannot do, each located: a book's
    own print.css (a CSS design for WeasyPrint)."""
    found = []
    styles = rendered.book.styles
    if styles is not None and (styles / "print.css").is_file():
        found.append(error("X009", "the book's styles/print.css is a design for WeasyPrint; the Typst engine "
                           "cannot apply it", path=styles / "print.css",
                           hint="build with --engine weasyprint (or [pdf] engine = \"weasyprint\"), or move the "
                                "design to styles/typst/booklet.typ"))
    return found


def template_text(rendered: RenderedBook) -> tuple[str, Diagnostic | None]:
    """booklet.typ: the book's own (styles/typst/), else ours. A book's
    template may not import a package (Typst would download it)."""
    own = rendered.book.styles / "typst" / "booklet.typ" if rendered.book.styles is not None else None
    if own is None or not own.is_file():
        return (styles_dir() / "typst" / "booklet.typ").read_text(encoding="utf-8"), None
    from ...resources import ResourceRefused, inside

    try:
        source = inside(own, (rendered.book.root,)).read_text(encoding="utf-8")
    except (ResourceRefused, OSError, UnicodeDecodeError) as exc:
        return "", error("C009", f"styles/typst/booklet.typ cannot be read: {exc}", path=own)
    package = _PACKAGE.search(source)
    if package:
        line = source.count("\n", 0, package.start()) + 1
        return "", error("X009", "a Typst import or include of anything but a plain file name (a package may be "
                         "downloaded): the build fetches nothing", path=own, line=line,
                         hint="copy what you need from the package into styles/typst/booklet.typ")
    return source, None


def compile_pdf(made: Document, rendered: RenderedBook, context: ExportContext):
    """Compile `made` in a private root; return (PDF bytes, printed page
    of each article and section, page breaks, warnings)."""
    config = rendered.book.config
    with tempfile.TemporaryDirectory(prefix="pipeline-typst-") as folder:
        root, fonts = Path(folder) / "root", Path(folder) / "fonts"
        root.mkdir()
        fonts.mkdir()
        (root / "main.typ").write_text(made.source, encoding="utf-8")
        for name, data in made.files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, Path):
                shutil.copyfile(data, path)
            else:
                path.write_bytes(data)
        for index, font in enumerate(made.fonts):
            (fonts / f"{index:03d}-{font.name}").symlink_to(font.resolve())
        pdf, found, pages, pagination = _isolated(
            folder, {"standards": STANDARDS.get(config.pdf_variant, ["ua-1"]),
                     "timestamp": int(context.timestamp.timestamp()), "with_breaks": bool(rendered.articles)},
            context.layout.time_limit)
    warnings = [warning("X001", f"Typst: {_first_line(item)}", path=rendered.book.config_path)
                for item in found if "unknown font family" not in item]
    return pdf, {str(key): str(value) for key, value in pages.items()}, \
        (breaks(pagination) if rendered.articles else ()), warnings


class _Stopped(Exception):
    """The compile went past the layout's time limit (`code` X003) or the
    workers' memory ceiling (X008)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _isolated(folder: str, arguments: dict, seconds: float):
    """Typst's compile (`_compile`) in a process of its own, with the
    workers' memory ceiling, ended after `seconds` (0: never). The compile
    is one long call into Rust: no signal or watchdog of this process stops
    it, and a book's template can loop or allocate without end. A plain
    subprocess, not multiprocessing: a Dask worker is a daemonic process,
    which may not have children of multiprocessing's."""
    import json
    import os
    import subprocess
    import sys
    import time

    from ..executors import memory_limit

    limit = memory_limit()
    Path(folder, "arguments.json").write_text(json.dumps({**arguments, "parent": os.getpid(), "limit": limit}))
    child = subprocess.Popen([sys.executable, "-c", "from pipeline.export.typst import _child; _child()", folder],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ends = time.monotonic() + seconds if seconds > 0 else None
    try:
        while True:  # a tenth of a second at a time at most: a deadline of the build may land between
            try:
                child.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                if ends is not None and time.monotonic() > ends:
                    raise _Stopped("X003", f"typesetting the PDF (Typst) took more than {seconds:g} s") from None
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    result = Path(folder, "result.json")
    if child.returncode != 0 or not result.is_file():  # Rust aborts when an allocation fails
        raise _Stopped("X008", "typesetting the PDF (Typst) went past the memory ceiling"
                       + (f" of {limit // 1048576} MiB" if limit else ""))
    outcome = json.loads(result.read_text(encoding="utf-8"))
    if "error" in outcome:  # Typst's
        raise RuntimeError(outcome["error"])
    return Path(folder, "result.pdf").read_bytes(), outcome["warnings"], outcome["pages"], outcome["pagination"]


def _child() -> None:
    """The compile's process: the workers' start (die with the build, the
    memory ceiling), then `_compile`, its outcome written into the folder."""
    import json
    import sys

    from ..executors import worker_started

    folder = sys.argv[1]
    arguments = json.loads(Path(folder, "arguments.json").read_text())
    worker_started(arguments.pop("parent"), arguments.pop("limit"), True)
    outcome = _compile(folder, **arguments)
    if isinstance(outcome, str):
        Path(folder, "result.json").write_text(json.dumps({"error": outcome}), encoding="utf-8")
        return
    pdf, found, pages, pagination = outcome
    Path(folder, "result.pdf").write_bytes(pdf)
    Path(folder, "result.json").write_text(json.dumps({"warnings": found, "pages": pages,
                                                       "pagination": pagination}), encoding="utf-8")


def _compile(folder: str, standards: list[str], timestamp: int, with_breaks: bool):
    """In the compile's process: (PDF, warnings, page numbers, page breaks)
    as plain data, or Typst's error message. Packages only from folders of
    the compile's own (none are there): never the user's."""
    import json

    import typst

    root, fonts, packages = Path(folder) / "root", Path(folder) / "fonts", Path(folder) / "packages"
    try:
        faces = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(fonts)])
        compiler = typst.Compiler(root=str(root), font_paths=faces, ignore_system_fonts=True,
                                  package_path=str(packages), package_cache_path=str(packages))
        pdf, found = compiler.compile_with_warnings(str(root / "main.typ"), format="pdf",
                                                    pdf_standards=standards, timestamp=timestamp)
        pages = json.loads(compiler.query("<page-numbers>", field="value", one=True, root=str(root)))
        pagination = json.loads(compiler.query("<page-breaks>", field="value", one=True, root=str(root))) \
            if with_breaks else []
    except RuntimeError as exc:  # typst.TypstError
        return _first_line(exc)
    return pdf, [str(item) for item in found], pages, pagination


def finished(pdf: bytes, language: str) -> bytes:
    """The PDF with the book's language tag as its /Lang (Typst writes the
    language and region only: "zh", not "zh-Hans") and the reading
    direction of that language (a viewer shows the spreads bound on the
    right when it is right to left): Typst writes /Direction from its own
    list of right-to-left languages, which is not ours (styles.direction).
    Where either differs, it is set again and the file saved
    deterministically; else the bytes are Typst's."""
    import io

    import pikepdf

    wanted = pikepdf.Name.R2L if is_rtl(language) else pikepdf.Name.L2R
    with pikepdf.open(io.BytesIO(pdf)) as document:
        root = document.Root
        preferences = root.get("/ViewerPreferences")
        if preferences is not None and preferences.get("/Direction") == wanted and str(root.get("/Lang")) == (language or str(root.get("/Lang"))):
            return pdf
        if preferences is None:
            root.ViewerPreferences = pikepdf.Dictionary()
            preferences = root.ViewerPreferences
        preferences.Direction = wanted
        if language:
            root.Lang = pikepdf.String(language)
        buffer = io.BytesIO()
        document.save(buffer, deterministic_id=True)
        return buffer.getvalue()


# Typst's PDF/UA-1 check: a character no font of the book draws (never a box in a tagged PDF).
_UNDRAWN = re.compile(r'the text `"(.{1,40}?)"` could not be displayed')


def failure(message: str, rendered: RenderedBook) -> Diagnostic:
    """Typst's error, located: a character no font draws at its first place
    in the manuscripts (R007 warned of it); anything else at book.toml."""
    undrawn = _UNDRAWN.search(message)
    if undrawn is None:
        return error("X001", f"Typst could not typeset the book: {message}",
                     hint="a book's own styles/typst/booklet.typ may be at fault; "
                          "else build with --engine weasyprint and report the book", path=rendered.book.config_path)
    characters = undrawn.group(1)
    for item in rendered.articles:
        source = item.article.source_path
        text = source.read_text(encoding="utf-8", errors="replace") if source.is_file() else ""
        where = text.find(characters)
        if where >= 0:
            line = text.count("\n", 0, where) + 1
            column = where - (text.rfind("\n", 0, where) + 1) + 1
            break
    else:
        source, line, column = rendered.book.config_path, 0, 0
    return error("X001", f"no font of the book draws '{characters}': a tagged PDF (Typst's) may not show it as "
                 "a box", path=source, line=line, column=column,
                 hint="put a font that draws it into the book's styles/fonts/, or remove the characters; "
                      "WeasyPrint (--engine weasyprint) builds the book with a box in their place")


def _first_line(exc: object) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return message.strip().splitlines()[0][:300] if message.strip() else type(exc).__name__


class Unsupported:
    """A PDF the Typst engine cannot make (the print-on-demand interior:
    PDF/X-4 with bleed and trim boxes; its cover): refused, located at the
    book's engine, never made by the other engine behind the user's back."""

    suffix = ".pdf"
    provides: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()

    def __init__(self, name: str):
        self.name = name

    def export(self, rendered: RenderedBook, target: Path, context: ExportContext) -> Exported:
        path, source = rendered.book.config_path, rendered.book.config_source
        line = source.line_of("pdf", "engine")[0] if source is not None and "engine" in source.given("pdf") else 0
        chosen = "book.toml's [pdf] engine" if line else "--engine typst"  # (the command line overrides the book)
        return Exported((error("X009", f"the print-on-demand files ({self.name}: PDF/X-4 with bleed) are made by "
                               f"WeasyPrint only; the Typst engine ({chosen}) cannot make them",
                               path=path, line=line,
                               hint="build them with --engine weasyprint (the interior's pages then follow "
                                    "print.css)"),))
