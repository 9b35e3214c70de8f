"""The fault protocol, its registry and runner, and what every fault shares.

A fault is one module of this package with one class, registered with ``@register``: its
``name`` and one-line ``summary`` (the row of docs/faults.md), ``pick`` (what it takes,
derived from the placement alone: the victim and the engines lost, or why it does not apply)
and ``drill`` (how it is injected, how it is undone, what is measured and judged, on a
cluster that ``run`` brings up fresh through ``cluster.session`` and removes after). Nodes
are reached through the cluster's backend only (``testbed.backends``), so every fault runs on
a compose project and on a swarm stack alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

from .. import placement, records, stacks
from ..cluster import Cluster, IfExists, session
from ..errors import TestbedError
from ..topology import Topology
from ..waiting import poll

COME_BACK_S = 30.0  # s the testbed waits for engines to come back after a partition or a controller restart


@dataclass
class FaultResult:
    name: str
    topology: str
    done: str = ""  # what was done
    held: list[str] = field(default_factory=list)  # what held
    failed: list[str] = field(default_factory=list)  # what did not
    tasks_lost: int | None = None
    detect_s: float | None = None  # injection -> the controller dropped every lost engine
    lost: list[int] = field(default_factory=list)
    skipped: str = ""  # why the fault does not apply to the topology
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

    def as_json(self) -> dict:
        return {"ok": self.ok, **asdict(self)}

    def expect(self, what: str, cond: bool) -> None:
        (self.held if cond else self.failed).append(what)


# -- what a fault takes, from the topology alone ------------------------------------------------
def lost_with(topo: Topology, victims: set[int]) -> set[int]:
    """The engines that go when ``victims`` die: each victim, and every rank of a world it is in."""
    rows = placement.derive(topo)
    worlds = {r.world for r in rows if r.id in victims and r.size > 1}
    return {r.id for r in rows if r.id in victims or r.world in worlds}


def lost_with_node(topo: Topology, node: str) -> set[int]:
    return lost_with(topo, {r.id for r in placement.derive(topo) if r.node == node})


def last_engine_node(topo: Topology) -> tuple[str, set[int]] | str:
    """The last node, not the controller's, that holds engines, and the engines it takes (what
    node-lost and partition take); or why there is none."""
    nodes = [n for n in dict.fromkeys(r.node for r in placement.derive(topo)) if n != topo.controller]
    if not nodes:
        return "no engine on a node other than the controller's"
    return nodes[-1], lost_with_node(topo, nodes[-1])


# -- the protocol ---------------------------------------------------------------------------------
@dataclass
class Drill:
    """What a fault runs with: the topology, the MPI stack, where to log, and the backend."""

    topo: Topology
    stack: stacks.Stack = stacks.DEFAULT
    log: Callable[[str], None] = print
    backend: str = "compose"

    @property
    def cluster_name(self) -> str:
        return f"faults-{self.topo.name}"


class Fault:
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""  # one line: what is done (docs/faults.md's row)
    order: ClassVar[int] = 0  # its place in the catalogue

    def pick(self, topo: Topology) -> tuple[object, set[int]] | str:
        """(victim, engines lost), derived from the placement, or why the fault does not apply."""
        raise NotImplementedError

    def run(self, d: Drill) -> FaultResult:
        """A fresh cluster for the drill (``cluster.session``), removed after it whatever happened."""
        res = FaultResult(self.name, d.topo.name)
        chosen = self.pick(d.topo)
        if isinstance(chosen, str):
            res.skipped = chosen
            return res
        victim, lost = chosen
        res.lost = sorted(lost)
        kw = dict(if_exists=IfExists.REPLACE, log=d.log, stack=d.stack, backend=d.backend)
        with session(d.topo, d.cluster_name, **kw) as cluster:
            self.drill(cluster, victim, lost, res)
        return res

    def drill(self, cluster: Cluster, victim, lost: set[int], res: FaultResult) -> None:
        """Inject, undo, measure and judge, on ``cluster``: each outcome through ``res.expect``."""
        raise NotImplementedError


REGISTRY: dict[str, Fault] = {}


def register(cls: type[Fault]) -> type[Fault]:
    """Class decorator: the catalogue's fault ``cls.name``."""
    if not cls.name or cls.name in REGISTRY:
        raise ValueError(f"fault {cls.__name__}: name {cls.name!r} is empty or taken")
    REGISTRY[cls.name] = cls()
    return cls


def catalogue() -> tuple[str, ...]:
    """The faults' names, in the catalogue's order."""
    return tuple(sorted(REGISTRY, key=lambda n: (REGISTRY[n].order, n)))


def pick(topo: Topology, fault: str) -> tuple[object, set[int]] | str:
    """(victim, engines lost) for ``fault`` on ``topo``, or why it does not apply."""
    if fault not in REGISTRY:
        raise ValueError(fault)
    return REGISTRY[fault].pick(topo)


def registered_within(cluster: Cluster, want: int, timeout: float) -> int:
    """How many engines the controller has once ``want`` are there, or after ``timeout`` seconds."""
    count = ["python3", "-c", "import ipyparallel as ipp; rc = ipp.Client(timeout=10); print(len(rc.ids))"]
    seen = [0]

    def enough() -> bool:
        r = cluster.controller.exec(count)
        if r.code == 0 and r.out.strip().isdigit():
            seen[0] = int(r.out.strip())
        return seen[0] >= want

    try:
        poll(enough, timeout=timeout, what=f"{want} engines registered", interval=0.5)
    except TestbedError:
        pass
    return seen[0]


# -- the runner -----------------------------------------------------------------------------------
class Drills:
    """Runs faults of the catalogue on a topology, one fresh cluster each."""

    def __init__(
        self,
        topo: Topology,
        stack: stacks.Stack = stacks.DEFAULT,
        log: Callable[[str], None] = print,
        backend: str = "compose",
    ):
        self.drill = Drill(topo, stack, log, backend)

    def run(self, names: list[str]) -> list[FaultResult]:
        d, out = self.drill, []
        for name in names:
            t = time.monotonic()
            try:
                res = REGISTRY[name].run(d)
            except TestbedError as e:  # the drill itself could not run: that fault's result, one line
                res = FaultResult(name, d.topo.name, failed=[f"the drill did not run: {str(e).splitlines()[0]}"])
            res.extra["seconds"] = round(time.monotonic() - t, 1)
            if d.backend != "compose":
                res.extra["backend"] = d.backend
            verdict = "ok" if res.ok else "FAILED: " + "; ".join(res.failed)
            verdict = "skipped: " + res.skipped if res.skipped else verdict
            d.log(f"[faults] {name} on {d.topo.name}: {verdict}")
            out.append(res)
        return out


def count_text(d: dict[str, int]) -> str:
    return ", ".join(f"{v} {k}" for k, v in d.items())


# -- results -----------------------------------------------------------------------------------------
def table(results: list[FaultResult]) -> str:
    headers = ["fault", "topology", "done", "held", "lost engines", "detect s", "tasks lost", "ok"]
    rows = []
    for r in results:
        rows.append(
            [
                r.name,
                r.topology,
                r.skipped and "-" or r.done,
                f"{len(r.held)}/{len(r.held) + len(r.failed)}" if not r.skipped else "-",
                ",".join(map(str, r.lost)) or "-",
                "-" if r.detect_s is None else f"{r.detect_s:.2f}",
                "-" if r.tasks_lost is None else str(r.tasks_lost),
                "skipped" if r.skipped else ("ok" if r.ok else "FAILED"),
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    for r in results:
        for f in r.failed:
            lines.append(f"FAILED {r.name}: {f}")
        if r.skipped:
            lines.append(f"skipped {r.name}: {r.skipped}")
    return "\n".join(lines)


def save(results: list[FaultResult], folder: Path) -> Path:
    """results/faults.json: the catalogue's results, merged by (fault, topology) with earlier runs."""
    rows = [r.as_json() for r in results]
    return records.save_rows(folder / "faults.json", "faults", rows, lambda f: (f["name"], f["topology"]))
