"""slow-network: delay and loss on the second node's interface to the controller.

``tc netem`` where the kernel has it; where it has not, tbf's rate limit (which delays big
messages, not small ones) and iptables' random drop. Both from a helper container in the node's
network namespace, with NET_ADMIN for it alone; the interface is found (``ip route get``), not
assumed. Task round trips and MPI ping-pong, of a small and a big message, are measured before
and after, and the check must still hold.
"""

from __future__ import annotations

from ..backends import NoNetem
from ..cluster import WORKLOADS
from ..errors import TestbedError
from ..node import last_json
from .base import Fault, register

NETEM = ("delay", "20ms", "loss", "1%")  # what slow-network adds to the node's outgoing traffic
# where the kernel has no netem: a slow link (8 Mbit/s) and random loss, from what it has
TBF = ("tbf", "rate", "8mbit", "burst", "16kb", "latency", "400ms")
LOSS = 0.01
BIG = 64 * 1024  # bytes of the big message: 64 ms a way at 8 Mbit/s


@register
class SlowNetwork(Fault):
    name = "slow-network"
    summary = "`tc netem` delay and loss on the second node (tbf and iptables where the kernel has no netem)"
    order = 60

    def pick(self, topo):
        from .. import placement

        nodes = list(topo.nodes)
        if len(nodes) < 2:
            return "one node: no network between nodes to slow down"
        on = [r for r in placement.derive(topo) if r.node == nodes[1]]
        if not on:
            return f"no engine on {nodes[1]}, the node whose network would be slowed"
        return on[0], set()

    def drill(self, cluster, row, lost, res) -> None:
        backend = cluster.backend
        before = latencies(cluster, row.id)
        dev = backend.interface(row.node, cluster.topology.controller)
        try:
            backend.net_admin(row.node, ["tc", "qdisc", "add", "dev", dev, "root", "netem", *NETEM])
            res.done = f"tc netem {' '.join(NETEM)} on {row.node}'s {dev} (from a helper with NET_ADMIN)"
            grows = "small"  # a delay slows every message
        except NoNetem:
            cluster.log(f"[faults] no netem in this kernel: {' '.join(TBF)} and {LOSS:.0%} loss by iptables")
            backend.net_admin(row.node, ["tc", "qdisc", "add", "dev", dev, "root", *TBF])
            drop = ["-m", "statistic", "--mode", "random", "--probability", str(LOSS), "-j", "DROP"]
            backend.net_admin(row.node, ["iptables", "-A", "OUTPUT", "-o", dev, *drop])
            res.done = (
                f"tc {' '.join(TBF)} and iptables' random drop of {LOSS:.0%} on {row.node}'s {dev} "
                "(the kernel has no netem; from a helper with NET_ADMIN)"
            )
            grows = "big"  # a rate limit slows big messages
        res.extra["interface"] = dev
        try:
            after = latencies(cluster, row.id)
        finally:  # undone: the node's network as it was (the cluster may be a running one, reused)
            backend.net_admin(row.node, ["tc", "qdisc", "del", "dev", dev, "root"])
            if grows == "big":
                backend.net_admin(row.node, ["iptables", "-D", "OUTPUT", "-o", dev, *drop])
        res.extra.update(before=before, after=after)
        res.expect("the check holds on the slow network: every engine as derived", cluster.check()[1].ok)
        b, a = before[grows], after[grows]
        res.expect(
            f"engine {row.id}'s task round trip ({b['bytes']} B) grew: "
            f"{b['task_rtt_ms']:.1f} -> {a['task_rtt_ms']:.1f} ms",
            a["task_rtt_ms"] > b["task_rtt_ms"],
        )
        res.expect(
            f"MPI ping-pong ({b['bytes']} B) {b['mpi_rtt_us']:.0f} -> {a['mpi_rtt_us']:.0f} us",
            a["mpi_rtt_us"] > b["mpi_rtt_us"],
        )
        res.tasks_lost = 0


def latencies(cluster, engine: int) -> dict:
    """Task and MPI round trips to ``engine``'s node, of a small and of a big message."""
    ctl = cluster.controller
    out: dict = {}
    for size, nbytes in (("small", 8), ("big", BIG)):
        argv = [
            "python3",
            str(WORKLOADS / "faults_node.py"),
            "rtt",
            "--engine",
            str(engine),
            "--bytes",
            str(nbytes),
            "--calls",
            "20",
        ]
        rtt = ctl.run_json(argv, "rtt")
        code, o, err = cluster.run_program("pingpong.py", 2, ("--trips", "20", "--bytes", str(nbytes)), across=True)
        if code:
            raise TestbedError(f"pingpong.py exit {code}: {err.strip()[-300:]}")
        pp = last_json(o, err, "pingpong.py")
        out[size] = {
            "bytes": nbytes,
            "task_rtt_ms": rtt["median_ms"],
            "mpi_rtt_us": pp["median_us"],
            "mpi_hosts": pp["hosts"],
        }
    return out
