"""``testbed reproduce``: every lecture experiment on its topology, side by side with the lecture.

Each experiment collects its data on the cluster, is judged on that data alone, and its
plots are drawn from it; the report renders the outcomes, and ``collected.json`` keeps the
data. Experiments that share a topology share one cluster, brought up once and removed
after its last experiment; the digits of pi are made (or found in the cache)
before the cluster that needs them starts. An experiment that fails to run is
reported as disagreeing, with its error, and the others still run.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

from . import digits as digits_mod
from . import docker_env, progress, report, stacks, topology
from .cluster import Cluster, IfExists, check_name
from .errors import TestbedError
from .experiments import Context, Experiment, Outcome, Params

PREFIX = "repro-"


def machine_info(cluster: Cluster) -> dict:
    """What a reader needs to judge the speedups: cores, and the software on the nodes."""
    ctr = cluster.topology.controller
    # the library's own words, without MPI_Init (allowed before it since MPI-3)
    script = (
        "nproc; python3 -c 'import mpi4py; mpi4py.rc.initialize = False; from mpi4py import MPI; "
        "print(MPI.Get_library_version().replace(chr(0), str()).splitlines()[0].strip())'; "
        "python3 -c 'import sys, ipyparallel, mpi4py, numpy, sympy; "
        "print(sys.version.split()[0], ipyparallel.__version__, mpi4py.__version__, numpy.__version__, "
        "sympy.__version__)'"
    )
    code, out, _ = cluster.sh(ctr, script)
    lines = out.strip().splitlines()
    info = {
        "host": f"{platform.node()} ({platform.system()} {platform.release()}, {platform.machine()})",
        "cores_host": os.cpu_count(),
    }
    if code == 0 and len(lines) >= 3:
        py, ipp, mpi4py, np, sympy = lines[2].split()
        info.update(
            cores_node=int(lines[0]),
            mpi_stack=f"{cluster.stack.name}: {cluster.stack.title}",
            mpi=lines[1].strip(),
            python_on_nodes=py,
            ipyparallel=ipp,
            mpi4py=mpi4py,
            numpy=np,
            sympy=sympy,
        )
    try:
        info["docker"] = docker_env.client().version().get("Version")
    except Exception:  # noqa: BLE001 - informational only
        pass
    return info


def _by_topology(experiments: list[Experiment]) -> list[tuple[str, list[Experiment]]]:
    groups: dict[str, list[Experiment]] = {}
    for e in experiments:
        groups.setdefault(e.topology, []).append(e)
    return list(groups.items())


def run(
    experiments: list[Experiment],
    out: Path,
    params: Params | None = None,
    log: Callable[[str], None] = print,
    prefix: str = PREFIX,
    stack: stacks.Stack = stacks.DEFAULT,
) -> tuple[list[tuple[Experiment, Outcome]], dict[str, Path]]:
    params = params or Params()
    out.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    t_all = time.monotonic()
    outcomes: list[tuple[Experiment, Outcome]] = []
    collected: dict[str, dict] = {}  # what each experiment collected, judged again by `judge` alone
    machine: dict = {}
    meta: dict = {"started": started, "params": {k: str(v) for k, v in vars(params).items()}}

    held = [e for e in experiments if stack.name in e.stacks]
    for e in experiments:
        if e not in held:
            log(f"== {e.id}: not run on {stack.name} (it holds on {', '.join(e.stacks)})")
    experiments = held

    dset = None
    if needing := [e.id for e in experiments if e.needs_digits]:  # before any cluster takes the CPU
        t0 = time.monotonic()
        with progress.track(f"{', '.join(needing)}: the digits of pi (made once, then cached)"):
            dset = digits_mod.ensure(
                params.digit_files,
                params.digits_per_file,
                params.digit_cache,
                log=log,
                check_prefix=params.check_prefix,
            )
        meta["digits"] = {
            "folder": str(dset.folder),
            "generate_s": dset.manifest.get("generate_s"),
            "this_run_s": round(time.monotonic() - t0, 1),
        }

    groups = _by_topology(experiments)
    total, done = len(experiments), 0  # on a terminal, "[3/13] L3 ..." and its elapsed time (testbed.progress)
    try:
        for gi, (topo_name, exps) in enumerate(groups, 1):
            ids = ", ".join(e.id for e in exps)
            log(f"== [{gi}/{len(groups)}] {topo_name}: {ids}")
            name = check_name(prefix + topo_name + ("" if stack is stacks.DEFAULT else f"-{stack.name}"))
            cluster = Cluster(topology.load(topo_name), name=name, log=log, stack=stack)
            try:
                with progress.track(f"[{done + 1}/{total}] {ids}: bringing {topo_name} up"):
                    cluster.up(if_exists=IfExists.REPLACE)  # a crashed earlier run's leftovers go
            except TestbedError as e:
                done += len(exps)
                for exp in exps:
                    outcomes.append((exp, _failed(exp, f"bringing {topo_name} up failed: {e}")))
                    log(f"== {exp.id}: FAILED ({e})")
                continue
            try:
                if not machine:
                    machine = machine_info(cluster)
                meta.setdefault("bringup_s", {})[topo_name] = round(cluster.timings.get("up", 0.0), 1)
                for exp in exps:
                    t0 = time.monotonic()
                    done += 1
                    log(f"-- {exp.id}: {exp.title}")
                    try:
                        with progress.track(f"[{done}/{total}] {exp.id} {exp.title}"):
                            data = exp.collect(Context(cluster, out, params, log, machine, dset))
                    except TestbedError as e:
                        outcome = _failed(exp, str(e))
                    else:
                        collected[exp.id] = data
                        outcome = exp.judge(data, params, cluster.topology)
                        outcome.plots = _plot(exp, data, out, log)
                    outcome.title = exp.title
                    outcome.seconds = time.monotonic() - t0
                    outcomes.append((exp, outcome))
                    log(
                        f"-- {exp.id}: {'agrees with the lecture' if outcome.ok else 'DISAGREES'} "
                        f"({outcome.seconds:.1f}s)"
                    )
                    for r in outcome.rows:
                        if r.agree is False:
                            log(f"     {r.what}: lecture {r.lecture}, testbed {r.testbed}")
            finally:
                cluster.down()
    finally:
        meta["elapsed_s"] = round(time.monotonic() - t_all, 1)
        paths = report.write(out, outcomes, machine, meta) if outcomes else {}
        if collected:
            paths["collected"] = out / "collected.json"
            paths["collected"].write_text(json.dumps(collected, indent=1, default=str) + "\n")
    return outcomes, paths


def _plot(exp: Experiment, data: dict, out: Path, log: Callable[[str], None]) -> list[str]:
    if exp.plot is None:
        return []
    try:
        return exp.plot(data, out)
    except ImportError as e:  # pragma: no cover - matplotlib is a dependency
        log(f"[{exp.id}] no plot: {e}")
        return []


def _failed(exp: Experiment, error: str) -> Outcome:
    return Outcome(exp.id, exp.title, False, {}, {"error": error}, notes=[f"error: {error}"])


def write_stacks(out: Path, chosen: list[Experiment], by_stack: dict[str, list[tuple[Experiment, Outcome]]]) -> dict:
    """One page over every stack's run: an experiment a row, a stack a column (each stack's
    own report, with its figures and plots, is in OUT/<stack>/)."""
    names = list(by_stack)
    verdicts = {s: {e.id: o for e, o in outs} for s, outs in by_stack.items()}

    def cell(stack: str, exp_id: str) -> str:
        o = verdicts[stack].get(exp_id)
        return "not run" if o is None else ("agrees" if o.ok else "DISAGREES")

    rows = [[e.id, e.title, e.topology, *(cell(s, e.id) for s in names)] for e in chosen]
    titles = [stacks.get(s).title for s in names]
    md = ["# ipp-testbed: the lecture reproduced on every MPI stack", ""]
    md += [f"- {s}: {t}, report in [{s}/report.md]({s}/report.md)" for s, t in zip(names, titles)]
    md += ["", "| id | experiment | topology | " + " | ".join(names) + " |", "|---" * (3 + len(names)) + "|"]
    md += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    agree = {s: sum(cell(s, e.id) == "agrees" for e in chosen) for s in names}
    md += ["", "Agreeing with the lecture: " + ", ".join(f"{s} {agree[s]}/{len(chosen)}" for s in names), ""]
    html_rows = "".join(
        "<tr>" + "".join(f"<td class='{c}'>{c}</td>" if i >= 3 else f"<td>{c}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    links = "".join(f"<li>{s}: {t}, <a href='{s}/report.html'>report</a></li>" for s, t in zip(names, titles))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>ipp-testbed: every MPI stack</title>"
        f"<style>{report.CSS}</style></head><body><h1>The lecture reproduced on every MPI stack</h1>"
        f"<ul>{links}</ul><table><tr><th>id</th><th>experiment</th><th>topology</th>"
        + "".join(f"<th>{s}</th>" for s in names)
        + f"</tr>{html_rows}</table></body></html>\n"
    )
    paths = {"md": out / "report.md", "html": out / "report.html"}
    out.mkdir(parents=True, exist_ok=True)
    paths["md"].write_text("\n".join(md))
    paths["html"].write_text(page)
    return paths
