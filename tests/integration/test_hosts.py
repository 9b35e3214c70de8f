"""The lean rows of the host matrix (docs/hosts.md), in CI: a current Docker Engine (26.1, overlay2)
and Podman (5.4, its Docker API), each a test host in a container of this machine.

On each: the engine is the kind it says; its user, not root, reaches it; the lecture's true-world
(an MPI world over three nodes that find each other by name) comes up from this checkout with
DOCKER_HOST at the host and its sums and ranks are as the topology derives; what needs this machine
(--mount, a host-side client) is refused in one line. On Docker 26 the base image comes from the
host's registry, as its mirror: the pull path of `make images`. The full rows (`make reproduce`,
`make test` from a fresh clone on each host) are `make hosts`.
"""

from __future__ import annotations

import pytest

from testbed import docker_env, hostclient, hosts, images, stacks, topology
from testbed import mount as mounts
from testbed.cluster import Cluster, IfExists
from testbed.errors import TestbedError

from .helpers import checked_engines

pytestmark = [pytest.mark.hosts]

WANT = {"docker26": ("Docker 26.", "overlay2"), "podman5": ("Podman 5.", "overlay")}


@pytest.fixture(scope="module", params=list(WANT))
def host(request, docker_client):
    name = f"it-host-{request.param}"
    docker_env.clean(docker_client, name)  # what a crashed run left
    h = hosts.TestHost(request.param, name=name, registry=request.param == "docker26")
    h.up(copy=[stacks.DEFAULT.image], base=images.BASE_IMAGE)
    try:
        yield h
    finally:
        h.down()
        assert docker_env.leftovers(docker_client, name) == {"containers": 0, "networks": 0, "volumes": 0}


def test_the_engine_is_the_kind_it_says(host):
    facts = host.facts()
    engine, storage = WANT[host.kind.name]
    assert facts["engine"].startswith(engine), facts
    assert facts["storage"] == storage, facts


def test_its_user_who_is_not_root_reaches_the_engine(host):
    done = host.run(["docker", "version", "--format", "{{.Server.Version}}"], user=hosts.USER, timeout=60)
    assert done.status == 0, done.tail
    assert done.tail.strip().splitlines()[-1].split(".")[0] == WANT[host.kind.name][0].split()[1].rstrip(".")
    assert host.run(["id", "-u"], user=hosts.USER).tail.strip() != "0"


def test_true_world_from_this_checkout_as_a_remote_engine(host, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", host.endpoint)
    topo = topology.load("true-world")
    cluster = Cluster(topo, name="it-hosts-true").up(if_exists=IfExists.REPLACE)
    try:
        engines = checked_engines(cluster, topo.scatter)  # psum, ranks and world as derived
        assert {e["hostname"] for e in engines} == {"node1", "node2"}  # names resolved between nodes
    finally:
        cluster.down()
    assert docker_env.leftovers(docker_env.client(), "it-hosts-true")["containers"] == 0


def test_what_needs_this_machine_is_refused_on_a_remote_engine(host, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", host.endpoint)
    with pytest.raises(TestbedError) as e:
        mounts.parse(str(tmp_path))
    assert "remote" in str(e.value) and host.endpoint in str(e.value) and "\n" not in str(e.value)

    class Up:  # enough of a cluster for connection(): the refusal comes before any of it is read
        on_this_host = True

    with pytest.raises(TestbedError, match="remote"):
        hostclient.connection(Up())


def test_the_base_image_is_pulled_from_the_hosts_registry(host):
    if not host.registry:
        pytest.skip(f"{host.kind.name} runs no registry here (row 4 of docs/hosts.md is Docker 26's)")
    assert host.run(["docker", "image", "inspect", images.BASE_IMAGE], user=hosts.USER).status != 0  # not there
    done = host.run(["docker", "pull", images.BASE_IMAGE], user=hosts.USER, timeout=120)
    assert done.status == 0, done.tail
    assert "Pulling from library/debian" in done.tail
    host.run(["docker", "rmi", images.BASE_IMAGE], user=hosts.USER)
