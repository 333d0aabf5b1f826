"""The package's shape: no import cycle, and every module placed in a layer.

``lint-imports`` (in ``make test``) holds the contracts of ``[tool.importlinter]`` in
pyproject.toml; these tests hold what it does not: a cycle through the package's own
``__init__`` (``import irsa_nb`` inside a module), and a new module left out of the layers.
Imports inside functions count: a lazy import is still an import.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "irsa_nb"

#: Imports that close a cycle today, each to be deleted here when its import goes (none).
KNOWN_CYCLE_EDGES: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imported(module: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The irsa_nb modules that ``module`` imports anywhere in its file."""

    def known(name: str) -> str:
        while name not in modules:
            name = name.rpartition(".")[0]
        return name

    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] == "irsa_nb"]
            yield from (known(n) for n in names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            if origin.split(".")[0] != "irsa_nb":
                continue
            for alias in node.names:  # `from . import bundle` imports the module irsa_nb.bundle
                name = f"{origin}.{alias.name}"
                yield name if name in modules else known(origin)


def _with_packages(module: str, imported: set[str]) -> set[str]:
    """``imported`` plus the packages importing them initialises: importing
    ``irsa_nb.checks.sdk`` from outside ``irsa_nb.checks`` runs ``checks/__init__.py`` first."""
    inside = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 2)}
    out = set(imported)
    for name in imported:
        parts = name.split(".")
        out |= {".".join(parts[:i]) for i in range(1, len(parts))} - inside
    return out - {module}


def import_graph() -> dict[str, set[str]]:
    """``{module: the irsa_nb modules it imports}``, lazy imports included, and the
    packages those imports initialise."""
    modules = _modules()
    return {m: _with_packages(m, set(_imported(m, p, modules))) for m, p in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    assert "irsa_nb.live.collect" in graph["irsa_nb"]  # inside a function of __init__.py
    assert "irsa_nb.bundle" in graph["irsa_nb.live.aws"]  # from .. import bundle
    assert "irsa_nb.checks.registry" in graph["irsa_nb.checks.probe"]  # from .registry import


def test_importing_a_module_of_a_package_initialises_the_package():
    graph = import_graph()
    assert "irsa_nb.checks" in graph["irsa_nb.diagnose"]  # from .checks import ...
    assert "irsa_nb.iam" in graph["irsa_nb.error_catalogue"]  # from .iam.arn import ...
    assert "irsa_nb.checks" not in graph["irsa_nb.checks.pod"]  # already initialising


def test_cycle_detection_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_irsa_nb_has_no_import_cycle():
    graph = import_graph()
    for importer, imported in KNOWN_CYCLE_EDGES:
        assert imported in graph[importer], (
            f"{importer} no longer imports {imported}: delete it from KNOWN_CYCLE_EDGES "
            "(and from ignore_imports in pyproject.toml)"
        )
        graph[importer].discard(imported)
    assert cycles(graph) == []


def test_every_module_stands_in_a_layer():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    named = {name.strip("() ") for layer in layers["layers"] for name in re.split(r"[|:]", layer)}
    top = {".".join(m.split(".")[:2]) for m in import_graph() if m != "irsa_nb"}
    assert top - named == set(), "place the new module in a layer of [tool.importlinter]"


def test_checks_read_the_inventory_not_its_documents():
    """Checks read typed records (``Record | Gap``), never ``inventory.documents`` by path."""
    readers = [
        f"{path.name}:{node.lineno}"
        for path in sorted((PACKAGE / "checks").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "documents"
    ]
    assert readers == []
