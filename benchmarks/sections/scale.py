"""scale: one MPI world of N engines over K engine nodes: bring-up, check, memory, teardown.

Not in the default run (about 40 minutes): ``make bench BENCH=scale``.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from testbed import topology
from testbed.cluster import Cluster, IfExists
from testbed.errors import TestbedError

from ..context import Context, log
from ..host import HostCluster, host_mpi
from . import Section, register

ENGINES = (1, 8, 32, 64, 128)
NODES = (1, 4, 8)
MAX_NODES = 8
MAX_POINTS = 16  # values in --scale-engines or --scale-nodes
PLOT = "scale.png"


def counts(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    """``8,32`` -> (8, 32); None -> ``default``. ValueError for anything else."""
    return tuple(int(x) for x in text.split(",")) if text else default


def scale_topology(folder: Path, engines: int, nodes: int) -> topology.Topology:
    """One mpiexec world of ``engines`` ranks over ``nodes`` engine nodes (round-robin), the
    controller on a head node of its own."""
    hosts = [f"node{i}" for i in range(1, nodes + 1)]
    x = (
        f"  summary: {engines} MPI engines over {nodes} node(s), one world (scale benchmark)\n"
        "  controller: head\n  scatter: 32\n  groups:\n"
        f"    - {{name: world, node: head, launch: mpiexec, engines: {engines}, hosts: [{', '.join(hosts)}]}}\n"
    )
    return topology.write(folder, f"scale-{engines}x{nodes}", x, ["head", *hosts])


def engine_memory(cluster: Cluster) -> dict:
    """RSS of the engine processes (ps, on every node; an engine and its nanny) per engine, and each
    engine node's memory (cgroup, less its inactive file cache)."""
    rss_kb, count, nodes_mb = 0, 0, {}
    for svc in cluster.topology.nodes:
        node = cluster.node(svc)
        res = node.exec(["ps", "-eo", "rss=,args="])
        for line in res.out.splitlines():
            rss, _, args = line.strip().partition(" ")
            if "ipyparallel.engine" in args or "ipengine" in args.split(" ", 1)[-1][:200]:
                if "mpiexec" in args or args.startswith(("sh ", "/bin/sh ")):
                    continue
                rss_kb += int(rss)
                count += 1
        if svc != cluster.topology.controller:
            st = node.container.stats(stream=False)
            mem = st.get("memory_stats", {})
            used = mem.get("usage", 0) - mem.get("stats", {}).get("inactive_file", 0)
            nodes_mb[svc] = round(used / 2**20, 1)
    engines = cluster.topology.engine_count  # each engine is two processes: the kernel and its nanny
    return {
        "engine_processes": count,
        "mem_mb_per_engine": round(rss_kb / 1024 / max(engines, 1), 1),
        "mem_mb_per_node": nodes_mb,
    }


def scale_point(ctx: Context, folder: Path, engines: int, nodes: int) -> dict:
    """Bring up, check (psum and ranks of every engine, derived), measure memory, tear down."""
    topo = scale_topology(folder, engines, nodes)
    name = f"bench-scale-{engines}x{nodes}"
    cluster = Cluster(
        topo, name=name, log=lambda m: None, stack=ctx.stack, register_timeout=Cluster.register_timeout_for(engines)
    )
    point: dict = {"engines": engines, "nodes": nodes, "ok": False}
    try:
        cluster.up(if_exists=IfExists.REPLACE)
        point["bringup_s"] = round(cluster.timings["up"], 2)
        point["steps_s"] = {k: round(v, 2) for k, v in cluster.timings.items() if k != "up"}
        point.update(engine_memory(cluster))
        report, result = cluster.check()
        point["ok"] = result.ok
        point["checked"] = len(report["engines"])
    except TestbedError as e:
        point["error"] = str(e).splitlines()[0][:300]
    finally:
        t0 = time.monotonic()
        cluster.down(quiet=True)
        point["teardown_s"] = round(time.monotonic() - t0, 2)
    return point


def host_scale_point(engines: int, mpi: bool) -> dict:
    """The host's bring-up and teardown of ``engines``: plain engines, or (``mpi``) one world."""
    key = "host_mpi" if mpi else "host"
    h = HostCluster(engines, timeout=Cluster.register_timeout_for(engines), mpi=mpi)
    out: dict = {}
    try:
        out[f"{key}_bringup_s"] = round(h.up(), 2)
    except (TestbedError, subprocess.CalledProcessError) as e:
        out[f"{key}_bringup_s"] = None
        out[f"{key}_error"] = str(e).splitlines()[0][:200]
    finally:
        out[f"{key}_teardown_s"] = round(h.down(), 2)
    return out


def scale_plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for nodes in sorted({p["nodes"] for p in points}):  # every series in the points, not only this run's
        pts = [p for p in points if p["nodes"] == nodes and p.get("bringup_s")]
        if pts:
            ax1.plot(
                [p["engines"] for p in pts], [p["bringup_s"] for p in pts], "o-", label=f"containers, {nodes} node(s)"
            )
            ax2.plot(
                [p["engines"] for p in pts], [p.get("mem_mb_per_engine") for p in pts], "o-", label=f"{nodes} node(s)"
            )
    for key, style, label in (
        ("host_bringup_s", "k--", "host ipcluster -n N"),
        ("host_mpi_bringup_s", "k:", "host ipcluster --engines=MPI"),
    ):
        host = {p["engines"]: p[key] for p in points if p.get(key)}  # one per N: the points' last
        if host:
            ax1.plot(sorted(host), [host[e] for e in sorted(host)], style, label=label)
    ax1.set(xlabel="engines", ylabel="bring-up (s)", title="bring-up until every engine registered")
    ax2.set(xlabel="engines", ylabel="RSS per engine (MB)", title="memory per engine")
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@register
class Scale(Section):
    name = "scale"
    measures = "one MPI world of N engines over K nodes: bring-up, check, memory per engine, teardown"
    order = 90
    default = False  # about 40 minutes: `make bench BENCH=scale`

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--scale-engines", help=f"scale: engine counts (default {','.join(map(str, ENGINES))})")
        parser.add_argument(
            "--scale-nodes",
            help=f"scale: engine node counts (default {','.join(map(str, NODES))}); "
            "the points measured replace those in latest.json, the others stay",
        )

    def check_options(self, options: argparse.Namespace) -> str | None:
        try:
            engines = counts(options.scale_engines, ENGINES)
            nodes = counts(options.scale_nodes, NODES)
        except ValueError:
            return "--scale-engines and --scale-nodes take comma-separated numbers"
        top = topology.MAX_ENGINES_PER_GROUP
        if not all(1 <= n <= top for n in engines) or not all(1 <= k <= MAX_NODES for k in nodes):
            return f"engines 1-{top}, nodes 1-{MAX_NODES} (what was checked)"
        if len(engines) > MAX_POINTS or len(nodes) > MAX_POINTS:
            return f"--scale-engines and --scale-nodes: at most {MAX_POINTS} values each"
        return None

    def run(self, ctx: Context) -> list[dict]:
        """One run a point (a 128-engine point takes minutes). Beside each N, once: the host's
        ``ipcluster start -n N`` (plain engines) and, like for like, ``--engines=MPI`` (one world)."""
        points, host = [], {}
        mpi = host_mpi()
        with tempfile.TemporaryDirectory(prefix="ipp-bench-scale-") as tmp:
            for engines in counts(ctx.options.scale_engines, ENGINES):
                host[engines] = host_scale_point(engines, mpi=False)
                if mpi:
                    host[engines].update(host_scale_point(engines, mpi=True))
                log(f"scale: host ipcluster -n {engines}: {host[engines]}")
                for nodes in counts(ctx.options.scale_nodes, NODES):
                    if nodes > engines:
                        continue
                    folder = Path(tmp) / f"{engines}x{nodes}"
                    folder.mkdir()
                    point = {**scale_point(ctx, folder, engines, nodes), **host[engines]}
                    log(f"scale: {engines} engines over {nodes} node(s): {point}")
                    points.append(point)
        return points

    def notes(self, value: list[dict]) -> list[str]:
        lines = [
            "",
            "Scale: one MPI world of N engines over K engine nodes, one run a point (plot: scale.png):",
            "",
            "| engines | nodes | bring-up s | host ipcluster -n N s | host --engines=MPI s | "
            "containers / host MPI | teardown s | host teardown s | RSS per engine MB | node memory MB | "
            "checked |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for p in value:
            ratio = (
                f"{p['bringup_s'] / p['host_mpi_bringup_s']:.2f}"
                if p.get("bringup_s") and p.get("host_mpi_bringup_s")
                else "-"
            )
            node_mem = ", ".join(f"{v:.0f}" for v in p.get("mem_mb_per_node", {}).values()) or "-"
            verdict = f"{p.get('checked', 0)}/{p['engines']} ok" if p["ok"] else f"FAILED {p.get('error', '')[:80]}"
            lines.append(
                f"| {p['engines']} | {p['nodes']} | {p.get('bringup_s', '-')} | {p.get('host_bringup_s', '-')}"
                f" | {p.get('host_mpi_bringup_s', '-')}"
                f" | {ratio} | {p.get('teardown_s', '-')} | {p.get('host_teardown_s', '-')}"
                f" | {p.get('mem_mb_per_engine', '-')} | {node_mem} | {verdict} |"
            )
        return lines

    def merge(self, old, new: list[dict], *, sources: dict, old_sources: dict, stamp: str, results: Path) -> list:
        """A run of some points replaces those points only, and says which run each point comes from;
        the plot is drawn from every point."""
        merged = new
        if old:
            measured = {(q["engines"], q["nodes"]) for q in new}
            kept = [q for q in old if (q["engines"], q["nodes"]) not in measured]
            merged = sorted(kept + new, key=lambda q: (q["engines"], q["nodes"]))
            if kept:
                points = ", ".join(f"{e}x{k}" for e, k in sorted(measured))
                sources[self.name] = f"{old_sources.get(self.name, '?')}; {stamp}.json for {points}"
        scale_plot(merged, results / PLOT)
        return merged

    def latest_keys(self, value: list[dict]) -> dict:
        return {"scale": value}  # the list of points, also at the top
