"""The scenario protocol, its registry and runner, what every scenario shares, and its results.

A scenario is one module of this package with one class, registered with ``@register``: a known
ipyparallel failure (``issue``, ``url``, ``title``) replayed on a fresh cluster of a catalogue
``topology``. ``trigger`` does what the thread did (through the backend, the fault catalogue's
helpers, or ``workloads/scenarios_node.py`` on the controller node), ``observe`` measures what
the client and the controller saw into ``measured``, and the pure ``verdict(measured)`` says
``reproduced``, ``fixed`` or ``not-applicable`` from those figures alone. Every wait is bounded:
the node-side workload's client calls have timeouts, it runs under ``timeout``, and the host side
waits with ``testbed.waiting.poll``.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

from .. import records, stacks, topology
from ..cluster import Cluster, IfExists, session
from ..errors import TestbedError
from ..node import LOGS, PROFILE_LOGS, WORKLOADS
from ..topology import Topology

VERDICTS = ("reproduced", "fixed", "not-applicable")
VERSIONS = ("9.2.0", "8.8.0")  # the ipyparallel versions docs/scenarios.md has a column for
NODE_SCRIPT = WORKLOADS / "scenarios_node.py"
MAX_LOG_LINES = 40  # log lines a result keeps (the report quotes them)
ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "scenarios.md"
DOC_RESULTS = ROOT / "docs" / "scenarios.json"
BLOCK = "scenarios:table"  # docs/scenarios.md's marked block


@dataclass
class ScenarioResult:
    name: str
    issue: str
    topology: str
    ipyparallel: str = ""  # the version the nodes run
    verdict: str = "not-applicable"
    measured: dict = field(default_factory=dict)
    error: str = ""  # the one line the client saw, or why the scenario could not run
    logs: dict = field(default_factory=dict)  # log name -> the lines that show what happened
    versions: dict = field(default_factory=dict)  # ipyparallel, python, mpi, testbed commit
    stack: str = ""
    seconds: float = 0.0
    date: str = ""  # YYYY-MM-DD (UTC) of the run

    def as_json(self) -> dict:
        return asdict(self)


# -- figures from measured dicts: total, whatever the dict holds ----------------------------------
def num(m: Mapping, key: str) -> float | None:
    """``m[key]`` as a finite number, or None (a missing key, a bool, a string, NaN)."""
    v = m.get(key) if isinstance(m, Mapping) else None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def flag(m: Mapping, key: str) -> bool | None:
    v = m.get(key) if isinstance(m, Mapping) else None
    return v if isinstance(v, bool) else None


def one_line(text: object, width: int = 300) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "")[:width]


# -- the protocol ---------------------------------------------------------------------------------
class Scenario:
    name: ClassVar[str] = ""  # kebab-case; its module is the name with '_' for '-'
    issue: ClassVar[str] = ""  # "ipyparallel#229"
    url: ClassVar[str] = ""  # the thread
    title: ClassVar[str] = ""  # the thread's title, or what it is about
    measures: ClassVar[str] = ""  # one line: what is measured (docs/scenarios.md's row)
    topology: ClassVar[str] = ""  # a catalogue topology
    stack: ClassVar[str | None] = None  # an MPI stack, when the scenario needs one
    counts: ClassVar[tuple[int, ...] | None] = None  # engine group sizes instead of the topology's
    engines: ClassVar[bool] = True  # False: the session starts the nodes only, the trigger the rest
    fixed_in: ClassVar[str | None] = None  # the ipyparallel version that fixed it, when known
    bound_s: ClassVar[float] = 300.0  # the whole run, bring-up included, takes less
    keys: ClassVar[tuple[str, ...]] = ()  # what ``measured`` holds once observed
    logs: ClassVar[str] = r"CRITICAL|ERROR|Traceback"  # the log lines that show the failure (egrep)
    example_reproduced: ClassVar[dict] = {}
    example_fixed: ClassVar[dict] = {}

    def topo(self) -> Topology:
        return topology.load(self.topology).with_counts(self.counts)

    def trigger(self, cluster: Cluster, m: dict) -> None:
        """Do what the thread did (figures it yields go into ``m`` too)."""

    def observe(self, cluster: Cluster, m: dict) -> None:
        """Measure, into ``m``, what the client and the controller saw."""
        raise NotImplementedError

    def verdict(self, m: Mapping) -> str:
        """reproduced | fixed | not-applicable, from ``m`` alone (pure, total)."""
        raise NotImplementedError

    def run(
        self,
        stack: stacks.Stack | None = None,
        log: Callable[[str], None] = print,
        backend="compose",
        ipp: str | None = None,
    ):
        """The scenario on a fresh cluster (of ipyparallel ``ipp``, default the image's pin)."""
        stack = stack or (stacks.get(self.stack) if self.stack else stacks.DEFAULT)
        topo = self.topo()
        res = ScenarioResult(self.name, self.issue, topo.name, stack=stack.name)
        t0 = time.monotonic()
        kw = dict(if_exists=IfExists.REPLACE, engines=self.engines, log=log, stack=stack, backend=backend, ipp=ipp)
        try:
            with session(topo, f"scen-{self.name}"[:41], **kw) as cluster:
                res.versions = versions(cluster)
                res.ipyparallel = res.versions.get("ipyparallel", "")
                try:
                    self.trigger(cluster, res.measured)
                    self.observe(cluster, res.measured)
                except TestbedError as e:  # measured so far stays; the error is one line
                    res.error = one_line(e)
                res.logs = log_lines(cluster, self.logs)
        except TestbedError as e:  # the bring-up itself
            res.error = res.error or one_line(e)
        res.error = res.error or str(res.measured.get("client_error") or res.measured.get("error") or "")
        res.verdict = self.verdict(res.measured)
        res.seconds = round(time.monotonic() - t0, 1)
        res.date = time.strftime("%Y-%m-%d", time.gmtime())
        log(f"[scenario] {self.name} ({self.issue}) on ipyparallel {res.ipyparallel or '?'}: {res.verdict}")
        return res


REGISTRY: dict[str, Scenario] = {}
KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def register(cls: type[Scenario]) -> type[Scenario]:
    """Class decorator: the catalogue's scenario ``cls.name``."""
    if not cls.name or cls.name in REGISTRY or not KEBAB.fullmatch(cls.name):
        raise ValueError(f"scenario {cls.__name__}: name {cls.name!r} is empty, taken or not kebab-case")
    REGISTRY[cls.name] = cls()
    return cls


def catalogue() -> tuple[str, ...]:
    return tuple(REGISTRY)


def get(name: str) -> Scenario:
    if name not in REGISTRY:  # repr: a name with a line break stays on one line
        raise TestbedError(f"no scenario {name[:80]!r}; the scenarios: {', '.join(REGISTRY)}")
    return REGISTRY[name]


# -- what scenarios share on a cluster --------------------------------------------------------------
def node_json(cluster: Cluster, sub: str, *args: str, timeout: float = 120, service: str | None = None) -> dict:
    """``scenarios_node.py SUB ARGS`` on the controller node (or ``service``), killed after ``timeout`` s."""
    node = cluster.node(service) if service else cluster.controller
    argv = ["timeout", "-k", "5", str(int(timeout)), "python3", str(NODE_SCRIPT), sub, *args]
    return node.run_json(argv, what=f"scenarios_node.py {sub}")


def storm(cluster: Cluster, engines: int, wait_s: float) -> dict:
    """A controller, then ``engines`` ipengines at once, with ipyparallel's own default timeouts
    (engine 5 s, registration 30 s) rather than the image's tuned ones, which would hide a storm."""
    args = ["--engines", str(engines), "--wait", str(wait_s), "--engine-timeout", "5", "--registration-timeout", "30"]
    return node_json(cluster, "storm", *args, timeout=wait_s + 120)


def count(cluster: Cluster) -> int | None:
    """The engines the controller has now (a client asked once, bounded), or None."""
    r = cluster.controller.exec(["timeout", "30", "python3", str(NODE_SCRIPT), "count", "--timeout", "10"])
    try:
        return int(json.loads(r.out.strip().splitlines()[-1])["registered"])
    except (ValueError, IndexError, KeyError, TypeError):
        return None


def log_lines(cluster: Cluster, pattern: str, service: str | None = None, lines: int = MAX_LOG_LINES) -> dict:
    """{"<service>": the last ``lines`` lines of ipyparallel's and the testbed's logs that match}."""
    node = cluster.node(service) if service else cluster.controller
    script = 'cat "$0"/*.log "$1"/*.log 2>/dev/null | grep -a -i -E -- "$2" | tail -n "$3"'
    r = node.exec(["sh", "-c", script, str(PROFILE_LOGS), str(LOGS), pattern, str(int(lines))])
    return {node.service: r.out.rstrip()[-8000:]} if r.out.strip() else {}


def count_lines(cluster: Cluster, pattern: str, service: str | None = None) -> int:
    node = cluster.node(service) if service else cluster.controller
    script = 'cat "$0"/*.log "$1"/*.log 2>/dev/null | grep -a -c -i -E -- "$2"'
    r = node.exec(["sh", "-c", script, str(PROFILE_LOGS), str(LOGS), pattern])
    return int(r.out.strip()) if r.out.strip().isdigit() else 0


def versions(cluster: Cluster) -> dict:
    """What a report names: ipyparallel and Python on the nodes, the MPI library, the testbed's commit."""
    script = (
        "import sys, ipyparallel\n"
        "try:\n from mpi4py import MPI; mpi = MPI.Get_library_version().strip().splitlines()[0]\n"
        "except Exception as e: mpi = f'unknown ({type(e).__name__})'\n"
        "print(ipyparallel.__version__); print(sys.version.split()[0]); print(mpi[:120])"
    )
    out = cluster.controller.exec(["timeout", "60", "python3", "-c", script]).out.strip().splitlines()
    doc = dict(zip(("ipyparallel", "python", "mpi"), out))
    doc["stack"] = cluster.stack.name
    doc["testbed"] = commit()
    return doc


def commit() -> str:
    try:
        r = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return r.stdout.strip() if r.returncode == 0 else ""


# -- results -----------------------------------------------------------------------------------------
def table(results: list[ScenarioResult]) -> str:
    headers = ["scenario", "issue", "ipyparallel", "verdict", "seconds", "measured"]
    rows = []
    for r in results:
        figures = ", ".join(f"{k}={v}" for k, v in r.measured.items() if not isinstance(v, (dict, list)))
        rows.append([r.name, r.issue, r.ipyparallel or "?", r.verdict, f"{r.seconds:.0f}", figures[:100]])
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines += [f"{r.name}: the client saw: {r.error}" for r in results if r.error]
    return "\n".join(lines)


def listing() -> list[dict]:
    return [{"name": s.name, "issue": s.issue, "topology": s.topology} for s in REGISTRY.values()]


def load(path: Path) -> list[dict]:
    return records.load_rows(path, "scenarios")


def save(results: list[ScenarioResult], folder: Path) -> Path:
    """OUT/scenarios.json: merged by (scenario, ipyparallel version) with earlier runs."""
    rows = [r.as_json() for r in results]
    path = folder / "scenarios.json"
    return records.save_rows(path, "scenarios", rows, lambda r: (r["name"], r.get("ipyparallel", "")))


def render_table(results: list[dict]) -> str:
    """docs/scenarios.md's table: a row per scenario, a verdict column per ipyparallel version."""
    seen = {
        (r.get("name"), r.get("ipyparallel")): r.get("verdict", "?") + (f" ({r['date']})" if r.get("date") else "")
        for r in results
    }
    head = ["scenario", "issue", "what is measured", *(f"ipyparallel {v}" for v in VERSIONS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in REGISTRY.values():
        cells = [f"`{s.name}`", f"[{s.issue}]({s.url})", s.measures.replace("|", "\\|")]
        cells += [seen.get((s.name, v), "(not run yet)") for v in VERSIONS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(doc_path: Path = DOC, results: Path = DOC_RESULTS, write: bool = True) -> bool:
    """Rewrite the marked table of docs/scenarios.md from ``results``; True when it was current."""
    return records.replace_block(doc_path, BLOCK, render_table(load(results)), write)


def report(res: ScenarioResult, scenario: Scenario) -> str:
    """A self-contained Markdown report of one run, to paste into the upstream thread."""
    other = res.ipyparallel and res.ipyparallel != stacks.DEFAULT_IPP
    ipp = f" --ipp {res.ipyparallel}" if other else ""  # `make images IPP=...` builds its image
    mpi = f" --mpi {res.stack}" if res.stack and res.stack != stacks.DEFAULT.name else ""
    topo_text = ""
    try:
        topo_text = scenario.topo().path.read_text()
    except (OSError, TestbedError):
        topo_text = "(the topology file could not be read)"
    v = res.versions
    counts = f" (engine counts {','.join(map(str, scenario.counts))})" if scenario.counts else ""
    figures = "\n".join(f"| `{k}` | `{json.dumps(val)[:200]}` |" for k, val in res.measured.items())
    logs = "\n\n".join(f"`{where}`:\n\n```\n{text}\n```" for where, text in res.logs.items()) or "(no matching lines)"
    fence = "```"
    return f"""# {scenario.title} ({res.issue})

{scenario.url}

Verdict: **{res.verdict}** on ipyparallel {res.ipyparallel or "?"}, measured by the ipp-testbed scenario
`{res.name}` on a fresh cluster of containers{counts}.

## Versions

| what | version |
|---|---|
| ipyparallel | {v.get("ipyparallel", "?")} |
| Python | {v.get("python", "?")} |
| MPI library | {v.get("mpi", "?")} (stack {v.get("stack", res.stack or "?")}) |
| ipp-testbed commit | {v.get("testbed") or "(not available)"} |

## To reproduce

{fence}sh
testbed scenario {res.name}{mpi}{ipp} --report
{fence}

It brings up topology `{res.topology}`, replays the failure, and removes the cluster after.
The topology (a compose file, `compose/{res.topology}.yaml`):

{fence}yaml
{topo_text.rstrip()}
{fence}

## What the client saw

{fence}
{res.error or "(no error)"}
{fence}

## Measured

| figure | value |
|---|---|
{figures}

## Log lines

{logs}
"""
