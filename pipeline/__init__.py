"""pipeline: Markdown articles -> a typeset PDF booklet and an EPUB 3.

The flow is load -> render -> export; see docs/guide/13-development-and-tests.md ("How it works").
Library use:

    from pipeline import build
    result = build("manuscripts", "dist")
    for d in result.diagnostics: print(d.format())
"""

from .build import BuildOptions, BuildResult, build
from .diagnostics import CODES, Diagnostic, Severity
from .model import VERSION as __version__

__all__ = ["CODES", "BuildOptions", "BuildResult", "Diagnostic", "Severity", "__version__", "build"]
