"""``make bench``: the testbed's cost against the same work done by ipyparallel/MPI on the host.

    python -m benchmarks.run [--only bringup,launchers,fs,tasks,mpi,images,digits,suite] [--runs 5]

Every figure is measured --runs times after a warm-up and reported as median, min
and max; a ratio is taken run by run (container run i / host run i) and then
summarised. Written to benchmarks/results/<UTC time>.{json,md} and, for the newest
run, latest.json / latest.md. Nothing here asserts: figures are reported.

The host side is built by the benchmark itself: a venv with the image's
ipyparallel version on the system Python (the image's Python minor), and
Debian's Open MPI + mpi4py (the image's versions) when the host lacks them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testbed import digits as digits_mod
from testbed import docker_env, images, lecture, stacks, topology
from testbed.cluster import Cluster, IfExists
from testbed.errors import TestbedError
from testbed.node import last_json, one_off

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
HOST_VENV = ROOT / "benchmarks" / ".venv-host"
# the same, over the system site-packages: Debian's Open MPI mpi4py (the image's) for MPI engines
HOST_MPI_VENV = ROOT / "benchmarks" / ".venv-host-mpi"
HOST_PYTHON = "/usr/bin/python3"  # Debian's: the same minor version as the image's
SECTIONS = ("bringup", "launchers", "fs", "tasks", "mpi", "images", "digits", "suite", "scale")
# the default run leaves out scale (about 40 minutes): `make bench BENCH=scale`
DEFAULT_SECTIONS = tuple(sec for sec in SECTIONS if sec != "scale")
BENCH_TAG = "ipp-testbed-bench"


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


def stats(values: list[float]) -> dict:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
        "values": values,
    }


def ratios(a: list[float], b: list[float]) -> dict:
    """Run-by-run a[i] / b[i], summarised."""
    return stats([x / y for x, y in zip(a, b)])


def sh(cmd: list[str] | str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, shell=isinstance(cmd, str), **kw)


# -- the host side ---------------------------------------------------------------------------------
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
    r = sh([HOST_PYTHON, "-m", "venv", *(["--system-site-packages"] if mpi else []), str(venv)])
    if r.returncode != 0:
        raise TestbedError(f"{HOST_PYTHON} -m venv failed (install python3-venv): {r.stderr.strip()[-300:]}")
    r = sh([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", want, "numpy"])
    if r.returncode != 0:
        raise TestbedError(f"pip install {want} into the host venv failed: {r.stderr.strip()[-400:]}")
    stamp.write_text(want + "\n")
    return py


def host_mpi() -> bool:
    """Open MPI and mpi4py for the system Python, from Debian (the image's versions)."""
    if shutil.which("mpiexec") and sh([HOST_PYTHON, "-c", "import mpi4py, numpy"]).returncode == 0:
        return True
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("no Open MPI on the host and no root to install it: host MPI figures are skipped")
        return False
    log("installing Debian's openmpi-bin, python3-mpi4py, python3-numpy on the host")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    r = sh("apt-get update -qq && apt-get install -y -qq --no-install-recommends "
           "openmpi-bin python3-mpi4py python3-numpy", env=env)  # fmt: skip
    if r.returncode != 0:
        log(f"apt-get failed, host MPI figures are skipped: {r.stderr.strip()[-300:]}")
        return False
    return True


def in_node(script: str, args: list[str], user: str = "mpi", **run_kw) -> dict:
    """Run a workload in a one-off node container (removed after) and return its JSON answer."""
    label = "bench-" + script.removeprefix("bench_").removesuffix(".py")
    with one_off(stacks.DEFAULT.image, label, **run_kw) as node:
        return node.workload(script, *args, user=user)


# what a node's environment gives Open MPI (compose/mpi/openmpi4.env), for MPI engines on the host as root
# Open MPI on the host as root (this machine's only user), without CMA (as in the nodes)
HOST_ROOT_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                 "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}  # fmt: skip
HOST_MPI_ENV = {
    **HOST_ROOT_ENV, "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OMPI_MCA_mpi_yield_when_idle": "1", "OMPI_MCA_pml": "ob1", "OMPI_MCA_btl": "self,vader,tcp",
}  # fmt: skip


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
            [str(self.bin / "ipcluster"), "start", f"--n={self.n}", *engines, "--daemonize",
             f"--profile-dir={self.profile}"],
            capture_output=True,
            check=True,
            env={**os.environ, **HOST_MPI_ENV} if self.mpi else None,
        )  # fmt: skip
        self.wait()
        return time.monotonic() - t0

    def wait(self) -> None:
        code = (
            "import sys, time, ipyparallel as ipp\n"
            f"deadline = time.monotonic() + {self.timeout}\n"
            "while True:\n"
            "    try:\n"
            f"        rc = ipp.Client(profile_dir={str(self.profile)!r}, timeout=5); break\n"
            "    except (OSError, TimeoutError):\n"
            "        if time.monotonic() > deadline: sys.exit('no controller')\n"
            "        time.sleep(0.05)\n"
            f"rc.wait_for_engines({self.n}, timeout={self.timeout})\n"
        )
        r = sh([str(self.py), "-c", code])
        if r.returncode != 0:
            raise TestbedError(f"host ipcluster -n {self.n}: engines did not register: {r.stderr.strip()[-300:]}")

    def down(self) -> float:
        t0 = time.monotonic()
        try:
            sh([str(self.bin / "ipcluster"), "stop", f"--profile-dir={self.profile}"], timeout=60)
        except subprocess.TimeoutExpired:
            log(f"ipcluster stop -n {self.n} hung for 30 s: killing its processes")
        # whatever ipcluster stop left
        took = time.monotonic() - t0
        sh(["pkill", "-9", "-f", str(self.profile)])
        shutil.rmtree(self.profile, ignore_errors=True)
        return took


STACK = stacks.DEFAULT  # the MPI stack the cluster sections run on (--mpi)


def container_cluster(topo_name: str, counts: tuple[int, ...] | None, name: str) -> Cluster:
    topo = topology.load(topo_name).with_counts(counts)
    return Cluster(topo, name=name, log=lambda m: None, stack=STACK)


# -- 1. bring-up --------------------------------------------------------------------------------------
def bench_bringup(runs: int) -> dict:
    out = {}
    for n in (1, 5, 10):
        host_t, default_t, ctr_t, steps = [], [], [], []
        for i in range(runs + 1):  # the first is the warm-up
            h = HostCluster(n)
            try:
                th = h.up()
            finally:
                h.down()
            h = HostCluster(n, testbed_config=False)  # ipyparallel's defaults (3 s heartbeat)
            try:
                td = h.up()
            finally:
                h.down()
            c = container_cluster("plain", (n,), f"bench-plain-{n}")
            try:
                c.up(if_exists=IfExists.REPLACE)
                tc = c.timings["up"]
                step = {k: round(v, 2) for k, v in c.timings.items()}
            finally:
                c.down(quiet=True)
            log(f"bring-up n={n} run {i}{' (warm-up)' if i == 0 else ''}: host {th:.2f}s "
                f"(ipyparallel defaults {td:.2f}s), containers {tc:.2f}s {step}")  # fmt: skip
            if i:
                host_t.append(th)
                default_t.append(td)
                ctr_t.append(tc)
                steps.append(step)
        out[f"n{n}"] = {"host_s": stats(host_t), "containers_s": stats(ctr_t), "ratio": ratios(ctr_t, host_t),
                        "host_defaults_s": stats(default_t), "ratio_vs_host_defaults": ratios(ctr_t, default_t),
                        "container_steps": steps}  # fmt: skip
    return out


# -- 1a. bring-up by launch kind: ipcluster, mpiexec over ssh, ipyparallel's SSH and Slurm launchers --------
LAUNCHERS = ("plain", "true-world", "ssh-engines", "slurm", "slurm-split-world")


def bench_launchers(runs: int) -> dict:
    """Whole bring-up (nodes, ssh, Slurm, controller, every group registered) of one topology per way
    of starting engines, and its steps; the topologies' own sizes (5 engines, 4 for ssh-engines)."""
    out = {}
    for name in LAUNCHERS:
        totals, steps = [], []
        for i in range(runs + 1):  # the first is the warm-up
            c = container_cluster(name, None, f"bench-{name}")
            try:
                c.up(if_exists=IfExists.REPLACE)
                step = {k: round(v, 2) for k, v in c.timings.items()}
            finally:
                c.down(quiet=True)
            log(f"bring-up {name} run {i}{' (warm-up)' if i == 0 else ''}: {step['up']:.2f}s {step}")
            if i:
                totals.append(step["up"])
                steps.append(step)
        out[name] = {"engines": topology.load(name).engine_count, "up_s": stats(totals), "steps": steps}
    return out


# -- 1b. why a Python process starts slower in a container here -----------------------------------------
def bench_fs(runs: int) -> dict:
    """Path lookups and ``import ipyparallel``: host, node container as mpi, node container as root.

    On a daemon whose storage driver is fuse-overlayfs, a lookup that starts at '/'
    may go to the FUSE daemon; Python's imports make several per module.
    """
    args = ["--runs", str(runs)]
    r = sh([str(host_venv()), str(ROOT / "workloads" / "bench_fs.py"), *args])
    docs = {"host": last_json(r.stdout, r.stderr, "host bench_fs.py")}
    for who in ("mpi", "root"):
        docs[f"container_{who}"] = in_node("bench_fs.py", args, user=who)
    out: dict = {"storage_driver": docker_env.client().info().get("Driver")}
    for where, d in docs.items():
        out[where] = {k: stats(d[k]) for k in ("stat_abs_us", "stat_rel_us", "import_ipyparallel_s")}
    for where in ("container_mpi", "container_root"):
        out[f"import_ratio_{where}"] = ratios(docs[where]["import_ipyparallel_s"], docs["host"]["import_ipyparallel_s"])
    log(f"fs ({out['storage_driver']}): stat of an absolute path host {out['host']['stat_abs_us']['median']:.1f} us, "
        f"container as mpi {out['container_mpi']['stat_abs_us']['median']:.1f} us, as root "
        f"{out['container_root']['stat_abs_us']['median']:.1f} us; import ipyparallel host "
        f"{out['host']['import_ipyparallel_s']['median']:.2f} s, container as mpi "
        f"{out['container_mpi']['import_ipyparallel_s']['median']:.2f} s")  # fmt: skip
    return out


# -- 2. task overhead -----------------------------------------------------------------------------------
def bench_tasks(runs: int, tasks: int = 2000, engines: int = 5) -> dict:
    """Both clusters up at once; rounds alternate host, containers, host, ... so drift hits both."""
    args = ["--tasks", str(tasks), "--engines", str(engines), "--runs", "1"]
    h = HostCluster(engines)
    c = container_cluster("plain", (engines,), "bench-tasks")
    host: dict = {"lb": [], "direct": []}
    ctr: dict = {"lb": [], "direct": []}
    try:
        h.up()
        c.up(if_exists=IfExists.REPLACE)
        for i in range(runs + 1):  # the first pair is the warm-up
            r = sh([str(h.py), str(ROOT / "workloads" / "bench_tasks.py"), *args, "--profile-dir", str(h.profile)])
            one_h = last_json(r.stdout, r.stderr, "host bench_tasks.py")
            one_c = c.client_json("bench_tasks.py", *args)
            log(f"tasks run {i}{' (warm-up)' if i == 0 else ''}: lb host {one_h['lb'][0]:.0f}/s, containers "
                f"{one_c['lb'][0]:.0f}/s; direct host {one_h['direct'][0]:.0f}/s, containers "
                f"{one_c['direct'][0]:.0f}/s")  # fmt: skip
            if i:
                for view in ("lb", "direct"):
                    host[view] += one_h[view]
                    ctr[view] += one_c[view]
    finally:
        h.down()
        c.down(quiet=True)
    out = {"tasks": tasks, "engines": engines}
    for view in ("lb", "direct"):
        out[view] = {"host_tasks_per_s": stats(host[view]), "containers_tasks_per_s": stats(ctr[view]),
                     "ratio": ratios(ctr[view], host[view])}  # fmt: skip
    return out


# -- 3. MPI transport ------------------------------------------------------------------------------------
def _allreduce_summary(doc: dict) -> dict:
    s = doc["sizes"]
    return {
        "hosts": doc["hosts"],
        "latency_8B_us": stats([x * 1e6 for x in s["8B"]["seconds"]]),
        "bandwidth_1MiB_MBps": stats([x / 1e6 for x in s["1MiB"]["bytes_per_s"]]),
        "bandwidth_64MiB_MBps": stats([x / 1e6 for x in s["64MiB"]["bytes_per_s"]]),
    }


def bench_mpi(runs: int) -> dict:
    out: dict = {}
    c = container_cluster("remote-engines", None, "bench-mpi")  # two nodes: head and laptop
    try:
        c.up(engines=False, if_exists=IfExists.REPLACE)
        for key, across in (("one_container_shm", False), ("two_containers_tcp", True)):
            code, o, e = c.run_program("bench_allreduce.py", 2, ("--runs", str(runs)), across=across)
            if code:
                raise TestbedError(f"bench_allreduce.py ({key}) exit {code}: {e.strip()[-400:]}")
            out[key] = _allreduce_summary(last_json(o, e, key))
    finally:
        c.down(quiet=True)
    if host_mpi():
        env = {**os.environ, **HOST_ROOT_ENV}
        local = str(ROOT / "workloads" / "bench_allreduce.py")
        for key, mca in (
            ("host_tcp_loopback", ["--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo",
                                   "--mca", "oob_tcp_if_include", "lo"]),
            ("host_shm", ["--mca", "btl", "self,vader"]),
        ):  # fmt: skip
            r = sh(["mpiexec", "-n", "2", *mca, HOST_PYTHON, local, "--runs", str(runs)], env=env)
            if r.returncode:
                log(f"host {key} failed: {r.stderr.strip()[-300:]}")
                continue
            out[key] = _allreduce_summary(last_json(r.stdout, r.stderr, key))
    host = out.get("host_tcp_loopback")
    if host:
        for key in ("one_container_shm", "two_containers_tcp"):
            out[f"ratio_{key}_vs_host_tcp"] = {
                "latency": out[key]["latency_8B_us"]["median"] / host["latency_8B_us"]["median"],
                "bandwidth_1MiB": out[key]["bandwidth_1MiB_MBps"]["median"] / host["bandwidth_1MiB_MBps"]["median"],
                "bandwidth_64MiB": out[key]["bandwidth_64MiB_MBps"]["median"] / host["bandwidth_64MiB_MBps"]["median"],
            }
    if out.get("host_shm"):
        h = out["host_shm"]
        out["ratio_one_container_shm_vs_host_shm"] = {
            "latency": out["one_container_shm"]["latency_8B_us"]["median"] / h["latency_8B_us"]["median"],
            "bandwidth_64MiB": out["one_container_shm"]["bandwidth_64MiB_MBps"]["median"]
            / h["bandwidth_64MiB_MBps"]["median"],
        }
    for key, v in out.items():
        if "latency_8B_us" in v:
            log(f"mpi {key}: latency {v['latency_8B_us']['median']:.1f} us, "
                f"1 MiB {v['bandwidth_1MiB_MBps']['median']:.0f} MB/s, "
                f"64 MiB {v['bandwidth_64MiB_MBps']['median']:.0f} MB/s")  # fmt: skip
    return out


# -- 4. images -------------------------------------------------------------------------------------------
def _context_copy() -> Path:
    """The build context (what .dockerignore lets in) in a scratch folder, to change without touching ours."""
    tmp = Path(tempfile.mkdtemp(prefix="ipp-bench-ctx-"))
    for name in ("docker", "workloads"):
        shutil.copytree(ROOT / name, tmp / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".dockerignore", tmp / ".dockerignore")
    return tmp


def bench_images(runs: int, cold_runs: int) -> dict:
    c = docker_env.client()
    images.build(log=lambda m: None)  # current, so "warm" means warm
    out: dict = {"image_size_mb": c.images.get(stacks.DEFAULT.image).attrs["Size"] / 1e6}
    warm = []
    for _ in range(runs + 1):
        t0 = time.monotonic()
        images.build(log=lambda m: None)
        warm.append(time.monotonic() - t0)
    out["warm_rebuild_s"] = stats(warm[1:])
    ctx = _context_copy()
    try:
        cached, workload, reinstalled = [], [], []
        for i in range(runs + 1):
            r = images.docker_build(c, f"{BENCH_TAG}/node:warm", root=ctx, log=lambda m: None)
            cached.append(r["seconds"])
            with open(ctx / "workloads" / "hello_mpi.py", "a") as f:
                f.write(f"# benchmark change {i} {time.time()}\n")
            r = images.docker_build(c, f"{BENCH_TAG}/node:workload", root=ctx, log=lambda m: None)
            workload.append(r["seconds"])
            rebuilt = [s["step"] for s in r["steps"] if not s["cached"] and " RUN " in f" {s['step']} "]
            reinstalled.append(rebuilt)
        out["cached_build_s"] = stats(cached[1:])
        out["workload_change_rebuild_s"] = stats(workload[1:])
        out["workload_change_reran_steps"] = sorted({s for r in reinstalled for s in r})
        out["workload_change_reinstalls_packages"] = any(
            "apt-get" in s or "pip" in s for r in reinstalled for s in r
        )
        log(f"images: warm {statistics.median(warm[1:]):.2f}s, cached build {statistics.median(cached[1:]):.1f}s, "
            f"workload change {statistics.median(workload[1:]):.1f}s (reran RUN steps: "
            f"{out['workload_change_reran_steps'] or 'none'})")  # fmt: skip
        if cold_runs:
            colds = [_cold_build(c, ctx) for _ in range(cold_runs)]
            keys = ("total_s", "base_s", "wheels_s", "node_s")
            out["cold"] = {k: statistics.median(x[k] for x in colds) for k in keys}
            out["cold"].update(runs=cold_runs, all=colds)
    finally:
        shutil.rmtree(ctx, ignore_errors=True)
        for tag in ("node:warm", "node:workload", "node:cold", "base:cold"):
            try:
                c.images.remove(f"{BENCH_TAG}/{tag}", force=True)
            except Exception:  # noqa: BLE001 - not there
                pass
    return out


def _cold_build(c, ctx: Path) -> dict:
    """From nothing: debootstrap the base, download the wheels, build with no cache."""
    log("images: cold build (debootstrap base, wheel download, node image with no cache): a few minutes")
    t0 = time.monotonic()
    r = sh(["bash", str(ROOT / "docker" / "make-base.sh"), f"{BENCH_TAG}/base:cold"])
    if r.returncode:
        raise TestbedError(f"make-base.sh failed: {r.stderr.strip()[-400:]}")
    base_s = time.monotonic() - t0
    wheels = ctx / "docker" / "wheelhouse"
    shutil.rmtree(wheels, ignore_errors=True)
    t1 = time.monotonic()
    saved = images.WHEELHOUSE
    images.WHEELHOUSE = wheels
    try:
        images.ensure_wheelhouse(log=lambda m: None)
    finally:
        images.WHEELHOUSE = saved
    wheels_s = time.monotonic() - t1
    args = {**images.build_args(stacks.DEFAULT), "BASE_IMAGE": f"{BENCH_TAG}/base:cold"}
    r2 = images.docker_build(c, f"{BENCH_TAG}/node:cold", root=ctx, args=args, nocache=True, log=lambda m: None)
    total = time.monotonic() - t0
    log(f"images: cold {total:.0f}s (base {base_s:.0f}s, wheels {wheels_s:.0f}s, node {r2['seconds']:.0f}s)")
    for tag in ("node:cold", "base:cold"):  # the next cold run starts from nothing again
        try:
            c.images.remove(f"{BENCH_TAG}/{tag}", force=True)
        except Exception:  # noqa: BLE001 - not there
            pass
    return {"total_s": total, "base_s": base_s, "wheels_s": wheels_s, "node_s": r2["seconds"]}


# -- 5. digits -------------------------------------------------------------------------------------------
def bench_digits(runs: int) -> dict:
    dset = digits_mod.ensure(log=log)
    doc = in_node("bench_digits.py", [f"/data/{dset.files[0].name}", "--runs", str(runs)],
                  volumes={str(dset.folder): {"bind": "/data", "mode": "ro"}})  # fmt: skip
    mem = stats(doc["memory_read_bytes_per_s"])
    limit = mem["median"] / doc["bytes_per_digit"]
    out = {
        "lecture_code_digits_per_s": stats(doc["lecture_digits_per_s"]),
        "numpy_digits_per_s": stats(doc["numpy_digits_per_s"]),
        "memory_read_MBps": stats([x / 1e6 for x in doc["memory_read_bytes_per_s"]]),
        "memory_limit_digits_per_s": limit,
        "lecture_digits_per_s": lecture.L3["digits_per_s_1"],
    }
    out["lecture_code_vs_lecture"] = out["lecture_code_digits_per_s"]["median"] / out["lecture_digits_per_s"]
    out["numpy_vs_memory_limit"] = out["numpy_digits_per_s"]["median"] / limit
    log(f"digits: lecture code {out['lecture_code_digits_per_s']['median']:,.0f}/s, numpy "
        f"{out['numpy_digits_per_s']['median']:,.0f}/s, memory limit {limit:,.0f}/s")  # fmt: skip
    return out


# -- 6. suite --------------------------------------------------------------------------------------------
def bench_suite(runs: int) -> dict:
    pytest = str(ROOT / ".venv" / "bin" / "pytest")
    out = {}
    for key, args in (("whole_s", []), ("integration_s", ["tests/integration"])):
        times = []
        for _ in range(runs):
            t0 = time.monotonic()
            r = subprocess.run([pytest, "-q", "-p", "no:cacheprovider", *args], cwd=ROOT, capture_output=True,
                               text=True)  # fmt: skip
            times.append(time.monotonic() - t0)
            tail = (r.stdout.strip().splitlines() or ["?"])[-1]
            log(f"suite {key}: {times[-1]:.0f}s ({tail})")
            if r.returncode:
                out.setdefault("failures", []).append(tail)
        out[key] = stats(times)
    return out


# -- report ----------------------------------------------------------------------------------------------
# -- 9. scale: engines x nodes ---------------------------------------------------------------------
SCALE_ENGINES = (1, 8, 32, 64, 128)
SCALE_NODES = (1, 4, 8)


def scale_topology(folder: Path, engines: int, nodes: int) -> topology.Topology:
    """One mpiexec world of ``engines`` ranks over ``nodes`` engine nodes (round-robin), the
    controller on a head node of its own."""
    hosts = [f"node{i}" for i in range(1, nodes + 1)]
    x = (
        f"  summary: {engines} MPI engines over {nodes} node(s), one world (scale benchmark)\n"
        "  controller: head\n  scatter: 32\n  groups:\n"
        f"    - {{name: world, node: head, launch: mpiexec, engines: {engines}, hosts: [{', '.join(hosts)}]}}\n"
    )
    return topology.write(folder, f"scale-{engines}x{nodes}", x, ["head", *hosts])


def engine_memory(cluster: Cluster) -> dict:
    """RSS of the engine processes (ps, on every node; an engine and its nanny) per engine, and each
    engine node's memory (cgroup, less its inactive file cache)."""
    rss_kb, count, nodes_mb = 0, 0, {}
    for svc in cluster.topology.nodes:
        node = cluster.node(svc)
        res = node.exec(["ps", "-eo", "rss=,args="])
        for line in res.out.splitlines():
            rss, _, args = line.strip().partition(" ")
            if "ipyparallel.engine" in args or "ipengine" in args.split(" ", 1)[-1][:200]:
                if "mpiexec" in args or args.startswith(("sh ", "/bin/sh ")):
                    continue
                rss_kb += int(rss)
                count += 1
        if svc != cluster.topology.controller:
            st = node.container.stats(stream=False)
            mem = st.get("memory_stats", {})
            used = mem.get("usage", 0) - mem.get("stats", {}).get("inactive_file", 0)
            nodes_mb[svc] = round(used / 2**20, 1)
    engines = cluster.topology.engine_count  # each engine is two processes: the kernel and its nanny
    return {"engine_processes": count, "mem_mb_per_engine": round(rss_kb / 1024 / max(engines, 1), 1),
            "mem_mb_per_node": nodes_mb}  # fmt: skip


def scale_point(folder: Path, engines: int, nodes: int) -> dict:
    """Bring up, check (psum and ranks of every engine, derived), measure memory, tear down."""
    from testbed.checks import compare
    from testbed.expect import derive

    topo = scale_topology(folder, engines, nodes)
    name = f"bench-scale-{engines}x{nodes}"
    cluster = Cluster(topo, name=name, log=lambda m: None, stack=STACK,
                      register_timeout=Cluster.register_timeout_for(engines))  # fmt: skip
    point: dict = {"engines": engines, "nodes": nodes, "ok": False}
    try:
        cluster.up(if_exists=IfExists.REPLACE)
        point["bringup_s"] = round(cluster.timings["up"], 2)
        point["steps_s"] = {k: round(v, 2) for k, v in cluster.timings.items() if k != "up"}
        point.update(engine_memory(cluster))
        report = cluster.report(topo.scatter)
        result = compare(derive(topo), report["engines"], topology=topo.name, cluster=name, scatter=topo.scatter)
        point["ok"] = result.ok
        point["checked"] = len(report["engines"])
    except TestbedError as e:
        point["error"] = str(e).splitlines()[0][:300]
    finally:
        t0 = time.monotonic()
        cluster.down(quiet=True)
        point["teardown_s"] = round(time.monotonic() - t0, 2)
    return point


def host_scale_point(engines: int, mpi: bool) -> dict:
    """The host's bring-up and teardown of ``engines``: plain engines, or (``mpi``) one world."""
    key = "host_mpi" if mpi else "host"
    h = HostCluster(engines, timeout=Cluster.register_timeout_for(engines), mpi=mpi)
    out: dict = {}
    try:
        out[f"{key}_bringup_s"] = round(h.up(), 2)
    except (TestbedError, subprocess.CalledProcessError) as e:
        out[f"{key}_bringup_s"] = None
        out[f"{key}_error"] = str(e).splitlines()[0][:200]
    finally:
        out[f"{key}_teardown_s"] = round(h.down(), 2)
    return out


def bench_scale(runs: int) -> list[dict]:
    """One run a point (a 128-engine point takes minutes). Beside each N, once: the host's
    ``ipcluster start -n N`` (plain engines) and, like for like, ``--engines=MPI`` (one world)."""
    points, host = [], {}
    mpi = host_mpi()
    with tempfile.TemporaryDirectory(prefix="ipp-bench-scale-") as tmp:
        for engines in SCALE_ENGINES:
            host[engines] = host_scale_point(engines, mpi=False)
            if mpi:
                host[engines].update(host_scale_point(engines, mpi=True))
            log(f"scale: host ipcluster -n {engines}: {host[engines]}")
            for nodes in SCALE_NODES:
                if nodes > engines:
                    continue
                folder = Path(tmp) / f"{engines}x{nodes}"
                folder.mkdir()
                point = {**scale_point(folder, engines, nodes), **host[engines]}
                log(f"scale: {engines} engines over {nodes} node(s): {point}")
                points.append(point)
    return points


def scale_plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for nodes in sorted({p["nodes"] for p in points}):  # every series in the points, not only this run's
        pts = [p for p in points if p["nodes"] == nodes and p.get("bringup_s")]
        if pts:
            ax1.plot([p["engines"] for p in pts], [p["bringup_s"] for p in pts], "o-",
                     label=f"containers, {nodes} node(s)")  # fmt: skip
            ax2.plot([p["engines"] for p in pts], [p.get("mem_mb_per_engine") for p in pts], "o-",
                     label=f"{nodes} node(s)")  # fmt: skip
    for key, style, label in (("host_bringup_s", "k--", "host ipcluster -n N"),
                              ("host_mpi_bringup_s", "k:", "host ipcluster --engines=MPI")):  # fmt: skip
        host = {p["engines"]: p[key] for p in points if p.get(key)}  # one per N: the points' last
        if host:
            ax1.plot(sorted(host), [host[e] for e in sorted(host)], style, label=label)
    ax1.set(xlabel="engines", ylabel="bring-up (s)", title="bring-up until every engine registered")
    ax2.set(xlabel="engines", ylabel="RSS per engine (MB)", title="memory per engine")
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def machine() -> dict:
    c = docker_env.client()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "host": platform.node(),
        "kernel": platform.release(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1),
        "docker": c.version().get("Version"),
        "image": stacks.DEFAULT.image,
    }


def headline(res: dict) -> dict:
    """The figures latest.json must carry (and a few more), flat."""
    s = res["sections"]
    h: dict = {}
    if "bringup" in s:
        for n in (1, 5, 10):
            h[f"bringup_ratio_n{n}"] = s["bringup"][f"n{n}"]["ratio"]["median"]
    if "fs" in s:
        h["storage_driver"] = s["fs"]["storage_driver"]
        h["import_ratio_container_mpi"] = s["fs"]["import_ratio_container_mpi"]["median"]
    if "tasks" in s:
        h["lb_throughput_ratio"] = s["tasks"]["lb"]["ratio"]["median"]
        h["direct_throughput_ratio"] = s["tasks"]["direct"]["ratio"]["median"]
    if "images" in s:
        h["image_size_mb"] = s["images"]["image_size_mb"]
        h["warm_rebuild_s"] = s["images"]["warm_rebuild_s"]["median"]
        h["workload_change_rebuild_s"] = s["images"]["workload_change_rebuild_s"]["median"]
        if "cold" in s["images"]:
            h["cold_build_s"] = s["images"]["cold"]["total_s"]
    if "mpi" in s:
        for k, v in s["mpi"].items():
            if k.startswith("ratio_"):
                for kk, vv in v.items():
                    h[f"mpi_{k[6:]}_{kk}"] = vv
    if "digits" in s:
        h["digits_lecture_code_per_s"] = s["digits"]["lecture_code_digits_per_s"]["median"]
        h["digits_numpy_per_s"] = s["digits"]["numpy_digits_per_s"]["median"]
    if "suite" in s:
        h["suite_whole_s"] = s["suite"]["whole_s"]["median"]
        h["suite_integration_s"] = s["suite"]["integration_s"]["median"]
    return h


def _row(what: str, st: dict, unit: str = "", fmt: str = "{:.2f}") -> str:
    def f(v: float) -> str:
        return fmt.format(v) + unit

    return f"| {what} | {f(st['median'])} | {f(st['min'])} | {f(st['max'])} | {st['runs']} |"


def markdown(res: dict) -> str:
    s = res["sections"]
    m = res["machine"]
    lines = [
        f"# ipp-testbed benchmarks, {res['started']}",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, kernel {m['kernel']}, Docker {m['docker']}. "
        f"Runs per figure: {res['runs']} after a warm-up. Ratios are containers / host, run by run.",
        "",
        "| figure | median | min | max | runs |",
        "|---|---|---|---|---|",
    ]
    if "bringup" in s:
        for n in (1, 5, 10):
            b = s["bringup"][f"n{n}"]
            lines.append(_row(f"bring-up, {n} engine(s): host ipcluster, the image's profile", b["host_s"], " s"))
            lines.append(_row(f"bring-up, {n} engine(s): host ipcluster, ipyparallel's defaults",
                              b["host_defaults_s"], " s"))  # fmt: skip
            lines.append(_row(f"bring-up, {n} engine(s): containers (plain)", b["containers_s"], " s"))
            lines.append(_row(f"bring-up ratio, {n} engine(s) (goal <= 1.1)", b["ratio"]))
    if "launchers" in s:
        for name, v in s["launchers"].items():
            lines.append(_row(f"bring-up by launch kind: {name} ({v['engines']} engines)", v["up_s"], " s"))
    if "fs" in s:
        f = s["fs"]
        drv = f["storage_driver"]
        for where, name in (("host", "host"), ("container_mpi", f"container ({drv}), user mpi"),
                            ("container_root", f"container ({drv}), root")):  # fmt: skip
            lines.append(_row(f"stat() of an absolute path, {name}", f[where]["stat_abs_us"], " us", "{:.1f}"))
            lines.append(_row(f"stat() of the same file, relative path, {name}", f[where]["stat_rel_us"], " us",
                              "{:.1f}"))  # fmt: skip
            lines.append(_row(f"`import ipyparallel` in a new process, {name}", f[where]["import_ipyparallel_s"],
                              " s"))  # fmt: skip
    if "tasks" in s:
        t = s["tasks"]
        for v, name in (("lb", "load-balanced"), ("direct", "direct")):
            lines.append(_row(f"{t['tasks']} no-op tasks, {name}: host", t[v]["host_tasks_per_s"], "/s", "{:.0f}"))
            lines.append(_row(f"{t['tasks']} no-op tasks, {name}: containers", t[v]["containers_tasks_per_s"],
                              "/s", "{:.0f}"))  # fmt: skip
            lines.append(_row(f"task throughput ratio, {name} (goal >= 0.95)", t[v]["ratio"]))
    if "mpi" in s:
        for key, v in s["mpi"].items():
            if "latency_8B_us" in v:
                lines.append(_row(f"Allreduce 8 B latency, {key}", v["latency_8B_us"], " us", "{:.1f}"))
                lines.append(_row(f"Allreduce 1 MiB, {key}", v["bandwidth_1MiB_MBps"], " MB/s", "{:.0f}"))
                lines.append(_row(f"Allreduce 64 MiB, {key}", v["bandwidth_64MiB_MBps"], " MB/s", "{:.0f}"))
    if "images" in s:
        i = s["images"]
        lines.append(f"| node image size | {i['image_size_mb']:.0f} MB | | | |")
        lines.append(_row("warm `make images`, nothing changed", i["warm_rebuild_s"], " s"))
        lines.append(_row("docker build, all cached", i["cached_build_s"], " s"))
        lines.append(_row("rebuild after changing one workload file", i["workload_change_rebuild_s"], " s"))
        lines.append(f"| workload change reinstalls packages | {i['workload_change_reinstalls_packages']} | | | |")
        if "cold" in i:
            c = i["cold"]
            totals = [x["total_s"] for x in c.get("all", [])] or [c["total_s"]]
            lines.append(f"| cold build from nothing (medians: base {c['base_s']:.0f} s, wheels {c['wheels_s']:.0f} s, "
                         f"node {c['node_s']:.0f} s) | {c['total_s']:.0f} s | {min(totals):.0f} s | "
                         f"{max(totals):.0f} s | {c.get('runs', 1)} |")  # fmt: skip
    if "digits" in s:
        d = s["digits"]
        lines.append(_row("2-digit counts, lecture code, 1 engine", d["lecture_code_digits_per_s"], "/s", "{:,.0f}"))
        lines.append(_row("2-digit counts, numpy, 1 engine", d["numpy_digits_per_s"], "/s", "{:,.0f}"))
        lines.append(_row("memory read speed", d["memory_read_MBps"], " MB/s", "{:,.0f}"))
        lines.append(f"| limit set by memory reads | {d['memory_limit_digits_per_s']:,.0f}/s | | | |")
        lines.append(f"| lecture's figure (its machine, its code) | {d['lecture_digits_per_s']:,.0f}/s | | | |")
    if "suite" in s:
        lines.append(_row("whole test suite (pytest)", s["suite"]["whole_s"], " s", "{:.0f}"))
        lines.append(_row("integration tests alone", s["suite"]["integration_s"], " s", "{:.0f}"))
    if "mpi" in s:
        lines += ["", "MPI ratios (container / host, medians):", ""]
        for k, v in s["mpi"].items():
            if k.startswith("ratio_"):
                lines.append(f"- {k[6:]}: " + ", ".join(f"{kk} {vv:.2f}" for kk, vv in v.items()))
    if "scale" in s:
        lines += ["", "Scale: one MPI world of N engines over K engine nodes, one run a point "
                  "(plot: scale.png):", "",
                  "| engines | nodes | bring-up s | host ipcluster -n N s | host --engines=MPI s | "
                  "containers / host MPI | teardown s | host teardown s | RSS per engine MB | node memory MB | "
                  "checked |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for p in s["scale"]:
            ratio = (f"{p['bringup_s'] / p['host_mpi_bringup_s']:.2f}"
                     if p.get("bringup_s") and p.get("host_mpi_bringup_s") else "-")  # fmt: skip
            node_mem = ", ".join(f"{v:.0f}" for v in p.get("mem_mb_per_node", {}).values()) or "-"
            verdict = f"{p.get('checked', 0)}/{p['engines']} ok" if p["ok"] else f"FAILED {p.get('error', '')[:80]}"
            lines.append(f"| {p['engines']} | {p['nodes']} | {p.get('bringup_s', '-')} | {p.get('host_bringup_s', '-')}"
                         f" | {p.get('host_mpi_bringup_s', '-')}"
                         f" | {ratio} | {p.get('teardown_s', '-')} | {p.get('host_teardown_s', '-')}"
                         f" | {p.get('mem_mb_per_engine', '-')} | {node_mem} | {verdict} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def write_latest(res: dict, stamp: str) -> dict:
    """latest.json / latest.md: this run's sections over the previous latest's (a run may do a subset)."""
    path = RESULTS / "latest.json"
    try:
        latest = json.loads(path.read_text())
    except (OSError, ValueError):
        latest = {}
    old = latest.get("sections", {})
    sections = {**old, **res["sections"]}
    sources = {**latest.get("sources", {}), **{sec: f"{stamp}.json" for sec in res["sections"]}}
    if "cold" in res["sections"].get("images", {}):  # this run's cold build is the one to cite
        sources.pop("images cold build", None)
    elif "cold" in old.get("images", {}) and "images" in res["sections"]:  # a --cold-runs 0 run
        sections["images"] = {**sections["images"], "cold": old["images"]["cold"]}
        old_src = latest.get("sources", {})
        sources["images cold build"] = old_src.get("images cold build", old_src.get("images"))
    merged = {"started": res["started"], "runs": res["runs"], "machine": res["machine"], "sections": sections}
    latest = {**headline(merged), "machine": res["machine"], "updated": res["started"], "sources": sources,
              "sections": sections}  # fmt: skip
    if "scale" in res["sections"] and "scale" in old:  # a run of some points replaces those points only
        new = {(q["engines"], q["nodes"]) for q in res["sections"]["scale"]}
        kept = [q for q in old["scale"] if (q["engines"], q["nodes"]) not in new]
        sections["scale"] = sorted(kept + res["sections"]["scale"], key=lambda q: (q["engines"], q["nodes"]))
        if kept:  # say which run each point comes from
            points = ", ".join(f"{e}x{k}" for e, k in sorted(new))
            sources["scale"] = f"{latest.get('sources', {}).get('scale', '?')}; {stamp}.json for {points}"
    if "scale" in sections:  # the list of points, also at the top
        latest["scale"] = sections["scale"]
        if "scale" in res["sections"]:
            scale_plot(sections["scale"], RESULTS / "scale.png")
    path.write_text(json.dumps(latest, indent=2) + "\n")
    md = markdown(merged)
    md += "\nSections measured in: " + ", ".join(f"{k} {v}" for k, v in sources.items()) + "\n"
    (RESULTS / "latest.md").write_text(md)
    return latest


def main(argv: list[str] | None = None) -> int:
    global STACK, SCALE_ENGINES, SCALE_NODES
    p = argparse.ArgumentParser(prog="benchmarks.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", help=f"comma-separated sections ({','.join(SECTIONS)}); default all")
    p.add_argument("--runs", type=int, default=5, help="timed runs per figure, after one warm-up (default 5)")
    p.add_argument("--suite-runs", type=int, default=1, help="runs of the test suite (minutes each; default 1)")
    p.add_argument("--cold-runs", type=int, default=1,
                   help="cold image builds from nothing (about 2.5 minutes each; 0 skips; default 1)")
    p.add_argument("--scale-engines", help=f"scale: engine counts (default {','.join(map(str, SCALE_ENGINES))})")
    p.add_argument("--scale-nodes", help=f"scale: engine node counts (default {','.join(map(str, SCALE_NODES))}); "
                   "the points measured replace those in latest.json, the others stay")
    p.add_argument("--mpi", default=stacks.DEFAULT.name, choices=list(stacks.STACKS),
                   help="MPI stack of the cluster sections (bringup, tasks, mpi); results of another stack than "
                        "the default are written beside latest.*, not into it")
    args = p.parse_args(argv)
    STACK = stacks.get(args.mpi)
    try:
        engines = tuple(int(x) for x in args.scale_engines.split(",")) if args.scale_engines else SCALE_ENGINES
        nodes = tuple(int(x) for x in args.scale_nodes.split(",")) if args.scale_nodes else SCALE_NODES
    except ValueError:
        print("benchmarks: --scale-engines and --scale-nodes take comma-separated numbers", file=sys.stderr)
        return 2
    top = topology.MAX_ENGINES_PER_GROUP
    if not all(1 <= n <= top for n in engines) or not all(1 <= k <= 8 for k in nodes):
        print(f"benchmarks: engines 1-{top}, nodes 1-8 (what was checked)", file=sys.stderr)
        return 2
    SCALE_ENGINES, SCALE_NODES = engines, nodes
    chosen = [x.strip() for x in args.only.split(",")] if args.only else list(DEFAULT_SECTIONS)
    bad = [x for x in chosen if x not in SECTIONS]
    if bad:
        print(f"benchmarks: unknown section(s) {bad}; choose from {SECTIONS}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    res = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": args.runs,
           "mpi": STACK.name, "machine": machine(), "sections": {}}  # fmt: skip
    t_all = time.monotonic()
    try:
        for sec in chosen:
            log(f"== {sec}")
            t0 = time.monotonic()
            if sec == "bringup":
                res["sections"][sec] = bench_bringup(args.runs)
            elif sec == "launchers":
                res["sections"][sec] = bench_launchers(args.runs)
            elif sec == "fs":
                res["sections"][sec] = bench_fs(args.runs)
            elif sec == "tasks":
                res["sections"][sec] = bench_tasks(args.runs)
            elif sec == "mpi":
                res["sections"][sec] = bench_mpi(args.runs)
            elif sec == "images":
                res["sections"][sec] = bench_images(args.runs, args.cold_runs)
            elif sec == "digits":
                res["sections"][sec] = bench_digits(args.runs)
            elif sec == "suite":
                res["sections"][sec] = bench_suite(args.suite_runs)
            elif sec == "scale":
                res["sections"][sec] = bench_scale(args.runs)
            log(f"== {sec} done in {time.monotonic() - t0:.0f}s")
    except TestbedError as e:
        print(f"benchmarks: error: {e}", file=sys.stderr)
        return 2
    finally:
        c = docker_env.client()  # none of the benchmark's clusters left behind (and no one else's touched)
        for name in docker_env.running_clusters(c):
            if name.startswith("bench-"):
                docker_env.clean(c, name)
    res["elapsed_s"] = time.monotonic() - t_all
    res["headline"] = headline(res)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = res["started"].replace(":", "") + ("" if STACK is stacks.DEFAULT else f"-{STACK.name}")
    md = markdown(res)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(res, indent=2) + "\n")
    (RESULTS / f"{stamp}.md").write_text(md)
    if STACK is stacks.DEFAULT:
        write_latest(res, stamp)
    print(md)
    print(json.dumps(res["headline"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
