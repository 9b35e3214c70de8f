"""``testbed matrix``: one command on each (topology, MPI stack), one cluster at a time.

Each row brings its cluster up (with the same mounted folder and extra packages), runs the
command on the controller node as ``testbed exec`` does, and tears the cluster down. A
command that fails, or a cluster that does not come up, is a failed row, never the end of
the run. The rows come out as a table, as JUnit XML (one test case a row, for CI
dashboards) and, with ``--json``, as one JSON line.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from . import limits, stacks, topology
from .errors import TestbedError

MAX_ROWS = limits.MATRIX_ROWS.hi
OUTPUT_TAIL = 4000  # characters of a row's output kept for the JUnit report
# what XML 1.0 cannot hold (a command's colours, NUL): replaced, so that the report parses
XML_UNSAFE = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class Row:
    topology: str
    mpi: str
    ok: bool = False
    exit: int | None = None  # None: the command did not run (the cluster did not come up)
    seconds: float = 0.0
    error: str = ""  # why the cluster did not come up, when it did not
    output: str = ""

    def as_json(self) -> dict:
        d = asdict(self)
        out = {k: d[k] for k in ("topology", "mpi", "ok", "exit", "seconds")}
        return out | ({"error": self.error} if self.error else {})


def parse_axes(topologies: str, mpi: str) -> tuple[list[str], list[str]]:
    """``a,b`` and ``all``/``x,y`` -> the known topologies and stacks, in order; one line otherwise."""
    topos = limits.items(topologies or "", "--topologies")
    if not topos:
        raise TestbedError("matrix needs --topologies a,b (`testbed topologies` lists them)")
    known = set(topology.known_topologies())
    bad = [t for t in topos if t not in known]
    if bad:
        raise TestbedError(f"--topologies: unknown {', '.join(map(repr, bad))}; `testbed topologies` lists them")
    every = (mpi or "").strip() in ("", "all")
    names = list(stacks.STACKS) if every else limits.items(mpi, "--mpi")
    for m in names:
        stacks.get(m)  # one line for an unknown stack
    rows = len(dict.fromkeys(topos)) * len(dict.fromkeys(names))
    if rows > MAX_ROWS:
        raise TestbedError(f"matrix of {rows} rows: at most {MAX_ROWS}")
    return list(dict.fromkeys(topos)), list(dict.fromkeys(names))


def run(
    topologies: Sequence[str],
    mpis: Sequence[str],
    argv: Sequence[str],
    run_row: Callable[[str, str], tuple[int, str]],
    log: Callable[[str], None] = print,
) -> list[Row]:
    """Every (topology, stack), in order: ``run_row(topology, mpi)`` brings a cluster up, runs the
    command and returns (exit status, output); a TestbedError there is a row that did not run."""
    rows = []
    for t in topologies:
        for m in mpis:
            row = Row(t, m)
            log(f"==== matrix: {t} on {m}: {' '.join(argv)}")
            t0 = time.monotonic()
            try:
                row.exit, row.output = run_row(t, m)
                row.ok = row.exit == 0
            except Exception as e:  # noqa: BLE001 - any failure of a row is that row's, never the run's
                first = (str(e).splitlines() or [""])[0][:300]
                row.error = first if isinstance(e, TestbedError) else f"{type(e).__name__}: {first}"
            row.seconds = round(time.monotonic() - t0, 1)
            log(
                f"==== matrix: {t} on {m}: {'ok' if row.ok else 'FAILED'} "
                f"({'exit ' + str(row.exit) if row.exit is not None else row.error}; {row.seconds:.0f}s)"
            )
            rows.append(row)
    return rows


def table(rows: Sequence[Row]) -> str:
    w = max([len("topology"), *(len(r.topology) for r in rows)])
    lines = [f"{'topology':{w}}  {'mpi':9} {'result':7} {'exit':>4} {'seconds':>8}"]
    for r in rows:
        result = "ok" if r.ok else "FAILED"
        ex = "-" if r.exit is None else str(r.exit)
        why = f"  {r.error}" if r.error else ""
        lines.append(f"{r.topology:{w}}  {r.mpi:9} {result:7} {ex:>4} {r.seconds:8.1f}{why}")
    good = sum(r.ok for r in rows)
    lines.append(f"{good}/{len(rows)} rows passed")
    return "\n".join(lines)


def junit(rows: Sequence[Row], argv: Sequence[str], path: Path) -> Path:
    """JUnit XML: a test suite ``testbed-matrix``, a test case ``<mpi>`` in class ``<topology>`` a row."""
    suite = ET.Element(
        "testsuite",
        name="testbed-matrix",
        tests=str(len(rows)),
        failures=str(sum(1 for r in rows if not r.ok and r.exit is not None)),
        errors=str(sum(1 for r in rows if r.exit is None)),
        time=f"{sum(r.seconds for r in rows):.1f}",
    )
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="command", value=" ".join(argv)[:2000])
    for r in rows:
        case = ET.SubElement(suite, "testcase", classname=r.topology, name=r.mpi, time=f"{r.seconds:.1f}")
        if r.exit is None:
            ET.SubElement(case, "error", message=r.error[:500] or "the cluster did not come up")
        elif not r.ok:
            ET.SubElement(case, "failure", message=f"exit {r.exit}")
        if r.output:
            ET.SubElement(case, "system-out").text = XML_UNSAFE.sub("?", r.output[-OUTPUT_TAIL:])
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    return path
