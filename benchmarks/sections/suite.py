"""suite: how long the project's own test suite takes, whole and integration tests alone."""

from __future__ import annotations

import argparse
import time

from ..context import ROOT, Context, log, row, run_argv, stats
from . import Section, register

MAX_SUITE_RUNS = 20
PARTS = (("whole_s", ()), ("integration_s", ("tests/integration",)))


@register
class Suite(Section):
    name = "suite"
    measures = "wall time of the test suite (pytest): whole, and the integration tests alone"
    order = 80

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--suite-runs", type=int, default=1, help="runs of the test suite (minutes each; default 1)"
        )

    def check_options(self, options: argparse.Namespace) -> str | None:
        if not 1 <= options.suite_runs <= MAX_SUITE_RUNS:
            return f"--suite-runs 1-{MAX_SUITE_RUNS}"
        return None

    def run(self, ctx: Context) -> dict:
        pytest = str(ROOT / ".venv" / "bin" / "pytest")
        out: dict = {}
        for key, args in PARTS:
            times = []
            for _ in range(ctx.options.suite_runs):
                t0 = time.monotonic()
                r = run_argv([pytest, "-q", "-p", "no:cacheprovider", *args], cwd=ROOT)
                times.append(time.monotonic() - t0)
                tail = (r.stdout.strip().splitlines() or ["?"])[-1]
                log(f"suite {key}: {times[-1]:.0f}s ({tail})")
                if r.returncode:
                    out.setdefault("failures", []).append(tail)
            out[key] = stats(times)
        return out

    def headline(self, value: dict) -> dict:
        return {"suite_whole_s": value["whole_s"]["median"], "suite_integration_s": value["integration_s"]["median"]}

    def rows(self, value: dict) -> list[str]:
        return [
            row("whole test suite (pytest)", value["whole_s"], " s", "{:.0f}"),
            row("integration tests alone", value["integration_s"], " s", "{:.0f}"),
        ]
