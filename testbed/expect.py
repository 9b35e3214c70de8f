"""What every engine must report, derived from the topology alone.

Ids, worlds, ranks and hosts are the placement rows (``testbed.placement``), the
same rows the launch commands hand to the engines. On top of them:

Scatter: ipyparallel splits a sequence of length N over k engines (in id order)
into k consecutive chunks, the first N % k of them one item longer. psum is the sum
of the chunks of one world; a merged topology joins the worlds in order of their
smallest engine id (Intercomm.Merge puts the accepting, first world low).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import placement
from .topology import Topology


@dataclass(frozen=True)
class EngineExpect:
    id: int
    group: str
    node: str
    hostname: str
    world: int
    world_rank: int
    world_size: int
    chunk_start: int
    chunk_len: int
    psum: float
    # only for topologies that merge their worlds (x-testbed merge: true)
    merged_rank: int | None = None
    merged_size: int | None = None
    merged_psum: float | None = None


def scatter_bounds(length: int, parts: int) -> list[tuple[int, int]]:
    """(start, stop) of each of ``parts`` chunks of ``range(length)``, ipyparallel's way."""
    if parts < 1:
        raise ValueError("scatter needs at least one engine")
    base, extra = divmod(length, parts)
    bounds, start = [], 0
    for i in range(parts):
        size = base + (1 if i < extra else 0)
        bounds.append((start, start + size))
        start += size
    return bounds


def _arange_sum(start: int, stop: int) -> int:
    """sum(range(start, stop)) in closed form."""
    n = stop - start
    return (start + stop - 1) * n // 2 if n > 0 else 0


def derive(topology: Topology, scatter: int | None = None, alive: set[int] | None = None) -> list[EngineExpect]:
    """The expected report of every engine, in engine id order.

    ``alive``: only these engines are left (after a fault): the scatter goes over them
    alone, and a world's psum is the sum of its chunks on them.
    """
    length = topology.scatter if scatter is None else scatter
    rows = [r for r in placement.derive(topology) if alive is None or r.id in alive]
    bounds = scatter_bounds(length, len(rows))
    world_sum: dict[int, int] = {}
    world_size: dict[int, int] = {}
    for row, (start, stop) in zip(rows, bounds):
        world_sum[row.world] = world_sum.get(row.world, 0) + _arange_sum(start, stop)
        world_size[row.world] = row.size

    merged_offset, offset = {}, 0
    for world in sorted(world_sum):
        merged_offset[world] = offset
        offset += world_size[world]
    total = float(sum(world_sum.values()))

    out = []
    for row, (start, stop) in zip(rows, bounds):
        merged = (
            dict(merged_rank=merged_offset[row.world] + row.rank, merged_size=len(rows), merged_psum=total)
            if topology.merge
            else {}
        )
        out.append(
            EngineExpect(
                id=row.id,
                group=row.group,
                node=row.node,
                hostname=row.hostname,
                world=row.world,
                world_rank=row.rank,
                world_size=row.size,
                chunk_start=start,
                chunk_len=stop - start,
                psum=float(world_sum[row.world]),
                **merged,
            )
        )
    return out


def facts(topology: Topology, stack: str, scatter: int | None = None) -> dict:
    """What a client on the cluster may know of its topology without being told by the
    output under test: the groups, where each engine runs, and what each must report.
    Written to every controller node at bring-up (``FACTS``); the notebooks read it."""
    from dataclasses import asdict

    return {
        "topology": topology.name,
        "summary": topology.summary,
        "lecture": topology.lecture,
        "mpi_stack": stack,
        "controller": topology.hostname(topology.controller),
        "nodes": [n.hostname for n in topology.nodes.values()],
        "scatter": topology.scatter if scatter is None else scatter,
        "merge": topology.merge,
        "groups": [
            {
                "name": g.name,
                "launch": g.launch,
                "engines": g.engines,
                "node": topology.hostname(g.node),
                "one_world": g.one_world,
            }
            for g in topology.groups
        ],
        "engines": [asdict(e) for e in derive(topology, scatter)],
    }
