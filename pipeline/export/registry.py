"""The exporters by format name, and the order they run in.

Above the exporters, which import the interface in `export/__init__.py` and
never this module: each is imported only when used (an EPUB-only build never
imports WeasyPrint).
"""

from __future__ import annotations

import importlib

from ..formats import FORMATS, PRINT
from ..model import BookConfig
from . import Exporter, output


def get_exporter(name: str) -> Exporter:
    """The exporter of format `name`, as its row in `formats.FORMATS` names it."""
    module_name, class_name = FORMATS[name].exporter.split(":")
    return getattr(importlib.import_module(module_name), class_name)()


def exporter_for(name: str, config: BookConfig) -> Exporter:
    """The exporter of format `name` for a book: its [pdf] engine's for the
    PDFs (export/typst: the Typst booklet, or a refusal of what Typst
    cannot make), else the format's own."""
    if config.pdf_engine == "typst" and (name == "pdf" or FORMATS[name].role == PRINT):
        from .typst.exporter import TypstExporter, Unsupported

        return TypstExporter() if name == "pdf" else Unsupported(name)
    return get_exporter(name)


def in_fact_order(formats: tuple[str, ...], config: BookConfig | None = None) -> tuple[str, ...]:
    """The formats ordered so that each runs after those providing facts it
    uses (the PDF's pagination before the EPUB's page-list), else as given.
    With the book's `config`, its own exporters are asked (a Typst book
    never imports WeasyPrint)."""
    pending, ordered = list(dict.fromkeys(formats)), []
    while pending:
        exporters = {name: exporter_for(name, config) if config else get_exporter(name) for name in pending}
        ready = [name for name in pending
                 if not any(set(exporters[name].uses) & {*exporters[other].provides, output(other)}
                            for other in pending if other != name)]
        name = ready[0] if ready else pending[0]  # a cycle: as given
        ordered.append(name)
        pending.remove(name)
    return tuple(ordered)
