"""tasks: round-trip throughput of no-op tasks, host ipcluster against containers."""

from __future__ import annotations

from testbed.cluster import IfExists
from testbed.node import last_json

from ..context import WORKLOADS, Context, log, ratios, row, run_argv, stats
from ..host import HostCluster
from . import Section, register

TASKS = 2000
ENGINES = 5
VIEWS = (("lb", "load-balanced"), ("direct", "direct"))


@register
class Tasks(Section):
    name = "tasks"
    measures = f"throughput of {TASKS} no-op tasks on {ENGINES} engines, load-balanced and direct: host vs containers"
    order = 40

    def run(self, ctx: Context) -> dict:
        """Both clusters up at once; rounds alternate host, containers, host, ... so drift hits both."""
        args = ["--tasks", str(TASKS), "--engines", str(ENGINES), "--runs", "1"]
        h = HostCluster(ENGINES)
        c = ctx.cluster("plain", (ENGINES,), "bench-tasks")
        host: dict = {"lb": [], "direct": []}
        ctr: dict = {"lb": [], "direct": []}
        try:
            h.up()
            c.up(if_exists=IfExists.REPLACE)
            for i in range(ctx.runs + 1):  # the first pair is the warm-up
                r = run_argv([str(h.py), str(WORKLOADS / "bench_tasks.py"), *args, "--profile-dir", str(h.profile)])
                one_h = last_json(r.stdout, r.stderr, "host bench_tasks.py")
                one_c = c.client_json("bench_tasks.py", *args)
                log(
                    f"tasks run {i}{' (warm-up)' if i == 0 else ''}: lb host {one_h['lb'][0]:.0f}/s, containers "
                    f"{one_c['lb'][0]:.0f}/s; direct host {one_h['direct'][0]:.0f}/s, containers "
                    f"{one_c['direct'][0]:.0f}/s"
                )
                if i:
                    for view in ("lb", "direct"):
                        host[view] += one_h[view]
                        ctr[view] += one_c[view]
        finally:
            h.down()
            c.down(quiet=True)
        out: dict = {"tasks": TASKS, "engines": ENGINES}
        for view in ("lb", "direct"):
            out[view] = {
                "host_tasks_per_s": stats(host[view]),
                "containers_tasks_per_s": stats(ctr[view]),
                "ratio": ratios(ctr[view], host[view]),
            }
        return out

    def headline(self, value: dict) -> dict:
        return {
            "lb_throughput_ratio": value["lb"]["ratio"]["median"],
            "direct_throughput_ratio": value["direct"]["ratio"]["median"],
        }

    def rows(self, value: dict) -> list[str]:
        lines = []
        n = value["tasks"]
        for v, name in VIEWS:
            lines.append(row(f"{n} no-op tasks, {name}: host", value[v]["host_tasks_per_s"], "/s", "{:.0f}"))
            lines.append(
                row(f"{n} no-op tasks, {name}: containers", value[v]["containers_tasks_per_s"], "/s", "{:.0f}")
            )
            lines.append(row(f"task throughput ratio, {name} (goal >= 0.95)", value[v]["ratio"]))
        return lines
