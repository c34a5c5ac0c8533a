"""What a format is, said once: one row per output a build can write.

Every list of formats derives from `FORMATS`: the exporters by name
(`export/registry.py`), the `--format` choices and the defaults, the print
files (`--print`), the file names a booklet's outputs take, what an earlier
build's output can be (`cache.written_before`), the manifest's media types,
the files `check` reads. A Typst PDF is not a format: Typst is an engine of
the PDF and the print files (`registry.exporter_for`).

In the base stage: no exporter is imported here (the PDF's imports
WeasyPrint); each row names its exporter as "module:Class", imported by
`registry.get_exporter` when used.
"""

from __future__ import annotations

from dataclasses import dataclass

# A format's role: what the file is for.
DOWNLOAD = "download"  # a reader's file: made for each article too, listed in the manifest
PRINT = "print"  # the printer's (`--print`): the book's only
BOOK = "book"  # about the book (the ONIX record): the book's only, not a download


@dataclass(frozen=True)
class Format:
    """One kind of output."""

    name: str  # as --format and the exporters name it
    suffix: str  # the end of its file's name, after the slug
    media_type: str
    exporter: str  # "module:Class", imported only when used
    role: str  # DOWNLOAD, PRINT or BOOK
    default: bool = False  # made when no --format is given
    # A form of another format, made with it when the book asks
    # (`with_forms`): the imposed PDF, from the PDF's file, with [pdf] impose.
    form_of: str = ""
    asked_by: str = ""  # the BookConfig flag that asks for it

    @property
    def per_article(self) -> bool:
        """Made for each article's booklet too (--per-article), and listed in the manifest."""
        return self.role == DOWNLOAD

    def file_name(self, slug: str) -> str:
        return f"{slug}{self.suffix}"


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("pdf", ".pdf", "application/pdf", "pipeline.export.pdf:PdfExporter", DOWNLOAD, default=True),
    Format("epub", ".epub", "application/epub+zip", "pipeline.export.epub:EpubExporter", DOWNLOAD, default=True),
    Format("imposed", "-imposed.pdf", "application/pdf", "pipeline.export.pdf.impose:ImposedExporter", DOWNLOAD,
           form_of="pdf", asked_by="pdf_impose"),
    # --print: the interior, the full-wrap cover and its PNG preview (export/pdf/printing.py, printcover.py)
    Format("print", "-print.pdf", "application/pdf", "pipeline.export.pdf.printing:InteriorExporter", PRINT),
    Format("cover", "-cover.pdf", "application/pdf", "pipeline.export.pdf.printcover:CoverExporter", PRINT),
    Format("cover-preview", "-cover-preview.png", "image/png",
           "pipeline.export.pdf.printcover:CoverPreviewExporter", PRINT),
    Format("onix", ".onix.xml", "application/xml", "pipeline.export.onix:OnixExporter", BOOK),
)}

DEFAULT_FORMATS = tuple(name for name, f in FORMATS.items() if f.default)
PRINT_FORMATS = tuple(name for name, f in FORMATS.items() if f.role == PRINT)
# What --format may name: every format but the forms made with another (--impose asks for those).
CHOOSABLE = tuple(name for name, f in FORMATS.items() if not f.form_of)


def with_forms(names: tuple[str, ...], config: object) -> tuple[str, ...]:
    """`names` and the forms of them the book asks for (the imposed PDF
    with the PDF, when `config.pdf_impose`), after them."""
    forms = tuple(name for name, f in FORMATS.items()
                  if f.form_of in names and f.asked_by and getattr(config, f.asked_by) and name not in names)
    return tuple(names) + forms


def kinds_of(names: tuple[str, ...]) -> set[str]:
    """The formats a build of `names` may write: those and their forms (asked for or not)."""
    return {name for name, f in FORMATS.items() if name in names or f.form_of in names}


def format_of_file(name: str) -> Format | None:
    """The format whose file names end as `name` does (the longest suffix: "-print.pdf" before ".pdf")."""
    found = [f for f in FORMATS.values() if name.endswith(f.suffix)]
    return max(found, key=lambda f: len(f.suffix), default=None)
