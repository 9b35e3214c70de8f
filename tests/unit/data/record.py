"""Record what every experiment collects, from real clusters, for the judges' unit tests.

    TESTBED_IMAGE=<node image> .venv/bin/python -m tests.unit.data.record [PREFIX]

Runs ``reproduce`` over all 13 experiments (one cluster at a time, each removed after its
last experiment) with the lecture's load-balance sleeps and fewer digits for L3
(5 files x 200,000), and writes each experiment's collected data to ``<ID>.json`` here.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from testbed import experiments, reproduce
from testbed.experiments import Params

HERE = Path(__file__).parent
PARAMS = {"lb_scale_ms": 20.0, "digit_files": 5, "digits_per_file": 200_000, "serial_digits": 10_000}


def main(prefix: str = "rec-") -> int:
    with tempfile.TemporaryDirectory() as tmp:
        params = Params(**PARAMS, digit_cache=Path(tmp) / "digits", check_prefix=1_000_000)
        outcomes, paths = reproduce.run(experiments.get(None), Path(tmp) / "out", params, prefix=prefix)
        collected = json.loads(paths["collected"].read_text())
    when = time.strftime("%Y-%m-%d")
    for exp, outcome in outcomes:
        if exp.id not in collected:
            print(f"{exp.id}: nothing collected", file=sys.stderr)
            continue
        doc = {
            "experiment": exp.id,
            "topology": exp.topology,
            "params": PARAMS,
            "recorded": when,
            "agreed": outcome.ok,
            "data": collected[exp.id],
        }
        (HERE / f"{exp.id}.json").write_text(json.dumps(doc, indent=1) + "\n")
        print(f"{exp.id}: {'agrees' if outcome.ok else 'DISAGREES'}, {HERE / (exp.id + '.json')}")
    return 0 if all(o.ok for _e, o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
