"""The engine checks (L5, L8-L11, B1, B2): every engine's report after scattering the
topology's length, compared with the derivation from the topology (``checks.against``)
and with what the lecture printed engine by engine.

An experiment of this kind subclasses ``EngineCheck`` and names its lecture figures
(``engine_figures``, ``scatter_figure``); ``extra_rows`` adds what only it compares.
"""

from __future__ import annotations

from typing import ClassVar

from .. import checks
from ..checks import format_table
from ..outcome import Outcome, Row, all_agree, fmt
from ..topology import Topology
from ._base import Context, Experiment, Params

LABELS = {
    "id_history": "c.ids after ipcluster, then after each ipengine",
    "chunk_len": "chunk sizes",
    "chunks": "chunks of range(10)",
    "world_rank": "ranks",
    "hostnames": "distinct hostnames",
}


def collect_engines(ctx: Context) -> dict:
    """Every engine's report after scattering the topology's length, and the ids after each bring-up wait."""
    scatter = ctx.cluster.topology.scatter
    return {
        "cluster": ctx.cluster.name,
        "scatter": scatter,
        "report": ctx.cluster.report(scatter),
        "id_history": [list(ids) for ids in ctx.cluster.id_history],
    }


def engines_seen(data: dict) -> list[dict]:
    return sorted(data["report"]["engines"], key=lambda e: e["id"])


class EngineCheck(Experiment):
    # what the lecture printed engine by engine (testbed.lecture.ENGINES), compared key by key
    engine_figures: ClassVar[dict] = {}
    scatter_figure: ClassVar[int | None] = None  # the length the lecture scattered (testbed.lecture.SCATTER)

    def collect(self, ctx: Context) -> dict:
        return collect_engines(ctx)

    def extra_rows(self, data: dict, got: dict, topo: Topology) -> list[Row]:
        """Rows only this experiment compares (none by default)."""
        return []

    def judge(self, data: dict, params: Params, topo: Topology) -> Outcome:
        scatter = topo.scatter  # the topology's, not the data's
        result = checks.against(topo, data["report"]["engines"], cluster=data.get("cluster", ""), scatter=scatter)
        engines = engines_seen(data)
        got = {
            "ids": [e["id"] for e in engines],
            "chunk_len": [e["chunk_len"] for e in engines],
            "chunks": [
                f"range({int(e['chunk_start'] or 0)}, {int(e['chunk_start'] or 0) + e['chunk_len']})" for e in engines
            ],
            "psum": [int(e["psum"]) if float(e["psum"]).is_integer() else e["psum"] for e in engines],
            "world_rank": [e["world_rank"] for e in engines],
            "hostnames": len({e["hostname"] for e in engines}),
            "pids_distinct": len({(e["hostname"], e["pid"]) for e in engines}),
            "scatter": data["scatter"],
            "id_history": data["id_history"],
        }
        if topo.merge:
            got["merged_psum"] = [int(e["merged_psum"]) for e in engines]
            got["merged_rank"] = [e["merged_rank"] for e in engines]
        lec = self.engine_figures
        rows = [
            Row(
                f"every engine as derived from the topology ({len(result.engines)} engines, scatter {scatter})",
                "-",
                f"{sum(r['ok'] for r in result.engines)}/{len(result.engines)}",
                result.ok,
            )
        ]
        if self.scatter_figure is not None:
            want = self.scatter_figure
            rows.append(Row("length scattered", str(want), str(data["scatter"]), data["scatter"] == want))
        for key, want in lec.items():
            rows.append(Row(LABELS.get(key, key.replace("_", " ")), fmt(want), fmt(got[key]), got[key] == want))
        rows += self.extra_rows(data, got, topo)
        ok = result.ok and all_agree(rows)
        return Outcome(self.id, "", ok, dict(lec), got, rows, detail=format_table(result))
