"""The layers stay apart: models know nothing of the engine or Qt, the engine never imports Qt,
and the GUI never does tensor math (no torch in app/)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "models": ("engine", "app", "PySide6", "shiboken6"),
    "engine": ("app", "PySide6", "shiboken6"),
    "app": ("torch", "models"),
}


def imported_modules(path: Path, *, run_only: bool = False, members: bool = False) -> set[str]:
    """The modules ``path`` imports anywhere in its file (also inside functions). ``run_only``:
    without the imports under ``if TYPE_CHECKING:``; ``members``: ``from a import b`` also gives
    ``a.b`` (b may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if run_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                node.body = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if members:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_layers(package: str) -> None:
    offences = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            if name.split(".")[0] in FORBIDDEN[package]:
                offences.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offences, "\n".join(offences)


def test_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtWidgets import QWidget\nimport torch.nn as nn\n")
    assert imported_modules(bad) == {"PySide6.QtWidgets", "torch.nn"}


def import_graph(packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Module -> the first-party modules it imports anywhere in its file (also inside functions)."""
    paths = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            paths[name] = path
    graph = {}
    for name, path in paths.items():
        # Imports for type checkers only are not run: they close no circle.
        imported = imported_modules(path, run_only=True, members=True)
        graph[name] = {other for other in imported if other in paths and other != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each a circle of imports."""
    order: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:
        order[module] = lowest[module] = len(order)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in order:
                visit(other)
                lowest[module] = min(lowest[module], lowest[other])
            elif other in stack:
                lowest[module] = min(lowest[module], order[other])
        if lowest[module] == order[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return cycles


def test_no_import_circles() -> None:
    """A circle (engine.benchmark <-> engine.bench_end_to_end was one, and the controllers <-> the
    window) makes import order matter; imports under ``if TYPE_CHECKING:`` are left out."""
    assert import_cycles(import_graph(("app", "engine", "models"))) == []


def test_cycle_finder_sees_a_circle() -> None:
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []
