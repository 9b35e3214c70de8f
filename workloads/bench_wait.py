"""bench_wait.py -- wait until a host ipcluster's engines registered (benchmarks, issue 28).

    python bench_wait.py --profile-dir DIR --engines N [--timeout 120]

Run on the host by the benchmarks' host venv (the image's ipyparallel) right after
``ipcluster start --daemonize``: the controller's connection file comes a moment later, so
connecting is tried every 50 ms until the timeout, then every engine is waited for. Exit 0
once N engines registered; else one line on stderr and a non-zero exit.
"""

import argparse
import sys
import time

import ipyparallel as ipp

MAX_ENGINES = 4096
MAX_TIMEOUT = 3600.0


def connect(profile_dir: str, deadline: float) -> ipp.Client:
    """A client of the profile's controller, tried until ``deadline`` (time.monotonic)."""
    while True:
        try:
            return ipp.Client(profile_dir=profile_dir, timeout=5)
        except (OSError, TimeoutError):
            if time.monotonic() > deadline:
                raise TimeoutError("no controller") from None
            time.sleep(0.05)


def wait_for_engines(profile_dir: str, engines: int, timeout: float) -> None:
    rc = connect(profile_dir, time.monotonic() + timeout)
    try:
        rc.wait_for_engines(engines, timeout=timeout)
    finally:
        rc.close()


def main(argv=None):
    p = argparse.ArgumentParser(prog="bench_wait.py")
    p.add_argument("--profile-dir", required=True)
    p.add_argument("--engines", type=int, required=True)
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args(argv)
    if not 1 <= args.engines <= MAX_ENGINES or not 0 < args.timeout <= MAX_TIMEOUT:
        p.error(f"--engines 1-{MAX_ENGINES}, --timeout up to {MAX_TIMEOUT:g} s")
    try:
        wait_for_engines(args.profile_dir, args.engines, args.timeout)
    except TimeoutError as e:
        sys.exit(f"bench_wait.py: {str(e).splitlines()[0] if str(e) else 'timed out'}")


if __name__ == "__main__":
    main()
