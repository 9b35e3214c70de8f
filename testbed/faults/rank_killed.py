"""rank-killed: ``kill -9`` of rank 0 of the last MPI world; the MPI launcher ends the whole world."""

from __future__ import annotations

from .. import placement
from .base import lost_with, register
from .engine_killed import kill_engine
from .workload import WorkloadFault


@register
class RankKilled(WorkloadFault):
    name = "rank-killed"
    summary = "`kill -9` of rank 0 of the last MPI world (the launcher ends every rank of it)"
    order = 20

    def pick(self, topo):
        worlds = [r for r in placement.derive(topo) if r.size > 1 and r.rank == 0]
        if not worlds:
            return "no MPI world of more than one rank"
        victim = max(worlds, key=lambda r: r.world)
        return victim, lost_with(topo, {victim.id})

    def inject(self, cluster, victim, lost, started, res) -> None:
        kill_engine(cluster, victim, started, res, f"rank {victim.rank} of the world of {victim.size}")
