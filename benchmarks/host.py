"""The bare-host side of the benchmarks: ipyparallel and MPI on this machine, no containers.

A venv with the image's ipyparallel version on the system Python (the image's Python
minor), and Debian's Open MPI + mpi4py (the image's versions) when the host lacks them.
Every command is an argv list.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from testbed.errors import TestbedError

from .context import ROOT, WORKLOADS, log, run_argv

HOST_VENV = ROOT / "benchmarks" / ".venv-host"
# the same, over the system site-packages: Debian's Open MPI mpi4py (the image's) for MPI engines
HOST_MPI_VENV = ROOT / "benchmarks" / ".venv-host-mpi"
HOST_PYTHON = "/usr/bin/python3"  # Debian's: the same minor version as the image's
HOST_APT_PACKAGES = ("openmpi-bin", "python3-mpi4py", "python3-numpy")

# Open MPI on the host as root (this machine's only user), without CMA (as in the nodes)
HOST_ROOT_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
}
# what a node's environment gives Open MPI (compose/mpi/openmpi4.env), for MPI engines on the host as root
HOST_MPI_ENV = {
    **HOST_ROOT_ENV,
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OMPI_MCA_mpi_yield_when_idle": "1",
    "OMPI_MCA_pml": "ob1",
    "OMPI_MCA_btl": "self,vader,tcp",
}


def node_ipyparallel() -> str:
    for line in (ROOT / "docker" / "requirements-node.txt").read_text().splitlines():
        if line.startswith("ipyparallel"):
            return line.strip()
    return "ipyparallel"


def host_venv(mpi: bool = False) -> Path:
    """A venv on the system Python with the image's ipyparallel (made once); with ``mpi``, one that
    also sees the system's site-packages (Debian's mpi4py, as in the image)."""
    venv = HOST_MPI_VENV if mpi else HOST_VENV
    py = venv / "bin" / "python"
    stamp = venv / ".installed"
    want = node_ipyparallel()
    if stamp.is_file() and stamp.read_text().strip() == want:
        return py
    if not Path(HOST_PYTHON).exists():
        raise TestbedError(f"{HOST_PYTHON} is missing: the host side needs the system Python")
    log(f"making the host venv {venv} with {want}")
    shutil.rmtree(venv, ignore_errors=True)
    r = run_argv([HOST_PYTHON, "-m", "venv", *(["--system-site-packages"] if mpi else []), str(venv)])
    if r.returncode != 0:
        raise TestbedError(f"{HOST_PYTHON} -m venv failed (install python3-venv): {r.stderr.strip()[-300:]}")
    r = run_argv([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", want, "numpy"])
    if r.returncode != 0:
        raise TestbedError(f"pip install {want} into the host venv failed: {r.stderr.strip()[-400:]}")
    stamp.write_text(want + "\n")
    return py


def host_mpi() -> bool:
    """Open MPI and mpi4py for the system Python, from Debian (the image's versions)."""
    if shutil.which("mpiexec") and run_argv([HOST_PYTHON, "-c", "import mpi4py, numpy"]).returncode == 0:
        return True
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("no Open MPI on the host and no root to install it: host MPI figures are skipped")
        return False
    log(f"installing Debian's {', '.join(HOST_APT_PACKAGES)} on the host")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *HOST_APT_PACKAGES],
    ):
        r = run_argv(argv, env=env)
        if r.returncode != 0:
            log(f"apt-get failed, host MPI figures are skipped: {r.stderr.strip()[-300:]}")
            return False
    return True


class HostCluster:
    """``ipcluster start -n N`` on the host, in a profile folder of its own; with ``mpi``,
    ``--engines=MPI``: one ``mpiexec -n N`` world of engines, as the testbed starts them."""

    def __init__(self, n: int, testbed_config: bool = True, timeout: float = 120.0, mpi: bool = False):
        self.n = n
        self.timeout = timeout
        self.mpi = mpi
        self.py = host_venv(mpi)
        self.bin = self.py.parent
        self.profile = Path(tempfile.mkdtemp(prefix="ipp-bench-profile-"))
        if testbed_config:  # like for like: the image's profile (its 500 ms controller heartbeat)
            for f in (ROOT / "docker" / "ipython").glob("*_config.py"):
                shutil.copy(f, self.profile / f.name)

    def up(self) -> float:
        t0 = time.monotonic()
        engines = ["--engines=MPI"] if self.mpi else []
        subprocess.run(
            [
                str(self.bin / "ipcluster"),
                "start",
                f"--n={self.n}",
                *engines,
                "--daemonize",
                f"--profile-dir={self.profile}",
            ],
            capture_output=True,
            check=True,
            env={**os.environ, **HOST_MPI_ENV} if self.mpi else None,
        )
        self.wait()
        return time.monotonic() - t0

    def wait(self) -> None:
        """Until every engine registered: workloads/bench_wait.py, run by the host venv (its ipyparallel)."""
        r = run_argv(
            [
                str(self.py),
                str(WORKLOADS / "bench_wait.py"),
                "--profile-dir",
                str(self.profile),
                "--engines",
                str(self.n),
                "--timeout",
                str(self.timeout),
            ]
        )
        if r.returncode != 0:
            raise TestbedError(f"host ipcluster -n {self.n}: engines did not register: {r.stderr.strip()[-300:]}")

    def down(self) -> float:
        t0 = time.monotonic()
        try:
            run_argv([str(self.bin / "ipcluster"), "stop", f"--profile-dir={self.profile}"], timeout=60)
        except subprocess.TimeoutExpired:
            log(f"ipcluster stop -n {self.n} hung for 60 s: killing its processes")
        # whatever ipcluster stop left: the processes whose command line names this cluster's own profile folder
        took = time.monotonic() - t0
        run_argv(["pkill", "-9", "-f", str(self.profile)])
        shutil.rmtree(self.profile, ignore_errors=True)
        return took
