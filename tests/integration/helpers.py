"""Shared steps of the integration tests."""

from __future__ import annotations

from testbed.checks import compare
from testbed.expect import derive


def checked_engines(cluster, scatter: int) -> list[dict]:
    """Run the report on ``cluster``, assert it matches the derivation, return engines by id."""
    report = cluster.report(scatter)
    result = compare(
        derive(cluster.topology, scatter), report["engines"],
        topology=cluster.topology.name, cluster=cluster.name, scatter=scatter,
    )  # fmt: skip
    assert result.ok, result.as_json()
    return sorted(report["engines"], key=lambda e: e["id"])


def write_topology(folder, name: str, x_testbed: str, services: list[str]):
    """A hand-written topology file in ``folder`` (beside a copy of node.yml); returns it loaded."""
    import shutil

    from testbed import topology

    shutil.copy(topology.compose_dir() / "node.yml", folder / "node.yml")
    shutil.copytree(topology.compose_dir() / "mpi", folder / "mpi", dirs_exist_ok=True)  # the stacks' settings
    svc = "".join(f"  {s}: {{extends: {{file: node.yml, service: node}}, hostname: {s}}}\n" for s in services)
    (folder / f"{name}.yaml").write_text(
        f"name: ${{TESTBED_PROJECT:-ipp-testbed-{name}}}\n"
        f"x-testbed:\n{x_testbed}"
        f"services:\n{svc}"
        "networks:\n"
        "  cluster: {labels: {ipp-testbed.cluster: '${TESTBED_CLUSTER:-default}'}}\n"
    )
    return topology.load(str(folder / f"{name}.yaml"))
