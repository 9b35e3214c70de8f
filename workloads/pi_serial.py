"""pi_serial.py -- the lecture's serial digit count (L2), run as a client on the head node.

    python pi_serial.py [--digits N]     prints one JSON object

SymPy evaluates pi to N significant digits (plus a few guard digits, so that
evalf's rounding cannot touch the last one kept); the first N decimals go
through the lecture's generator-based one_digit_freqs.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sympy  # noqa: E402

from pidigits import one_digit_freqs  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--digits", type=int, default=10_000)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    pi = sympy.pi.evalf(args.digits + 10)
    decimals = str(pi)[2 : 2 + args.digits]  # excluding "3."
    evalf_s = time.perf_counter() - t0
    freqs = one_digit_freqs(d for d in decimals)
    print(json.dumps({"digits": args.digits, "decimals": decimals, "freqs": freqs.tolist(), "evalf_s": evalf_s}))


if __name__ == "__main__":
    main()
