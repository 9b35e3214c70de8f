"""The results of a benchmark run: the headline figures, the Markdown table, latest.json / latest.md.

Each section gives its own figures, rows and notes (``benchmarks.sections``); this module
puts them together in the registry's order.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from testbed import docker_env, stacks

from . import sections
from .context import RESULTS


def machine() -> dict:
    c = docker_env.client()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "host": platform.node(),
        "kernel": platform.release(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1),
        "docker": c.version().get("Version"),
        "image": stacks.DEFAULT.image,
    }


def _present(res: dict) -> list[tuple[sections.Section, object]]:
    return [(sec, res["sections"][sec.name]) for sec in sections.ordered() if sec.name in res["sections"]]


def headline(res: dict) -> dict:
    """The figures latest.json must carry (and a few more), flat."""
    h: dict = {}
    for sec, value in _present(res):
        h.update(sec.headline(value))
    return h


def markdown(res: dict) -> str:
    m = res["machine"]
    lines = [
        f"# ipp-testbed benchmarks, {res['started']}",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, kernel {m['kernel']}, Docker {m['docker']}. "
        f"Runs per figure: {res['runs']} after a warm-up. Ratios are containers / host, run by run.",
        "",
        "| figure | median | min | max | runs |",
        "|---|---|---|---|---|",
    ]
    present = _present(res)
    for sec, value in present:
        lines += sec.rows(value)
    for sec, value in present:
        lines += sec.notes(value)
    return "\n".join(lines) + "\n"


def write_latest(res: dict, stamp: str, results: Path | None = None) -> dict:
    """latest.json / latest.md: this run's sections over the previous latest's (a run may do a subset)."""
    results = results or RESULTS
    path = results / "latest.json"
    try:
        old_latest = json.loads(path.read_text())
    except (OSError, ValueError):
        old_latest = {}
    old = old_latest.get("sections", {})
    old_sources = old_latest.get("sources", {})
    sections_now = {**old, **res["sections"]}
    sources = {**old_sources, **{name: f"{stamp}.json" for name in res["sections"]}}
    for sec, value in _present(res):
        sections_now[sec.name] = sec.merge(
            old.get(sec.name), value, sources=sources, old_sources=old_sources, stamp=stamp, results=results
        )
    merged = {"started": res["started"], "runs": res["runs"], "machine": res["machine"], "sections": sections_now}
    latest = {
        **headline(merged),
        "machine": res["machine"],
        "updated": res["started"],
        "sources": sources,
        "sections": sections_now,
    }
    if "hosts" in old_latest:  # the test hosts' bring-up (testbed hosts-matrix --bench) is not this run's
        latest["hosts"] = old_latest["hosts"]
    for sec, value in _present(merged):
        latest.update(sec.latest_keys(value))
    path.write_text(json.dumps(latest, indent=2) + "\n")
    md = markdown(merged)
    md += "\nSections measured in: " + ", ".join(f"{k} {v}" for k, v in sources.items()) + "\n"
    (results / "latest.md").write_text(md)
    return latest
