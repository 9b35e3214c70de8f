"""engine-killed: ``kill -9`` of one plain engine (the last that is not a rank of an MPI world)."""

from __future__ import annotations

from .. import placement
from .base import register
from .workload import WorkloadFault


def kill_engine(cluster, row, started: dict, res, what: str) -> None:
    """``kill -9`` of engine ``row.id``'s process, whose pid the workload noted."""
    _host, pid = started["where"][str(row.id)]
    res.done = f"kill -9 of engine {row.id} ({what}, pid {pid} on {row.node})"
    code = cluster.exec(row.node, ["kill", "-9", str(int(pid))]).code
    res.expect(f"engine {row.id}'s process was there to kill", code == 0)


@register
class EngineKilled(WorkloadFault):
    name = "engine-killed"
    summary = "`kill -9` of one plain engine (the last)"
    order = 10

    def pick(self, topo):
        plain = [r for r in placement.derive(topo) if r.size == 1]
        if not plain:
            return "no plain engine (every engine is a rank of an MPI world: see rank-killed)"
        return plain[-1], {plain[-1].id}

    def inject(self, cluster, victim, lost, started, res) -> None:
        kill_engine(cluster, victim, started, res, "a plain engine")
