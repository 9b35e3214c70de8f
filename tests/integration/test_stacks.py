"""The other MPI stacks (Open MPI 5, MPICH), lean but real: every catalogue topology's check,
the lecture's plain MPI programs within a node and across nodes, and what `check --json`
says of the stack. The default stack (openmpi4) is what the rest of the suite runs on."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from testbed import docker_env, programs, stacks, topology

from .helpers import checked_engines

OTHERS = [s for s in stacks.STACKS if s != stacks.DEFAULT.name]
# every stack for the catalogue: the default stack's checks are the everyday tier's, the others' `stacks`
ALL = [s if s == stacks.DEFAULT.name else pytest.param(s, marks=pytest.mark.stacks) for s in stacks.STACKS]
# the pinned versions, as printed (openmpi4: Debian bookworm's 4.1 package)
LIBRARY = {"openmpi4": "Open MPI v4.1.", "openmpi5": "Open MPI v5.0.8,", "mpich": "MPICH Version:      5.0.2"}


@pytest.mark.cluster(lambda p: (p["name"], None, None if p["stack"] == stacks.DEFAULT.name else p["stack"]))
@pytest.mark.parametrize("name", topology.known_topologies())
@pytest.mark.parametrize("stack", ALL)
def test_catalogue_topology_on_stack(clusters, stack, name):
    cluster = clusters(name, stack=None if stack == stacks.DEFAULT.name else stack)
    topo = cluster.topology
    engines = checked_engines(cluster, topo.scatter)  # every engine as the placement derives it
    (library,) = {e["mpi_library"] for e in engines}  # one library on every engine
    assert library.startswith(LIBRARY[stack])  # the stack asked for, not the default
    assert [e["id"] for e in engines] == list(range(topo.engine_count))


@pytest.mark.stacks
@pytest.mark.cluster(lambda p: ("true-world", None, p["stack"]))
@pytest.mark.parametrize("program", ["hello", "collectives", "objects", "mpi_io", "rma"])
@pytest.mark.parametrize("stack", OTHERS)
def test_lecture_programs_on_stack(clusters, stack, program):
    cluster = clusters("true-world", stack=stack)  # engines up too: programs share the nodes with them
    p = programs.get(program)
    across, workdir = cluster.program_where(p.shared_file)
    assert across  # over head, node1, node2
    code, out, err = cluster.run_program(p.script, p.ranks, p.args, across=across, workdir=workdir)
    assert code == 0, err[-1500:]
    assert programs.compare_output(p, p.ranks, out).ok, out


@pytest.mark.stacks
@pytest.mark.cluster(lambda p: ("split-world", None, p["stack"]))
@pytest.mark.parametrize("stack", OTHERS)
def test_check_json_names_the_stack_and_library(clusters, stack):
    cluster = clusters("split-world", stack=stack)
    p = subprocess.run(
        [sys.executable, "-m", "testbed.cli", "check", "split-world", "--name", cluster.name, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] and doc["mpi"]["stack"] == stack and doc["mpi"]["library_version"].startswith(LIBRARY[stack])
    # a running cluster's stack is its own: asking for another is one clear line
    other = next(s for s in stacks.STACKS if s != stack)
    p = subprocess.run(
        [sys.executable, "-m", "testbed.cli", "check", "split-world", "--name", cluster.name, "--mpi", other],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 2 and f"runs MPI stack {stack}, not {other}" in p.stderr


@pytest.mark.parametrize("stack", list(stacks.STACKS))
def test_no_private_key_in_the_image(docker_client, stack):
    """No key file of any kind in any layer's result: package test suites are gone, host keys
    are made when a node starts, cluster keys at bring-up."""
    from testbed.node import one_off

    # the image as built: sleep instead of the node's entry, which makes this node's host key
    with one_off(stacks.get(stack).image, "it-keyscan", user="root", entrypoint=["sleep", "infinity"]) as node:
        found = node.exec(
            [
                "sh",
                "-c",
                "grep -rlI -e 'PRIVATE KEY-----' /opt /usr/lib/python3 /usr/lib/python3.11 /etc /home "
                "2>/dev/null; find / -xdev \\( -name '*.key' -o -name '*.pem' -o -name 'id_*' \\) -not -path '/proc/*' "
                "-not -name '*.pub' -type f 2>/dev/null",
            ],
            user="root",
        ).out.split()
    # certifi's CA bundle is public certificates, not a key
    assert [f for f in found if not f.endswith("cacert.pem")] == []


def test_image_not_built_names_the_stack(docker_client, monkeypatch):
    monkeypatch.setenv("TESTBED_IMAGE", "ipp-testbed/node:not-built")
    p = subprocess.run(
        [sys.executable, "-m", "testbed.cli", "check", "single-world", "--name", "it-nostack", "--mpi", "mpich"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2 and "`make images MPI=mpich`" in p.stderr
    assert docker_env.cluster_containers(docker_client, "it-nostack") == []
