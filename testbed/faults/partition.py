"""partition: the last engine node cut off the cluster network for PARTITION_S seconds, then back.

Its engines are dropped (the heartbeat), an MPI world with a rank there ends; whether they come
back is measured, not assumed.
"""

from __future__ import annotations

from .base import COME_BACK_S, last_engine_node, register, registered_within
from .workload import WorkloadFault

PARTITION_S = 10.0  # s a node is cut off: twice the time the controller takes to drop a silent engine


@register
class Partition(WorkloadFault):
    name = "partition"
    summary = f"the last engine node cut off the cluster network for {PARTITION_S:.0f} s, then connected again"
    order = 40

    def pick(self, topo):
        return last_engine_node(topo)

    def inject(self, cluster, victim, lost, started, res) -> None:
        how = cluster.backend.cut_off(str(victim), PARTITION_S)
        res.done = f"node {victim} cut off the cluster network for {PARTITION_S:.0f} s, then connected again ({how})"
        res.extra["partition_s"] = PARTITION_S

    def after(self, cluster, res) -> None:  # measured, not asserted: ipyparallel does not promise a return
        want = cluster.topology.engine_count
        back = registered_within(cluster, want, COME_BACK_S)
        res.extra["engines_after_reconnect"] = back
        res.extra["came_back"] = back == want
