"""Shared steps of the integration tests."""

from __future__ import annotations


def checked_engines(cluster, scatter: int) -> list[dict]:
    """Run the report on ``cluster``, assert it matches the derivation, return engines by id."""
    report, result = cluster.check(scatter)
    assert result.ok, result.as_json()
    return sorted(report["engines"], key=lambda e: e["id"])


def write_topology(folder, name: str, x_testbed: str, services: list[str]):
    """A hand-written topology file in ``folder`` (beside a copy of node.yml); returns it loaded."""
    from testbed import topology

    return topology.write(folder, name, x_testbed, services)
