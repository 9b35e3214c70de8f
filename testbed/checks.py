"""Compare what the engines reported with what the topology says they must report."""

from __future__ import annotations

from dataclasses import dataclass, field

from .expect import EngineExpect, derive
from .topology import Topology

# the fields compared engine by engine, each against its derived expectation
CHECKED = ("hostname", "world_rank", "world_size", "world", "chunk_len", "chunk_start", "psum")
MERGED = ("merged_rank", "merged_size", "merged_psum")


@dataclass
class CheckResult:
    topology: str
    cluster: str
    scatter: int
    engines: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(e["ok"] for e in self.engines)

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "topology": self.topology,
            "cluster": self.cluster,
            "scatter": self.scatter,
            "engines": self.engines,
            "problems": self.problems,
        }


def _same(field_name: str, got, want) -> bool:
    if field_name in ("psum", "chunk_start", "merged_psum") and got is not None and want is not None:
        return abs(float(got) - float(want)) <= 1e-9 * max(1.0, abs(float(want)))
    return got == want


def compare(
    expected: list[EngineExpect],
    observed: list[dict],
    *,
    topology: str,
    cluster: str,
    scatter: int,
) -> CheckResult:
    result = CheckResult(topology=topology, cluster=cluster, scatter=scatter)
    seen = {int(e["id"]): e for e in observed}
    want_ids = [e.id for e in expected]
    extra = sorted(set(seen) - set(want_ids))
    if extra:
        result.problems.append(f"engines not in the topology: ids {extra}")

    for exp in expected:
        got = seen.get(exp.id)
        row: dict = {"id": exp.id, "group": exp.group}
        fields = CHECKED + (MERGED if exp.merged_size is not None else ())
        if got is None:
            row.update({"ok": False, "mismatches": ["missing"]})
            for f in fields:
                row[f] = None
                row[f"expected_{f}"] = getattr(exp, f)
            result.engines.append(row)
            continue
        # an empty chunk has no first item: nothing to compare there
        want_start = exp.chunk_start if exp.chunk_len else None
        mismatches = []
        row["pid"] = got.get("pid")
        row["slurm_job_id"] = got.get("slurm_job_id") or ""  # shown, not compared: which engines share a job
        for f in fields:
            want = want_start if f == "chunk_start" else getattr(exp, f)
            row[f] = got.get(f)
            row[f"expected_{f}"] = want
            if not _same(f, got.get(f), want):
                mismatches.append(f)
        row["ok"] = not mismatches
        row["mismatches"] = mismatches
        result.engines.append(row)

    # pids: distinct engines are distinct processes (per host; pid namespaces differ)
    by_host: dict[tuple[str, int], list[int]] = {}
    for e in observed:
        by_host.setdefault((e.get("hostname"), e.get("pid")), []).append(int(e["id"]))
    for (host, pid), ids in sorted(by_host.items(), key=lambda kv: kv[1]):
        if len(ids) > 1:
            result.problems.append(f"engines {ids} share one pid {pid} on {host}")
    return result


def format_table(result: CheckResult) -> str:
    """A table with one line per engine; a mismatched value shows what was wanted."""

    def cell(row: dict, f: str) -> str:
        got, want = row.get(f), row.get(f"expected_{f}")
        shown = _fmt(got)
        if f in row.get("mismatches", []) or got is None and want is not None:
            shown += f" (want {_fmt(want)})"
        return shown

    merged = any("expected_merged_size" in r for r in result.engines)
    headers = ["id", "group", "host", "pid", "rank", "size", "world", "chunk", "psum"]
    if merged:
        headers += ["merged rank", "merged size", "merged psum"]
    jobs = any(r.get("slurm_job_id") for r in result.engines)
    if jobs:
        headers.append("slurm job")
    headers.append("ok")
    rows = []
    for r in result.engines:
        row = [
            str(r["id"]),
            r["group"],
            cell(r, "hostname"),
            _fmt(r.get("pid")),
            cell(r, "world_rank"),
            cell(r, "world_size"),
            cell(r, "world"),
            cell(r, "chunk_len"),
            cell(r, "psum"),
        ]
        if merged:
            row += [cell(r, "merged_rank"), cell(r, "merged_size"), cell(r, "merged_psum")]
        if jobs:
            row.append(r.get("slurm_job_id") or "-")
        row.append("ok" if r["ok"] else "MISMATCH: " + ",".join(r["mismatches"]))
        rows.append(row)
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines += [f"problem: {p}" for p in result.problems]
    verdict = "OK" if result.ok else "FAILED"
    lines.append(
        f"{verdict}: {result.topology} (cluster {result.cluster}), scatter {result.scatter}, "
        f"{sum(r['ok'] for r in result.engines)}/{len(result.engines)} engines as derived"
    )
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def against(
    topology: Topology,
    observed: list[dict],
    *,
    cluster: str,
    scatter: int | None = None,
    alive: set[int] | None = None,
) -> CheckResult:
    """The engines' reports held against the topology's derivation: the one way every caller checks.

    ``alive``: only these engines are left (after a fault); the scatter goes over them alone.
    """
    scatter = topology.scatter if scatter is None else scatter
    expected = derive(topology, scatter, alive=alive)
    return compare(expected, observed, topology=topology.name, cluster=cluster, scatter=scatter)


def probe_problems(report: dict) -> list[str]:
    """The engines a report left out because they did not pass its world probe, each with its reason.

    ``testbed_node.py report`` gives ``broken`` (ids) and ``broken_why`` (reasons keyed by id as text).
    """
    why = report.get("broken_why") or {}
    return [f"engine {i} did not pass the world probe: {why.get(str(i), '?')}" for i in report.get("broken") or []]
