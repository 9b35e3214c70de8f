"""What judging an experiment gives: a row per compared quantity and the verdict.

Kept apart from the experiments so that the report (rendering) and the experiments
(collecting, judging) both import it and neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Row:
    what: str
    lecture: str
    testbed: str
    agree: bool | None = None  # None: shown, not compared


@dataclass
class Outcome:
    id: str
    title: str
    ok: bool
    lecture: dict
    testbed: dict
    rows: list[Row] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)  # file names in the output folder
    notes: list[str] = field(default_factory=list)
    detail: str = ""  # preformatted text (an engine table, program output)
    seconds: float = 0.0

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "title": self.title,
            "lecture": self.lecture,
            "testbed": self.testbed,
            "rows": [r.__dict__ for r in self.rows],
            "plots": self.plots,
            "notes": self.notes,
            "seconds": round(self.seconds, 2),
        }


def fmt(v) -> str:
    """A value as a report cell: floats to 6 significant digits (large ones grouped), lists item by item."""
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    return str(v)


def all_agree(rows: list[Row]) -> bool:
    """Every compared row agrees (rows only shown do not count)."""
    return all(r.agree for r in rows if r.agree is not None)
