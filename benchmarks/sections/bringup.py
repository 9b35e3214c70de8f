"""bringup: a cluster of 1, 5 and 10 plain engines, host ipcluster against containers."""

from __future__ import annotations

from testbed.cluster import IfExists

from ..context import Context, log, ratios, row, stats
from ..host import HostCluster
from . import Section, register

SIZES = (1, 5, 10)


@register
class BringUp(Section):
    name = "bringup"
    measures = "bring-up of 1, 5, 10 engines: host ipcluster (the image's profile and ipyparallel's) vs containers"
    order = 10

    def run(self, ctx: Context) -> dict:
        out = {}
        for n in SIZES:
            host_t, default_t, ctr_t, steps = [], [], [], []
            for i in range(ctx.runs + 1):  # the first is the warm-up
                h = HostCluster(n)
                try:
                    th = h.up()
                finally:
                    h.down()
                h = HostCluster(n, testbed_config=False)  # ipyparallel's defaults (3 s heartbeat)
                try:
                    td = h.up()
                finally:
                    h.down()
                c = ctx.cluster("plain", (n,), f"bench-plain-{n}")
                try:
                    c.up(if_exists=IfExists.REPLACE)
                    tc = c.timings["up"]
                    step = {k: round(v, 2) for k, v in c.timings.items()}
                finally:
                    c.down(quiet=True)
                log(
                    f"bring-up n={n} run {i}{' (warm-up)' if i == 0 else ''}: host {th:.2f}s "
                    f"(ipyparallel defaults {td:.2f}s), containers {tc:.2f}s {step}"
                )
                if i:
                    host_t.append(th)
                    default_t.append(td)
                    ctr_t.append(tc)
                    steps.append(step)
            out[f"n{n}"] = {
                "host_s": stats(host_t),
                "containers_s": stats(ctr_t),
                "ratio": ratios(ctr_t, host_t),
                "host_defaults_s": stats(default_t),
                "ratio_vs_host_defaults": ratios(ctr_t, default_t),
                "container_steps": steps,
            }
        return out

    def headline(self, value: dict) -> dict:
        return {f"bringup_ratio_n{n}": value[f"n{n}"]["ratio"]["median"] for n in SIZES}

    def rows(self, value: dict) -> list[str]:
        lines = []
        for n in SIZES:
            b = value[f"n{n}"]
            lines.append(row(f"bring-up, {n} engine(s): host ipcluster, the image's profile", b["host_s"], " s"))
            lines.append(
                row(f"bring-up, {n} engine(s): host ipcluster, ipyparallel's defaults", b["host_defaults_s"], " s")
            )
            lines.append(row(f"bring-up, {n} engine(s): containers (plain)", b["containers_s"], " s"))
            lines.append(row(f"bring-up ratio, {n} engine(s) (goal <= 1.1)", b["ratio"]))
        return lines
