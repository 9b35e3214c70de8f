"""The testbed's modules import one another without a cycle (plots and outcome sit below both
experiments and report), and the pure modules import no Docker."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "testbed"


def import_graph() -> dict[str, set[str]]:
    """testbed module -> the testbed modules it imports (anywhere in the file, lazily or not)."""
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:
                    deps.add(node.module.split(".")[0])
                elif node.level == 1:
                    deps.update(a.name for a in node.names)
                elif node.module and node.module.startswith("testbed."):
                    deps.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                deps.update(a.name.split(".")[1] for a in node.names if a.name.startswith("testbed."))
        graph[path.stem] = deps & modules - {path.stem}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(m: str, path: list[str]) -> list[str]:
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                return path + [m, d]
            if d not in state and (found := visit(d, path + [m])):
                return found
        state[m] = 2
        return []

    for m in sorted(graph):
        if m not in state and (found := visit(m, [])):
            return found
    return []


def test_no_import_cycle_in_testbed():
    graph = import_graph()
    assert graph["experiments"] and graph["report"]  # the graph was read
    assert find_cycle(graph) == []


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}})[-1] == "a"


def test_experiments_do_not_import_the_report_and_rendering_sits_below_both():
    graph = import_graph()
    assert "report" not in graph["experiments"]
    assert {"outcome", "lecture"} <= graph["report"]
    assert graph["plots"] == set() and graph["outcome"] == set() and graph["lecture"] == set()
