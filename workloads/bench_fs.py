"""bench_fs.py -- what a Python process start costs here, and the path lookups under it (issue 7).

    python bench_fs.py [--runs 5] [--loops 20000]

Run on the host and in a node container (as user mpi, and as root). Prints one JSON
object:
- stat_abs_us: one os.stat() of an absolute path (a stdlib file), in microseconds;
- stat_rel_us: the same file by a path relative to its folder (no lookup from '/');
- import_ipyparallel_s: a fresh interpreter running `import ipyparallel`, in seconds.
Python's imports look modules up by absolute paths, several per module, so where
an absolute lookup is slow, every Python process starts slowly.
"""

import argparse
import json
import os
import subprocess
import sys
import time


def per_call_us(path: str, loops: int) -> float:
    t0 = time.perf_counter()
    for _ in range(loops):
        os.stat(path)
    return (time.perf_counter() - t0) / loops * 1e6


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--loops", type=int, default=20000)
    args = p.parse_args(argv)
    target = os.__file__
    folder, name = os.path.split(target)
    out = {"uid": os.getuid(), "path": target, "stat_abs_us": [], "stat_rel_us": [], "import_ipyparallel_s": []}
    os.chdir(folder)
    per_call_us(target, 100)  # warm-up: the dentries are cached from here on
    for _ in range(args.runs):
        out["stat_abs_us"].append(per_call_us(target, args.loops))
        out["stat_rel_us"].append(per_call_us(name, args.loops))
    cmd = [sys.executable, "-c", "import ipyparallel"]
    subprocess.run(cmd, check=True)  # warm-up: files in the page cache
    for _ in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        out["import_ipyparallel_s"].append(time.perf_counter() - t0)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
