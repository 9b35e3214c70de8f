"""node-lost: the last node (not the controller's) that holds engines dies at once (``docker kill``)."""

from __future__ import annotations

from .base import last_engine_node, register
from .workload import WorkloadFault


@register
class NodeLost(WorkloadFault):
    name = "node-lost"
    summary = "`docker kill` of the last node (not the controller's) that holds engines"
    order = 30

    def pick(self, topo):
        return last_engine_node(topo)

    def inject(self, cluster, victim, lost, started, res) -> None:
        res.done = f"docker kill of node {victim} (engines {sorted(lost)} on it or in a world with a rank on it)"
        cluster.backend.kill_node(str(victim))
