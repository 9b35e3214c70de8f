"""The project's modules import one another without a cycle: every module of every package
(``testbed``, its subpackages such as ``testbed.launch``, and ``benchmarks``), imports inside
functions and under ``if TYPE_CHECKING:`` included: a module that needs another's types sits
above it as much as one that calls it (plots and outcome sit below both experiments and report)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("testbed", "benchmarks")  # top-level packages; every package below them is walked too


def module_files(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> its file, for every module of every package (a folder with
    ``__init__.py``) under the given top-level packages."""
    found: dict[str, Path] = {}
    for top in packages:
        for path in sorted((root / top).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if not all((root / Path(*parts[:i]) / "__init__.py").is_file() for i in range(1, len(parts))):
                continue  # not inside a package (a script folder)
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(tree: ast.AST):
    """Every import statement of a module, at any depth (in functions, under TYPE_CHECKING)."""
    return (node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom))


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` or its longest prefix that is one of ``modules``."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in modules:
            return ".".join(parts[:i])
    return None


def import_graph(modules: dict[str, Path] | None = None) -> dict[str, set[str]]:
    """module -> the project's modules it imports (anywhere in the file, lazily or not)."""
    modules = module_files() if modules is None else modules
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                deps.update(filter(None, (_known(a.name, modules) for a in node.names)))
                continue
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - (node.level - 1)])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for a in node.names:  # ``from pkg import mod`` imports the module pkg.mod
                sub = f"{target}.{a.name}"
                deps.add(sub if sub in modules else _known(target, modules) or "")
        graph[name] = deps - {"", name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(m: str, path: list[str]) -> list[str]:
        state[m] = 1
        for d in sorted(graph.get(m, ())):
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


def test_no_import_cycle_in_any_package():
    graph = import_graph()
    # the graph was read, subpackages included
    assert graph["testbed.experiments"] and graph["testbed.report"] and graph["testbed.launch.mpiexec"]
    assert "testbed.launch" in graph["testbed.cluster"] and "benchmarks.run" in graph
    cycle = find_cycle(graph)
    assert cycle == [], "import cycle: " + " -> ".join(cycle)


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}})[-1] == "a"


def test_the_graph_sees_subpackages_lazy_and_type_checking_imports(tmp_path):
    pkg = tmp_path / "p"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .sub import c\n")
    (pkg / "sub" / "__init__.py").write_text("from .. import a\n")
    (pkg / "sub" / "c.py").write_text("from . import X\nimport p.a\n")
    graph = import_graph(module_files(tmp_path, ("p",)))
    assert graph == {"p": set(), "p.a": {"p.b"}, "p.b": {"p.sub.c"}, "p.sub": {"p.a"}, "p.sub.c": {"p.sub", "p.a"}}
    assert find_cycle(graph) == ["p.a", "p.b", "p.sub.c", "p.a"]


def test_experiments_do_not_import_the_report_and_rendering_sits_below_both():
    graph = import_graph()
    assert "testbed.report" not in graph["testbed.experiments"]
    assert {"testbed.outcome", "testbed.lecture"} <= graph["testbed.report"]
    assert graph["testbed.plots"] == graph["testbed.outcome"] == graph["testbed.lecture"] == set()


def test_the_topology_does_not_import_the_launch_kinds():
    graph = import_graph()
    assert not {m for m in graph["testbed.topology"] if m.startswith("testbed.launch")}
