"""bench_digits.py -- 2-digit frequency throughput of one engine's worth of work.

    python bench_digits.py FILE [--runs 5] [--lecture-digits 2000000]

The lecture's generator code on the first --lecture-digits digits of FILE (its
speed does not depend on the length), the numpy code on the whole file, and this
machine's memory-read speed (summing a 256 MiB array) as the limit of any counter
that must read every byte. One warm-up each, then --runs timed runs. Prints JSON.
"""

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import pidigits  # noqa: E402


def timed(fn, runs):
    fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--lecture-digits", type=int, default=2_000_000)
    args = p.parse_args(argv)
    size = os.path.getsize(args.file)
    n_all = len(pidigits.file_digits(args.file))
    # a prefix for the slow code: same layout, fewer digits
    with open(args.file) as f:
        head = f.read(int(args.lecture_digits * size / n_all))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as tmp:
        tmp.write(head)
    n_head = len(pidigits.file_digits(tmp.name))
    lecture = timed(lambda: pidigits.compute_two_digit_freqs(tmp.name), args.runs)
    vector = timed(lambda: pidigits.compute_two_digit_freqs_np(args.file), args.runs)
    os.unlink(tmp.name)
    big = np.ones(32 << 20, dtype="float64")  # 256 MiB
    mem = timed(big.sum, args.runs)
    print(
        json.dumps(
            {
                "bytes_per_digit": size / n_all,
                "lecture_digits_per_s": [n_head / s for s in lecture],
                "numpy_digits_per_s": [n_all / s for s in vector],
                "memory_read_bytes_per_s": [big.nbytes / s for s in mem],
            }
        )
    )


if __name__ == "__main__":
    main()
