"""launchers: whole bring-up of one topology per way of starting engines, and its steps."""

from __future__ import annotations

from testbed import topology
from testbed.cluster import IfExists

from ..context import Context, log, row, stats
from . import Section, register

TOPOLOGIES = ("plain", "true-world", "ssh-engines", "slurm", "slurm-split-world")


@register
class Launchers(Section):
    name = "launchers"
    measures = "bring-up by launch kind: ipcluster, mpiexec over ssh, ipyparallel's SSH and Slurm launchers"
    order = 20

    def run(self, ctx: Context) -> dict:
        """Whole bring-up (nodes, ssh, Slurm, controller, every group registered) of one topology per way
        of starting engines, and its steps; the topologies' own sizes (5 engines, 4 for ssh-engines)."""
        out = {}
        for name in TOPOLOGIES:
            totals, steps = [], []
            for i in range(ctx.runs + 1):  # the first is the warm-up
                c = ctx.cluster(name, None, f"bench-{name}")
                try:
                    c.up(if_exists=IfExists.REPLACE)
                    step = {k: round(v, 2) for k, v in c.timings.items()}
                finally:
                    c.down(quiet=True)
                log(f"bring-up {name} run {i}{' (warm-up)' if i == 0 else ''}: {step['up']:.2f}s {step}")
                if i:
                    totals.append(step["up"])
                    steps.append(step)
            out[name] = {"engines": topology.load(name).engine_count, "up_s": stats(totals), "steps": steps}
        return out

    def rows(self, value: dict) -> list[str]:
        return [
            row(f"bring-up by launch kind: {name} ({v['engines']} engines)", v["up_s"], " s")
            for name, v in value.items()
        ]
