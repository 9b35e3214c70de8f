"""The lecture's plain MPI programs under mpiexec in a node, and its point-to-point
examples on the engines of single-world (L4, L6, L7)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from testbed import programs
from testbed.expect import derive


@pytest.mark.parametrize(
    "name, ranks",
    [(p.name, p.ranks) for p in programs.PROGRAMS.values()] + [("collectives", 3), ("hello", 7)],
)
def test_program_prints_the_derived_lines(clusters, name, ranks):
    cluster = clusters("single-world")
    program = programs.get(name)
    code, out, err = cluster.run_program(program.script, ranks, program.args)
    assert code == 0, err
    result = programs.compare_output(program, ranks, out)
    assert result.ok, result.as_json()


def test_cli_run_brings_up_nodes_only_and_checks(docker_client):
    p = subprocess.run(
        [sys.executable, "-m", "testbed.cli", "run", "collectives", "--name", "it-run", "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] and doc["ranks"] == 4 and "Process 0 rec 10 18" in doc["output"]


def test_point_to_point_on_engines_l6(clusters):
    cluster = clusters("single-world")
    doc = cluster.node_json(["p2p", "--scatter", "32", "--engines", "5"])
    exp = {e.world_rank: e for e in derive(cluster.topology, 32)}
    # rank 1 sends its a[0] to rank 0; the others keep d = [0.]
    assert doc["d"] == [float(exp[1].chunk_start)] + [0.0] * 4
    assert doc["d"] == [7.0, 0.0, 0.0, 0.0, 0.0]  # the lecture's
    assert doc["bb"] == [3, 3, 0, 0, 0]  # the lecture's: rank 0 received bb from rank 1


@pytest.mark.parametrize("name", ["hello", "collectives", "objects", "sendrecv"])
def test_program_across_two_nodes(clusters, name):
    cluster = clusters("remote-split-world")
    program = programs.get(name)
    code, out, err = cluster.run_program(program.script, program.ranks, program.args, across=True)
    assert code == 0, err
    result = programs.compare_output(program, program.ranks, out)
    assert result.ok, result.as_json()


def test_one_mpiexec_spans_both_nodes(clusters):
    cluster = clusters("remote-split-world")
    argv = cluster.mpiexec_argv(4, ["sh", "-c", f"echo ${cluster.stack.rank_env} $(hostname)"])
    code, out, err = cluster.exec("head", argv)
    assert code == 0, err
    hosts = dict(line.split() for line in out.splitlines())
    # rank r on node r % 2 (by node), as placement.round_robin spreads them
    assert hosts == {"0": "head", "1": "laptop", "2": "head", "3": "laptop"}
