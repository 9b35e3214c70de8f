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

import threading
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


class BringUps:
    """Clusters brought up during the session: every network Docker creates for one (a compose
    project's or a swarm stack's, named ipp-testbed-...), also those of the CLI run in a
    subprocess and of fault drills. Counted live from Docker's event stream: the daemon keeps
    only its last few hundred events, too few to count a whole session afterwards."""

    def __init__(self) -> None:
        self.count = 0
        self.stream = None

    def start(self) -> None:
        try:
            import docker

            self.stream = docker.from_env(timeout=10).events(
                since=int(time.time()), decode=True, filters={"type": "network", "event": "create"}
            )
        except Exception:  # no Docker: a unit run
            return
        threading.Thread(target=self._count, name="bring-ups", daemon=True).start()

    def _count(self) -> None:
        try:
            for event in self.stream:
                if event.get("Actor", {}).get("Attributes", {}).get("name", "").startswith("ipp-testbed-"):
                    self.count += 1
        except Exception:  # the stream closed at the end of the session
            pass

    def stop(self) -> int | None:
        if self.stream is None:
            return None
        time.sleep(1)  # the last events in flight
        self.stream.close()
        return self.count


BRINGUPS = BringUps()


def pytest_sessionstart(session):
    BRINGUPS.start()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ran_integration = any(
        getattr(r, "when", None) == "call" and "integration" in getattr(r, "keywords", {})
        for rs in terminalreporter.stats.values()
        for r in rs
    )
    if not ran_integration:
        return
    count = BRINGUPS.stop()
    if count is not None:
        marks = config.option.markexpr or "none deselected"
        terminalreporter.write_line(
            f"cluster bring-ups: {count} in {time.time() - SESSION_START:.0f} s (markers: {marks})"
        )
