"""``testbed faults``: break a running cluster on purpose, and check what must still hold.

Each fault gets a cluster of its own, brought up fresh. While a workload runs on it
(``workloads/faults_node.py``: N load-balanced tasks with retries, plus one long direct
task on each engine that is to be lost), the fault is injected from the host. Then:

- **what is lost is derived, not observed**: killing an engine loses it, or, when it is
  a rank of an MPI world, the whole world (the MPI launcher ends every rank of a job
  whose rank died); losing a node loses its engines and every world with a rank on it;
- every task answers: a result while an engine is left, ipyparallel's error otherwise;
  tasks lost (no answer at all within the bound) must be 0;
- the direct tasks on the lost engines fail with an error, not a hang;
- the controller drops exactly the lost engines (the time it takes is measured);
- a check of the cluster names the lost engines, and every other engine still reports
  what the topology derives for the engines that are left (its world's psum included).

Faults:

- ``engine-killed``: ``kill -9`` of one plain engine (not a rank of a world);
- ``rank-killed``: ``kill -9`` of rank 0 of the last MPI world;
- ``node-lost``: ``docker kill`` of the last node (not the controller's) that holds engines;
- ``partition``: that node cut off the cluster network for ``PARTITION_S`` seconds, then
  connected again: its engines are dropped (the heartbeat), an MPI world with a rank
  there ends; whether they come back is measured, not assumed;
- ``slow-network``: ``tc netem`` delay and loss on the second node's interface (from a
  helper container in that node's network namespace, with NET_ADMIN for it alone); where
  the kernel has no netem, tbf's rate limit and iptables' random drop instead. Task
  round trips and MPI ping-pong, of a small and a big message, are measured before and
  after, and the check must still hold;
- ``controller-restart``: ``kill -9`` of the controller, then ``ipcontroller --restore``
  on the same connection files: how many engines come back is measured, and the check
  says which did not;
- ``up-killed``: ``testbed up`` killed with SIGKILL in the middle of a bring-up; the next
  ``up`` of that name says what is left and how to remove it; ``clean`` leaves nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from . import docker_env, labels, placement, stacks
from .checks import compare
from .cluster import ATTACHED_WAIT, LOGS, WORKLOADS, Cluster, IfExists
from .errors import TestbedError
from .expect import derive
from .topology import Topology
from .waiting import poll

FAULTS = ("engine-killed", "rank-killed", "node-lost", "partition", "controller-restart", "slow-network", "up-killed")
NETEM = ("delay", "20ms", "loss", "1%")  # what slow-network adds to the node's outgoing traffic
# where the kernel has no netem: a slow link (8 Mbit/s) and random loss, from what it has
TBF = ("tbf", "rate", "8mbit", "burst", "16kb", "latency", "400ms")
LOSS = 0.01
BIG = 64 * 1024  # bytes of the big message: 64 ms a way at 8 Mbit/s
PARTITION_S = 10.0  # s a node is cut off: twice the time the controller takes to drop a silent engine
COME_BACK_S = 30.0  # s the testbed waits for engines to come back after a partition or a controller restart
TASKS, TASK_S = 40, 0.25
DRILL_TIMEOUT = 60.0  # s: the workload's bound for every task and every lost engine to be dropped


class NoNetem(TestbedError):
    """The host's kernel cannot add delay or loss (no sch_netem)."""


@dataclass
class FaultResult:
    name: str
    topology: str
    done: str = ""  # what was done
    held: list[str] = field(default_factory=list)  # what held
    failed: list[str] = field(default_factory=list)  # what did not
    tasks_lost: int | None = None
    detect_s: float | None = None  # injection -> the controller dropped every lost engine
    lost: list[int] = field(default_factory=list)
    skipped: str = ""  # why the fault does not apply to the topology
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped

    def as_json(self) -> dict:
        return {"ok": self.ok, **asdict(self)}

    def expect(self, what: str, cond: bool) -> None:
        (self.held if cond else self.failed).append(what)


# -- what a fault takes, from the topology alone ------------------------------------------------
def lost_with(topo: Topology, victims: set[int]) -> set[int]:
    """The engines that go when ``victims`` die: each victim, and every rank of a world it is in."""
    rows = placement.derive(topo)
    worlds = {r.world for r in rows if r.id in victims and r.size > 1}
    return {r.id for r in rows if r.id in victims or r.world in worlds}


def lost_with_node(topo: Topology, node: str) -> set[int]:
    return lost_with(topo, {r.id for r in placement.derive(topo) if r.node == node})


def pick(topo: Topology, fault: str) -> tuple[object, set[int]] | str:
    """(victim, engines lost) for a fault on ``topo``, or why it does not apply."""
    rows = placement.derive(topo)
    if fault == "engine-killed":
        plain = [r for r in rows if r.size == 1]
        if not plain:
            return "no plain engine (every engine is a rank of an MPI world: see rank-killed)"
        victim = plain[-1]
        return victim, {victim.id}
    if fault == "rank-killed":
        worlds = [r for r in rows if r.size > 1 and r.rank == 0]
        if not worlds:
            return "no MPI world of more than one rank"
        victim = max(worlds, key=lambda r: r.world)
        return victim, lost_with(topo, {victim.id})
    if fault in ("node-lost", "partition"):
        nodes = [n for n in dict.fromkeys(r.node for r in rows) if n != topo.controller]
        if not nodes:
            return "no engine on a node other than the controller's"
        node = nodes[-1]
        return node, lost_with_node(topo, node)
    if fault == "controller-restart":
        return topo.controller, set()
    if fault == "slow-network":
        nodes = list(topo.nodes)
        if len(nodes) < 2:
            return "one node: no network between nodes to slow down"
        on = [r for r in rows if r.node == nodes[1]]
        if not on:
            return f"no engine on {nodes[1]}, the node whose network would be slowed"
        return on[0], set()
    raise ValueError(fault)


# -- the drills -----------------------------------------------------------------------------------
class Drills:
    def __init__(self, topo: Topology, stack: stacks.Stack = stacks.DEFAULT, log: Callable[[str], None] = print):
        self.topo = topo
        self.stack = stack
        self.log = log

    def run(self, names: list[str]) -> list[FaultResult]:
        out = []
        for name in names:
            t = time.monotonic()
            try:
                if name == "up-killed":
                    res = self.up_killed()
                elif name == "controller-restart":
                    res = self.controller_restart()
                elif name == "slow-network":
                    res = self.slow_network()
                else:
                    res = self.drill(name)
            except TestbedError as e:  # the drill itself could not run: that fault's result, one line
                res = FaultResult(name, self.topo.name, failed=[f"the drill did not run: {str(e).splitlines()[0]}"])
            res.extra["seconds"] = round(time.monotonic() - t, 1)
            verdict = "ok" if res.ok else "FAILED: " + "; ".join(res.failed)
            verdict = "skipped: " + res.skipped if res.skipped else verdict
            self.log(f"[faults] {name} on {self.topo.name}: {verdict}")
            out.append(res)
        return out

    def drill(self, name: str) -> FaultResult:
        topo = self.topo
        res = FaultResult(name, topo.name)
        chosen = pick(topo, name)
        if isinstance(chosen, str):
            res.skipped = chosen
            return res
        victim, lost = chosen
        res.lost = sorted(lost)
        cluster = Cluster(topo, name=f"faults-{topo.name}", log=self.log, stack=self.stack)
        cluster.up(if_exists=IfExists.REPLACE)
        try:
            self._drill(cluster, name, victim, lost, res)
        finally:
            cluster.down(quiet=True)
        return res

    def _drill(self, cluster: Cluster, name: str, victim, lost: set[int], res: FaultResult) -> None:
        topo, ctl = self.topo, cluster.controller
        marker, out = LOGS / f"fault-{name}.marker", LOGS / f"fault-{name}.json"
        ctl.exec(["rm", "-f", str(marker), str(out)])
        argv = ["python3", str(WORKLOADS / "faults_node.py"), "drill", "--engines", str(topo.engine_count),
                "--tasks", str(TASKS), "--task-s", str(TASK_S), "--lost", ",".join(map(str, sorted(lost))),
                "--marker", str(marker), "--out", str(out), "--timeout", str(DRILL_TIMEOUT)]  # fmt: skip
        ctl.start(argv, LOGS / f"fault-{name}.log")
        started = self._read_json(cluster, marker, 60, "the drill's workload to start")
        time.sleep(0.3)  # tasks in flight
        if name == "node-lost":
            svc = str(victim)
            res.done = f"docker kill of node {svc} (engines {sorted(lost)} on it or in a world with a rank on it)"
            t_inject = time.time()
            cluster.node(svc).container.kill()
        elif name == "partition":
            svc = str(victim)
            res.done = f"node {svc} cut off the cluster network for {PARTITION_S:.0f} s, then connected again"
            t_inject = time.time()
            self._partition(cluster, svc, res)
        else:
            row = victim
            host, pid = started["where"][str(row.id)]
            what = "a plain engine" if name == "engine-killed" else f"rank {row.rank} of the world of {row.size}"
            res.done = f"kill -9 of engine {row.id} ({what}, pid {pid} on {row.node})"
            t_inject = time.time()
            code = cluster.exec(row.node, ["kill", "-9", str(pid)]).code
            res.expect(f"engine {row.id}'s process was there to kill", code == 0)
        doc = self._read_json(cluster, out, DRILL_TIMEOUT + 30, "the drill's workload to finish")
        if "error" in doc:
            res.failed.append(f"the workload failed: {doc['error']}")
            return
        if name == "partition":  # measured, not asserted: ipyparallel does not promise a return
            back = self._registered_within(cluster, topo.engine_count, COME_BACK_S)
            res.extra["engines_after_reconnect"] = back
            res.extra["came_back"] = back == topo.engine_count
        self._judge(cluster, doc, lost, t_inject, res)

    def _partition(self, cluster: Cluster, svc: str, res: FaultResult) -> None:
        ctr = cluster.node(svc).container
        ctr.reload()
        (net_name,) = list(ctr.attrs["NetworkSettings"]["Networks"])[:1]
        net = docker_env.client().networks.get(net_name)
        net.disconnect(ctr)
        time.sleep(PARTITION_S)
        # the node's names on the network, as compose gave them (the service, its hostname)
        net.connect(ctr, aliases=list(dict.fromkeys([svc, cluster.topology.hostname(svc)])))
        res.extra["partition_s"] = PARTITION_S

    def _registered_within(self, cluster: Cluster, want: int, timeout: float) -> int:
        """How many engines the controller has once ``want`` are there, or after ``timeout`` seconds."""
        count = ["python3", "-c", "import ipyparallel as ipp; rc = ipp.Client(timeout=10); print(len(rc.ids))"]
        seen = [0]

        def enough() -> bool:
            r = cluster.controller.exec(count)
            if r.code == 0 and r.out.strip().isdigit():
                seen[0] = int(r.out.strip())
            return seen[0] >= want

        try:
            poll(enough, timeout=timeout, what=f"{want} engines registered", interval=0.5)
        except TestbedError:
            pass
        return seen[0]

    # -- 6: a slow network on one node ------------------------------------------------------------
    def slow_network(self) -> FaultResult:
        topo = self.topo
        res = FaultResult("slow-network", topo.name)
        chosen = pick(topo, "slow-network")
        if isinstance(chosen, str):
            res.skipped = chosen
            return res
        row, _ = chosen
        cluster = Cluster(topo, name=f"faults-{topo.name}", log=self.log, stack=self.stack)
        cluster.up(if_exists=IfExists.REPLACE)
        try:
            before = self._latencies(cluster, row.id)
            try:
                self._net_admin(cluster, row.node, ["tc", "qdisc", "add", "dev", "eth0", "root", "netem", *NETEM])
                res.done = f"tc netem {' '.join(NETEM)} on {row.node}'s eth0 (from a helper with NET_ADMIN)"
                grows = "small"  # a delay slows every message
            except NoNetem:
                # No sch_netem in this kernel: a slow link instead, as tbf's rate limit (which
                # delays big messages, not small ones) and random loss from iptables' statistic match
                self.log(f"[faults] no netem in this kernel: {' '.join(TBF)} and {LOSS:.0%} loss by iptables")
                self._net_admin(cluster, row.node, ["tc", "qdisc", "add", "dev", "eth0", "root", *TBF])
                drop = ["-m", "statistic", "--mode", "random", "--probability", str(LOSS), "-j", "DROP"]
                self._net_admin(cluster, row.node, ["iptables", "-A", "OUTPUT", "-o", "eth0", *drop])
                res.done = (
                    f"tc {' '.join(TBF)} and iptables' random drop of {LOSS:.0%} on {row.node}'s eth0 "
                    "(the kernel has no netem; from a helper with NET_ADMIN)"
                )
                grows = "big"  # a rate limit slows big messages
            after = self._latencies(cluster, row.id)
            res.extra.update(before=before, after=after)
            report = cluster.report(topo.scatter)
            right = compare(derive(topo, topo.scatter), report["engines"], topology=topo.name,
                            cluster=cluster.name, scatter=topo.scatter).ok  # fmt: skip
            res.expect("the check holds on the slow network: every engine as derived", right)
            b, a = before[grows], after[grows]
            res.expect(
                f"engine {row.id}'s task round trip ({b['bytes']} B) grew: "
                f"{b['task_rtt_ms']:.1f} -> {a['task_rtt_ms']:.1f} ms",
                a["task_rtt_ms"] > b["task_rtt_ms"],
            )
            res.expect(
                f"MPI ping-pong ({b['bytes']} B) {b['mpi_rtt_us']:.0f} -> {a['mpi_rtt_us']:.0f} us",
                a["mpi_rtt_us"] > b["mpi_rtt_us"],
            )
            res.tasks_lost = 0
        finally:
            cluster.down(quiet=True)
        return res

    def _net_admin(self, cluster: Cluster, svc: str, argv: list[str]) -> None:
        """``argv`` (tc or iptables) in ``svc``'s network namespace, from a helper container:
        NET_ADMIN is granted to that helper only, never to a node of the cluster."""
        from docker.errors import ContainerError

        ctr = cluster.node(svc).container
        try:
            docker_env.client().containers.run(
                cluster.image, argv, entrypoint=[], network_mode=f"container:{ctr.id}",
                cap_add=["NET_ADMIN"], remove=True, labels={labels.CLUSTER: cluster.name}, user="root",
            )  # fmt: skip
        except ContainerError as e:
            if "qdisc kind is unknown" in str(e) and "netem" in argv:  # the kernel has no sch_netem
                raise NoNetem("this kernel has no netem qdisc (tc: 'Specified qdisc kind is unknown')") from None
            raise TestbedError(f"{' '.join(argv)} on {svc} failed: {str(e)[-300:]}") from None

    def _latencies(self, cluster: Cluster, engine: int) -> dict:
        """Task and MPI round trips to ``engine``'s node, of a small and of a big message."""
        from .node import last_json

        ctl = cluster.controller
        out: dict = {}
        for size, nbytes in (("small", 8), ("big", BIG)):
            rtt = ctl.run_json(["python3", str(WORKLOADS / "faults_node.py"), "rtt", "--engine", str(engine),
                                "--bytes", str(nbytes), "--calls", "20"], "rtt")  # fmt: skip
            code, o, err = cluster.run_program("pingpong.py", 2, ("--trips", "20", "--bytes", str(nbytes)), across=True)
            if code:
                raise TestbedError(f"pingpong.py exit {code}: {err.strip()[-300:]}")
            pp = last_json(o, err, "pingpong.py")
            out[size] = {"bytes": nbytes, "task_rtt_ms": rtt["median_ms"], "mpi_rtt_us": pp["median_us"],
                         "mpi_hosts": pp["hosts"]}  # fmt: skip
        return out

    # -- 5: the controller killed and restarted with --restore ----------------------------------
    def controller_restart(self) -> FaultResult:
        topo = self.topo
        res = FaultResult("controller-restart", topo.name)
        cluster = Cluster(topo, name=f"faults-{topo.name}", log=self.log, stack=self.stack)
        cluster.up(if_exists=IfExists.REPLACE)
        try:
            ctl = cluster.controller
            host = topo.hostname(topo.controller)
            # ipcontroller's process, however it was started (by ipcluster, or alone)
            pattern = "ipyparallel.controller|bin/ipcontroller"
            killed = ctl.exec(["pkill", "-9", "-f", pattern]).code == 0
            res.expect("the controller's process was there to kill", killed)
            poll(lambda: ctl.exec(["pgrep", "-f", pattern]).code == 1, timeout=10, what="the controller gone")
            t = time.time()
            res.done = "kill -9 of the controller, then ipcontroller --restore on the same connection files"
            argv = ["ipcontroller", "--restore", "--ip=0.0.0.0", f"--location={host}"]
            ctl.start(argv, LOGS / "controller-restored.log")
            back = self._registered_within(cluster, topo.engine_count, COME_BACK_S)
            res.extra["engines_back"] = back
            if back == topo.engine_count:  # here: the time until every engine is registered again
                res.detect_s = round(time.time() - t, 2)
            # the check: a client gets answers (or this raises), the engines back are as derived
            report = cluster.report(topo.scatter, timeout=ATTACHED_WAIT, partial=True)
            seen = {int(e["id"]) for e in report["engines"]}
            as_derived = not seen or compare(
                derive(topo, topo.scatter, alive=seen), report["engines"],
                topology=topo.name, cluster=cluster.name, scatter=topo.scatter,
            ).ok  # fmt: skip
            res.lost = sorted(set(range(topo.engine_count)) - seen)
            res.extra["check"] = cluster.missing_note(res.lost) if res.lost else "every engine back, as derived"
            n = topo.engine_count
            res.held.append(f"the restored controller answers a client: {len(seen)} of {n} engines back")
            res.expect("the check reports the engines back as derived and names any that did not come back",
                       as_derived)  # fmt: skip
        finally:
            cluster.down(quiet=True)
        return res

    def _judge(self, cluster: Cluster, doc: dict, lost: set[int], t_inject: float, res: FaultResult) -> None:
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
            res.expect(f"with no engine left, every unfinished task failed ({', '.join(kinds) or 'none'}), none hung",
                       len(results) + len(doc["errors"]) == doc["tasks"])  # fmt: skip
        direct = doc["direct"]
        res.expect(
            f"direct tasks on the lost engines failed with ipyparallel's EngineError, not a hang "
            f"({', '.join(sorted(set(direct.values())))})",
            bool(direct) and set(direct.values()) == {"EngineError"},
        )
        gone = {int(k): t for k, t in doc["gone_at"].items()}
        res.expect(f"the controller dropped exactly engines {sorted(lost)}",
                   set(gone) == lost and set(doc["left"]) == left)  # fmt: skip
        if lost <= set(gone):
            res.detect_s = round(max(gone[i] for i in lost) - t_inject, 2)
        # the check: the lost engines named, every other one as derived for the engines left
        try:
            report = cluster.report(cluster.topology.scatter, timeout=ATTACHED_WAIT, partial=True)
        except TestbedError as e:  # e.g. engines left registered but stuck in their broken world
            res.failed.append(f"the check of the cluster after the fault: {str(e).splitlines()[0]}")
            return
        scatter = cluster.topology.scatter
        seen = {int(e["id"]) for e in report["engines"]}
        as_derived = not left or compare(
            derive(cluster.topology, scatter, alive=left), report["engines"],
            topology=cluster.topology.name, cluster=cluster.name, scatter=scatter,
        ).ok  # fmt: skip
        note = cluster.missing_note(sorted(lost)) if lost else ""
        res.extra["check"] = note
        res.expect(f"the check names engines {sorted(lost)} as gone and the {len(left)} left as derived",
                   seen == left and as_derived)  # fmt: skip

    def _read_json(self, cluster: Cluster, path: PurePosixPath, timeout: float, what: str) -> dict:
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

    # -- 7: `testbed up` killed in the middle ----------------------------------------------------
    def up_killed(self) -> FaultResult:
        res = FaultResult("up-killed", self.topo.name)
        name = f"faults-upkill-{self.topo.name}"[:41]
        c = docker_env.client()
        docker_env.clean(c, name)
        cli = [sys.executable, "-m", "testbed.cli"]
        topo_arg = str(self.topo.path)
        proc = subprocess.Popen([*cli, "up", topo_arg, "--name", name, "--mpi", self.stack.name],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)  # fmt: skip
        try:
            poll(lambda: docker_env.leftovers(c, name)["containers"] > 0, timeout=120, what="the bring-up's first node")
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole bring-up, compose included, as a closed terminal
            proc.wait()
        # requests the killed compose had sent may still be completing in the daemon: wait until
        # what is left stops changing (bounded), so that the next `up` and `down` see all of it
        seen: list[dict] = []

        def settled() -> bool:
            seen.append(docker_env.leftovers(c, name))
            return len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]

        poll(settled, timeout=30, what="the killed bring-up's remainder to settle", interval=1.0)
        left = seen[-1]
        res.done = f"SIGKILL of `testbed up {self.topo.name}` once its first node existed: {_count(left)} left"
        again = subprocess.run([*cli, "up", topo_arg, "--name", name], capture_output=True, text=True, timeout=120)
        lines = [ln for ln in again.stderr.strip().splitlines() if ln.strip()]
        res.extra["next_up_says"] = lines[-1] if lines else ""
        res.expect("the next `up` of that name refuses, in one line, with exit status 2",
                   again.returncode == 2 and len(lines) == 1 and "Traceback" not in again.stderr)  # fmt: skip
        said = lines[-1] if lines else ""
        res.expect("it says what is left and the one command that removes it",
                   f"testbed down --name {name}" in said and "container" in said)  # fmt: skip
        down = subprocess.run([*cli, "down", topo_arg, "--name", name], capture_output=True, text=True, timeout=300)
        after = docker_env.leftovers(c, name)
        res.extra["after_down"] = after
        res.expect(f"`testbed down --name {name}` leaves 0 containers, networks and volumes ({_count(after)})",
                   down.returncode == 0 and not any(after.values()))  # fmt: skip
        res.tasks_lost = 0
        return res


def _count(d: dict[str, int]) -> str:
    return ", ".join(f"{v} {k}" for k, v in d.items())


# -- results -----------------------------------------------------------------------------------------
def table(results: list[FaultResult]) -> str:
    headers = ["fault", "topology", "done", "held", "lost engines", "detect s", "tasks lost", "ok"]
    rows = []
    for r in results:
        rows.append([
            r.name, r.topology, r.skipped and "-" or r.done,
            f"{len(r.held)}/{len(r.held) + len(r.failed)}" if not r.skipped else "-",
            ",".join(map(str, r.lost)) or "-",
            "-" if r.detect_s is None else f"{r.detect_s:.2f}",
            "-" if r.tasks_lost is None else str(r.tasks_lost),
            "skipped" if r.skipped else ("ok" if r.ok else "FAILED"),
        ])  # fmt: skip
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    for r in results:
        for f in r.failed:
            lines.append(f"FAILED {r.name}: {f}")
        if r.skipped:
            lines.append(f"skipped {r.name}: {r.skipped}")
    return "\n".join(lines)


def save(results: list[FaultResult], folder: Path) -> Path:
    """results/faults.json: the catalogue's results, merged by (fault, topology) with earlier runs."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "faults.json"
    old = []
    if path.is_file():
        try:
            old = json.loads(path.read_text()).get("faults", [])
        except (ValueError, OSError):
            old = []
    keep = {(f["name"], f["topology"]): f for f in old if isinstance(f, dict) and "name" in f}
    for r in results:
        keep[(r.name, r.topology)] = r.as_json()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"faults": list(keep.values())}, indent=2) + "\n")
    os.replace(tmp, path)
    return path
