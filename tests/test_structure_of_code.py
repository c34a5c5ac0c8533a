"""The package's own shape, as a reviewer would check it: no module imports
another module's private names, no import cycle, and no import from a lower
stage up to a higher one, so that the flow load -> render -> export reads one
way.

The stages, lowest first: the base (every module at the top of pipeline/
but build.py: model, diagnostics, resources, output, xhtml, styles, fonts,
cache, epoch...; and the packages text/, decoding and the Markdown parser,
and targets/, the stores' rules) < load < render < export < build <
commands (with __main__ and the package's own __init__, its public API).
A module may import its own stage and those below, never one above.

Every import counts: at the top of a module, inside a function (deferred to
save start-up time, it is still a dependency) and under `if TYPE_CHECKING:`
(a type named is a concept depended on).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "pipeline"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]):
    """(imported module, names) of every import of a module, wherever it
    stands: module level, function level, type checking only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target in modules:
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    yield (sub, ()) if sub in modules else (target, (alias.name,))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield alias.name, ()


def test_no_module_imports_another_modules_private_names():
    modules = _modules()
    private = [(name, target, imported) for name, path in modules.items()
               for target, names in _imports(name, path, modules) for imported in names
               if imported.startswith("_") and not imported.startswith("__")]
    assert private == []


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {target for target, _ in _imports(name, path, modules) if target != name}
            for name, path in modules.items()}


# The stages by the folder (or top-level module) of pipeline/ a module lives
# in; anything else is the base, stage 0, which every stage may import and
# which imports no stage. text/ is there because load parses manuscripts to
# find titles and render to make XHTML: the parser is below them both.
STAGES = {"load": 1, "render": 2, "export": 3, "build": 4, "commands": 5, "__main__": 5}


def _stage(name: str) -> int:
    parts = name.split(".")
    if len(parts) == 1:  # the package itself: its public API, over build
        return STAGES["commands"]
    return STAGES.get(parts[1], 0)


def test_no_import_reaches_up_a_stage():
    """load never imports render, render never export, nothing below build
    imports build or the commands, and the base imports no stage at all."""
    upward = sorted((name, target) for name, targets in _graph().items() for target in targets
                    if _stage(target) > _stage(name))
    assert upward == []


def test_the_scan_sees_every_kind_of_import(tmp_path):
    """The control: imports deferred into a function or written for type
    checking only are edges of the graph like any other (the cycle test once
    blanked TYPE_CHECKING blocks and missed two cycles)."""
    module = tmp_path / "structure.py"
    module.write_text("from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    from ..render.articles import ImageSources\n"
                      "def later():\n    from ..export import registry\n    import pipeline.build\n")
    found = {target for target, _ in _imports("pipeline.load.structure", module, _modules())}
    assert found == {"pipeline.render.articles", "pipeline.export.registry", "pipeline.build"}
    assert all(_stage(target) > _stage("pipeline.load.structure") for target in found)


def test_no_import_cycle():
    graph = _graph()
    cycles, index, low, stack, on = [], {}, {}, [], set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in graph:
        if name not in index:
            visit(name)
    assert cycles == []
