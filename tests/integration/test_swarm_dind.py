"""Across hosts: a swarm of three Docker hosts in containers (``testbed dind``), one MPI world
spread over them, and an image that one host lacks.

Each host is a Docker engine of its own (Docker-in-Docker), with its own image store and
address; the swarm's overlay network joins the nodes placed on different hosts, and the
testbed reaches each node through the engine of the host it runs on.
"""

from __future__ import annotations

import pytest

from testbed import docker_env, labels, stacks, topology
from testbed.backends import swarm
from testbed.cluster import Cluster, IfExists
from testbed.dind import DindSwarm
from testbed.errors import TestbedError

from .helpers import checked_engines

pytestmark = [pytest.mark.swarm, pytest.mark.dind]

NAME = "it-dind"
# wide-world: the controller on head, one mpiexec world of 8 ranks over node1-node4 (by node)
PLACE = {"head": "dind1", "node1": "dind1", "node2": "dind2", "node3": "dind3", "node4": "dind2"}


@pytest.fixture(scope="module")
def dind_swarm(docker_client):
    docker_env.clean(docker_client, NAME)  # what a crashed run left
    sw = DindSwarm(NAME, hosts=3)
    hosts = sw.up([stacks.DEFAULT.image])
    try:
        yield hosts
    finally:
        sw.down()
        assert docker_env.leftovers(docker_client, NAME) == {"containers": 0, "networks": 0, "volumes": 0}


def test_one_mpi_world_over_three_swarm_hosts(dind_swarm, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", dind_swarm[0].endpoint)  # the swarm's manager
    topo = topology.load("wide-world")
    cluster = Cluster(topo, name="it-sw-wide", backend="swarm", place=PLACE).up(if_exists=IfExists.REPLACE)
    try:
        engines = checked_engines(cluster, topo.scatter)  # every psum and rank as derived
        manager = docker_env.client()
        on = {node: host for node, state, host in swarm.stack_nodes(manager, cluster.name)}
        assert on == PLACE  # each node on the swarm host it was placed on
        hosts_of_ranks = {on[e["hostname"]] for e in engines}  # hostnames are the nodes' (node1, ...)
        assert hosts_of_ranks == {"dind1", "dind2", "dind3"}
        assert {e["world_size"] for e in engines} == {8} and sorted(e["world_rank"] for e in engines) == list(range(8))
        # the testbed execs into node3 through dind3's own engine, not the manager's
        node3 = cluster.node("node3")
        assert node3.container.client.api.base_url.endswith(dind_swarm[2].address + ":2375")
        assert node3.container.labels[labels.NODE] == "node3"
    finally:
        cluster.down()
    assert swarm.stack_nodes(docker_env.client(), cluster.name) == []


def test_an_image_one_host_lacks_is_named_with_that_host(dind_swarm, monkeypatch):
    """Only the default stack's image was copied into the hosts: an mpich node on dind2 is refused
    by dind2, and the error names the image and the host in one line."""
    monkeypatch.setenv("DOCKER_HOST", dind_swarm[0].endpoint)
    stack = stacks.get("mpich")
    cluster = Cluster(topology.load("plain"), name="it-sw-noimg", stack=stack, backend="swarm", place={"head": "dind2"})
    with pytest.raises(TestbedError) as e:
        cluster.up(if_exists=IfExists.REPLACE)
    assert str(e.value).startswith(f"image {stack.image} is missing on swarm node dind2 (node head): ")
    assert "\n" not in str(e.value)
    assert docker_env.leftovers(docker_env.client(), cluster.name) == {"containers": 0, "networks": 0, "volumes": 0}
