"""`python -m pipeline.system`: check the system libraries the PDF needs.

Exit 0 when WeasyPrint's libraries and HarfBuzz's subsetter are present,
1 otherwise (with the missing piece named). The Makefile calls it before a
build; it does not import WeasyPrint, so it is quick.
"""

from __future__ import annotations

import ctypes.util
import sys

LIBRARIES = {
    "pango-1.0": "libpango-1.0-0",
    "harfbuzz-subset": "libharfbuzz-subset0",
}


def missing() -> list[str]:
    return [package for library, package in LIBRARIES.items() if ctypes.util.find_library(library) is None]


if __name__ == "__main__":
    absent = missing()
    if absent:
        print(f"missing system libraries (Debian packages): {' '.join(absent)}", file=sys.stderr)
    sys.exit(1 if absent else 0)
