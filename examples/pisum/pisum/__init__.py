"""pi = integral of 4 / (1 + x^2) over [0, 1], by the midpoint rule, in parts.

``part(k, parts, n)`` is the share of part ``k`` of ``parts`` in a sum of ``n`` intervals:
the parts add up to ``pi_serial(n)`` whatever their number, so a split over engines or
MPI ranks can be checked against the serial sum.
"""

import math

import numpy as np

__all__ = ["part", "pi_serial", "error_bound"]


def part(k: int, parts: int, n: int) -> float:
    """The midpoint sum over the intervals i = k, k + parts, k + 2 parts, ... of n."""
    if not 0 <= k < parts or n < 1:
        raise ValueError(f"part {k} of {parts} over {n} intervals")
    i = np.arange(k, n, parts, dtype=np.float64)
    x = (i + 0.5) / n
    return float(np.sum(4.0 / (1.0 + x * x)) / n)


def pi_serial(n: int) -> float:
    return part(0, 1, n)


def error_bound(n: int) -> float:
    """|midpoint sum - pi| <= max|f''| / (24 n^2), with max|f''| = 8 on [0, 1]."""
    return 8.0 / (24.0 * n * n) + 1e-12 * math.sqrt(n)
