"""Where every engine goes: one derivation, from the topology alone.

Each engine gets one row: its engine id, its group, its MPI world (named by the
world's smallest engine id), its rank and the world's size, and the node it runs on.
The launch kinds hand these rows to the processes they start (an ``mpiexec`` gives
each rank its own engine id and host), and ``expect`` reads the same rows to say
what every engine must report, so the two cannot drift apart.

Rules:
- groups register in the topology's order, each after the one before, so a group's
  engines take the next free ids;
- the engines of a one-world group (see its launch kind) share a ``MPI_COMM_WORLD``:
  rank r takes the r-th id of the group (``order: descending``: the reverse), and
  runs on ``rank_hosts[r % len(rank_hosts)]`` (round-robin by node);
- any other engine is a world of its own (rank 0 of 1); the i-th engine of its group
  runs on ``rank_hosts[i % len(rank_hosts)]`` (its group's node when it lists no hosts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .topology import Group, Topology


@dataclass(frozen=True)
class Placement:
    id: int  # engine id
    group: str
    group_index: int
    world: int  # the smallest engine id of the engine's MPI_COMM_WORLD
    rank: int  # rank in that world
    size: int  # size of that world
    node: str  # the service (node) the engine runs on
    hostname: str  # that node's hostname


def round_robin(hosts: tuple[str, ...], ranks: int) -> list[str]:
    """The host of each rank when ranks go round the hosts one by one (by node)."""
    return [hosts[r % len(hosts)] for r in range(ranks)]


def group_rows(topology: Topology, index: int, first_id: int) -> list[Placement]:
    """The rows of group ``index``, whose engines take ids from ``first_id``, in rank order."""
    g: Group = topology.groups[index]
    ids = list(range(first_id, first_id + g.engines))
    if g.one_world:
        if g.order == "descending":
            ids.reverse()
        hosts = round_robin(g.rank_hosts, g.engines)
        world = first_id
        return [
            Placement(eid, g.name, index, world, rank, g.engines, hosts[rank], topology.hostname(hosts[rank]))
            for rank, eid in enumerate(ids)
        ]
    hosts = round_robin(g.rank_hosts, g.engines)
    return [
        Placement(eid, g.name, index, eid, 0, 1, hosts[i], topology.hostname(hosts[i])) for i, eid in enumerate(ids)
    ]


def by_group(topology: Topology) -> dict[str, list[Placement]]:
    """Each group's rows in rank order (for a world; id order otherwise)."""
    out: dict[str, list[Placement]] = {}
    first = 0
    for index, g in enumerate(topology.groups):
        out[g.name] = group_rows(topology, index, first)
        first += g.engines
    return out


def derive(topology: Topology) -> list[Placement]:
    """Every engine's row, in engine id order."""
    return sorted((r for rows in by_group(topology).values() for r in rows), key=lambda r: r.id)
