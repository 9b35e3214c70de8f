"""The faults that strike while a workload runs: the workload, its wait, and the judgement they share.

``workloads/faults_node.py`` runs on the controller node: N load-balanced tasks with retries, plus
one long direct task on each engine that is to be lost. Once every direct task runs, it writes a
marker, and the fault's ``inject`` strikes. Then:

- every task answers: a result while an engine is left, ipyparallel's error otherwise; tasks lost
  (no answer at all within the bound) must be 0;
- the direct tasks on the lost engines fail with an error, not a hang;
- the controller drops exactly the lost engines (the time it takes is measured);
- a check of the cluster names the lost engines, and every other engine still reports what the
  topology derives for the engines that are left (its world's psum included).
"""

from __future__ import annotations

import json
import time
from pathlib import PurePosixPath

from .. import checks
from ..cluster import ATTACHED_WAIT, LOGS, WORKLOADS, Cluster
from ..errors import TestbedError
from ..waiting import poll
from .base import Fault, FaultResult

TASKS, TASK_S = 40, 0.25
DRILL_TIMEOUT = 60.0  # s: the workload's bound for every task and every lost engine to be dropped


class WorkloadFault(Fault):
    """A fault injected while the drill's workload runs; a member says how (``inject``)."""

    def inject(self, cluster: Cluster, victim, lost: set[int], started: dict, res: FaultResult) -> None:
        """Strike (``res.done`` says what was done); the injection's time is taken just before."""
        raise NotImplementedError

    def after(self, cluster: Cluster, res: FaultResult) -> None:
        """What is measured once the workload is done (nothing, unless a member says)."""

    def drill(self, cluster: Cluster, victim, lost: set[int], res: FaultResult) -> None:
        topo, ctl = cluster.topology, cluster.controller
        marker, out = LOGS / f"fault-{self.name}.marker", LOGS / f"fault-{self.name}.json"
        ctl.exec(["rm", "-f", str(marker), str(out)])
        argv = [
            "python3",
            str(WORKLOADS / "faults_node.py"),
            "drill",
            "--engines",
            str(topo.engine_count),
            "--tasks",
            str(TASKS),
            "--task-s",
            str(TASK_S),
            "--lost",
            ",".join(map(str, sorted(lost))),
            "--marker",
            str(marker),
            "--out",
            str(out),
            "--timeout",
            str(DRILL_TIMEOUT),
        ]
        ctl.start(argv, LOGS / f"fault-{self.name}.log")
        started = read_json(cluster, marker, 60, "the drill's workload to start")
        t_inject = time.time()
        self.inject(cluster, victim, lost, started, res)
        doc = read_json(cluster, out, DRILL_TIMEOUT + 30, "the drill's workload to finish")
        if "error" in doc:
            res.failed.append(f"the workload failed: {doc['error']}")
            return
        self.after(cluster, res)
        judge(cluster, doc, lost, t_inject, res)


def read_json(cluster: Cluster, path: PurePosixPath, timeout: float, what: str) -> dict:
    """The JSON file ``path`` on the controller node, once it is there (or the log's tail, in the error)."""
    ctl = cluster.controller
    found: dict = {}

    def ready() -> bool:
        r = ctl.exec(["cat", str(path)])
        if r.code:
            return False
        found.update(json.loads(r.out))
        return True

    try:
        poll(ready, timeout=timeout, what=what, interval=0.1)
    except TestbedError as e:
        raise TestbedError(f"{e}\n{ctl.tail(path.stem + '.log', 10)}") from None
    return found


def judge(cluster: Cluster, doc: dict, lost: set[int], t_inject: float, res: FaultResult) -> None:
    """What must hold after a fault that took ``lost``, from the workload's record ``doc`` and a check."""
    everyone = set(doc["ids"])
    left = everyone - lost
    res.tasks_lost = len(doc["missing"])
    res.expect(f"every one of {doc['tasks']} tasks answered (tasks lost: {res.tasks_lost})", not doc["missing"])
    results = {int(k): v for k, v in doc["results"].items()}
    if left:
        right = all(results.get(k) == k * k for k in range(doc["tasks"]))
        res.expect(f"all {doc['tasks']} results arrived once, right, on the engines left", right)
        stray = sorted({v for k, v in doc["ran_on"].items() if int(k) in results} & lost)
        res.extra["tasks_finished_on_lost_engines_before_the_fault"] = len(stray)
    else:  # none left: what had not finished must fail (TaskTimeout once it waited for an engine)
        kinds = sorted({v.split(":")[0] for v in doc["errors"].values()})
        res.expect(
            f"with no engine left, every unfinished task failed ({', '.join(kinds) or 'none'}), none hung",
            len(results) + len(doc["errors"]) == doc["tasks"],
        )
    direct = doc["direct"]
    res.expect(
        f"direct tasks on the lost engines failed with ipyparallel's EngineError, not a hang "
        f"({', '.join(sorted(set(direct.values())))})",
        bool(direct) and set(direct.values()) == {"EngineError"},
    )
    gone = {int(k): t for k, t in doc["gone_at"].items()}
    res.expect(f"the controller dropped exactly engines {sorted(lost)}", set(gone) == lost and set(doc["left"]) == left)
    if lost <= set(gone):
        res.detect_s = round(max(gone[i] for i in lost) - t_inject, 2)
    # the check: the lost engines named, every other one as derived for the engines left
    try:
        report = cluster.report(cluster.topology.scatter, timeout=ATTACHED_WAIT, partial=True, engines=len(left))
    except TestbedError as e:  # e.g. engines left registered but stuck in their broken world
        res.failed.append(f"the check of the cluster after the fault: {str(e).splitlines()[0]}")
        return
    seen = {int(e["id"]) for e in report["engines"]}
    topo = cluster.topology
    result = checks.against(topo, report["engines"], cluster=cluster.name, alive=left) if left else None
    as_derived = result is None or result.ok
    res.extra["check"] = cluster.missing_note(sorted(lost)) if lost else ""
    what = f"the check names engines {sorted(lost)} as gone and the {len(left)} left as derived"
    if seen != left or not as_derived:  # say which part did not hold
        what += ": " + "; ".join(check_differences(seen, left, report, result))
    res.expect(what, seen == left and as_derived)


def check_differences(seen: set[int], left: set[int], report: dict, result) -> list[str]:
    """Why the check after a fault is not the derivation's: which engines answered, which fields differ."""
    why = []
    if seen != left:
        why.append(f"engines {sorted(seen)} reported, {sorted(left)} were to")
    why += checks.probe_problems(report)
    if result is not None:
        why += [f"engine {r['id']}: {', '.join(r['mismatches'])}" for r in result.engines if not r["ok"]]
        why += result.problems
    return why
