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

from ..conftest import LAST_USE, POSITION, cluster_key

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


# Clusters kept up at once, for tests that use a shared cluster without declaring it
# (`@pytest.mark.cluster`). Each has a network of its own, and Docker's default address pools
# hold about 30: with every cluster of a session kept up, the 31st failed with "could not find an
# available, non-overlapping IPv4 address pool". Declared clusters go as soon as their last
# test is done (tests/conftest.py groups the tests of one cluster together).
MAX_UP = 4


class SharedClusters:
    """Session clusters by key (topology, group sizes, stack): brought up once while in use."""

    def __init__(self) -> None:
        self.up: OrderedDict[str, Cluster] = OrderedDict()

    def __call__(self, name: str, counts=None, stack: str | None = None) -> Cluster:
        key = cluster_key(name, counts, stack)
        if key in self.up:
            self.up.move_to_end(key)
            return self.up[key]
        while len(self.up) >= MAX_UP:
            _key, oldest = self.up.popitem(last=False)
            oldest.down()
        topo = topology.load(name).with_counts(counts)
        cname = PREFIX + key.replace(":", "-").replace(",", "-")
        self.up[key] = Cluster(topo, name=cname, log=print, stack=stacks.get(stack)).up(if_exists=IfExists.REPLACE)
        return self.up[key]

    def release_done(self, position: int) -> None:
        """Take down every declared cluster whose last test is before ``position``."""
        for key in [k for k in self.up if LAST_USE.get(k, position) < position]:
            self.up.pop(key).down()

    def down_all(self) -> None:  # for a test that needs the machine's memory to itself
        while self.up:
            self.up.popitem()[1].down()


_SHARED: SharedClusters | None = None


@pytest.fixture(scope="session")
def clusters(docker_client):
    """Start each shared cluster once while it is in use; all down at the end."""
    global _SHARED
    _SHARED = SharedClusters()
    yield _SHARED
    _SHARED.down_all()
    _SHARED = None


def pytest_runtest_teardown(item, nextitem):
    if _SHARED is not None:
        position = POSITION.get(nextitem.nodeid, len(POSITION)) if nextitem else len(POSITION)
        _SHARED.release_done(position)
