"""The lecture's plain MPI programs under mpiexec in a node, and its point-to-point
examples on the engines of single-world (L4, L6, L7)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from testbed import docker_env, programs, stacks
from testbed.expect import derive


@pytest.mark.parametrize(
    "name, ranks",
    [(p.name, p.ranks) for p in programs.PROGRAMS.values()] + [("collectives", 3), ("hello", 7)],
)
@pytest.mark.extended
@pytest.mark.cluster("single-world")
def test_program_prints_the_derived_lines(clusters, name, ranks):
    cluster = clusters("single-world")
    program = programs.get(name)
    code, out, err = cluster.run_program(program.script, ranks, program.args)
    assert code == 0, err
    result = programs.compare_output(program, ranks, out)
    assert result.ok, result.as_json()


@pytest.mark.parametrize("stack", list(stacks.STACKS))
def test_cli_run_over_three_nodes_on_every_stack(docker_client, stack):
    """One program per MPI stack, its ranks over head, node1 and node2: `testbed run` brings up the
    nodes only, runs it under that stack's mpiexec, checks every line and removes the nodes."""
    name = f"it-run-{stack}"
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "testbed.cli",
            "run",
            "true-world",
            "collectives",
            "--mpi",
            stack,
            "--name",
            name,
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    program = programs.get("collectives")
    assert doc["ok"] and doc["ranks"] == program.ranks == 4
    assert sorted(doc["output"]) == sorted(program.expected(4))  # the lecture's lines, derived for 4 ranks
    assert "on head, node1, node2" in p.stderr  # the ranks went over the three nodes
    assert docker_env.cluster_containers(docker_client, name) == []


@pytest.mark.cluster("single-world")
def test_point_to_point_on_engines_l6(clusters):
    cluster = clusters("single-world")
    doc = cluster.node_json(["p2p", "--scatter", "32", "--engines", "5"])
    exp = {e.world_rank: e for e in derive(cluster.topology, 32)}
    # rank 1 sends its a[0] to rank 0; the others keep d = [0.]
    assert doc["d"] == [float(exp[1].chunk_start)] + [0.0] * 4
    assert doc["d"] == [7.0, 0.0, 0.0, 0.0, 0.0]  # the lecture's
    assert doc["bb"] == [3, 3, 0, 0, 0]  # the lecture's: rank 0 received bb from rank 1


@pytest.mark.extended
@pytest.mark.cluster("remote-split-world")
@pytest.mark.parametrize("name", ["hello", "collectives", "objects", "sendrecv"])
def test_program_across_two_nodes(clusters, name):
    cluster = clusters("remote-split-world")
    program = programs.get(name)
    code, out, err = cluster.run_program(program.script, program.ranks, program.args, across=True)
    assert code == 0, err
    result = programs.compare_output(program, program.ranks, out)
    assert result.ok, result.as_json()


@pytest.mark.cluster("remote-split-world")
def test_one_mpiexec_spans_both_nodes(clusters):
    cluster = clusters("remote-split-world")
    argv = cluster.mpiexec_argv(4, ["sh", "-c", f"echo ${cluster.stack.rank_env} $(hostname)"])
    code, out, err = cluster.exec("head", argv)
    assert code == 0, err
    hosts = dict(line.split() for line in out.splitlines())
    # rank r on node r % 2 (by node), as placement.round_robin spreads them
    assert hosts == {"0": "head", "1": "laptop", "2": "head", "3": "laptop"}
