"""What every benchmark section is handed (a :class:`Context`) and the helpers they share.

The sections read their settings from the context; nothing here is changed at run time.
Commands are argv lists, never shell text.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from testbed import stacks, topology
from testbed.cluster import Cluster
from testbed.node import one_off

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
WORKLOADS = ROOT / "workloads"
BENCH_TAG = "ipp-testbed-bench"


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


@dataclass(frozen=True)
class Context:
    """One ``python -m benchmarks.run``: timed runs per figure, the MPI stack of the cluster
    sections (--mpi) and the sections' own options (``Section.add_options``), as parsed."""

    runs: int = 5
    stack: stacks.Stack = stacks.DEFAULT
    options: argparse.Namespace = field(default_factory=argparse.Namespace)

    def cluster(self, topo_name: str, counts: tuple[int, ...] | None, name: str) -> Cluster:
        """A cluster of a shipped topology (``counts``: its groups' engines, else its own) on the stack."""
        topo = topology.load(topo_name).with_counts(counts)
        return Cluster(topo, name=name, log=lambda m: None, stack=self.stack)


def stats(values: list[float]) -> dict:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
        "values": values,
    }


def ratios(a: list[float], b: list[float]) -> dict:
    """Run-by-run a[i] / b[i], summarised."""
    return stats([x / y for x, y in zip(a, b)])


def run_argv(argv: Sequence[str], **kw) -> subprocess.CompletedProcess:
    """Run ``argv`` (no shell) and capture its output as text."""
    return subprocess.run(list(argv), capture_output=True, text=True, **kw)


def in_node(script: str, args: list[str], user: str = "mpi", **run_kw) -> dict:
    """Run a workload in a one-off node container (removed after) and return its JSON answer."""
    label = "bench-" + script.removeprefix("bench_").removesuffix(".py")
    with one_off(stacks.DEFAULT.image, label, **run_kw) as node:
        return node.workload(script, *args, user=user)


def row(what: str, st: dict, unit: str = "", fmt: str = "{:.2f}") -> str:
    """A row of the results table: a figure's median, min, max and runs."""

    def f(v: float) -> str:
        return fmt.format(v) + unit

    return f"| {what} | {f(st['median'])} | {f(st['min'])} | {f(st['max'])} | {st['runs']} |"
