"""single-world (lecture L5): 5 MPI engines from ipcluster's MPI launcher, one world."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from testbed import docker_env, topology
from testbed.cluster import Cluster
from testbed.errors import TestbedError

from .helpers import checked_engines


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "testbed.cli", *args],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def test_engines_report_what_the_topology_derives(clusters):
    cluster = clusters("single-world")
    engines = checked_engines(cluster, 32)
    # the lecture's own observations (L5)
    assert [e["chunk_len"] for e in engines] == [7, 7, 6, 6, 6]
    assert [e["psum"] for e in engines] == [496.0] * 5
    assert [e["world_rank"] for e in engines] == [0, 1, 2, 3, 4]
    assert len({e["hostname"] for e in engines}) == 1
    assert len({e["pid"] for e in engines}) == 5


def test_every_resource_carries_the_cluster_label(clusters, docker_client):
    cluster = clusters("single-world")
    ctrs = docker_client.containers.list(
        filters={"label": f"com.docker.compose.project=ipp-testbed-{cluster.name}"}
    )
    assert ctrs, "no containers found for the compose project"
    for ctr in ctrs:
        assert ctr.labels.get(docker_env.LABEL) == cluster.name
    nets = docker_client.networks.list(
        filters={"label": f"com.docker.compose.project=ipp-testbed-{cluster.name}"}
    )
    assert nets
    for net in nets:
        assert net.attrs["Labels"].get(docker_env.LABEL) == cluster.name


def test_a_second_cluster_of_the_same_name_is_refused(clusters):
    cluster = clusters("single-world")
    with pytest.raises(TestbedError, match="already up"):
        Cluster(cluster.topology, name=cluster.name).up()
    # and the refusal left the first one alone
    assert len(cluster.report(32)["engines"]) == 5


def test_cli_check_json_on_the_running_cluster(clusters):
    cluster = clusters("single-world")
    p = run_cli("check", "single-world", "--name", cluster.name, "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] is True
    assert len(doc["engines"]) == 5
    for e in doc["engines"]:
        for key in ("id", "hostname", "pid", "world_rank", "world_size", "chunk_len", "psum"):
            assert key in e
            if key not in ("id", "pid"):
                assert f"expected_{key}" in e
        assert e["psum"] == e["expected_psum"] == 496.0


def test_cli_check_uses_a_running_clusters_own_sizes(clusters):
    cluster = clusters("single-world", counts=(3,))
    p = run_cli("check", "single-world", "--name", cluster.name, "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] and [e["chunk_len"] for e in doc["engines"]] == [11, 11, 10]
    p = run_cli("check", "single-world", "--name", cluster.name, "--engines", "4")
    assert p.returncode == 2 and "is up with engines 3, not 4" in p.stderr


def test_cli_check_other_sizes_brings_up_and_removes_its_own_cluster(docker_client):
    name = "it-sw-other"
    p = run_cli("check", "single-world", "--name", name, "--engines", "3", "--scatter", "10", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert [e["chunk_len"] for e in doc["engines"]] == [4, 3, 3]
    assert [e["psum"] for e in doc["engines"]] == [45.0] * 3
    assert docker_env.cluster_containers(docker_client, name) == []
    assert docker_client.networks.list(filters={"label": f"{docker_env.LABEL}={name}"}) == []


def test_image_not_built_is_one_line_and_starts_nothing(docker_client):
    env = dict(os.environ, TESTBED_IMAGE="ipp-testbed/node:not-built")
    p = run_cli("check", "single-world", "--name", "it-noimage", env=env)
    assert p.returncode == 2
    assert "is not built: run `make images`" in p.stderr
    assert docker_env.cluster_containers(docker_client, "it-noimage") == []


def test_failed_bring_up_tears_everything_down(docker_client):
    name = "it-sw-fail"
    topo = topology.load("single-world")
    cluster = Cluster(topo, name=name, register_timeout=0.5)
    with pytest.raises(TestbedError, match="engines registered"):
        cluster.up()
    assert docker_env.cluster_containers(docker_client, name) == []
    assert docker_client.networks.list(filters={"label": f"{docker_env.LABEL}={name}"}) == []


def test_a_launch_that_dies_is_reported_not_waited_out(docker_client):
    # what cluster.py does for a group on the controller node: one exec starts and waits
    ctr = docker_client.containers.run(
        docker_env.DEFAULT_IMAGE,
        ["python3", "testbed_node.py", "wait", "1", "--timeout", "60",
         "--start", "echo no-such-launcher >&2; exit 3", "--log", "/tmp/testbed/launch.log"],
        user="mpi", detach=True, labels={docker_env.LABEL: "it-launch-dies"},
    )  # fmt: skip
    try:
        status = ctr.wait(timeout=120)["StatusCode"]
        out = ctr.logs(stdout=True, stderr=False).decode()
    finally:
        ctr.remove(force=True)
    assert status == 2
    doc = json.loads(out.strip().splitlines()[-1])
    # with a 60 s timeout and no controller, only the started command's own failure says this
    assert "exited with status 3" in doc["error"]
    assert "no-such-launcher" in doc["error"]
