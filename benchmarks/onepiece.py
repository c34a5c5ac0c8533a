"""Build a book's PDF as one document, the reference for "merged size vs one-piece".

Usage: python benchmarks/onepiece.py BOOK_DIR --out DIR [other `pipeline build` options]

The PDF exporter lays the booklet out in parts and joins them with pikepdf;
the tagged and archival variants take its other path, one WeasyPrint
document. This runs `pipeline build` with that choice forced
(`pdf.one_document` patched to say yes) for the plain booklet, so that the
benchmark can compare the joined PDF's size with the size of the same book
laid out in one piece. Only for the benchmark: the patch lives in this
process alone.
"""

from __future__ import annotations

import sys
from unittest import mock


def main(argv: list[str]) -> int:
    from pipeline.commands.cli import main as pipeline_main
    from pipeline.export import pdf

    with mock.patch.object(pdf, "one_document", return_value=True):
        return pipeline_main(["build", *argv])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
