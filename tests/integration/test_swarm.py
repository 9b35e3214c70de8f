"""The catalogue on a Docker Swarm: a single-node swarm that this module makes and leaves.

The fixture reads this Docker engine's swarm state first. When the engine is in no swarm,
it makes one (``docker swarm init``) and, at the end, leaves it (``docker swarm leave
--force``) and removes the networks that init made (``docker_gwbridge``): the engine is
left as it was found, and the fixture checks that it is. A swarm the engine already
manages is used as it is and left alone.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from testbed import cli, docker_env, labels, lecture, topology
from testbed.backends.swarm import SwarmBackend
from testbed.cluster import Cluster, IfExists
from testbed.errors import TestbedError
from testbed.expect import derive

pytestmark = pytest.mark.swarm

PREFIX = "it-sw-"


def _state(c) -> tuple:
    info = docker_env.swarm_info(c)
    nets = sorted(n.name for n in c.networks.list())
    return info.get("LocalNodeState"), bool(info.get("ControlAvailable")), nets


def _docker(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *argv], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def swarm(docker_client):
    c = docker_client
    before = _state(c)
    state, manager, _nets = before
    if state == "active" and not manager:
        pytest.fail("this Docker engine is a swarm worker: the swarm tests need a manager or no swarm at all")
    made = state != "active"
    if made:
        proc = _docker("swarm", "init")
        if proc.returncode != 0 and "advertise" in proc.stderr:  # several addresses: the default route's
            route = subprocess.run(["ip", "-4", "route", "get", "1.1.1.1"], capture_output=True, text=True).stdout
            addr = route.split(" src ")[1].split()[0]
            proc = _docker("swarm", "init", "--advertise-addr", addr)
        assert proc.returncode == 0, f"docker swarm init: {proc.stderr.strip()}"
    try:
        yield c
    finally:
        for svc in docker_env.swarm_services(c):
            name = svc.attrs["Spec"].get("Labels", {}).get(labels.CLUSTER, "")
            if name.startswith(PREFIX):
                docker_env.clean(c, name)
        if made:
            proc = _docker("swarm", "leave", "--force")
            for net in set(_state(c)[2]) - set(before[2]):  # docker_gwbridge, made by init
                _docker("network", "rm", net)
            assert _state(c) == before, f"the swarm state is not the one found: {_state(c)} != {before}"


def _check(capsys, argv: list[str]) -> tuple[int, dict]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert "{" in out, f"testbed {' '.join(argv)}: exit {code}, no JSON; stderr: {err.strip()[-600:]}"
    return code, json.loads(out[out.index("{") :])


@pytest.mark.parametrize("name", topology.known_topologies())
def test_catalogue_topology_checks_on_a_swarm(swarm, capsys, name):
    """`testbed check NAME --swarm`: every engine as derived, the nodes are swarm tasks, nothing left."""
    topo = topology.load(name)
    cname = PREFIX + name
    code, doc = _check(capsys, ["check", name, "--swarm", "--name", cname, "--json"])
    assert code == 0 and doc["ok"], doc
    expected = derive(topo, topo.scatter)
    assert len(doc["engines"]) == len(expected) == topo.engine_count
    if name == "split-world":  # the lecture's L10
        engines = sorted(doc["engines"], key=lambda e: e["id"])
        assert [e["psum"] for e in engines] == [float(x) for x in lecture.ENGINES["L10"]["psum"]]
        assert [e["world_rank"] for e in engines] == lecture.ENGINES["L10"]["world_rank"]
    left = docker_env.leftovers(swarm, cname)
    assert left == {"containers": 0, "networks": 0, "volumes": 0}, left


def test_nodes_are_swarm_tasks_placed_by_label(swarm, capsys):
    """--place puts a node on the swarm node with that label; status --swarm shows the stack."""
    c = swarm
    node_id = docker_env.swarm_info(c)["NodeID"]
    node = c.nodes.get(node_id)
    spec_before = dict(node.attrs["Spec"])
    topo = topology.load("remote-engines")
    # a label no node has: refused at once, nothing deployed
    with pytest.raises(TestbedError, match="the topology has no node 'node1'"):
        Cluster(topo, name=PREFIX + "place", backend="swarm", place={"node1": "it-here"})
    with pytest.raises(TestbedError, match=f"no swarm node is labelled {labels.SWARM_PLACE}=it-nowhere"):
        Cluster(topo, name=PREFIX + "place", backend="swarm", place={"laptop": "it-nowhere"}).up(
            if_exists=IfExists.REPLACE
        )
    assert docker_env.leftovers(c, PREFIX + "place") == {"containers": 0, "networks": 0, "volumes": 0}
    spec = dict(spec_before)
    spec["Labels"] = {**(spec.get("Labels") or {}), labels.SWARM_PLACE: "it-here"}
    node.update(spec)
    try:
        cluster = Cluster(topo, name=PREFIX + "place", backend="swarm", place={"laptop": "it-here"})
        cluster.up(if_exists=IfExists.REPLACE)
        try:
            svc = c.services.get(f"ipp-testbed-{cluster.name}_laptop")
            constraints = svc.attrs["Spec"]["TaskTemplate"]["Placement"]["Constraints"]
            assert constraints == [f"node.labels.{labels.SWARM_PLACE} == it-here"]
            for n in topo.nodes:  # every node is the container of a swarm task
                assert cluster.node(n).container.labels[labels.SWARM_SERVICE] == f"ipp-testbed-{cluster.name}_{n}"
            assert cli.main(["status", "--swarm"]) == 0
            out = capsys.readouterr().out
            assert f"{cluster.name} (swarm stack ipp-testbed-{cluster.name})" in out
            assert "laptop (running on " in out and f"{labels.SWARM_PLACE}=it-here" in out
        finally:
            cluster.down()
    finally:
        node.reload()
        node.update(spec_before)
    assert docker_env.leftovers(c, cluster.name) == {"containers": 0, "networks": 0, "volumes": 0}


def test_an_image_missing_on_the_swarm_node_is_one_line(swarm):
    """A task rejected for its image: one line naming the image, the swarm node and the remedy."""
    topo = topology.load("plain")
    image = "ipp-testbed/node:not-built-on-purpose"
    backend = SwarmBackend(topo, PREFIX + "noimage", image, "openmpi4")
    try:
        with pytest.raises(TestbedError) as e:
            backend.start()
        host = swarm.nodes.get(docker_env.swarm_info(swarm)["NodeID"]).attrs["Description"]["Hostname"]
        assert str(e.value).startswith(f"image {image} is missing on swarm node {host} (node head): ")
        assert "\n" not in str(e.value)
    finally:
        backend.stop()
    assert docker_env.leftovers(swarm, PREFIX + "noimage") == {"containers": 0, "networks": 0, "volumes": 0}


# every fault of the catalogue on a swarm stack: the nodes reached through the swarm backend only
@pytest.mark.parametrize(
    "topo, fault, lost",
    [
        ("remote-engines", "engine-killed", [3]),
        ("split-world", "rank-killed", [3, 4]),
        ("remote-engines", "node-lost", [3]),
        ("remote-engines", "partition", [3]),
        ("split-world", "controller-restart", None),  # how many come back is measured, not derived
        ("remote-engines", "slow-network", []),
        ("remote-engines", "up-killed", []),
    ],
)
def test_every_fault_of_the_catalogue_on_a_swarm(swarm, topo, fault, lost):
    from testbed import faults

    (res,) = faults.Drills(topology.load(topo), log=print, backend="swarm").run([fault])
    print(res.as_json())
    assert not res.skipped and res.ok, res.failed
    if lost is not None:
        assert res.lost == lost
    if fault == "controller-restart":  # every engine back, by count
        assert res.extra["engines_back"] == topology.load(topo).engine_count and res.lost == []
    if fault in ("engine-killed", "rank-killed", "node-lost", "partition"):
        assert res.tasks_lost == 0 and res.detect_s is not None and any("EngineError" in h for h in res.held)
    if fault == "slow-network":  # the overlay network's interface, found in the node, not assumed
        assert res.extra["interface"] and res.extra["interface"] in res.done
    left = docker_env.leftovers(swarm, f"faults-{topo}") if fault != "up-killed" else res.extra["after_down"]
    assert left == {"containers": 0, "networks": 0, "volumes": 0}, left
