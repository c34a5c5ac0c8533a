"""`python -m pipeline.commands.system`: check the system libraries and fonts the book needs.

Exit 0 when WeasyPrint's libraries, HarfBuzz's subsetter and the Noto font
packages of `pipeline/fonts.py` are present, 1 otherwise, printing the
missing Debian packages (space-separated) on stdout for the Makefile to
install. It does not import WeasyPrint, so it is quick.
"""

from __future__ import annotations

import ctypes.util
import sys

LIBRARIES = {
    "pango-1.0": "libpango-1.0-0",
    "harfbuzz-subset": "libharfbuzz-subset0",
}


def missing() -> list[str]:
    from ..fonts import GROUPS

    absent = [package for library, package in LIBRARIES.items() if ctypes.util.find_library(library) is None]
    for group in GROUPS:
        if any(face.path is None for face in group.serif + group.sans) and group.package not in absent:
            absent.append(group.package)
    return absent


if __name__ == "__main__":
    absent = missing()
    if absent:
        print(" ".join(absent))
        print(f"missing system packages (Debian): {' '.join(absent)}", file=sys.stderr)
    sys.exit(1 if absent else 0)
