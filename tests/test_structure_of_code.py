"""The package's own shape, as a reviewer would check it: no
module imports another module's private names, and no import cycle (type
checking imports aside), so that the flow load -> render -> export reads
one way."""

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
    """(imported module, names) of every runtime import of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for block in [n for n in ast.walk(tree) if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)]:
        block.body = []
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


def test_no_import_cycle():
    modules = _modules()
    graph = {name: {target for target, _ in _imports(name, path, modules) if target != name}
             for name, path in modules.items()}
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
