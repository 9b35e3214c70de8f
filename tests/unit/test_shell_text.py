"""No name or pattern is put into shell text: every ``sh -c`` script in testbed/ is a fixed string
(its values go in as arguments: "$0", "$@"), not one built from variables (f-strings, format, +).

A new ``["sh", "-c", f"..."]`` fails here; run it as argv, or pass the values as the script's
arguments. The allowlist names the few that remain, and why."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELLS = {"sh", "bash", "/bin/sh", "/bin/bash", "dash"}
COMMAND_FLAGS = {"-c", "-lc", "-ec", "-xc", "-euc", "-eu"}

# (file, the script's source text): built from values that are not names nor user input
ALLOWED = {
    # Cluster.sh: a shell script for tests and one-off diagnostics, by design; its callers pass fixed text
    ("testbed/cluster.py", "script"),
    # the stack's name-server port: an int of the stack's definition (testbed/stacks.py), no user input
    ("testbed/stacks.py", "f\"ss -ltn | grep -q ':{self.name_server_port} '\""),
}


def _fixed(expr: ast.AST, scope: ast.AST) -> bool:
    """A str literal, or a name that its function (or module) binds only to str literals."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return True
    if not isinstance(expr, ast.Name):
        return False
    values = [
        node.value
        for node in ast.walk(scope)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)
    ]
    return bool(values) and all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values)


def _scopes(tree: ast.AST):
    """(node, the innermost function around it, or the module) for every node."""

    def walk(node: ast.AST, scope: ast.AST):
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) else scope
            yield child, inner
            yield from walk(child, inner)

    yield from walk(tree, tree)


def shell_scripts_built_from_variables(text: str) -> list[str]:
    """The source of every shell script in ``text`` that is not fixed: the script of an argv
    ``["sh", "-c", SCRIPT, ...]``, of ``X.sh(node, SCRIPT)``, of ``subprocess.run(SCRIPT, shell=True)``,
    and any f-string whose fixed parts say ``sh -c``."""
    found = []
    for node, scope in _scopes(ast.parse(text)):
        if isinstance(node, ast.List | ast.Tuple):
            e = node.elts
            for i in range(len(e) - 2):
                shell, flag, script = e[i], e[i + 1], e[i + 2]
                if (
                    isinstance(shell, ast.Constant)
                    and shell.value in SHELLS
                    and isinstance(flag, ast.Constant)
                    and flag.value in COMMAND_FLAGS
                    and not _fixed(script, scope)
                ):
                    found.append(ast.unparse(script))
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr == "sh" and len(node.args) == 2:
                if not _fixed(node.args[1], scope):
                    found.append(ast.unparse(node.args[1]))
            shell_true = any(
                k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords
            )
            if shell_true and node.args and not _fixed(node.args[0], scope):
                found.append(ast.unparse(node.args[0]))
        elif isinstance(node, ast.JoinedStr):
            fixed = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if any(f"{sh} {flag}" in fixed for sh in ("sh", "bash") for flag in COMMAND_FLAGS):
                found.append(ast.unparse(node))
    return found


def test_no_shell_script_in_testbed_is_built_from_variables():
    seen = set()
    new = []
    for path in sorted((ROOT / "testbed").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for script in shell_scripts_built_from_variables(path.read_text()):
            seen.add((rel, script))
            if (rel, script) not in ALLOWED:
                new.append(f"{rel}: {script}")
    assert new == [], "sh -c with a script built from variables (make it argv, or pass values as arguments)"
    assert seen == ALLOWED, f"allowlisted but gone (remove them from ALLOWED): {ALLOWED - seen}"


def test_the_scan_finds_built_scripts_and_passes_fixed_ones():
    bad = """
def f(node, pattern, n):
    node.exec(["sh", "-c", f"tail -n {n} /tmp/{pattern}"])
    node.exec(("bash", "-c", "grep " + pattern))
    node.exec(["sh", "-c", "ls {}".format(pattern)])
    cluster.sh("head", f"cat {pattern}")
    subprocess.run(f"ls {pattern}", shell=True)
    x = f"docker exec c sh -c {pattern}"
"""
    assert len(shell_scripts_built_from_variables(bad)) == 6
    good = """
def f(node, pattern, n):
    script = 'tail -n "$1" -- "$0"'
    node.exec(["sh", "-c", script, pattern, str(n)])
    node.exec(["sh", "-c", 'exec "$@"', "x", pattern])
    cluster.sh("head", "pkill -x ompi-server; true")
    node.exec(["tail", "-n", str(n), pattern])
"""
    assert shell_scripts_built_from_variables(good) == []
