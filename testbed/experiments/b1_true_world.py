"""B1 (beyond the lecture): one MPI world over two hosts, then the lecture's plain programs
with their ranks spread over the nodes."""

from __future__ import annotations

from ..outcome import Outcome, Row
from ..topology import Topology
from ._base import Context, Params
from ._engines import EngineCheck, collect_engines
from ._programs import collect_programs, judge_programs

PROGRAMS = ["hello", "collectives", "mpi_io"]


class TrueWorld(EngineCheck):
    id = "B1"
    title = "beyond: one MPI world over two hosts (true-world)"
    topology = "true-world"
    beyond = True
    about = (
        "The lecture could not bring up an MPI world spanning machines. Here ONE mpiexec on the head node "
        "places 5 `ipengine --mpi` ranks on node1 and node2 over SSH (keys made at bring-up): the engines on "
        "different hosts share one MPI_COMM_WORLD, so psum is 496 everywhere, as in L5. The lecture's plain "
        "programs then run with their ranks spread over the three nodes; MPI-IO's single file lives in a volume "
        "mounted at /shared on every node, as a cluster's shared filesystem would."
    )

    def collect(self, ctx: Context) -> dict:
        """true-world's engines, then the lecture's plain programs over its nodes (MPI-IO into /shared)."""
        return {**collect_engines(ctx), "programs": collect_programs(ctx, PROGRAMS)}

    def extra_rows(self, data: dict, got: dict, topo: Topology) -> list[Row]:
        return [
            Row(
                "one MPI world over several hosts (distinct hostnames)",
                "not possible on the lecture's machine",
                str(got["hostnames"]),
                got["hostnames"] >= 2 and len(set(got["world_rank"])) == len(got["ids"]),
            )
        ]

    def judge(self, data: dict, p: Params, topo: Topology) -> Outcome:
        out = super().judge(data, p, topo)
        ok, rows, got, text = judge_programs(data["programs"], PROGRAMS)
        hosts = ", ".join(topo.nodes)
        for r in rows:
            r.what += f" -- ranks over {hosts}"
        out.rows += rows
        out.testbed["programs"] = got
        out.ok = out.ok and ok
        out.detail += "\n\n" + text
        return out
