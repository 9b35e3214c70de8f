"""single-world (lecture L5): 5 MPI engines from ipcluster's MPI launcher, one world."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from testbed import cli, docker_env, labels, launch, placement, stacks
from testbed.cluster import Cluster
from testbed.errors import TestbedError

from .helpers import checked_engines, write_topology


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "testbed.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.cluster("single-world")
def test_engines_report_what_the_topology_derives(clusters):
    cluster = clusters("single-world")
    engines = checked_engines(cluster, 32)
    # the lecture's own observations (L5)
    assert [e["chunk_len"] for e in engines] == [7, 7, 6, 6, 6]
    assert [e["psum"] for e in engines] == [496.0] * 5
    assert [e["world_rank"] for e in engines] == [0, 1, 2, 3, 4]
    assert len({e["hostname"] for e in engines}) == 1
    assert len({e["pid"] for e in engines}) == 5


@pytest.mark.cluster("single-world")
def test_every_resource_carries_the_cluster_label(clusters, docker_client):
    cluster = clusters("single-world")
    ctrs = docker_client.containers.list(filters={"label": f"{labels.COMPOSE_PROJECT}=ipp-testbed-{cluster.name}"})
    assert ctrs, "no containers found for the compose project"
    for ctr in ctrs:
        assert ctr.labels.get(labels.CLUSTER) == cluster.name
    nets = docker_client.networks.list(filters={"label": f"{labels.COMPOSE_PROJECT}=ipp-testbed-{cluster.name}"})
    assert nets
    for net in nets:
        assert net.attrs["Labels"].get(labels.CLUSTER) == cluster.name


@pytest.mark.cluster("single-world")
def test_a_second_cluster_of_the_same_name_is_refused(clusters):
    cluster = clusters("single-world")
    with pytest.raises(TestbedError, match=f"already there .*`testbed down --name {cluster.name}` removes it"):
        Cluster(cluster.topology, name=cluster.name).up()
    # and the refusal left the first one alone
    assert len(cluster.report(32)["engines"]) == 5


@pytest.mark.cluster("single-world")
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


@pytest.mark.extended
@pytest.mark.cluster(("single-world", (3,)))
def test_cli_check_uses_a_running_clusters_own_sizes(clusters):
    cluster = clusters("single-world", counts=(3,))
    p = run_cli("check", "single-world", "--name", cluster.name, "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] and [e["chunk_len"] for e in doc["engines"]] == [11, 11, 10]
    p = run_cli("check", "single-world", "--name", cluster.name, "--engines", "4")
    assert p.returncode == 2 and "is up with engines 3, not 4" in p.stderr


@pytest.mark.extended
def test_cli_check_other_sizes_brings_up_and_removes_its_own_cluster(docker_client):
    name = "it-sw-other"
    p = run_cli("check", "single-world", "--name", name, "--engines", "3", "--scatter", "10", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert [e["chunk_len"] for e in doc["engines"]] == [4, 3, 3]
    assert [e["psum"] for e in doc["engines"]] == [45.0] * 3
    assert docker_env.cluster_containers(docker_client, name) == []
    assert docker_client.networks.list(filters={"label": f"{labels.CLUSTER}={name}"}) == []


def test_image_not_built_is_one_line_and_starts_nothing(docker_client):
    env = dict(os.environ, TESTBED_IMAGE="ipp-testbed/node:not-built")
    p = run_cli("check", "single-world", "--name", "it-noimage", env=env)
    assert p.returncode == 2
    assert "is not built: run `make images`" in p.stderr
    assert docker_env.cluster_containers(docker_client, "it-noimage") == []


@pytest.mark.cluster("single-world")
def test_cli_status_json_and_a_down_without_a_name_on_the_running_cluster(clusters):
    cluster = clusters("single-world")
    p = run_cli("status", "--json")
    assert p.returncode == 0, p.stderr
    (mine,) = [c for c in json.loads(p.stdout)["clusters"] if c["name"] == cluster.name]
    want = [r.id for r in placement.derive(cluster.topology)]  # the ids the topology places
    assert mine["topology"] == "single-world" and mine["mpi"] == stacks.DEFAULT.name
    assert mine["engines"]["expected"] == len(want) and mine["engines"]["ids"] == want
    assert mine["engines"]["missing"] == []
    # `down` with neither a topology nor --name removes nothing and names what is up
    p = run_cli("down")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert cluster.name in p.stderr
    assert len(cluster.report(32)["engines"]) == len(want)  # still up


@pytest.mark.cluster("single-world")
def test_notebook_on_a_cluster_without_a_lab(clusters, capsys):
    cluster = clusters("single-world")
    rc = cli.main(["notebook", "single-world", "--name", cluster.name])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and "is up without a lab" in err[0], err


class Doomed(launch.LaunchKind):
    """A launch kind certain to fail: its command exits 3 at once (one class is all a kind takes)."""

    name = "it-doomed"

    def starts(self, group, rows, ctx):
        return [
            launch.Start(
                node=group.node,
                argv=("sh", "-c", "echo doomed-launch-says-why >&2; exit 3"),
                log=launch.LOGS / f"{group.name}.log",
                registered=ctx.registered_before(group) + group.engines,
                says=f"{group.node}: a launch certain to fail",
            )
        ]


@pytest.fixture
def doomed_topology(tmp_path):
    launch.register(Doomed)
    try:
        yield write_topology(
            tmp_path,
            "doomed",
            "  controller: head\n"
            "  groups:\n"
            "    - {name: first, node: head, launch: ipcluster, engines: 1}\n"
            "    - {name: second, node: head, launch: it-doomed, engines: 2}\n",
            ["head"],
        )
    finally:
        del launch.REGISTRY[Doomed.name]


@pytest.mark.extended
def test_a_failed_launch_is_one_error_naming_group_and_node_and_nothing_is_left(docker_client, doomed_topology):
    name = "it-doomed"
    cluster = Cluster(doomed_topology, name=name)  # the default 120 s wait: only the launch's own failure ends it
    with pytest.raises(TestbedError) as err:
        cluster.up()
    first_line = str(err.value).splitlines()[0]
    assert "group 'second' on head" in first_line
    assert "exited with status 3" in first_line
    assert "doomed-launch-says-why" in str(err.value)  # the launch's own words, from its log
    assert docker_env.cluster_containers(docker_client, name) == []
    assert docker_client.networks.list(filters={"label": f"{labels.CLUSTER}={name}"}) == []


def test_a_launch_that_dies_is_reported_not_waited_out(docker_client):
    # what cluster.py does for a group on the controller node: one exec starts and waits
    ctr = docker_client.containers.run(
        stacks.DEFAULT.image,
        [
            "python3",
            "testbed_node.py",
            "wait",
            "1",
            "--timeout",
            "60",
            "--log",
            "/tmp/testbed/launch.log",
            "--",
            "sh",
            "-c",
            "echo no-such-launcher >&2; exit 3",
        ],
        user="mpi",
        detach=True,
        labels={labels.CLUSTER: "it-launch-dies"},
    )
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
