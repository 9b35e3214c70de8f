"""``testbed scenario``: known ipyparallel failures as named, runnable scenarios (docs/scenarios.md).

Each scenario is one module of this package (``base.Scenario``, registered with ``@register``):
the thread it comes from, the topology it runs on, what triggers the failure, what is measured,
and a pure verdict from the measurements: ``reproduced``, ``fixed`` or ``not-applicable``.
Each gets a cluster of its own, brought up fresh and removed after.
"""

from __future__ import annotations

from .. import records
from .base import (
    REGISTRY,
    VERDICTS,
    Scenario,
    ScenarioResult,
    catalogue,
    get,
    listing,
    render,
    render_table,
    report,
    save,
    table,
)

records.import_members(__name__, __path__, shared={"base"})  # every other module is a member: one each

SCENARIOS = catalogue()

__all__ = [
    "REGISTRY",
    "SCENARIOS",
    "VERDICTS",
    "Scenario",
    "ScenarioResult",
    "get",
    "listing",
    "render",
    "render_table",
    "report",
    "save",
    "table",
]
