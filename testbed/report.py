"""The reproduction report: report.md, report.html (plots embedded) and results.json.

Rendering takes the outcomes as plain data, so it is tested on synthetic results
without Docker.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

from . import limits
from .errors import TestbedError
from .lecture import SOURCE as LECTURE_SOURCE
from .outcome import Outcome

if TYPE_CHECKING:  # the experiments import nothing of the report
    from .experiments import Experiment


# -- documents ------------------------------------------------------------------------------------
def _verdict(ok: bool | None) -> str:
    return "agrees" if ok else ("-" if ok is None else "DISAGREES")


def results_json(outcomes: list[tuple[Experiment, Outcome]], machine: dict, meta: dict) -> dict:
    return {
        "ok": all(o.ok for _e, o in outcomes),
        "lecture": LECTURE_SOURCE,
        "machine": machine,
        **meta,
        "experiments": {e.id: {**o.as_json(), "topology": e.topology, "beyond": e.beyond} for e, o in outcomes},
    }


def _md_cell(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


FAULT_COLUMNS = ("fault", "topology", "what was done", "engines lost", "detected after", "tasks lost", "result")


def load_faults(out: Path) -> list[dict]:
    """The fault catalogue's results (``testbed faults --out OUT`` writes OUT/faults.json), if any."""
    path = out / "faults.json"
    if not path.exists():
        return []
    try:  # bounded: a regular file of at most limits.JSON_BYTES, nested at most limits.JSON_DEPTH deep
        doc = limits.load_json(path, "faults results")
    except TestbedError:
        return []  # a broken or hostile file is no section, as a missing one
    faults = doc.get("faults") if isinstance(doc, dict) else None
    return [f for f in faults if isinstance(f, dict) and "name" in f] if isinstance(faults, list) else []


def _fault_row(f: dict) -> list[str]:
    detect = f.get("detect_s")
    lost = f.get("lost") or []
    result = "skipped: " + str(f["skipped"]) if f.get("skipped") else ("ok" if f.get("ok") else "FAILED")
    return [
        str(f.get("name", "")),
        str(f.get("topology", "")),
        str(f.get("done") or "-"),
        ", ".join(map(str, lost)) or "-",
        "-" if detect is None else f"{float(detect):.2f} s",
        "-" if f.get("tasks_lost") is None else str(f["tasks_lost"]),
        result,
    ]


def _faults_md(faults: list[dict]) -> list[str]:
    if not faults:
        return []
    lines = [
        "",
        "## Faults (`make faults`)",
        "",
        "| " + " | ".join(FAULT_COLUMNS) + " |",
        "|" + "---|" * len(FAULT_COLUMNS),
    ]
    lines += ["| " + " | ".join(_md_cell(c) for c in _fault_row(f)) + " |" for f in faults]
    for f in faults:
        where = f"{f.get('name')} on {f.get('topology')}"
        lines += [f"- {where}: failed: {_md_cell(str(x))}" for x in f.get("failed") or []]
    return lines


def render_md(outcomes: list[tuple[Experiment, Outcome]], machine: dict, meta: dict) -> str:
    ok = sum(o.ok for _e, o in outcomes)
    lines = [
        "# ipp-testbed: the lecture reproduced",
        "",
        f"Lecture: {LECTURE_SOURCE}. {ok} of {len(outcomes)} experiments agree with it "
        f"(run {meta.get('started', '')}, {meta.get('elapsed_s', 0):.0f} s).",
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in machine.items()]
    lines += ["", "## Summary", "", "| id | experiment | topology | result | time |", "|---|---|---|---|---|"]
    for e, o in outcomes:
        lines.append(f"| {e.id} | {_md_cell(e.title)} | {e.topology} | {_verdict(o.ok)} | {o.seconds:.0f} s |")
    for e, o in outcomes:
        lines += ["", f"## {e.id}: {e.title}", ""]
        if e.about:
            lines += [e.about, ""]
        lines += ["| quantity | lecture | testbed | |", "|---|---|---|---|"]
        for r in o.rows:
            lines.append(
                f"| {_md_cell(r.what)} | {_md_cell(r.lecture)} | {_md_cell(r.testbed)} | {_verdict(r.agree)} |"
            )
        for p in o.plots:
            lines += ["", f"![{e.id}]({p})"]
        if o.notes:
            lines += [""] + [f"- {n}" for n in o.notes]
        if o.detail:
            lines += ["", "```", o.detail.rstrip(), "```"]
        lines += ["", f"**{e.id} {_verdict(o.ok)}** with the lecture ({o.seconds:.1f} s)."]
    lines += _faults_md(meta.get("faults") or [])
    return "\n".join(lines) + "\n"


CSS = """
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.agrees { color: #1e8449; font-weight: 600; } .DISAGREES { color: #c0392b; font-weight: 700; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; border: 1px solid #eee; }
"""


def render_html(outcomes: list[tuple[Experiment, Outcome]], machine: dict, meta: dict, out: Path) -> str:
    esc = html.escape

    def verdict(ok) -> str:
        v = _verdict(ok)
        return f'<span class="{v}">{esc(v)}</span>'

    ok = sum(o.ok for _e, o in outcomes)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>ipp-testbed: the lecture reproduced</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>ipp-testbed: the lecture reproduced</h1>",
        f"<p>Lecture: {esc(LECTURE_SOURCE)}. <b>{ok} of {len(outcomes)}</b> experiments agree with it "
        f"(run {esc(str(meta.get('started', '')))}, {meta.get('elapsed_s', 0):.0f} s).</p>",
        "<h2>Machine</h2><ul>",
    ]
    parts += [f"<li>{esc(k.replace('_', ' '))}: {esc(str(v))}</li>" for k, v in machine.items()]
    parts += [
        "</ul><h2>Summary</h2><table><tr><th>id</th><th>experiment</th><th>topology</th><th>result</th>"
        "<th>time</th></tr>"
    ]
    for e, o in outcomes:
        parts.append(
            f"<tr><td><a href='#{e.id}'>{e.id}</a></td><td>{esc(e.title)}</td><td>{esc(e.topology)}</td>"
            f"<td>{verdict(o.ok)}</td><td>{o.seconds:.0f} s</td></tr>"
        )
    parts.append("</table>")
    for e, o in outcomes:
        parts.append(f"<h2 id='{e.id}'>{e.id}: {esc(e.title)}</h2>")
        if e.about:
            parts.append(f"<p>{esc(e.about)}</p>")
        parts.append("<table><tr><th>quantity</th><th>lecture</th><th>testbed</th><th></th></tr>")
        for r in o.rows:
            parts.append(
                f"<tr><td>{esc(r.what)}</td><td>{esc(r.lecture)}</td><td>{esc(r.testbed)}</td>"
                f"<td>{verdict(r.agree)}</td></tr>"
            )
        parts.append("</table>")
        for p in o.plots:
            data = base64.b64encode((out / p).read_bytes()).decode()
            parts.append(f"<p><img alt='{esc(e.id)}' src='data:image/png;base64,{data}'></p>")
        if o.notes:
            parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in o.notes) + "</ul>")
        if o.detail:
            parts.append(f"<pre>{esc(o.detail.rstrip())}</pre>")
        parts.append(f"<p><b>{e.id} {verdict(o.ok)}</b> with the lecture ({o.seconds:.1f} s).</p>")
    faults = meta.get("faults") or []
    if faults:
        parts.append("<h2 id='faults'>Faults (make faults)</h2><table><tr>")
        parts.append("".join(f"<th>{esc(c)}</th>" for c in FAULT_COLUMNS) + "</tr>")
        for f in faults:
            parts.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in _fault_row(f)) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write(out: Path, outcomes: list[tuple[Experiment, Outcome]], machine: dict, meta: dict) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    meta = {**meta, "faults": load_faults(out)}  # a section of the report when `make faults` ran here
    paths = {"md": out / "report.md", "html": out / "report.html", "json": out / "results.json"}
    paths["md"].write_text(render_md(outcomes, machine, meta))
    paths["html"].write_text(render_html(outcomes, machine, meta, out))
    paths["json"].write_text(json.dumps(results_json(outcomes, machine, meta), indent=2, default=str) + "\n")
    return paths
