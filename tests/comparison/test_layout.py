"""The harness's shape: small modules, no import cycles, every path a module with both backends."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from comparison.paths import PATHS
from comparison.paths.base import Backend

PACKAGE = Path(__file__).resolve().parents[2] / "comparison"
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules a file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(c for c in (node.module, *(f"{node.module}.{a.name}" for a in node.names)) if c in known)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
    return found


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, if there is any."""
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        trail.append(node)
        for other in sorted(graph[node]):
            if state.get(other) == 1:
                return [*trail[trail.index(other) :], other]
            if other not in state and (found := visit(other)):
                return found
        state[node] = 2
        trail.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_is_over_400_lines():
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_no_import_cycle():
    known = modules()
    graph = {name: imports(path, known) - {name} for name, path in known.items()}
    assert cycle(graph) is None


def test_the_cycle_finder_finds_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_every_path_offers_what_run_and_report_use(path):
    assert path.knobs and all(knob.flag.startswith("--") for knob in path.knobs)
    for target in ("local", "aws"):
        module, _, name = path.backends[target].partition(":")
        backend = getattr(importlib.import_module(module), name)
        missing = [m for m in dir(Backend) if not m.startswith("_") and not callable(getattr(backend, m, None))]
        assert missing == [], (target, missing)


def test_run_and_report_name_no_path():
    names = [p.name for p in PATHS] + [p.settings_key for p in PATHS]
    for module in ("run.py", "report.py", "measure.py"):
        text = (PACKAGE / module).read_text()
        assert [n for n in names if f'"{n}"' in text] == [], module
