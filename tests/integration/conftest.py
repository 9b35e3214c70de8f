"""Integration fixtures: clusters brought up through testcontainers' DockerCompose.

Without Docker these tests skip on a developer's machine, but in CI (CI=true)
they fail: a CI run that cannot reach Docker has tested nothing.
"""

from __future__ import annotations

import os
from collections import OrderedDict

import pytest

from testbed import docker_env, stacks, topology
from testbed.cluster import Cluster, IfExists
from testbed.errors import TestbedError

PREFIX = "it-"


@pytest.fixture(scope="session")
def docker_client():
    try:
        c = docker_env.client()
        docker_env.require_compose()
        for stack in stacks.STACKS.values():  # every stack's image: `make test` builds them all
            docker_env.require_image(c, stack.image, f"make images MPI={stack.name}")
    except TestbedError as e:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"integration tests need Docker, Compose v2 and the node image in CI: {e}")
        pytest.skip(f"no Docker for integration tests: {e}")
    yield c
    # whatever a crashed test left behind
    for name in docker_env.running_clusters(c):
        if name.startswith(PREFIX):
            docker_env.clean(c, name)


# Clusters kept up at once. Each has a network of its own, and Docker's default address pools
# hold about 30 (15 /16s in 172.16/12, 16 /20s in 192.168/16): with every cluster of the
# session kept up, the 31st failed with "could not find an available, non-overlapping IPv4
# address pool". Tests that share a cluster are adjacent (parametrized together), so the
# least recently used one goes first.
MAX_UP = 6


@pytest.fixture(scope="session")
def clusters(docker_client):
    """Start each topology once while it is in use; at most MAX_UP up at once; all down at the end."""
    up: OrderedDict[str, Cluster] = OrderedDict()

    def get(name: str, counts=None, stack: str | None = None) -> Cluster:
        key = name + (":" + ",".join(map(str, counts)) if counts else "") + (f":{stack}" if stack else "")
        if key in up:
            up.move_to_end(key)
            return up[key]
        while len(up) >= MAX_UP:
            _key, oldest = up.popitem(last=False)
            oldest.down()
        topo = topology.load(name).with_counts(counts)
        cname = PREFIX + key.replace(":", "-").replace(",", "-")
        up[key] = Cluster(topo, name=cname, log=print, stack=stacks.get(stack)).up(if_exists=IfExists.REPLACE)
        return up[key]

    def down_all() -> None:  # for a test that needs the machine's memory to itself
        while up:
            up.popitem()[1].down()

    get.down_all = down_all
    yield get
    down_all()
