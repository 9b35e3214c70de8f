"""The lecture's plain MPI programs (no IPython), run under mpiexec inside a node.

Each program prints lines in the lecture's own format; the lines every run must
print are derived here from the number of ranks alone, and compared as a multiset
(ranks print in any order). For the lecture's rank counts they are the lecture's
tables (the unit tests hold them to that).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from .errors import TestbedError


def _hello(n: int) -> list[str]:
    return [f"Hello world from {r} out of {n}!" for r in range(n)]


def _blocking_send(n: int) -> list[str]:
    return ["Process 0 received  aa[0] 2", "Process 0 received  bb[0] 3"]


def _sendrecv(n: int) -> list[str]:
    return ["Process 1 data =  {'a': 7, 'b': 3.14}"]


def _a(rank: int, n: int) -> list[int]:
    """collectives.py's array a on ``rank``: [r+1, r*r+1, ...], one item per rank."""
    return [rank + 1 if i % 2 == 0 else rank * rank + 1 for i in range(max(n, 2))]


def _collectives(n: int) -> list[str]:
    root = n - 1
    reduce = [sum(_a(r, n)[i] for r in range(n)) for i in (0, 1)]
    gather = [v for r in range(n) for v in (r + 1, r * r + 1)]
    lines = [f"Process 0 rec {reduce[0]} {reduce[1]}", "Process 0 rec " + " ".join(map(str, gather))]
    for r in range(n):
        lines.append(f"Process {r} b {_a(root, n)[r]}")
        lines.append(f"Process {r} Alltoall d " + " ".join(str(_a(j, n)[r]) for j in range(n)))
        lines.append(f"Process {r} Bcast b 1000")
    return lines


def _objects(n: int) -> list[str]:
    data = {"key1": [7, 2.72, 2 + 3j], "key2": ("abc", "xyz")}
    lines = []
    for r in range(n):
        lines.append(f"Process {r} bcast data =  {data}")
        lines.append(f"Process {r} scatter data =  {(r + 1) ** 2}")
        gathered = [(i + 1) ** 2 for i in range(n)] if r == 0 else None
        lines.append(f"Process {r} gather data =  {gathered}")
    return lines


def _mpi_io(n: int) -> list[str]:
    return ["file " + " ".join(str(r) for r in range(n) for _ in range(10))]


def _rma(n: int) -> list[str]:
    lines = [f"Process {r} Put from left {(r - 1) % n} Get from left {(r - 2) % n}" for r in range(n)]
    return lines + [f"Process 0 Accumulate {n * (n + 1) // 2}"]


@dataclass(frozen=True)
class Program:
    name: str
    script: str
    ranks: int  # the lecture's rank count, the default
    min_ranks: int
    expected: Callable[[int], list[str]]
    lecture: str
    args: tuple[str, ...] = ()
    # MPI-IO writes one file: its ranks must share a filesystem, so it stays on one node
    # every rank must see one file: across nodes only where they share a folder
    shared_file: bool = False


PROGRAMS = {
    p.name: p
    for p in (
        Program("hello", "hello_mpi.py", 5, 1, _hello, "L4"),
        Program("blocking_send", "blocking_send.py", 2, 2, _blocking_send, "L6"),
        Program("sendrecv", "sendrecv.py", 2, 2, _sendrecv, "L6"),
        Program("collectives", "collectives.py", 4, 2, _collectives, "L7"),
        Program("objects", "objects.py", 4, 1, _objects, "L7"),
        Program("mpi_io", "mpi_io.py", 4, 1, _mpi_io, "L7", ("mpi_IO",), shared_file=True),
        Program("rma", "rma.py", 4, 2, _rma, "beyond"),  # one-sided: Put, Get, Accumulate
    )
}


def get(name: str) -> Program:
    try:
        return PROGRAMS[name]
    except KeyError:
        raise TestbedError(f"unknown MPI program {name!r:.80}; known: {', '.join(PROGRAMS)}") from None


@dataclass
class RunResult:
    program: str
    ranks: int
    ok: bool
    missing: list[str]
    unexpected: list[str]
    output: list[str]

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "program": self.program,
            "ranks": self.ranks,
            "missing": self.missing,
            "unexpected": self.unexpected,
            "output": self.output,
        }


def compare_output(program: Program, ranks: int, output: str) -> RunResult:
    lines = [ln.rstrip() for ln in output.splitlines() if ln.strip()]
    want, got = Counter(program.expected(ranks)), Counter(lines)
    missing = sorted((want - got).elements())
    unexpected = sorted((got - want).elements())
    return RunResult(program.name, ranks, not missing and not unexpected, missing, unexpected, lines)
