"""death-detection (ipyparallel#491, #523): how long the controller takes to drop an engine killed
with ``kill -9`` (its nanny reports it) and one whose node is lost (only the heartbeat tells)."""

from __future__ import annotations

import time

from ..cluster import LOGS
from ..faults.workload import read_json
from .base import NODE_SCRIPT, Scenario, num, register

WATCH_S = 60.0
KILLED, LOST = 2, 3  # remote-engines: engine 2 on head (ipcluster's, with a nanny), engine 3 alone on laptop


def watch(cluster, engine: int, strike) -> float | None:
    """Seconds from ``strike(where)`` until the controller drops ``engine``, or None within WATCH_S."""
    marker, out = LOGS / f"scen-watch-{engine}.marker", LOGS / f"scen-watch-{engine}.json"
    ctl = cluster.controller
    ctl.exec(["rm", "-f", str(marker), str(out)])
    argv = ["timeout", "-k", "5", str(int(WATCH_S + 60)), "python3", str(NODE_SCRIPT), "watch"]
    argv += ["--engine", str(engine), "--marker", str(marker), "--out", str(out), "--timeout", str(WATCH_S)]
    ctl.start(argv, LOGS / f"scen-watch-{engine}.log")
    where = read_json(cluster, marker, 60, "the watcher's engines")["where"]
    t = time.time()
    strike(where[str(engine)])
    doc = read_json(cluster, out, WATCH_S + 30, f"engine {engine} dropped")
    return round(doc["gone_at"] - t, 2) if doc.get("gone_at") else None


@register
class DeathDetection(Scenario):
    name = "death-detection"
    issue = "ipyparallel#491"
    url = "https://github.com/ipython/ipyparallel/issues/491"
    title = "notify Hub of engine stop from launchers (the nanny, #514; engine death handling, #523)"
    measures = (
        "seconds until the controller drops an engine after `kill -9` (nanny) vs after its node is lost (heartbeat)"
    )
    topology = "remote-engines"
    fixed_in = "7.0.0"  # the KernelNanny (ipyparallel#514)
    bound_s = 300.0
    keys = ("kill_detect_s", "node_loss_detect_s")
    logs = r"unregister|heartbeat::|died|CRITICAL"
    example_reproduced = {"kill_detect_s": 5.2, "node_loss_detect_s": 5.4}
    example_fixed = {"kill_detect_s": 0.2, "node_loss_detect_s": 5.4}

    def trigger(self, cluster, m) -> None:
        topo = cluster.topology
        head = topo.controller

        def kill(w) -> None:
            cluster.exec(head, ["kill", "-9", str(int(w[1]))])

        m["kill_detect_s"] = watch(cluster, KILLED, kill)
        lost_node = next(s for s, n in topo.nodes.items() if s != head)
        m["node_loss_detect_s"] = watch(cluster, LOST, lambda w: cluster.backend.kill_node(lost_node))

    def observe(self, cluster, m) -> None:
        pass

    def verdict(self, m) -> str:
        kill, lost = num(m, "kill_detect_s"), num(m, "node_loss_detect_s")
        if lost is None:  # no heartbeat figure to compare with
            return "not-applicable"
        if kill is None:  # killed, never dropped within the bound
            return "reproduced"
        return "fixed" if kill < lost / 2 else "reproduced"
