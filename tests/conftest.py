"""Test tiers and shared clusters (docs/testing.md).

- Every test under tests/integration/ is marked ``integration``.
- Tests marked ``cluster(spec)`` read a shared session cluster, keyed by topology, group
  sizes and MPI stack. They are run next to each other, in the order of the first test of
  each key, so that each key is brought up once and can go as soon as its tests are done.
  The other tests keep their place.
- The session counts bring-ups (``Cluster.up``) and prints them at the end with the
  slowest tests, so a tier's cost shows in every run.
"""

from __future__ import annotations

import time

import pytest


def cluster_key(name: str, counts=None, stack: str | None = None) -> str:
    """The key a shared cluster is kept under: topology, then group sizes and stack when given."""
    counts_part = ":" + ",".join(map(str, counts)) if counts else ""
    return name + counts_part + (f":{stack}" if stack else "")


def _declared_key(item) -> str | None:
    mark = item.get_closest_marker("cluster")
    if mark is None:
        return None
    spec = mark.args[0]
    if callable(spec):
        params = item.callspec.params if hasattr(item, "callspec") else {}
        spec = spec(params)
    if isinstance(spec, str):
        return cluster_key(spec)
    return cluster_key(*spec)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
    # group the tests of one shared cluster at the place of the first of them (a stable sort)
    first: dict[str, int] = {}
    order = []
    for i, item in enumerate(items):
        key = _declared_key(item)
        if key is not None:
            first.setdefault(key, i)
        order.append((first[key] if key is not None else i, i, item))
    order.sort(key=lambda t: (t[0], t[1]))
    items[:] = [t[2] for t in order]
    LAST_USE.clear()
    POSITION.clear()
    for i, item in enumerate(items):
        POSITION[item.nodeid] = i
        key = _declared_key(item)
        if key is not None:
            LAST_USE[key] = i


# where each test runs in the session, and the last test of each shared cluster's key: the
# clusters fixture (tests/integration/conftest.py) takes a cluster down once its last test is done
POSITION: dict[str, int] = {}
LAST_USE: dict[str, int] = {}


SESSION_START = time.time()


def _bringups_since(start: float) -> int | None:
    """Clusters brought up since ``start``: the labelled networks Docker created, one per cluster
    (also those of the CLI run in a subprocess, of fault drills and of swarm stacks)."""
    try:
        import docker

        c = docker.from_env(timeout=10)
        events = c.events(
            since=int(start), until=int(time.time()) + 1, decode=True,
            filters={"type": "network", "event": "create", "label": "ipp-testbed.cluster"},
        )  # fmt: skip
        return sum(1 for _ in events)
    except Exception:  # no Docker: a unit run
        return None


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ran_integration = any(
        getattr(r, "when", None) == "call" and "integration" in getattr(r, "keywords", {})
        for rs in terminalreporter.stats.values() for r in rs
    )  # fmt: skip
    if not ran_integration:
        return
    count = _bringups_since(SESSION_START)
    if count is not None:
        marks = config.option.markexpr or "none deselected"
        terminalreporter.write_line(
            f"cluster bring-ups: {count} in {time.time() - SESSION_START:.0f} s (markers: {marks})"
        )
