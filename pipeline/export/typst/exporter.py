"""The Typst exporter: the booklet's markup written (`document`), compiled
in a process of its own (`compiler`), and what Typst cannot do refused.
See the package's docstring."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ... import scratch
from ...diagnostics import Diagnostic, error, warning
from ...model import RenderedBook
from ...styles import is_rtl, styles_dir
from .. import PAGE_NUMBERS, PAGINATION, ExportContext, Exported
from .compiler import Stopped, first_line, run
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
        made = document(rendered, template, breaks=context.wanted is None or PAGINATION in context.wanted)
        try:
            pdf, pages, pagination, warnings = compile_pdf(made, rendered, context)
        except RuntimeError as exc:  # typst.TypstError: the document or a book's template failed
            return Exported((failure(first_line(exc), rendered, made, getattr(exc, "where", None)),))
        except Stopped as exc:
            return Exported((error(exc.code, str(exc), path=rendered.book.config_path,
                                   hint="a book's own styles/typst/booklet.typ may be at fault; a long book may "
                                        "need --time-limit SECONDS or PIPELINE_MEMORY_LIMIT (MiB)"),))
        target.write_bytes(pdf)
        return Exported(tuple(warnings), {PAGE_NUMBERS: pages, PAGINATION: pagination})


def refusals(rendered: RenderedBook) -> list[Diagnostic]:
    """What the book asks that Typst cannot do, each located: a book's
    own print.css (a CSS design for WeasyPrint) that holds a rule; the one
    `pipeline new` writes, all comments, asks nothing."""
    found = []
    styles = rendered.book.styles
    if styles is not None and _has_rules(styles / "print.css", rendered.book.root):
        found.append(error("X009", "the book's styles/print.css is a design for WeasyPrint; the Typst engine "
                           "cannot apply it", path=styles / "print.css",
                           hint="build with --engine weasyprint (or [pdf] engine = \"weasyprint\"), or move the "
                                "design to styles/typst/booklet.typ"))
    return found


_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)


def _has_rules(css: Path, root: Path) -> bool:
    """Whether the stylesheet at `css` (if any) holds anything but comments
    and white space. One that cannot be read counts as a design (the
    refusal names it)."""
    if not css.is_file():
        return False
    from ...resources import ResourceRefused, inside

    try:
        text = inside(css, (root,)).read_text(encoding="utf-8", errors="replace")
    except (ResourceRefused, OSError):
        return True
    return bool(_CSS_COMMENT.sub("", text).strip())


def template_text(rendered: RenderedBook) -> tuple[str, Diagnostic | None]:
    """booklet.typ: the book's own (styles/typst/), else ours. A book's
    template may not import a package (Typst would download it)."""
    own = own_template(rendered)
    if own is None:
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
    with scratch.folder("typst") as folder:
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
        language = config.language
        pdf, found, pages, pagination = run(
            Path(folder), {"standards": STANDARDS.get(config.pdf_variant, ["ua-1"]),
                           "timestamp": int(context.timestamp.timestamp()), "language": language, "rtl": is_rtl(language)},
            context.layout.time_limit, context.layout.typesetter)
    warnings = [warning("X001", f"Typst: {first_line(message)}", **located(where, rendered, made))
                for message, where in found if "unknown font family" not in message]
    return pdf, {str(key): str(value) for key, value in pages.items()}, \
        (breaks(pagination) if rendered.articles and pagination else ()), warnings


# Typst's PDF/UA-1 check: a character no font of the book draws (never a box in a tagged PDF).
_UNDRAWN = re.compile(r'the text `"(.{1,40}?)"` could not be displayed')


def located(where: list | None, rendered: RenderedBook, made: Document) -> dict:
    """The place in the book of a place Typst names (`compiler.place`):
    the book's own styles/typst/booklet.typ at Typst's line and column; the
    manuscript of the article whose markup main.typ holds there (main.typ
    is ours, made from it); else book.toml."""
    config = {"path": rendered.book.config_path}
    if where is None:
        return config
    name, line, column = where
    own = own_template(rendered)
    if name == "booklet.typ" and own is not None:
        return {"path": own, "line": line, "column": column}
    if name == "main.typ":
        item = article_at(made.source, line, rendered)
        if item is not None:
            return {"path": item.article.source_path, "line": item.article.body_line}
    return config


def article_at(source: str, line: int, rendered: RenderedBook):
    """The rendered article whose markup holds `line` of main.typ (each
    article's opens with the one line that calls `#opener(`), or None
    (the front matter, the facts)."""
    openers = [number for number, text in enumerate(source.split("\n"), start=1) if text.startswith("#opener(")]
    index = sum(1 for number in openers if number <= line) - 1
    return rendered.articles[index] if 0 <= index < len(rendered.articles) else None


def own_template(rendered: RenderedBook) -> Path | None:
    """The book's own styles/typst/booklet.typ, if it has one."""
    own = rendered.book.styles / "typst" / "booklet.typ" if rendered.book.styles is not None else None
    return own if own is not None and own.is_file() else None


def failure(message: str, rendered: RenderedBook, made: Document, where: list | None = None) -> Diagnostic:
    """Typst's error, located (`located`): in the book's own template, at
    Typst's line and column; in an article's markup, at its manuscript;
    a character no font draws at its first place in the manuscripts (R007
    warned of it); anything else at book.toml."""
    undrawn = _UNDRAWN.search(message)
    own = own_template(rendered)
    if undrawn is None and own is not None and where is not None and where[0] == "main.typ":
        # main.typ calls what the book's template defines: an error there is most likely the template's
        item = article_at(made.source, where[1], rendered)
        return error("X001", f"the book's Typst template failed"
                             f"{f' on the markup of {item.article.source_path.name}' if item else ''}: {message}",
                     path=own, hint="styles/typst/booklet.typ must define what main.typ calls, with the same "
                                    "arguments as the project's: booklet, front-matter, opener, article-end, "
                                    "pageref, callout (the guide, chapter 15)")
    if undrawn is None:
        place = located(where, rendered, made)
        if place.get("path") == own:
            return error("X001", f"the book's Typst template failed: {message}", **place,
                         hint="correct styles/typst/booklet.typ there, or remove it to use the project's own")
        if place["path"] != rendered.book.config_path:
            return error("X001", f"Typst could not typeset this article: {message}", **place,
                         hint="build with --engine weasyprint, and report the article: its Typst markup is ours")
        return error("X001", f"Typst could not typeset the book: {message}",
                     hint="a book's own styles/typst/booklet.typ may be at fault; "
                          "else build with --engine weasyprint and report the book", **place)
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
