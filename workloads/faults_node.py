"""The client side of a fault drill, run on the controller node while the testbed injects a fault.

    python faults_node.py drill --tasks N --task-s S --lost 3,4 --marker M --out O [--timeout T]

1. Notes every engine's host and pid, then submits N load-balanced tasks (each sleeps
   S seconds and returns x*x) with retries, and one long direct task on each engine that
   is to be lost (``--lost``: derived by the testbed from the topology, not observed).
2. Writes ``--marker`` (JSON: the engines, their pids, the time): the testbed injects the
   fault when it sees it.
3. Watches the controller: when does each lost engine leave ``rc.ids``?
4. Collects every task, within ``--timeout``: a result, an error, or nothing (lost).

It prints one JSON object (also written to ``--out``): what happened, measured. It judges
nothing; the host side compares it with what the topology says.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import time


def slow_square(x, s):
    import time

    time.sleep(s)
    return x * x


def whoami():
    import os
    import socket

    return socket.gethostname(), os.getpid()


def write(path: str, doc: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


def drill(args) -> dict:
    import ipyparallel as ipp
    from ipyparallel.error import CompositeError, EngineError, RemoteError

    rc = ipp.Client(timeout=30)
    rc.wait_for_engines(args.engines, timeout=30)
    ids = sorted(rc.ids)
    where = {i: rc[i].apply_sync(whoami) for i in ids}
    lost = [int(x) for x in args.lost.split(",") if x]
    lview = rc.load_balanced_view()
    lview.retries = max(3, len(ids))  # a task may meet more than one dying engine
    # ipyparallel holds a task that no engine can take, for as long as it takes; with a
    # timeout the scheduler fails it (TaskTimeout) once it waited that long for an engine
    lview.timeout = args.queue_timeout
    tasks = [lview.apply_async(slow_square, x, args.task_s) for x in range(args.tasks)]
    direct = {i: rc[i].apply_async(slow_square, -1, args.timeout * 4) for i in lost if i in ids}
    # tasks in flight: the fault comes once every direct task runs on its engine (bounded)
    until = time.monotonic() + 10
    while not all(getattr(d, "started", True) for d in direct.values()) and time.monotonic() < until:
        time.sleep(0.05)
    t0 = time.time()
    write(args.marker, {"t": t0, "ids": ids, "where": {str(i): w for i, w in where.items()}})

    gone_at: dict[int, float] = {}
    deadline = time.monotonic() + args.timeout
    pending = list(range(len(tasks)))
    while time.monotonic() < deadline:
        now_ids = set(rc.ids)
        for i in ids:
            if i not in now_ids and i not in gone_at:
                gone_at[i] = time.time()
        pending = [k for k in pending if not tasks[k].ready()]
        direct_done = all(ar.ready() for ar in direct.values())
        if not pending and direct_done and all(i in gone_at for i in lost):
            break
        time.sleep(0.05)

    results, errors, missing = {}, {}, []
    for k, ar in enumerate(tasks):
        if not ar.ready():
            missing.append(k)
            continue
        try:
            results[k] = ar.get(0)
        except (RemoteError, CompositeError, EngineError) as e:
            errors[k] = (getattr(e, "ename", None) or type(e).__name__) + ": " + str(e).strip().splitlines()[-1][:200]
    direct_out = {}
    for i, ar in direct.items():
        if not ar.ready():
            direct_out[str(i)] = "no answer"
            continue
        try:
            ar.get(0)
            direct_out[str(i)] = "returned"
        except Exception as e:  # what ipyparallel raises for a task whose engine died (ename: the error inside)
            direct_out[str(i)] = getattr(e, "ename", None) or type(e).__name__
    ran_on = {}
    for k, ar in enumerate(tasks):
        if k in results:
            ran_on[str(k)] = ar.engine_id
    return {
        "ids": ids,
        "where": {str(i): w for i, w in where.items()},
        "t_submitted": t0,
        "gone_at": {str(i): t for i, t in gone_at.items()},
        "left": sorted(rc.ids),
        "tasks": args.tasks,
        "results": {str(k): v for k, v in results.items()},
        "errors": {str(k): v for k, v in errors.items()},
        "missing": missing,
        "direct": direct_out,
        "ran_on": ran_on,
        "host": socket.gethostname(),
    }


def rtt(args) -> dict:
    """Round trips of a task to one engine (direct view), in milliseconds: a payload of ``--bytes``
    bytes there and back (``bytes`` returns it), so that it crosses the engine node's egress,
    where a slow link is shaped (an empty task when 0)."""
    import statistics

    import ipyparallel as ipp

    rc = ipp.Client(timeout=30)
    view = rc[args.engine]
    payload = b"x" * args.bytes
    view.apply_sync(bytes, payload)  # warm-up
    trips = []
    for _ in range(args.calls):
        t = time.perf_counter()
        view.apply_sync(bytes, payload)
        trips.append((time.perf_counter() - t) * 1e3)
    return {"engine": args.engine, "bytes": args.bytes, "median_ms": statistics.median(trips), "trips_ms": trips}


def main() -> None:
    p = argparse.ArgumentParser(prog="faults_node.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("drill")
    d.add_argument("--engines", type=int, required=True)
    d.add_argument("--tasks", type=int, default=40)
    d.add_argument("--task-s", type=float, default=0.25)
    d.add_argument("--lost", default="", help="engine ids the fault will take (comma-separated)")
    d.add_argument("--marker", required=True)
    d.add_argument("--out", required=True)
    d.add_argument("--timeout", type=float, default=60.0)
    d.add_argument(
        "--queue-timeout",
        type=float,
        default=15.0,
        help="how long a load-balanced task may wait for an engine before it fails",
    )
    r = sub.add_parser("rtt")
    r.add_argument("--engine", type=int, required=True)
    r.add_argument("--calls", type=int, default=30)
    r.add_argument("--bytes", type=int, default=0)
    r.add_argument("--out", default="")
    args = p.parse_args()
    if args.cmd == "rtt":
        print(json.dumps(rtt(args)))
        return
    try:
        doc = drill(args)
    except Exception as e:  # one line for the host side, never a traceback
        doc = {"error": f"{type(e).__name__}: {str(e).strip().splitlines()[-1][:300] if str(e).strip() else ''}"}
    write(args.out, doc)
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
