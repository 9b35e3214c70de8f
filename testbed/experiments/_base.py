"""What every experiment shares: its parameters, its context, the base class, and the
reference tuples (value, lower, upper, unit) with their tolerances.

Nothing here names an experiment: what one experiment compares lives in its own module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from .. import digits as digits_mod
from .. import stacks
from ..cluster import Cluster
from ..outcome import Outcome
from ..topology import Topology

# ReFrame's style: (value, lower, upper, unit). The value is the lecture's (testbed.lecture);
# lower and upper are fractions of it (lower <= 0 <= upper), None for no bound on that side.
Reference = tuple[float, "float | None", "float | None", str]


@dataclass
class Params:
    """The lecture's parameters by default; tests shorten them."""

    lb_scale_ms: float = 20.0  # ms per work unit: light task 10 units, heavy 50
    digit_files: int = 5
    digits_per_file: int = 10_000_000
    serial_digits: int = 10_000
    digit_cache: Path | None = None
    check_prefix: int = 5_000_000

    @property
    def lecture_lb(self) -> bool:
        return self.lb_scale_ms == 20.0

    @property
    def lecture_digits(self) -> bool:
        return self.digit_files == 5 and self.digits_per_file == 10_000_000


@dataclass
class Context:
    cluster: Cluster
    out: Path
    params: Params
    log: Callable[[str], None]
    machine: dict = field(default_factory=dict)
    digits: digits_mod.DigitSet | None = None  # made (or found) before the cluster came up


class Experiment:
    """One experiment: a module of ``testbed/experiments/`` defines one subclass of this.

    ``collect(ctx) -> dict`` talks to the cluster and returns plain JSON-able data, judging
    nothing. ``judge(data, params, topology) -> Outcome`` is pure (no I/O, no cluster): the
    lecture's figures, the testbed's, a row per compared quantity, and whether they agree.
    ``plot(data, out) -> [file names]`` is optional (None: no plot).
    """

    id: ClassVar[str]
    title: ClassVar[str]
    topology: ClassVar[str]  # a name of testbed.topology.known_topologies()
    stacks: ClassVar[tuple[str, ...]] = tuple(stacks.STACKS)  # the MPI stacks it holds on
    reference: ClassVar[dict[str, Reference]] = {}  # the lecture's figures compared within a tolerance
    beyond: ClassVar[bool] = False  # beyond the lecture (B1, B2), not one of its experiments
    about: ClassVar[str] = ""
    needs_digits: ClassVar[bool] = False  # the digits of pi, made before any cluster takes the CPU
    plot: ClassVar[Callable[[dict, Path], list[str]] | None] = None

    def collect(self, ctx: Context) -> dict:
        raise NotImplementedError

    def judge(self, data: dict, params: Params, topology: Topology) -> Outcome:
        raise NotImplementedError

    @property
    def order(self) -> tuple[bool, int]:
        """The lecture's experiments first, then those beyond it, each by the number in its id."""
        return self.beyond, int(re.sub(r"\D", "", self.id) or 0)

    def __repr__(self) -> str:
        return f"<experiment {self.id}: {self.title}>"


def bounds(ref: Reference, center: float | None = None) -> tuple[float, float]:
    """The interval a reference allows: its fractions applied to its value, or to ``center``
    (a value derived from the topology that the lecture's figure rounds)."""
    value, lower, upper, _unit = ref
    c = value if center is None else center
    return (
        -float("inf") if lower is None else c + lower * abs(c),
        float("inf") if upper is None else c + upper * abs(c),
    )


def within(got: float, ref: Reference, center: float | None = None) -> bool:
    lo, hi = bounds(ref, center)
    return lo <= got <= hi


def absolute(value: float, tolerance: float, unit: str = "") -> Reference:
    """A reference of ``value`` ± ``tolerance`` in its own unit, as fractions of the value."""
    return value, -tolerance / abs(value), tolerance / abs(value), unit
