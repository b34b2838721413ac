"""The layout of ARCHITECTURE.md holds: what imports what, no private names across
packages, no import circle.

Read from the source with ``ast`` (nothing is imported), so a violation fails here before
it can hide behind a lazy import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("domain", "workflows", "activities", "db", "api", "devstack", "ops", "bench")
TOP_MODULES = ("settings", "worker")
# Which of our packages each package may import (ARCHITECTURE.md, "What imports what").
MAY_IMPORT: dict[str, set[str]] = {
    "domain": set(),
    "workflows": {"domain", "activities", "settings"},
    "activities": {"domain", "db", "settings"},
    "db": {"domain", "settings"},
    # ops.logs and ops.tracing: the API process sets up its logs and traces as the worker does.
    "api": {"domain", "db", "workflows", "ops", "settings"},
    "ops": {"domain", "workflows", "settings"},
    "devstack": {"domain", "db", "workflows", "settings"},
}


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path
    for module in TOP_MODULES:
        yield module, ROOT / f"{module}.py"


MODULES = dict(_modules())


def _imports(name: str, path: Path) -> Iterator[tuple[str, list[str]]]:
    """(module imported, names taken from it) for each first-party import of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            names = [alias.name for alias in node.names]
            # ``from pkg import module`` imports that module.
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in MODULES]
            yield base, [n for n in names if f"{base}.{n}" not in MODULES]
            for sub in submodules:
                yield sub, []


def _top(module: str) -> str:
    return module.split(".")[0]


def _ours(module: str) -> bool:
    return _top(module) in (*PACKAGES, *TOP_MODULES, "tests")


GRAPH = {
    name: sorted({m for m, _ in _imports(name, path) if m in MODULES and m != name})
    for name, path in MODULES.items()
}


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_package_imports_only_what_the_layout_allows(package: str) -> None:
    allowed = MAY_IMPORT[package] | {package}
    wrong = [
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        if _top(name) == package
        for imported, _ in _imports(name, path)
        if _ours(imported) and _top(imported) not in allowed
    ]
    assert wrong == []


def test_nothing_imports_api_but_api() -> None:
    wrong = [
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        if _top(name) != "api"
        for imported, _ in _imports(name, path)
        if _top(imported) == "api"
    ]
    assert wrong == []


def test_bench_imports_no_test_module_and_no_private_name() -> None:
    wrong = []
    for name, path in MODULES.items():
        if _top(name) != "bench":
            continue
        for imported, names in _imports(name, path):
            if _top(imported) == "tests" and not imported.startswith("tests.support"):
                wrong.append(f"{name} imports the test module {imported}")
            if _ours(imported) and _top(imported) != "bench":
                wrong += [f"{name} takes {imported}.{n}" for n in names if n.startswith("_")]
    assert wrong == []


def test_no_import_circle() -> None:
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for imported in GRAPH[module]:
            if state.get(imported) == 1:
                # A package's __init__ importing its own submodules is not a circle.
                circle = path[path.index(imported) :]
                if not all(m.startswith(imported + ".") for m in circle[1:]):
                    circles.append([*circle, imported])
            elif imported not in state:
                visit(imported)
        path.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert circles == []
