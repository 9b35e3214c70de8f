"""The testbed as a pytest plugin (entry point ``pytest11``): a cluster for a test session.

    pytest --testbed split-world [--testbed-mpi mpich] [--testbed-mount .]

Fixtures:

- ``testbed_cluster`` (session): the cluster (``testbed.api.TestbedCluster``), brought up
  once for the session and torn down at its end, on Ctrl-C too. A cluster of that name
  that is already up (``testbed up``) is used as it is and left up.
- ``ipp_client`` (session): an ``ipyparallel.Client`` on this host, every engine registered.
- ``testbed_exec``: ``testbed_exec(argv, node=None, check=False)`` runs a command on a node,
  in the mounted folder, and returns its ``ExecResult`` (code, out, err).

Without ``--testbed`` the fixtures skip the tests that use them, with one line saying why.
The plugin imports the testbed only when a fixture is used.
"""

from __future__ import annotations

import signal
import threading

import pytest

_STARTED = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("testbed", "ipp-testbed: a multi-node ipyparallel + MPI cluster for the session")
    group.addoption("--testbed", metavar="TOPOLOGY", help="bring this topology up for the session's fixtures")
    group.addoption("--testbed-mpi", metavar="STACK", help="its MPI stack: openmpi4 (default), openmpi5, mpich")
    group.addoption("--testbed-mount", metavar="DIR[:PATH]", help="a host folder on every node (default path /project)")
    group.addoption("--testbed-requirements", metavar="FILE", help="extra packages on every node")
    group.addoption("--testbed-name", metavar="NAME", help="the cluster's name (default: the topology's)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STARTED] = []


def pytest_report_header(config: pytest.Config) -> str | None:
    topo = config.getoption("--testbed")
    if not topo:
        return None
    mpi = config.getoption("--testbed-mpi") or "openmpi4"
    mount = config.getoption("--testbed-mount")
    return f"testbed: {topo} on {mpi}" + (f", {mount} mounted" if mount else "")


@pytest.fixture(scope="session")
def testbed_cluster(request: pytest.FixtureRequest):
    """The session's cluster (``--testbed TOPOLOGY``)."""
    config = request.config
    topo = config.getoption("--testbed")
    if not topo:
        pytest.skip("needs a testbed cluster: run pytest with --testbed TOPOLOGY (`testbed topologies` lists them)")
    from . import api
    from .errors import TestbedError

    def log(msg: str) -> None:
        tw = config.get_terminal_writer() if hasattr(config, "get_terminal_writer") else None
        if tw is not None:
            tw.line(msg)

    from .cluster import is_up

    try:
        reused = is_up(config.getoption("--testbed-name") or topo)
        ctx = api.cluster(
            topo,
            name=config.getoption("--testbed-name"),
            mpi=config.getoption("--testbed-mpi"),
            mount=config.getoption("--testbed-mount"),
            requirements=config.getoption("--testbed-requirements"),
            log=log,
        )
        c = ctx.__enter__()
    except TestbedError as e:
        pytest.exit(f"testbed: {e}", returncode=2)
    if not reused:  # a cluster the user brought up is theirs: never removed here
        config.stash[_STARTED].append(c.name)
    old = _term_as_interrupt()
    try:
        yield c
    finally:
        ctx.__exit__(None, None, None)
        if not reused:
            config.stash[_STARTED].remove(c.name)
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def _term_as_interrupt():
    """SIGTERM (a CI job cancelled, `timeout`) ends the session as Ctrl-C does, so that the
    cluster is torn down; the handler that was there, to put back (None: left alone)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    old = signal.getsignal(signal.SIGTERM)
    if old is not signal.SIG_DFL:
        return None
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return old


@pytest.fixture(scope="session")
def ipp_client(testbed_cluster):
    """An ``ipyparallel.Client`` on this host, connected to every engine of the session's cluster."""
    rc = testbed_cluster.client()
    try:
        yield rc
    finally:
        rc.close()


@pytest.fixture
def testbed_exec(testbed_cluster):
    """``testbed_exec(argv, node=None, check=False)``: a command on a node of the session's cluster."""

    def run(argv, node=None, check=False):
        return testbed_cluster.exec(argv, node=node, check=check)

    return run


def pytest_unconfigure(config: pytest.Config) -> None:
    """A cluster whose fixture did not finish (a hard interrupt) is removed by its label."""
    left = config.stash.get(_STARTED, [])
    if not left:
        return
    from . import docker_env

    for name in list(left):
        docker_env.clean(docker_env.client(), name)
