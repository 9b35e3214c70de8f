"""The lecture's experiments (L1-L11) and the two beyond it (B1, B2): one module each.

A module of this package (its name not starting with ``_``) defines one subclass of
``Experiment``: its id, title, topology, the stacks it holds on, ``collect``, a pure
``judge``, an optional ``plot``, and ``reference``, the lecture's figures it holds within a
tolerance, as ``{"name": (value, lower, upper, unit)}`` (value from ``testbed.lecture``;
lower and upper fractions of it). The registry finds the modules by itself (``pkgutil``),
so adding an experiment is adding its module (docs/experiments.md).

Each experiment is two steps, kept apart so that judging can be tested on recorded data:

- ``collect(ctx) -> dict`` talks to the cluster and returns plain JSON-able data, judging
  nothing. What the host computes as the expectation of a run (the MPFR digits of L2, the
  files counted on the host for L3) goes into the data under ``expected_*`` keys.
- ``judge(data, params, topology) -> Outcome`` is pure: the lecture's figures, the
  testbed's, a row per compared quantity, and whether they agree.

Expectations come from the topology (``expect.derive``, through ``checks.against``), from
the workload's parameters (the load-balance schedule, the digits in the files), or from the
lecture (``testbed.lecture``, listed in ``docs/lecture.md``); never from the output being checked.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..errors import TestbedError
from ..outcome import Outcome, Row
from ._base import Context, Experiment, Params, Reference, absolute, bounds, within

__all__ = [
    "Context",
    "Experiment",
    "Outcome",
    "Params",
    "Reference",
    "Row",
    "EXPERIMENTS",
    "absolute",
    "bounds",
    "get",
    "lb_schedule",
    "within",
]


def discover() -> list[Experiment]:
    """One instance of the one ``Experiment`` subclass each module of this package defines,
    the lecture's first, each group by the number in its id."""
    found: list[Experiment] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        classes = [
            c
            for c in vars(module).values()
            if isinstance(c, type) and issubclass(c, Experiment) and c.__module__ == module.__name__
        ]
        if len(classes) != 1:
            raise TestbedError(f"{module.__name__} defines {len(classes)} experiments, not one")
        found.append(classes[0]())
    ids = [e.id for e in found]
    if len(set(ids)) != len(ids):
        raise TestbedError(f"two experiment modules share an id: {', '.join(sorted(ids))}")
    return sorted(found, key=lambda e: e.order)


EXPERIMENTS: list[Experiment] = discover()

from .l01_load_balance import lb_schedule  # noqa: E402 - after discovery imported it


def get(ids: list[str] | None) -> list[Experiment]:
    if not ids:
        return list(EXPERIMENTS)
    known = {e.id: e for e in EXPERIMENTS}
    unknown = [i for i in ids if i.upper() not in known]
    if unknown:
        shown = ", ".join(repr(i)[:80] for i in unknown[:10])
        raise TestbedError(f"unknown experiment(s) {shown}: choose from {', '.join(known)}")
    wanted = {i.upper() for i in ids}
    return [e for e in EXPERIMENTS if e.id in wanted]
