"""pi_parallel.py -- the lecture's par_stdpi.py (L3), run as a client on the head node.

    python pi_parallel.py FILE... [--engines N] [--timeout S]     prints one JSON object

The first file's 2-digit frequencies on one engine (``apply_sync``), then every
file's on the engines (``v.map``), timed; once with the lecture's generator code
and with the vectorised numpy code (best of 3: its runs are short). Digits per second counts the digits in
the files (10 million a file for the lecture's).
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import ipyparallel as ipp  # noqa: E402

import pidigits  # noqa: E402


def count_digits(path):
    return int(len(pidigits.file_digits(path)))


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("files", nargs="+")
    p.add_argument("--engines", type=int, default=5)
    p.add_argument("--timeout", type=float, default=600.0)
    args = p.parse_args(argv)

    rc = ipp.Client()
    rc.wait_for_engines(args.engines, timeout=60)
    ids = sorted(rc.ids)[: args.engines]
    v = rc[ids]
    # the functions travel by reference to the module pidigits: make it importable there
    v.execute(f"import sys; sys.path.insert(0, {HERE!r}); import pidigits", block=True)
    digits = [count_digits(f) for f in args.files]

    out = {"engines": ids, "files": args.files, "digits": digits, "runs": {}}
    # the lecture's code runs for tens of seconds: once is enough. The numpy one runs for
    # a fraction of a second, where a first call's page faults and imports would weigh: best of 3.
    for impl, fn, repeat in (
        ("lecture", pidigits.compute_two_digit_freqs, 1),
        ("numpy", pidigits.compute_two_digit_freqs_np, 3),
    ):
        t_one = t_all = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            one = rc[ids[0]].apply_sync(fn, args.files[0])
            t_one = min(t_one, time.perf_counter() - t0)
        for _ in range(repeat):
            t0 = time.perf_counter()
            per_file = v.map_sync(fn, args.files)
            t_all = min(t_all, time.perf_counter() - t0)
        out["runs"][impl] = {
            "one": {"freqs": [int(x) for x in one], "seconds": t_one, "digits": digits[0]},
            "all": {"freqs": [[int(x) for x in f] for f in per_file], "seconds": t_all, "digits": sum(digits)},
        }
    print(json.dumps(out))
    rc.close()


if __name__ == "__main__":
    main()
