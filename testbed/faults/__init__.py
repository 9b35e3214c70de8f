"""``testbed faults``: break a running cluster on purpose, and check what must still hold.

Each fault is one module of this package (``base.Fault``, registered with ``@register``): what it
takes, derived from the placement; how it is injected and undone; what is measured and judged.
Each gets a cluster of its own, brought up fresh on the backend asked for (compose or swarm).
What is lost is derived, not observed: killing an engine loses it, or, when it is a rank of an MPI
world, the whole world; losing a node loses its engines and every world with a rank on it.
The catalogue, in order, is ``FAULTS``; docs/faults.md has a row for each.
"""

from __future__ import annotations

from .. import records
from .base import (
    REGISTRY,
    Drill,
    Drills,
    Fault,
    FaultResult,
    catalogue,
    lost_with,
    lost_with_node,
    pick,
    register,
    save,
    table,
)

records.import_members(__name__, __path__, shared={"base", "workload"})  # every other module is a member: one each

FAULTS = catalogue()

__all__ = [
    "FAULTS",
    "REGISTRY",
    "Drill",
    "Drills",
    "Fault",
    "FaultResult",
    "lost_with",
    "lost_with_node",
    "pick",
    "register",
    "save",
    "table",
]
