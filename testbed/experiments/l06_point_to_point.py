"""L6: rank 1 Sends a[0] of its chunk (scatter 32) to rank 0 on the engines, blocking_send.py
on the engines, then the plain point-to-point programs under mpiexec."""

from __future__ import annotations

from .. import lecture
from ..expect import scatter_bounds
from ..outcome import Outcome, Row, fmt
from ..topology import Topology
from ._base import Context, Experiment, Params
from ._programs import collect_programs, judge_programs

PROGRAMS = ["blocking_send", "sendrecv"]


class PointToPoint(Experiment):
    id = "L6"
    title = "point-to-point: Send/Recv on the engines, blocking_send, object send/recv"
    topology = "single-world"

    def collect(self, ctx: Context) -> dict:
        n = ctx.cluster.topology.engine_count
        doc = ctx.cluster.node_json(["p2p", "--scatter", str(lecture.L6["scatter"]), "--engines", str(n)])
        return {"d": doc["d"], "bb": doc["bb"], "programs": collect_programs(ctx, PROGRAMS)}

    def judge(self, data: dict, p: Params, topo: Topology) -> Outcome:
        n = topo.engine_count
        # rank 1 sends a[0] of its chunk to rank 0; scatter 32 over 5: rank 1's chunk starts at 7
        start_1 = scatter_bounds(lecture.L6["scatter"], n)[1][0]
        want_d = [float(start_1)] + [0.0] * (n - 1)
        want_bb = [3, 3] + [0] * (n - 2)
        lec = lecture.L6
        rows = [
            Row(
                "d after mysendOneToZero (rank 1 Send, rank 0 Recv)",
                ",".join(f"[{x:g}.]" for x in lec["d"]),
                fmt(data["d"]),
                data["d"] == want_d,
            ),
            Row(
                "bb after blocking_send.py on the engines",
                ",".join(f"[{x}]" for x in lec["bb"]),
                fmt(data["bb"]),
                data["bb"] == want_bb,
            ),
        ]
        ok_p, prow, pgot, text = judge_programs(data["programs"], PROGRAMS)
        got = {"d": data["d"], "bb": data["bb"], "programs": pgot}
        figures = {"d": lec["d"], "bb": lec["bb"]}
        return Outcome(self.id, "", all(r.agree for r in rows) and ok_p, figures, got, rows + prow, detail=text)
