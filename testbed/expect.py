"""What every engine must report, derived from the topology alone.

Engine ids: groups register in the topology's order and each waits for the one
before, so a group's engines take the next free ids. An ``ipcluster`` MPI group
asks for its ranks as ids (ipyparallel's ``ipengine --mpi``); a late ``mpiexec``
group asks for the next free ids in its ``order``; hand-started engines get the
hub's next id.

Worlds: the engines of an ``ipcluster`` MPI group or of one ``mpiexec`` share a
``MPI_COMM_WORLD``; an engine started alone is an MPI world of its own (a
singleton, once mpi4py is imported). A world is named by its smallest engine id.

Scatter: ipyparallel splits a sequence of length N over k engines (in id order)
into k consecutive chunks, the first N % k of them one item longer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

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

    def as_dict(self) -> dict:
        return asdict(self)


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


def derive(topology: Topology, scatter: int | None = None) -> list[EngineExpect]:
    """The expected report of every engine, in engine id order."""
    length = topology.scatter if scatter is None else scatter
    # (id, group, world, rank, size) for every engine
    placed: list[tuple[int, int, int, int, int]] = []
    host_of: dict[int, str] = {}
    next_id = 0
    for gi, g in enumerate(topology.groups):
        ids = list(range(next_id, next_id + g.engines))
        next_id += g.engines
        if g.one_world:
            ranks = list(range(g.engines))
            if g.order == "descending":
                ranks.reverse()
            hosts = g.rank_hosts  # mpiexec places ranks round-robin over them (--map-by node)
            for eid, rank in zip(ids, ranks):
                placed.append((eid, gi, ids[0], rank, g.engines))
                host_of[eid] = topology.hostname(hosts[rank % len(hosts)])
        else:
            for eid in ids:
                placed.append((eid, gi, eid, 0, 1))
                host_of[eid] = topology.hostname(g.node)

    bounds = scatter_bounds(length, len(placed))
    chunk_sum = {eid: _arange_sum(*bounds[i]) for i, (eid, *_rest) in enumerate(placed)}
    world_sum: dict[int, int] = {}
    world_size: dict[int, int] = {}
    for eid, _gi, world, _rank, size in placed:
        world_sum[world] = world_sum.get(world, 0) + chunk_sum[eid]
        world_size[world] = size

    # merged: the worlds joined in order of their smallest engine id, each keeping
    # its ranks (Intercomm.Merge puts the accepting, first world low)
    merged_offset, offset = {}, 0
    for world in sorted(world_sum):
        merged_offset[world] = offset
        offset += world_size[world]
    total = float(sum(world_sum.values()))

    out = []
    for i, (eid, gi, world, rank, size) in enumerate(placed):
        g = topology.groups[gi]
        start, stop = bounds[i]
        merged = (
            dict(merged_rank=merged_offset[world] + rank, merged_size=len(placed), merged_psum=total)
            if topology.merge
            else {}
        )
        out.append(
            EngineExpect(
                id=eid,
                group=g.name,
                node=g.node,
                hostname=host_of[eid],
                world=world,
                world_rank=rank,
                world_size=size,
                chunk_start=start,
                chunk_len=stop - start,
                psum=float(world_sum[world]),
                **merged,
            )
        )
    return out
