"""load_balance.py -- the lecture's load-balance experiment (L1), run as a client.

27 tasks on 5 engines (num_engines * 5 + 2): the first total_works // num_engines
of them heavy (1 s), the rest light (0.2 s); through a load-balanced view and
through a direct view, both with map_async; speedup = serial_time / wall_time.

    python load_balance.py [--scale MS] [--timeout S]     prints one JSON object

--scale is the lecture's 20 (ms per work unit: light = 10 units, heavy = 50);
a smaller one shortens the sleeps for tests.
"""

import argparse
import json
import os
import sys

import ipyparallel as ipp


def high_variated_work(i):
    # the lecture's task, with its 20 ms per unit made a parameter (scale_ms)
    start_time = datetime.now()  # noqa: F821 - engine namespace
    base_workload = 10
    if i < (total_works // num_engines):  # noqa: F821
        base_workload *= 5
    # so short task: 200ms long task: 1s
    sleep(base_workload * scale_ms / 1000)  # noqa: F821
    end_time = datetime.now()  # noqa: F821
    return pid, start_time, end_time  # noqa: F821


def run(view, total_works, timeout):
    ar = view.map_async(high_variated_work, range(total_works))
    results = ar.get(timeout=timeout)
    return ar, results


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--scale", type=float, default=20.0)
    p.add_argument("--engines", type=int, default=5)
    p.add_argument("--timeout", type=float, default=300.0)
    args = p.parse_args(argv)

    rc = ipp.Client()
    rc.wait_for_engines(args.engines, timeout=args.timeout)
    num_engines = len(rc.ids)
    total_works = num_engines * 5 + 2
    dview = rc[:]
    lbview = rc.load_balanced_view()
    # block=True: a non-blocking push can arrive after the first task (a NameError)
    dview.push(dict(num_engines=num_engines, total_works=total_works, scale_ms=args.scale), block=True)
    dview.execute(
        "import os\nfrom time import sleep\nfrom datetime import datetime\npid = os.getpid()", block=True
    )
    pids = dview.pull("pid", block=True)
    engine_of = {pid: eid for eid, pid in zip(dview.targets, pids)}

    out = {"num_engines": num_engines, "total_works": total_works, "scale_ms": args.scale, "views": {}}
    for name, view in (("lb", lbview), ("direct", dview)):
        ar, results = run(view, total_works, args.timeout)
        t0 = min(start for _pid, start, _end in results)
        tasks = [
            {
                "task": i,
                "engine": engine_of.get(pid, -1),
                "start": (start - t0).total_seconds(),
                "end": (end - t0).total_seconds(),
            }
            for i, (pid, start, end) in enumerate(results)
        ]
        out["views"][name] = {
            "serial_time": ar.serial_time,
            "wall_time": ar.wall_time,
            "speedup": ar.serial_time / ar.wall_time,
            "tasks": tasks,
        }
    print(json.dumps(out))
    rc.close()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
