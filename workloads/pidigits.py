"""pidigits.py -- the lecture's digit-frequency code (L2, L3), and a vectorised twin.

The generator-based functions are the lecture's (IPython's old pidigits example):
read a text file of digits, skip spaces and newlines, count overlapping pairs
d[i]d[i+1]. Their loop keeps two digits in hand and counts a pair only when a
third arrives, so the last pair of each file is never counted; the numpy version
reproduces that exactly (a test checks the counts are identical).

Imported by the engines (``import pidigits`` with the workloads folder on
sys.path) and by the host's tests.
"""

import numpy as np


# -- the lecture's code ---------------------------------------------------------------
def txt_file_to_digits(filename, the_type=str):
    """Yield the digits of pi read from a .txt file."""
    with open(filename) as f:
        for line in f.readlines():
            for c in line:
                if c != "\n" and c != " ":
                    yield the_type(c)


def one_digit_freqs(digits, normalize=False):
    """Consume digits of pi and compute 1 digit freq. counts."""
    freqs = np.zeros(10, dtype="i4")
    for d in digits:
        freqs[int(d)] += 1
    if normalize:
        freqs = freqs / freqs.sum()
    return freqs


def two_digit_freqs(digits, normalize=False):
    """Consume digits of pi and compute 2 digits freq. counts."""
    freqs = np.zeros(100, dtype="i4")
    last = next(digits)
    this = next(digits)
    for d in digits:
        index = int(last + this)
        freqs[index] += 1
        last = this
        this = d
    if normalize:
        freqs = freqs / freqs.sum()
    return freqs


def compute_two_digit_freqs(filename):
    """Read digits of pi from a file and compute the 2 digit frequencies."""
    d = txt_file_to_digits(filename)
    freqs = two_digit_freqs(d)
    return freqs


def reduce_freqs(freqlist):
    """Add up a list of freq counts to get the total counts."""
    allfreqs = np.zeros_like(freqlist[0])
    for f in freqlist:
        allfreqs += f
    return allfreqs


# -- vectorised ------------------------------------------------------------------------
def file_digits(filename):
    """The file's digits as a uint8 array of 0..9 (spaces and newlines dropped)."""
    raw = np.fromfile(filename, dtype=np.uint8)
    return (raw[(raw != ord(" ")) & (raw != ord("\n"))] - ord("0")).astype(np.uint8)


def two_digit_freqs_np(digits):
    """Pair counts of a 0..9 array, the lecture's way: overlapping pairs, the last one dropped."""
    if len(digits) < 3:
        return np.zeros(100, dtype="i4")
    pairs = digits[:-2].astype(np.int32) * 10 + digits[1:-1]
    return np.bincount(pairs, minlength=100).astype("i4")


def compute_two_digit_freqs_np(filename):
    return two_digit_freqs_np(file_digits(filename))


def one_digit_freqs_np(digits):
    return np.bincount(np.asarray(digits, dtype=np.int64), minlength=10).astype("i4")


# -- statistics, as the lecture computed them ------------------------------------------
def mean_std(freqs):
    """Mean and standard deviation of the 2-digit values 00..99 weighted by their counts."""
    freqs = np.asarray(freqs, dtype="float64")
    values = np.arange(len(freqs), dtype="float64")
    total = freqs.sum()
    mean = float((freqs * values).sum() / total)
    std = float(np.sqrt((freqs * (values - mean) ** 2).sum() / total))
    return mean, std
