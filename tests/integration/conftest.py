"""Integration fixtures: clusters brought up through testcontainers' DockerCompose.

Without Docker these tests skip on a developer's machine, but in CI (CI=true)
they fail: a CI run that cannot reach Docker has tested nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

import pytest

from testbed import docker_env, labels, stacks, topology
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
    lock = _one_session_per_engine()
    _reap(c)  # what a killed session left: a namesake would be taken for a running cluster
    try:
        yield c
    finally:
        _reap(c)  # whatever a crashed test left behind
        os.close(lock)


def _reap(c) -> None:
    """Remove every cluster and swarm service whose name says a test made it (a reaper by label)."""
    names = set(docker_env.running_clusters(c))
    names |= {docker_env.service_labels(s).get(labels.CLUSTER, "") for s in docker_env.swarm_services(c)}
    for name in sorted(n for n in names if n.startswith(PREFIX)):
        docker_env.clean(c, name)


def lock_path() -> Path:
    """The lock file of this Docker engine's integration sessions."""
    key = hashlib.sha256(docker_env.endpoint().encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"ipp-testbed-it-{key}.lock"


def _one_session_per_engine() -> int:
    """Hold this engine's lock for the session, or fail in one line naming the session that holds it.

    Two sessions on one engine use the same cluster names: one took the other's cluster for a
    running one of its own ("using the running cluster", then "node 'head' is not running" once
    the other took it down), and each one's reaper removes the other's clusters.
    """
    path = lock_path()
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        writable = True
    except PermissionError:  # another user's file: a lock needs no write access
        fd, writable = os.open(path, os.O_RDONLY), False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        pytest.fail(
            f"another integration session (pid {holder}) runs on this Docker engine ({docker_env.endpoint()}); "
            f"two would take down each other's clusters: wait for it, or stop it",
            pytrace=False,
        )
    if writable:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            os.fchmod(fd, 0o666)  # the next session may be another user's
        except PermissionError:
            pass
    return fd


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
