"""mpi: Allreduce latency and bandwidth in one container, over two, and on the host."""

from __future__ import annotations

import os

from testbed.cluster import IfExists
from testbed.errors import TestbedError
from testbed.node import last_json

from ..context import WORKLOADS, Context, log, row, run_argv, stats
from ..host import HOST_PYTHON, HOST_ROOT_ENV, host_mpi
from . import Section, register

# the host's runs: Open MPI's transports, as mpiexec options
HOST_RUNS = (
    (
        "host_tcp_loopback",
        ("--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"),
    ),
    ("host_shm", ("--mca", "btl", "self,vader")),
)


def _allreduce_summary(doc: dict) -> dict:
    s = doc["sizes"]
    return {
        "hosts": doc["hosts"],
        "latency_8B_us": stats([x * 1e6 for x in s["8B"]["seconds"]]),
        "bandwidth_1MiB_MBps": stats([x / 1e6 for x in s["1MiB"]["bytes_per_s"]]),
        "bandwidth_64MiB_MBps": stats([x / 1e6 for x in s["64MiB"]["bytes_per_s"]]),
    }


@register
class Mpi(Section):
    name = "mpi"
    measures = "MPI Allreduce latency and bandwidth: one container (shm), two containers (tcp), the host"
    order = 50

    def run(self, ctx: Context) -> dict:
        out: dict = {}
        c = ctx.cluster("remote-engines", None, "bench-mpi")  # two nodes: head and laptop
        try:
            c.up(engines=False, if_exists=IfExists.REPLACE)
            for key, across in (("one_container_shm", False), ("two_containers_tcp", True)):
                code, o, e = c.run_program("bench_allreduce.py", 2, ("--runs", str(ctx.runs)), across=across)
                if code:
                    raise TestbedError(f"bench_allreduce.py ({key}) exit {code}: {e.strip()[-400:]}")
                out[key] = _allreduce_summary(last_json(o, e, key))
        finally:
            c.down(quiet=True)
        if host_mpi():
            env = {**os.environ, **HOST_ROOT_ENV}
            local = str(WORKLOADS / "bench_allreduce.py")
            for key, mca in HOST_RUNS:
                r = run_argv(["mpiexec", "-n", "2", *mca, HOST_PYTHON, local, "--runs", str(ctx.runs)], env=env)
                if r.returncode:
                    log(f"host {key} failed: {r.stderr.strip()[-300:]}")
                    continue
                out[key] = _allreduce_summary(last_json(r.stdout, r.stderr, key))
        host = out.get("host_tcp_loopback")
        if host:
            for key in ("one_container_shm", "two_containers_tcp"):
                out[f"ratio_{key}_vs_host_tcp"] = {
                    "latency": out[key]["latency_8B_us"]["median"] / host["latency_8B_us"]["median"],
                    "bandwidth_1MiB": out[key]["bandwidth_1MiB_MBps"]["median"] / host["bandwidth_1MiB_MBps"]["median"],
                    "bandwidth_64MiB": out[key]["bandwidth_64MiB_MBps"]["median"]
                    / host["bandwidth_64MiB_MBps"]["median"],
                }
        if out.get("host_shm"):
            h = out["host_shm"]
            out["ratio_one_container_shm_vs_host_shm"] = {
                "latency": out["one_container_shm"]["latency_8B_us"]["median"] / h["latency_8B_us"]["median"],
                "bandwidth_64MiB": out["one_container_shm"]["bandwidth_64MiB_MBps"]["median"]
                / h["bandwidth_64MiB_MBps"]["median"],
            }
        for key, v in out.items():
            if "latency_8B_us" in v:
                log(
                    f"mpi {key}: latency {v['latency_8B_us']['median']:.1f} us, "
                    f"1 MiB {v['bandwidth_1MiB_MBps']['median']:.0f} MB/s, "
                    f"64 MiB {v['bandwidth_64MiB_MBps']['median']:.0f} MB/s"
                )
        return out

    def headline(self, value: dict) -> dict:
        return {f"mpi_{k[6:]}_{kk}": vv for k, v in value.items() if k.startswith("ratio_") for kk, vv in v.items()}

    def rows(self, value: dict) -> list[str]:
        lines = []
        for key, v in value.items():
            if "latency_8B_us" in v:
                lines.append(row(f"Allreduce 8 B latency, {key}", v["latency_8B_us"], " us", "{:.1f}"))
                lines.append(row(f"Allreduce 1 MiB, {key}", v["bandwidth_1MiB_MBps"], " MB/s", "{:.0f}"))
                lines.append(row(f"Allreduce 64 MiB, {key}", v["bandwidth_64MiB_MBps"], " MB/s", "{:.0f}"))
        return lines

    def notes(self, value: dict) -> list[str]:
        lines = ["", "MPI ratios (container / host, medians):", ""]
        for k, v in value.items():
            if k.startswith("ratio_"):
                lines.append(f"- {k[6:]}: " + ", ".join(f"{kk} {vv:.2f}" for kk, vv in v.items()))
        return lines
