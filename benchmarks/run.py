"""``make bench``: the testbed's cost against the same work done by ipyparallel/MPI on the host.

    python -m benchmarks.run [--only SECTION,...] [--runs 5] [--mpi STACK] [section options]

Every figure is measured --runs times after a warm-up and reported as median, min
and max; a ratio is taken run by run (container run i / host run i) and then
summarised. Written to benchmarks/results/<UTC time>.{json,md} and, for the newest
run, latest.json / latest.md. Nothing here asserts: figures are reported.

The sections are the registry in ``benchmarks/sections/`` (one module each; see
docs/benchmarks.md): its names are --only's choices, its order the run's. The host side
(``benchmarks/host.py``) is built by the benchmark itself: a venv with the image's
ipyparallel version on the system Python (the image's Python minor), and Debian's
Open MPI + mpi4py (the image's versions) when the host lacks them.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time

from testbed import docker_env, limits, stacks
from testbed.errors import TestbedError

from . import report, sections
from .context import RESULTS, Context, log

MAX_RUNS = limits.BENCH_RUNS.hi


def choices() -> tuple[str, ...]:
    """What --only takes: the registry's names, in the order they run."""
    return sections.names()


def parser() -> argparse.ArgumentParser:
    epilog = "sections, in the order they run:\n" + "\n".join(
        f"  {s.name:10} {s.measures}{'' if s.default else ' (only with --only)'}" for s in sections.ordered()
    )
    p = argparse.ArgumentParser(
        prog="benchmarks.run",
        description=__doc__.split("\n\n")[0],
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--only", help=f"comma-separated sections ({','.join(choices())}); default {','.join(sections.default_names())}"
    )
    p.add_argument("--runs", type=int, default=5, help="timed runs per figure, after one warm-up (default 5)")
    p.add_argument(
        "--mpi",
        default=stacks.DEFAULT.name,
        choices=list(stacks.STACKS),
        help="MPI stack of the cluster sections (bringup, tasks, mpi); results of another stack than "
        "the default are written beside latest.*, not into it",
    )
    for sec in sections.ordered():
        sec.add_options(p)
    return p


def chosen_sections(only: str | None) -> list[sections.Section]:
    """The sections --only names (in its order), or the default run's; TestbedError for an unknown one."""
    if not only:
        return [s for s in sections.ordered() if s.default]
    names = [x.strip() for x in only.split(",")]
    bad = [x for x in names if x not in sections.REGISTRY]
    if bad:
        raise TestbedError(f"unknown section(s) {bad}; choose from {choices()}")
    return [sections.REGISTRY[x] for x in names]


def problem(args: argparse.Namespace) -> str | None:
    """The first thing wrong with the command line's values, in one line, or None."""
    if not 1 <= args.runs <= MAX_RUNS:
        return f"--runs 1-{MAX_RUNS}"
    for sec in sections.ordered():
        if err := sec.check_options(args):
            return err
    return None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        chosen = chosen_sections(args.only)
    except TestbedError as e:
        print(f"benchmarks: {e}", file=sys.stderr)
        return 2
    if err := problem(args):
        print(f"benchmarks: {err}", file=sys.stderr)
        return 2
    ctx = Context(runs=args.runs, stack=stacks.get(args.mpi), options=args)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    res = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": ctx.runs,
        "mpi": ctx.stack.name,
        "machine": report.machine(),
        "sections": {},
    }
    t_all = time.monotonic()
    try:
        for sec in chosen:
            log(f"== {sec.name}")
            t0 = time.monotonic()
            res["sections"][sec.name] = sec.run(ctx)
            log(f"== {sec.name} done in {time.monotonic() - t0:.0f}s")
    except TestbedError as e:
        print(f"benchmarks: error: {e}", file=sys.stderr)
        return 2
    finally:
        c = docker_env.client()  # none of the benchmark's clusters left behind (and no one else's touched)
        for name in docker_env.running_clusters(c):
            if name.startswith("bench-"):
                docker_env.clean(c, name)
    res["elapsed_s"] = time.monotonic() - t_all
    res["headline"] = report.headline(res)
    RESULTS.mkdir(parents=True, exist_ok=True)
    default_stack = ctx.stack is stacks.DEFAULT
    stamp = res["started"].replace(":", "") + ("" if default_stack else f"-{ctx.stack.name}")
    md = report.markdown(res)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(res, indent=2) + "\n")
    (RESULTS / f"{stamp}.md").write_text(md)
    if default_stack:
        report.write_latest(res, stamp)
    print(md)
    print(json.dumps(res["headline"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
