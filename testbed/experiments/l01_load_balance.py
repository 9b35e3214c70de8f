"""L1: 27 tasks (5 heavy, 22 light) through a load-balanced and a direct view.

The expectation is the schedule derived from the workload's parameters (``lb_schedule``);
the lecture's speedups are held within the reference's tolerances.
"""

from __future__ import annotations

from pathlib import Path

from .. import lecture, plots
from ..expect import scatter_bounds
from ..outcome import Outcome, Row, all_agree, fmt
from ..topology import Topology
from ._base import Context, Experiment, Params, bounds, within

LB_ABOVE_SCHEDULE = 1.02  # the load-balanced speedup may pass the schedule's by 2% (timer granularity)
SHORT_LB_LOWER = 0.6  # shortened sleeps: per-task overhead weighs more; at least 60% of the schedule's


def lb_schedule(n_engines: int, unit_s: float) -> dict:
    """What the lecture's load-balance workload must give, from its parameters alone.

    27 tasks for 5 engines (5 per engine + 2), the first total // n heavy (50 units),
    the rest light (10 units). Direct view: map splits the list into consecutive
    chunks (scatter's split), so engine 0 gets every heavy task. Load-balanced
    view: each task goes to the first idle engine, in order.
    """
    total = n_engines * 5 + 2
    heavy = total // n_engines
    cost = [(50 if i < heavy else 10) * unit_s for i in range(total)]
    serial = sum(cost)
    split = [b - a for a, b in scatter_bounds(total, n_engines)]
    engine_work = [sum(cost[a:b]) for a, b in scatter_bounds(total, n_engines)]
    free = [0.0] * n_engines
    for c in cost:
        i = free.index(min(free))
        free[i] += c
    return {
        "tasks": total,
        "heavy": heavy,
        "serial_s": serial,
        "direct_split": split,
        "direct_engine_s": engine_work,
        "speedup_direct": serial / max(engine_work),
        "speedup_lb_ideal": serial / max(free),
    }


class LoadBalance(Experiment):
    id = "L1"
    title = "load balance: load-balanced vs direct view"
    topology = "plain"
    reference = {
        # sleeps, so scheduling jitter only; at most the schedule's ideal (the judge's upper bound)
        "speedup_lb": (lecture.L1["speedup_lb"], -0.10, None, "x"),
        # set by the split: held around the schedule's value, which the lecture's figure rounds
        "speedup_direct": (lecture.L1["speedup_direct"], -0.05, 0.05, "x"),
    }

    def collect(self, ctx: Context) -> dict:
        """load_balance.py's JSON (both views, every task's engine, start and end), and how it was run."""
        p = ctx.params
        n = ctx.cluster.topology.engine_count
        ctx.log(f"[L1] {n * 5 + 2} tasks, load-balanced then direct view")
        doc = ctx.cluster.client_json("load_balance.py", "--scale", str(p.lb_scale_ms), "--engines", str(n))
        return {"scale_ms": p.lb_scale_ms, "engines": n, "views": doc["views"]}

    def judge(self, data: dict, p: Params, topo: Topology) -> Outcome:
        n = topo.engine_count
        want = lb_schedule(n, p.lb_scale_ms / 1000)
        lb, direct = data["views"]["lb"], data["views"]["direct"]
        engine_ids = sorted({t["engine"] for t in direct["tasks"]})
        split = [sum(1 for t in direct["tasks"] if t["engine"] == e) for e in engine_ids]
        heavy_engines = sorted({t["engine"] for t in direct["tasks"] if t["task"] < want["heavy"]})
        got = {
            "speedup_lb": lb["speedup"],
            "speedup_direct": direct["speedup"],
            "serial_time_lb": lb["serial_time"],
            "wall_time_lb": lb["wall_time"],
            "serial_time_direct": direct["serial_time"],
            "wall_time_direct": direct["wall_time"],
            "direct_split": split,
            "heavy_tasks_on_engines": heavy_engines,
            "tasks": {"lb": lb["tasks"], "direct": direct["tasks"]},
            "scale_ms": p.lb_scale_ms,
        }
        lec = lecture.L1
        ref_lb, ref_direct = self.reference["speedup_lb"], self.reference["speedup_direct"]
        rows = []
        split_ok = split == want["direct_split"]
        rows.append(Row("direct view split (tasks per engine)", fmt(lec["direct_split"]), fmt(split), split_ok))
        heavy_ok = len(heavy_engines) == 1
        rows.append(Row("engines running the heavy tasks (direct)", "engine 0 only", fmt(heavy_engines), heavy_ok))
        # every task ran, once, in each view
        for view, v in (("load-balanced", lb), ("direct", direct)):
            ran = sorted(t["task"] for t in v["tasks"])
            rows.append(
                Row(f"tasks run, {view} view", str(want["tasks"]), str(len(ran)), ran == list(range(want["tasks"])))
            )
        d_want = want["speedup_direct"]
        rows.append(
            Row(
                f"speedup, direct view (from the split: {want['serial_s']:.3g} s / "
                f"{max(want['direct_engine_s']):.3g} s = {d_want:.3f}, ±{ref_direct[2]:.0%})",
                f"{lec['speedup_direct']}",
                f"{direct['speedup']:.3f}",
                within(direct["speedup"], ref_direct, center=d_want),
            )
        )
        lb_ideal = want["speedup_lb_ideal"]
        if p.lecture_lb:
            lb_ok = bounds(ref_lb)[0] <= lb["speedup"] <= lb_ideal * LB_ABOVE_SCHEDULE
            what = f"speedup, load-balanced (lecture ±{-ref_lb[1]:.0%}, at most the schedule's {lb_ideal:.2f})"
        else:  # shortened sleeps: per-task overhead weighs more; hold to the schedule, looser
            lb_ok = SHORT_LB_LOWER * lb_ideal <= lb["speedup"] <= lb_ideal * LB_ABOVE_SCHEDULE
            what = f"speedup, load-balanced (shortened sleeps: 60%..100% of the schedule's {lb_ideal:.2f})"
        rows.append(Row(what, f"{lec['speedup_lb']}", f"{lb['speedup']:.3f}", lb_ok))
        rows.append(Row("ideal speedup (engines)", str(lec["ideal"]), str(n), None))
        notes = [
            "Sleeps, not computation: the speedup does not depend on the machine's cores.",
            f"serial_time / wall_time: load-balanced {lb['serial_time']:.2f} s / {lb['wall_time']:.2f} s, "
            f"direct {direct['serial_time']:.2f} s / {direct['wall_time']:.2f} s.",
        ]
        if not p.lecture_lb:
            notes.append(f"Shortened sleeps ({p.lb_scale_ms} ms a unit, the lecture's is 20).")
        return Outcome(self.id, "", all_agree(rows), lec, got, rows, notes=notes)

    def plot(self, data: dict, out: Path) -> list[str]:
        heavy = lb_schedule(data["engines"], data["scale_ms"] / 1000)["heavy"]
        tasks = {"lb": data["views"]["lb"]["tasks"], "direct": data["views"]["direct"]["tasks"]}
        return [plots.plot_gantt(out, "L1_load_balance.png", tasks, heavy)]
