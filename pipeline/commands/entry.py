"""The `pipeline` command's entry point (and `python -m pipeline`'s).

A build typeset by Typst (`pipeline build ... --engine typst`) starts
Typst's compile process here, before the command's own imports (some 0.2 s
of a one-second build), so that the process is ready when the book is
(`export/typst/compiler.standby`). The build adopts it, and stops it when
it does not typeset a PDF after all (an EPUB alone, a build up to date).
Any other command goes straight to `cli.main`.
"""

from __future__ import annotations

import sys


def main() -> int:
    argv = sys.argv[1:]
    typesetter = _early_typesetter(argv)
    try:
        from .cli import main as run

        return run(argv, typesetter=typesetter)
    finally:
        if typesetter is not None:
            typesetter.stop()  # (nothing, when the build gave it its work or stopped it)


def _early_typesetter(argv: list[str]):
    """Typst's compile process, started now, for a build whose command line
    names the Typst engine; None for anything else (the build then starts it
    itself once it knows: `build._started_for`)."""
    if not argv or argv[0] != "build" or {"-h", "--help"} & set(argv):
        return None
    named = any(word == "--engine=typst" or (word == "--engine" and following == "typst")
                for word, following in zip(argv, argv[1:] + [""]))
    if not named:
        return None
    from ..export.typst.compiler import standby

    return standby()
