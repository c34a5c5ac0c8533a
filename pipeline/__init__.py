"""pipeline: Markdown articles -> a typeset PDF booklet and an EPUB 3.

The flow is load -> render -> export; see docs/guide/13-development-and-tests.md ("How it works").
Library use:

    from pipeline import build
    result = build("manuscripts", "dist")
    for d in result.diagnostics: print(d.format())

The names below are imported when first asked for (PEP 562), not with the
package: the build's helper processes (the language ranker, the Typst
compile) each import one small module, and the whole build's imports would
cost each of them a tenth of a second.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import BuildOptions, BuildResult, build
    from .diagnostics import CODES, Diagnostic, Severity

__all__ = ["CODES", "BuildOptions", "BuildResult", "Diagnostic", "Severity", "__version__", "build"]
_HOMES = {"BuildOptions": "build", "BuildResult": "build", "build": "build", "CODES": "diagnostics",
          "Diagnostic": "diagnostics", "Severity": "diagnostics", "__version__": "model"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    module = importlib.import_module(f".{_HOMES[name]}", __name__)
    return getattr(module, "VERSION" if name == "__version__" else name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


class _Package(types.ModuleType):
    """`pipeline.build` is the function, as `from pipeline import build` has
    always given, though importing the submodule of that name sets the
    package's attribute to the module (whoever imports it first)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "build" and isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.build":
            value = value.build
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
