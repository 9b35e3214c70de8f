"""The testbed's client inside the cluster: it runs on the controller node, as
the lecture's IPython session did, so client and engines share one Python.

    python testbed_node.py wait N [--timeout S]     block until N engines registered
                                                 (stderr: {"registered": k, "of": N} as k grows)
    python testbed_node.py wait N --log F -- ARGV...   start ARGV (controller, engines) first
    python testbed_node.py report --scatter N [--engines K] [--timeout S]
    python testbed_node.py p2p --scatter N       the lecture's Send/Recv on the engines

``report`` runs the lecture's workloads on every engine, the lecture's way
(``dview.scatter``, ``dview.run('psum.py')``, ``%px totalsum = psum(a)``, then
``dview['totalsum']``) and prints one JSON object: what each engine saw. It
compares nothing; the host side holds the expectations.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(msg: str, code: int = 2) -> None:
    print(json.dumps({"error": msg}))
    sys.exit(code)


def start(argv: list[str], log: str) -> subprocess.Popen:
    """Start ``argv`` in a session of its own, output to ``log``.

    It outlives this process (ipcluster daemonizes; an mpiexec or an ipengine runs
    on), so the testbed starts a group and waits for it with one ``docker exec``,
    and this client's imports overlap the start instead of following it.
    """
    with open(log, "ab") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def check_started(proc: subprocess.Popen | None, log: str | None) -> None:
    """Fail at once, with its log's tail, if the started command has already failed."""
    if proc is None or proc.poll() in (None, 0):
        return
    try:
        with open(log, errors="replace") as f:
            tail = "".join(f.readlines()[-8:]).strip()
    except OSError:
        tail = ""
    cmd = " ".join(proc.args)
    cmd = cmd if len(cmd) <= 160 else cmd[:157] + "..."
    fail(f"`{cmd}` exited with status {proc.returncode}" + (f":\n{tail}" if tail else ""))


def scheduler(name: str):
    """The scheduler ``name`` of the host's own source, ``testbed/schedulers/`` (the image copies that
    folder next to this file as ``schedulers``): its queue's format, parser and rules, not a copy."""
    import importlib

    if not name.isidentifier():
        fail(f"scheduler name {name[:40]!r}: not a scheduler")
    try:
        return importlib.import_module("schedulers").get(name)
    except (ImportError, ValueError) as e:
        fail(f"no scheduler {name!r} next to testbed_node.py: {e}")


class JobWatch:
    """Watches the batch job of a launch (by name) while its engines are awaited: a job that
    ended, or that stays pending for a reason it cannot get past by itself (a drained or down
    node: the scheduler's ``hopeless``), is reported at once with what its queue says."""

    def __init__(self, sched, name: str, logs: str = "/tmp/testbed"):
        self.sched, self.name, self.logs = sched, name, logs
        self.job: dict | None = None
        self.hopeless_since: float | None = None

    def _run(self, argv: list[str]) -> str | None:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            return None

    def poll(self) -> dict | None:
        out = self._run(self.sched.queue_argv(self.name))
        if out is None:
            return self.job
        jobs = [j for j in self.sched.parse_queue(out) if j["name"] == self.name]
        if jobs:  # the newest job of that name is listed last
            self.job = jobs[-1]
        return self.job

    def describe(self) -> str:
        q = self.sched.queue_argv()[0]
        if self.job is None:
            return f"no {self.sched.title} job named {self.name} ({q})"
        return f"{self.sched.describe(self.job)} ({q})"

    def nodes_note(self) -> str:
        argv = self.sched.nodes_argv()
        out = self._run(argv)
        nodes = self.sched.describe_nodes(self.sched.parse_nodes(out)) if out else ""
        return f"; {argv[0]}: {nodes}" if nodes else ""

    def check(self) -> None:
        j = self.poll()
        if j is None:
            return
        if self.sched.ended(j):
            fail(
                f"{self.describe()} before its engines registered; its output is in "
                f"{self.sched.output_of(j, self.logs)} on its first node"
            )
        if self.sched.hopeless(j):
            now = time.monotonic()
            self.hopeless_since = self.hopeless_since or now
            if now - self.hopeless_since >= self.sched.hopeless_grace:
                fail(f"{self.describe()}: it cannot start{self.nodes_note()}")
        else:
            self.hopeless_since = None


class Registered:
    """Progress for the host while engines register: a ``{"registered": k, "of": n}`` line on
    stderr whenever k changed, at most one every ``every`` seconds (stdout keeps the one answer)."""

    def __init__(self, n: int, every: float = 0.5, out=None):
        self.n, self.every = n, every
        self.out = out if out is not None else sys.stderr
        self.shown: int | None = None
        self.at = float("-inf")

    def __call__(self, k: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if k == self.shown or now - self.at < self.every:
            return False
        self.shown, self.at = k, now
        print(json.dumps({"registered": k, "of": self.n}), file=self.out, flush=True)
        return True


def connect(
    n: int,
    timeout: float,
    proc: subprocess.Popen | None = None,
    log: str | None = None,
    watch: JobWatch | None = None,
    partial: bool = False,
    progress: Registered | None = None,
):
    import ipyparallel as ipp

    deadline = time.monotonic() + timeout
    while True:
        check_started(proc, log)
        try:
            rc = ipp.Client(timeout=max(1.0, deadline - time.monotonic()))
            break
        except (OSError, TimeoutError) as e:
            # the controller writes its connection file when it is up
            if time.monotonic() > deadline:
                fail(f"no controller to connect to within {timeout:.0f}s: {e}")
            time.sleep(0.05)
    try:
        while True:  # in slices, so that a launch which dies is reported, not waited out
            check_started(proc, log)
            if watch is not None:
                watch.check()
            if progress is not None:
                progress(len(rc.ids))
            try:
                rc.wait_for_engines(n, timeout=min(1.0, max(0.0, deadline - time.monotonic())))
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
    except TimeoutError:
        check_started(proc, log)
        if partial:  # the caller reports on the engines there are, and names the others
            return rc
        job = f"; {watch.describe()}" if watch is not None else ""
        fail(
            f"only {len(rc.ids)} of {n} engines registered within {timeout:.0f}s "
            f"(registered ids: {sorted(rc.ids)}){job}"
        )
    return rc


def cmd_wait(args) -> None:
    argv = args.start_argv
    if argv and not args.log:
        fail("a command to start needs --log")
    if bool(args.job) != bool(args.scheduler):
        fail("--job and --scheduler go together")
    watch = JobWatch(scheduler(args.scheduler), args.job) if args.job else None  # before anything starts
    try:
        proc = start(argv, args.log) if argv else None
    except OSError as e:
        fail(f"cannot start `{argv[0]}`: {e.strerror}")
    rc = connect(args.n, args.timeout, proc, args.log, watch, progress=Registered(args.n) if args.n else None)
    out = {"ids": sorted(rc.ids)}
    if watch is not None and watch.poll() is not None:
        out["job_id"] = watch.job["id"]
    print(json.dumps(out))
    rc.close()


REPORT_CODE = """
totalsum = psum(a)
totalrank = myrank()
totalhost = hostname()
totalpid = mypid()
_tb = dict(
    id=engine_id, hostname=totalhost, pid=totalpid,
    world_rank=int(totalrank), world_size=int(comm.size),
    world=int(min(comm.allgather(engine_id))),
    chunk_len=int(len(a)), chunk_start=(float(a[0]) if len(a) else None),
    psum=float(totalsum),
    mpi_library=MPI.Get_library_version().replace(chr(0), "").splitlines()[0].strip(),
    slurm_job_id=__import__("os").environ.get("SLURM_JOB_ID", ""),
)
"""


MERGE_CODE = """
merged = merge_worlds(_tb['world'], all_worlds, timeout=_merge_timeout)
merged_total = psum_over(merged, a)
_tb.update(merged_rank=int(merged.rank), merged_size=int(merged.size), merged_psum=float(merged_total))
"""


def merge(dview, timeout: float) -> None:
    """Join the engines' worlds into one communicator (merge_worlds.py); bounded wait."""
    worlds = sorted({e["world"] for e in dview["_tb"]})
    dview.push({"all_worlds": worlds, "_merge_timeout": min(30.0, timeout)})
    dview.run(os.path.join(HERE, "merge_worlds.py"))
    ar = dview.execute(MERGE_CODE, block=False)
    try:
        ar.get(timeout=timeout)
    except TimeoutError:
        fail(
            f"merging worlds {worlds} did not finish within {timeout:.0f}s "
            "(Accept/Connect waiting: is ompi-server up and were both launches pointed at it?)"
        )
    except Exception as e:  # a RemoteError from an engine
        fail(f"merging worlds {worlds} failed on an engine: {str(e).strip().splitlines()[-1][:400]}")


# Each engine's world, probed without blocking: a barrier that every rank of a whole world completes
# at once, and one whose world lost a rank (its node cut off, the launcher not told) never does.
# Ibarrier plus a bounded Test loop keeps the engine free either way, so the check says so in
# seconds instead of waiting on a collective that never returns.
def world_probe(probe_s: float) -> bool:
    import time

    from mpi4py import MPI  # a plain engine's first MPI call: a singleton starts here

    req = MPI.COMM_WORLD.Ibarrier()
    until = time.monotonic() + probe_s  # from here on: the barrier's own bound
    while not req.Test() and time.monotonic() < until:
        time.sleep(0.01)
    return bool(req.Test())


def outstanding(status: dict, engine: int) -> int:
    """Requests the hub counts as not done on ``engine`` (``Client.queue_status``: queue and tasks)."""
    row = status.get(engine) or status.get(str(engine)) or {}
    return int(row.get("queue", 0)) + int(row.get("tasks", 0))


def probe_worlds(rc, ids: list[int], probe_s: float, answer_s: float) -> dict[int, str]:
    """The engines whose MPI world is broken (its barrier did not complete) or that did not answer, and why.

    How long an engine may take to answer depends on whether it was idle. One with requests still
    outstanding at the hub is stuck in an earlier call: it must answer within ``probe_s`` + 5 s.
    An idle one may first have to start MPI (a plain engine's singleton): it gets ``answer_s``.
    """
    status = rc.queue_status(targets=ids)
    busy = {i for i in ids if outstanding(status, i)}
    t0 = time.monotonic()
    pending = {i: rc[i].apply_async(world_probe, probe_s) for i in ids}
    broken = {}
    for i, ar in pending.items():
        bound = probe_s + 5 if i in busy else max(probe_s + 5, answer_s)
        if not ar.wait(max(0.0, t0 + bound - time.monotonic())):
            broken[i] = f"no answer within {bound:g} s" + (" (busy with an earlier request)" if i in busy else "")
        elif not ar.successful():
            broken[i] = "the probe failed: " + one_line(ar.exception())
        elif not ar.get():
            broken[i] = f"its world's barrier did not complete within {probe_s:g} s"
    return broken


def one_line(e: BaseException | None) -> str:
    """An engine's error in one line: ipyparallel's RemoteError names the remote type and its message."""
    if e is None:
        return "?"
    name, value = getattr(e, "ename", type(e).__name__), getattr(e, "evalue", str(e))
    return f"{name}: {value}".splitlines()[0][:300]


def cmd_report(args) -> None:
    import numpy as np

    rc = connect(args.engines, args.timeout, partial=args.partial)
    ids = sorted(rc.ids)
    if args.engines and len(ids) != args.engines and not (args.partial and len(ids) < args.engines):
        fail(f"expected {args.engines} engines, the controller has {len(ids)}: {ids}")
    why = probe_worlds(rc, ids, args.probe_s, args.answer_s) if ids else {}
    broken = sorted(why)
    if broken and not args.partial:
        fail(
            "engines in an MPI world that lost a rank, or stuck in an MPI call: "
            + "; ".join(f"engine {i}: {w}" for i, w in sorted(why.items()))
        )
    ids = [i for i in ids if i not in why]  # --partial: the check names them with the missing
    probe = {"broken": broken, "broken_why": {str(i): w for i, w in sorted(why.items())}}
    if not ids:  # --partial, and none is left: nothing to run
        print(json.dumps({"ids": [], "scatter": args.scatter, "engines": [], **probe}))
        return
    dview = rc[ids]
    dview.block = True
    # each engine learns its own id: one item each, as a scalar
    dview.scatter("engine_id", ids, flatten=True)
    dview.scatter("a", np.arange(args.scatter, dtype="float64"))
    dview.run(os.path.join(HERE, "psum.py"))
    dview.run(os.path.join(HERE, "rank_mpi.py"))
    dview.execute(REPORT_CODE)
    if args.merge:
        merge(dview, args.timeout)
    engines = dview["_tb"]
    print(json.dumps({"ids": ids, "scatter": args.scatter, "engines": engines, **probe}))
    rc.close()


def cmd_p2p(args) -> None:
    """The lecture's point-to-point on engines (L6): d after mysendOneToZero, bb after blocking_send."""
    import numpy as np

    rc = connect(args.engines, args.timeout)
    ids = sorted(rc.ids)
    dview = rc[ids]
    dview.block = True
    dview.scatter("a", np.arange(args.scatter, dtype="float64"))
    dview.run(os.path.join(HERE, "rank_mpi.py"))
    dview.execute("mysendOneToZero()")
    d = [float(x[0]) for x in dview["d"]]
    dview.run(os.path.join(HERE, "blocking_send.py"))
    bb = [int(x[0]) for x in dview["bb"]]
    print(json.dumps({"ids": ids, "d": d, "bb": bb}))
    rc.close()


def cmd_lab_cluster(args) -> None:
    """A cluster file for ipyparallel's JupyterLab panel (profile/security/cluster-<id>.json).

    The panel lists the clusters of these files, never a controller it did not start; the
    testbed's controller was started by the testbed (or by ipcluster, whose own file, if
    any, stays). The file names the running controller process and the engine count.
    """
    import psutil
    from ipyparallel.cluster import Cluster, launcher

    pids = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if any("ipyparallel.controller" in a or a.endswith("/ipcontroller") for a in (p.info["cmdline"] or [])[:3])
    ]
    if not pids:
        fail("no ipcontroller process on this node")
    cluster = Cluster(cluster_id=args.id, n=args.engines, shutdown_atexit=False, log_level=40)
    ctl = launcher.LocalControllerLauncher(parent=cluster, profile_dir=cluster.profile_dir, cluster_id=args.id)
    ctl.pid, ctl.state, ctl.output_file = min(pids), "running", args.log
    cluster.controller = ctl
    cluster.write_cluster_file()
    print(json.dumps({"cluster_file": cluster.cluster_file, "controller_pid": ctl.pid, "n": args.engines}))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="testbed_node.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wait", help="block until N engines are registered")
    w.add_argument("n", type=int)
    w.add_argument("--timeout", type=float, default=120.0)
    w.add_argument("--log", help="where the started command's output goes")
    w.add_argument("--job", help="the batch job (name) that starts the engines: watched in its scheduler's queue")
    w.add_argument("--scheduler", help="the scheduler of --job (testbed/schedulers/, shipped next to this file)")
    w.set_defaults(func=cmd_wait)
    on_engines = argparse.ArgumentParser(add_help=False)  # what report and p2p share
    on_engines.add_argument("--scatter", type=int, default=32)
    on_engines.add_argument("--engines", type=int, default=0, help="wait for this many engines first")
    on_engines.add_argument("--timeout", type=float, default=120.0)
    r = sub.add_parser("report", parents=[on_engines], help="run the lecture's workloads, print what engines saw")
    r.add_argument("--merge", action="store_true", help="also join the worlds into one (merge_worlds.py)")
    r.add_argument("--probe-s", type=float, default=5.0, help="how long a world's barrier may take (broken past it)")
    r.add_argument(
        "--answer-s", type=float, default=60.0, help="how long an idle engine may take to start MPI and answer"
    )
    r.add_argument(
        "--partial", action="store_true", help="fewer engines than --engines after --timeout: report on those there are"
    )
    r.set_defaults(func=cmd_report)
    q = sub.add_parser("p2p", parents=[on_engines], help="the lecture's point-to-point examples on the engines")
    q.set_defaults(func=cmd_p2p)
    c = sub.add_parser("lab-cluster", help="a cluster file for ipyparallel's JupyterLab panel")
    c.add_argument("--id", required=True)
    c.add_argument("--engines", type=int, required=True)
    c.add_argument("--log", default="/tmp/testbed/controller.log")
    c.set_defaults(func=cmd_lab_cluster)
    argv = sys.argv[1:] if argv is None else list(argv)
    start_argv: list[str] = []
    if "--" in argv:  # wait N ... -- ARGV: a command to start first (left running)
        cut = argv.index("--")
        argv, start_argv = argv[:cut], argv[cut + 1 :]
    args = p.parse_args(argv)
    args.start_argv = start_argv
    args.func(args)


if __name__ == "__main__":
    main()
