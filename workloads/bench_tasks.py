"""bench_tasks.py -- round-trip throughput of no-op tasks (benchmarks, issue 7).

    python bench_tasks.py [--tasks 2000] [--engines 5] [--runs 5] [--profile-dir DIR]

Run as the client of a cluster: in the head container, or on the host against a
host ipcluster. One warm-up, then --runs timed rounds per view; each round submits
every task, then waits for all of them. Prints one JSON object (tasks per second).
"""

import argparse
import json
import time

import ipyparallel as ipp


def noop():
    return None


def round_lb(view, n):
    t0 = time.perf_counter()
    ars = [view.apply_async(noop) for _ in range(n)]
    for ar in ars:
        ar.get()
    return n / (time.perf_counter() - t0)


def round_direct(views, n):
    t0 = time.perf_counter()
    ars = [views[i % len(views)].apply_async(noop) for i in range(n)]
    for ar in ars:
        ar.get()
    return n / (time.perf_counter() - t0)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", type=int, default=2000)
    p.add_argument("--engines", type=int, default=5)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--profile-dir")
    args = p.parse_args(argv)
    rc = ipp.Client(profile_dir=args.profile_dir) if args.profile_dir else ipp.Client()
    rc.wait_for_engines(args.engines, timeout=120)
    lb = rc.load_balanced_view()
    direct = [rc[i] for i in sorted(rc.ids)]
    out = {"tasks": args.tasks, "engines": len(rc.ids), "lb": [], "direct": []}
    round_lb(lb, min(200, args.tasks))  # warm-up
    round_direct(direct, min(200, args.tasks))
    for _ in range(args.runs):  # interleaved: both views see the same machine state
        out["lb"].append(round_lb(lb, args.tasks))
        out["direct"].append(round_direct(direct, args.tasks))
    print(json.dumps(out))
    rc.close()


if __name__ == "__main__":
    main()
