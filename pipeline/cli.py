"""Command line: `pipeline build [BOOK_DIR] [--out OUT_DIR] [--format pdf|epub]...`.

Exit status: 0 success, 1 the build failed (diagnostics on stderr),
2 usage error. No traceback reaches a user for a problem in their book.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from . import __version__
from .build import DEFAULT_FORMATS, build
from .export import REGISTRY

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description="Markdown articles to a PDF booklet and an EPUB.")
    parser.add_argument("--version", action="version", version=f"pipeline {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    build_cmd = commands.add_parser("build", help="build the book into PDF and EPUB")
    build_cmd.add_argument("book_dir", nargs="?", default="manuscripts", type=Path, metavar="BOOK_DIR",
                           help="folder with book.toml and the *.md manuscripts (default: manuscripts)")
    build_cmd.add_argument("--out", default=Path("dist"), type=Path, metavar="OUT_DIR",
                           help="output folder (default: dist)")
    build_cmd.add_argument("--format", action="append", choices=sorted(REGISTRY), dest="formats",
                           help="output format; repeat for several (default: pdf and epub)")
    build_cmd.add_argument("--strict", action="store_true", help="treat warnings as errors")
    return parser


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_OK
    formats = tuple(dict.fromkeys(args.formats or DEFAULT_FORMATS))
    result = build(args.book_dir, args.out, formats=formats, strict=args.strict)
    for diagnostic in result.diagnostics:
        print(diagnostic.format(relative_to=Path.cwd()), file=stderr)
    if not result.ok:
        errors = sum(d.is_error for d in result.diagnostics)
        print(f"build failed: {errors} error(s); previous outputs left unchanged", file=stderr)
        return EXIT_FAILED
    for path in result.outputs:
        print(f"wrote {path}", file=stdout)
    return EXIT_OK
