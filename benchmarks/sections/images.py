"""images: the node image's size, warm rebuilds, a workload change, and (--cold-runs) a build from nothing."""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from testbed import docker_env, images, stacks
from testbed.errors import TestbedError

from ..context import BENCH_TAG, ROOT, Context, log, row, run_argv, stats
from . import Section, register

MAX_COLD_RUNS = 20
SCRATCH_TAGS = ("node:warm", "node:workload", "node:cold", "base:cold")
COLD_SOURCE = "images cold build"  # latest.json's source of the cold build, when an earlier run made it


def _context_copy() -> Path:
    """The build context (what .dockerignore lets in) in a scratch folder, to change without touching ours."""
    tmp = Path(tempfile.mkdtemp(prefix="ipp-bench-ctx-"))
    for name in ("docker", "workloads"):
        shutil.copytree(ROOT / name, tmp / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".dockerignore", tmp / ".dockerignore")
    return tmp


def _remove(c, tags) -> None:
    for tag in tags:
        try:
            c.images.remove(f"{BENCH_TAG}/{tag}", force=True)
        except Exception:  # noqa: BLE001 - not there
            pass


def _cold_build(c, ctx_dir: Path) -> dict:
    """From nothing: debootstrap the base, download the wheels, build with no cache."""
    log("images: cold build (debootstrap base, wheel download, node image with no cache): a few minutes")
    t0 = time.monotonic()
    r = run_argv(["bash", str(ROOT / "docker" / "make-base.sh"), f"{BENCH_TAG}/base:cold"])
    if r.returncode:
        raise TestbedError(f"make-base.sh failed: {r.stderr.strip()[-400:]}")
    base_s = time.monotonic() - t0
    wheels = ctx_dir / "docker" / "wheelhouse"
    shutil.rmtree(wheels, ignore_errors=True)
    t1 = time.monotonic()
    images.ensure_wheelhouse(log=lambda m: None, wheelhouse=wheels)
    wheels_s = time.monotonic() - t1
    args = {**images.build_args(stacks.DEFAULT), "BASE_IMAGE": f"{BENCH_TAG}/base:cold"}
    r2 = images.docker_build(c, f"{BENCH_TAG}/node:cold", root=ctx_dir, args=args, nocache=True, log=lambda m: None)
    total = time.monotonic() - t0
    log(f"images: cold {total:.0f}s (base {base_s:.0f}s, wheels {wheels_s:.0f}s, node {r2['seconds']:.0f}s)")
    _remove(c, ("node:cold", "base:cold"))  # the next cold run starts from nothing again
    return {"total_s": total, "base_s": base_s, "wheels_s": wheels_s, "node_s": r2["seconds"]}


@register
class Images(Section):
    name = "images"
    measures = "node image size, warm `make images`, a cached build, a one-workload change, a cold build"
    order = 60

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--cold-runs",
            type=int,
            default=1,
            help="cold image builds from nothing (about 2.5 minutes each; 0 skips; default 1)",
        )

    def check_options(self, options: argparse.Namespace) -> str | None:
        if not 0 <= options.cold_runs <= MAX_COLD_RUNS:
            return f"--cold-runs 0-{MAX_COLD_RUNS}"
        return None

    def run(self, ctx: Context) -> dict:
        runs, cold_runs = ctx.runs, ctx.options.cold_runs
        c = docker_env.client()
        images.build(log=lambda m: None)  # current, so "warm" means warm
        out: dict = {"image_size_mb": c.images.get(stacks.DEFAULT.image).attrs["Size"] / 1e6}
        warm = []
        for _ in range(runs + 1):
            t0 = time.monotonic()
            images.build(log=lambda m: None)
            warm.append(time.monotonic() - t0)
        out["warm_rebuild_s"] = stats(warm[1:])
        ctx_dir = _context_copy()
        try:
            cached, workload, reinstalled = [], [], []
            for i in range(runs + 1):
                r = images.docker_build(c, f"{BENCH_TAG}/node:warm", root=ctx_dir, log=lambda m: None)
                cached.append(r["seconds"])
                with open(ctx_dir / "workloads" / "hello_mpi.py", "a") as f:
                    f.write(f"# benchmark change {i} {time.time()}\n")
                r = images.docker_build(c, f"{BENCH_TAG}/node:workload", root=ctx_dir, log=lambda m: None)
                workload.append(r["seconds"])
                rebuilt = [s["step"] for s in r["steps"] if not s["cached"] and " RUN " in f" {s['step']} "]
                reinstalled.append(rebuilt)
            out["cached_build_s"] = stats(cached[1:])
            out["workload_change_rebuild_s"] = stats(workload[1:])
            out["workload_change_reran_steps"] = sorted({s for r in reinstalled for s in r})
            out["workload_change_reinstalls_packages"] = any(
                "apt-get" in s or "pip" in s for r in reinstalled for s in r
            )
            log(
                f"images: warm {statistics.median(warm[1:]):.2f}s, cached build "
                f"{statistics.median(cached[1:]):.1f}s, workload change {statistics.median(workload[1:]):.1f}s "
                f"(reran RUN steps: {out['workload_change_reran_steps'] or 'none'})"
            )
            if cold_runs:
                colds = [_cold_build(c, ctx_dir) for _ in range(cold_runs)]
                keys = ("total_s", "base_s", "wheels_s", "node_s")
                out["cold"] = {k: statistics.median(x[k] for x in colds) for k in keys}
                out["cold"].update(runs=cold_runs, all=colds)
        finally:
            shutil.rmtree(ctx_dir, ignore_errors=True)
            _remove(c, SCRATCH_TAGS)
        return out

    def headline(self, value: dict) -> dict:
        h = {
            "image_size_mb": value["image_size_mb"],
            "warm_rebuild_s": value["warm_rebuild_s"]["median"],
            "workload_change_rebuild_s": value["workload_change_rebuild_s"]["median"],
        }
        if "cold" in value:
            h["cold_build_s"] = value["cold"]["total_s"]
        return h

    def rows(self, value: dict) -> list[str]:
        i = value
        lines = [
            f"| node image size | {i['image_size_mb']:.0f} MB | | | |",
            row("warm `make images`, nothing changed", i["warm_rebuild_s"], " s"),
            row("docker build, all cached", i["cached_build_s"], " s"),
            row("rebuild after changing one workload file", i["workload_change_rebuild_s"], " s"),
            f"| workload change reinstalls packages | {i['workload_change_reinstalls_packages']} | | | |",
        ]
        if "cold" in i:
            c = i["cold"]
            totals = [x["total_s"] for x in c.get("all", [])] or [c["total_s"]]
            lines.append(
                f"| cold build from nothing (medians: base {c['base_s']:.0f} s, wheels {c['wheels_s']:.0f} s, "
                f"node {c['node_s']:.0f} s) | {c['total_s']:.0f} s | {min(totals):.0f} s | "
                f"{max(totals):.0f} s | {c.get('runs', 1)} |"
            )
        return lines

    def merge(self, old, new: dict, *, sources: dict, old_sources: dict, stamp: str, results: Path) -> dict:
        """This run's cold build is the one to cite; a --cold-runs 0 run keeps the earlier one, and its source."""
        if "cold" in new:
            sources.pop(COLD_SOURCE, None)
        elif old and "cold" in old:
            new = {**new, "cold": old["cold"]}
            sources[COLD_SOURCE] = old_sources.get(COLD_SOURCE, old_sources.get(self.name))
        return new
