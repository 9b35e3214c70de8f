"""Decimal digits of pi, made on this machine, checked, and laid out as the lecture's files.

The lecture read ``pi1000m.ascii.01of100`` .. ``05of100``: the first 50 million
decimals of pi in 5 files of 10 million, digits separated by spaces and newlines
only (its parser skips both). The site that served them is gone, so they are
computed here:

- the Chudnovsky series, summed by binary splitting over gmpy2 integers (GMP),
  with progress while the leaves are summed and at each later phase;
- checked against a second, independent method (MPFR's ``const_pi``, which uses
  a different algorithm) on a prefix, and against digits known by heart
  (the first 50 decimals, the six 9s from decimal 762);
- written 10 digits to a group, 10 groups to a line, and cached with a manifest
  holding each file's SHA-256, so a later run reuses them after a cheap check.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import limits
from .errors import TestbedError

KNOWN_PREFIX = "14159265358979323846264338327950288419716939937510"  # decimals 1..50
FEYNMAN_POINT = 762  # decimals 762..767 are 999999
DIGITS_PER_TERM = math.log10(640320**3 / (24 * 6 * 2 * 6))  # ~14.18 decimals per Chudnovsky term
GROUP, GROUPS_PER_LINE = 10, 10
MANIFEST = "manifest.json"
FILE_NAME = "pi1000m.ascii.{:02d}of100"  # the lecture's names: these are the first files of that set


def default_cache() -> Path:
    base = os.environ.get("TESTBED_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ipp-testbed"
    )
    return Path(base) / "digits"


def _gmpy2():
    try:
        import gmpy2
    except ImportError as e:  # pragma: no cover - a dependency of the package
        raise TestbedError("gmpy2 is needed to compute digits of pi: `make venv`") from e
    return gmpy2


# -- computing ---------------------------------------------------------------------------
def chudnovsky(decimals: int, progress: Callable[[str], None] | None = None) -> str:
    """The first ``decimals`` decimals of pi (no leading "3."), by the Chudnovsky series."""
    gmpy2 = _gmpy2()
    mpz = gmpy2.mpz
    say = progress or (lambda msg: None)
    guard = 20
    n_terms = int((decimals + guard) / DIGITS_PER_TERM) + 2
    c3_24 = mpz(640320) ** 3 // 24

    def leaf(a: int) -> tuple:
        if a == 0:
            p = q = mpz(1)
        else:
            p = mpz(6 * a - 5) * (2 * a - 1) * (6 * a - 1)
            q = mpz(a) * a * a * c3_24
        t = p * (13591409 + 545140134 * a)
        return p, q, (-t if a & 1 else t)

    def split(a: int, b: int) -> tuple:
        if b - a == 1:
            return leaf(a)
        m = (a + b) // 2
        p1, q1, t1 = split(a, m)
        p2, q2, t2 = split(m, b)
        return p1 * p2, q1 * q2, q2 * t1 + p1 * t2

    def join(x: tuple, y: tuple) -> tuple:
        return x[0] * y[0], x[1] * y[1], y[1] * x[2] + x[0] * y[2]

    # sum the series in 64 blocks (progress per block), then join them pairwise
    blocks = min(64, n_terms)
    edges = [n_terms * i // blocks for i in range(blocks + 1)]
    parts = []
    for i in range(blocks):
        parts.append(split(edges[i], edges[i + 1]))
        if (i + 1) % 8 == 0 or i + 1 == blocks:
            say(f"series {100 * (i + 1) // blocks}% of {n_terms:,} terms")
    while len(parts) > 1:
        parts = [join(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
        say(f"joining blocks: {len(parts)} left")
    _, q, t = parts[0]
    say("square root")
    one = mpz(10) ** (decimals + guard)
    sqrt_c = gmpy2.isqrt(10005 * one * one)
    say("division")
    pi_scaled = (q * 426880 * sqrt_c) // t
    say("conversion to decimal")
    text = pi_scaled.digits(10)
    if not text.startswith("3"):
        raise TestbedError(f"the series gave {text[:12]}..., not pi")
    return text[1 : decimals + 1]


def mpfr_digits(decimals: int) -> str:
    """The first ``decimals`` decimals of pi from MPFR's const_pi: the independent check."""
    gmpy2 = _gmpy2()
    bits = int((decimals + 30) * math.log2(10)) + 64
    with gmpy2.context(precision=bits):
        scaled = gmpy2.floor(gmpy2.const_pi() * gmpy2.mpfr(10) ** (decimals + 10))
        text = gmpy2.mpz(scaled).digits(10)
    return text[1 : decimals + 1]


def verify(decimals: str, prefix: int = 1_000_000) -> dict:
    """Check digits against known ones and against MPFR on a prefix; raise on a mismatch."""
    if not decimals.startswith(KNOWN_PREFIX[: len(decimals)]):
        raise TestbedError(f"digits of pi start {decimals[:20]}..., not {KNOWN_PREFIX[:20]}...")
    checks = {"known_prefix": min(len(decimals), len(KNOWN_PREFIX))}
    if len(decimals) >= FEYNMAN_POINT + 5:
        six = decimals[FEYNMAN_POINT - 1 : FEYNMAN_POINT + 5]
        if six != "999999":
            raise TestbedError(f"decimals {FEYNMAN_POINT}..{FEYNMAN_POINT + 5} are {six}, not 999999")
        checks["feynman_point"] = True
    n = min(prefix, len(decimals))
    t0 = time.monotonic()
    other = mpfr_digits(n)
    if other != decimals[:n]:
        where = next(i for i, (a, b) in enumerate(zip(other, decimals)) if a != b) + 1
        raise TestbedError(f"digits of pi differ from MPFR's at decimal {where:,}")
    checks["mpfr_prefix"] = n
    checks["mpfr_s"] = round(time.monotonic() - t0, 2)
    return checks


@functools.cache
def pidigits():
    """workloads/pidigits.py, the counting code the engines run, loaded here on the host."""
    path = Path(__file__).resolve().parent.parent / "workloads" / "pidigits.py"
    spec = importlib.util.spec_from_file_location("pidigits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- files -----------------------------------------------------------------------------
def layout(decimals: str) -> str:
    """The lecture's layout: digits in groups of 10, 10 groups a line, spaces and newlines only."""
    lines = []
    step = GROUP * GROUPS_PER_LINE
    for i in range(0, len(decimals), step):
        line = decimals[i : i + step]
        lines.append(" ".join(line[j : j + GROUP] for j in range(0, len(line), GROUP)))
    return "\n".join(lines) + "\n"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class DigitSet:
    folder: Path
    files: list[Path]
    per_file: int
    manifest: dict
    cached: bool = False  # found in the cache (and intact) rather than computed now

    @property
    def total(self) -> int:
        return self.per_file * len(self.files)


def _cached(folder: Path, n_files: int, per_file: int) -> DigitSet | None:
    try:
        manifest = limits.load_json(folder / MANIFEST, "digit manifest")
    except TestbedError:
        return None
    if not isinstance(manifest, dict):
        return None
    if manifest.get("per_file") != per_file or len(manifest.get("files", [])) < n_files:
        return None
    files = []
    for entry in manifest["files"][:n_files]:
        path = folder / entry["name"]
        if not path.is_file() or path.stat().st_size != entry["bytes"] or _sha256(path) != entry["sha256"]:
            return None
        files.append(path)
    return DigitSet(folder, files, per_file, manifest, cached=True)


def ensure(
    n_files: int = 5,
    per_file: int = 10_000_000,
    cache: Path | None = None,
    log: Callable[[str], None] = print,
    check_prefix: int = 1_000_000,
) -> DigitSet:
    """The digit files, from the cache when they are there and intact, else computed now."""
    folder = (cache or default_cache()) / f"{per_file}x{n_files}"
    found = _cached(folder, n_files, per_file)
    if found:
        log(f"[digits] {n_files} x {per_file:,} digits of pi cached in {folder}")
        return found
    total = n_files * per_file
    log(f"[digits] computing {total:,} decimals of pi (Chudnovsky, gmpy2); cached in {folder} afterwards")
    t0 = time.monotonic()

    def progress(msg: str) -> None:
        log(f"[digits]   {msg}  (+{time.monotonic() - t0:.0f}s)")

    decimals = chudnovsky(total, progress)
    made_s = time.monotonic() - t0
    log(f"[digits] computed in {made_s:.1f}s; checking against MPFR on the first {min(check_prefix, total):,}")
    checks = verify(decimals, check_prefix)
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for k in range(n_files):
        path = folder / FILE_NAME.format(k + 1)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(layout(decimals[k * per_file : (k + 1) * per_file]))
        tmp.replace(path)
        entries.append({"name": path.name, "bytes": path.stat().st_size, "sha256": _sha256(path)})
    manifest = {
        "per_file": per_file,
        "files": entries,
        "first_decimal": 1,
        "method": "Chudnovsky binary splitting (gmpy2)",
        "generate_s": round(made_s, 1),
        "checks": checks,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    log(f"[digits] wrote {n_files} files in {time.monotonic() - t0:.1f}s total")
    return DigitSet(folder, [folder / e["name"] for e in entries], per_file, manifest)
