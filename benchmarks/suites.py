"""Other people's test suites on testbed clusters, through the user-facing features only
(``testbed.cluster`` with ``mount`` and ``pip``, then ``exec``): docs/own-code.md.

    python -m benchmarks.suites mpi4py --mpi openmpi4 [--record]
    python -m benchmarks.suites ipyparallel-mpi --mpi mpich [--record]
    python -m benchmarks.suites ipyparallel-slurm [--record]

- ``mpi4py``: mpi4py's own tests, from the sdist of the version the image runs, as two MPI
  ranks on two nodes of true-world (head and node1, from the cluster's hostfile), with
  TMPDIR in the mounted folder, which every node shares (MPI-IO's files are one file).
- ``ipyparallel-mpi``: ipyparallel's ``tests/test_mpi.py`` (its MPI launchers) from the
  9.2.0 sdist, inside the controller node of single-world, with pytest and its plugins
  added as extra packages.
- ``ipyparallel-slurm``: its ``tests/test_slurm.py`` on the head of the slurm topology
  (sbatch to node1 and node2). The tests make their profile under ``/data/``, which must be
  the same folder on every node: the work folder is mounted there.

Each run writes the whole output to ``benchmarks/results/suites/<suite>-<stack>.log`` and a
summary (ran, failures, errors, skipped, seconds) to ``.json`` beside it; ``--record`` puts
the summary into figures.json (``suite.<suite>.<stack>``), which docs/own-code.md renders.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import testbed
from testbed import api, images

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "suites"
CACHE = Path.home() / ".cache" / "ipp-testbed" / "sdists"
IPYPARALLEL = "9.2.0"  # the images' (docker/requirements-node.txt)
# what ipyparallel's tests need beyond the image: its test extra, less coverage, plus a
# per-test timeout (its test_signal_engines waits for engines without one)
IPP_TEST_PIP = ["pytest>=8,<9", "pytest-asyncio>=0.23", "testpath", "pytest-timeout"]
TIMEOUT_S = 2400  # one suite, at most
# A module of mpi4py's suite that fails with its two ranks on two nodes, in the MPI library
# (docs/own-code.md): it runs apart, with both ranks on head, where it passes, so that the
# rest of the suite still runs across nodes. Both are spawns from ranks on two nodes:
#  - mpich: hydra 5.0.2's mpiexec ends the whole job when such a spawn adds processes
#    ("HYD_pmcd_pmiserv_proxy_init_cb: assert (proxy->node->control_fd == -1) failed");
#  - openmpi5: Open MPI 5.0.8's TCP transport finds no address for the spawned processes
#    ("btl_tcp_proc_create: opal_modex_recv: failed"), then a rank dies of SIGSEGV.
ACROSS_FAILS = {"mpich": "test_spawn", "openmpi5": "test_spawn"}


def sdist(name: str, version: str) -> Path:
    """The sdist of ``name==version`` from PyPI (cached); its path."""
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob(f"{name}-{version}.tar.gz"))
    if found:
        return found[0]
    cmd = [
        *images.PIP_DOWNLOAD,
        "--no-deps",
        "--no-binary",
        name,
        "--dest",
        str(CACHE),
        f"{name}=={version}",
    ]
    subprocess.run(cmd, check=True)
    return sorted(CACHE.glob(f"{name}-{version}.tar.gz"))[0]


def unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / archive.name.removesuffix(".tar.gz")


def work_folder(suite: str, stack: str) -> Path:
    folder = OUT / "runs" / f"{suite}-{stack}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def writable_by_nodes(folder: Path) -> None:
    """As root, give the work folder to uid 1000, the nodes' MPI user then (docs/own-code.md):
    a root-owned folder is read-only to the nodes, and tempfile would quietly fall back to
    each node's own /tmp, which the ranks of two nodes do not share."""
    if os.getuid() == 0:
        for p in [folder, *folder.rglob("*")]:
            os.chown(p, 1000, 1000, follow_symlinks=False)


UNITTEST_RE = re.compile(r"^Ran (\d+) tests? in ([\d.]+)s", re.M)
UNITTEST_END_RE = re.compile(r"^(OK|FAILED)(?: \((.*)\))?$", re.M)
PYTEST_RE = re.compile(r"^=+ (.*) in ([\d.]+)s(?: \(.*\))? =+$", re.M)


def parse_unittest(text: str) -> dict:
    """The first rank's unittest summary ("Ran N tests", "OK (skipped=S)" / "FAILED (...)")."""
    ran = UNITTEST_RE.findall(text)
    ends = UNITTEST_END_RE.findall(text)
    if not ran or not ends:
        return {"ran": None}
    counts = dict(kv.split("=") for kv in (ends[0][1] or "").split(", ") if "=" in kv)
    return {
        "ran": int(ran[0][0]),
        "failures": int(counts.get("failures", 0)),
        "errors": int(counts.get("errors", 0)),
        "skipped": int(counts.get("skipped", 0)),
        "ranks_reporting": len(ran),
    }


def parse_pytest(text: str) -> dict:
    m = PYTEST_RE.findall(text)
    if not m:
        return {"ran": None}
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (\w+)", m[-1][0])}
    ran = sum(counts.get(k, 0) for k in ("passed", "failed", "error", "errors"))
    errors = counts.get("error", 0) + counts.get("errors", 0)
    return {
        "ran": ran,
        "passed": counts.get("passed", 0),
        "failures": counts.get("failed", 0),
        "errors": errors,
        "skipped": counts.get("skipped", 0),
    }


def run_in(c: testbed.TestbedCluster, argv: list[str], log: Path) -> int:
    with open(log, "ab") as fh:
        fh.write(f"$ {' '.join(argv)}\n".encode())
        fh.flush()
        return api.run_exec(c._cluster, argv, out=_Both(fh), err=_Both(fh)).code


class _Both:
    """Output to the log file and to this terminal."""

    def __init__(self, fh):
        self.fh = fh

    def write(self, data: bytes) -> int:
        self.fh.write(data)
        sys.stdout.buffer.write(data)
        return len(data)

    def flush(self) -> None:
        self.fh.flush()
        sys.stdout.flush()


def mpi4py_suite(stack: str, log: Path) -> dict:
    folder = work_folder("mpi4py", stack)
    (folder / "tmp").mkdir()
    with testbed.cluster(
        "true-world",
        name=f"suite-mpi4py-{stack}",
        mpi=stack,
        mount=folder,
        reuse=False,
        pip=["setuptools"] if stack == "openmpi4" else (),
    ) as c:
        # setuptools: mpi4py 3.1's runner imports distutils, which Debian's Python leaves out
        version = c.exec(["python3", "-c", "import mpi4py; print(mpi4py.__version__)"], check=True).out.strip()
        src = unpack(sdist("mpi4py", version), folder)
        writable_by_nodes(folder)
        old = (src / "test/runtests.py").exists() and version.startswith("3.")
        runner = "test/runtests.py" if old else "test/main.py"
        flag = "-f" if stack == "mpich" else "--hostfile"
        apart = ACROSS_FAILS.get(stack)
        tests = ["python3", f"{src.name}/{runner}", "-v"]
        argv = [
            "timeout",
            str(TIMEOUT_S),
            "mpiexec",
            flag,
            "/tmp/testbed/hostfile",
            "-n",
            "2",
            "env",
            f"TMPDIR={c.mount}/tmp",
            *tests,
            *(["-e", apart] if apart else []),
        ]
        t0 = time.monotonic()
        code = run_in(c, argv, log)
        seconds = time.monotonic() - t0
        doc = parse_unittest(log.read_text(errors="replace"))
        if apart:  # the module that fails across nodes, with both ranks on head
            alone = log.with_suffix(f".{apart}.log")
            alone.write_text("")
            one_node = ["timeout", "600", "mpiexec", "-n", "2", "env", f"TMPDIR={c.mount}/tmp", *tests, "-i", apart]
            doc["apart"] = {
                "module": apart,
                "ranks": "2: head",
                "exit": run_in(c, one_node, alone),
                **parse_unittest(alone.read_text(errors="replace")),
            }
    # where the ranks ran, as mpi4py's runner says it ("[0@head] ..."): read, not assumed
    hosts = sorted(set(re.findall(r"^\[\d+@([\w.-]+)\]", log.read_text(errors="replace"), re.M)))
    return {**doc, "exit": code, "seconds": round(seconds), "version": version, "hosts": hosts}


def ipyparallel_suite(kind: str, stack: str, log: Path) -> dict:
    folder = work_folder(f"ipyparallel-{kind}", stack)
    src = unpack(sdist("ipyparallel", IPYPARALLEL), folder)
    writable_by_nodes(folder)
    test = f"ipyparallel/tests/test_{kind}.py"
    if kind == "slurm":
        topo, mount = "slurm", f"{folder}:/data"
    else:
        topo, mount = "single-world", str(folder)
    with testbed.cluster(
        topo, name=f"suite-ipp-{kind}-{stack}", mpi=stack, mount=mount, pip=IPP_TEST_PIP, reuse=False
    ) as c:
        # PYTHONPATH: the engines the tests start import the tests' module (their functions
        # are sent by reference), which the image's ipyparallel leaves out: the sdist's
        # ipyparallel (the same 9.2.0) serves the tests and their engines alike
        # Open MPI 5's mpiexec (PRRTE) hands its ranks only the variables it is told to: the
        # engines the tests start with mpiexec need PYTHONPATH too
        forward = ["OMPI_MCA_mca_base_env_list=PYTHONPATH"] if stack == "openmpi5" else []
        argv = [
            "env",
            "JUPYTER_PLATFORM_DIRS=1",
            "IPP_DISABLE_JS=1",
            f"PYTHONPATH={c.mount}/{src.name}",
            *forward,
            "timeout",
            str(TIMEOUT_S),
            "python3",
            "-m",
            "pytest",
            "-v",
            "-rs",
            "--color=no",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=auto",
            "--timeout",
            "300",
            "--rootdir",
            src.name,
            f"{src.name}/{test}",
        ]
        t0 = time.monotonic()
        code = run_in(c, argv, log)
        seconds = time.monotonic() - t0
    return {
        **parse_pytest(log.read_text(errors="replace")),
        "exit": code,
        "seconds": round(seconds),
        "version": IPYPARALLEL,
        "topology": topo,
    }


def summary_text(doc: dict) -> str:
    if doc.get("ran") is None:
        return f"no summary (exit {doc.get('exit')})"
    text = (
        f"{doc['ran']:,} ran: {doc['failures']} failed, {doc['errors']} errors, {doc['skipped']} skipped "
        f"({doc['seconds']} s)"
    )
    apart = doc.get("apart")
    if apart:
        got = (
            f"{apart['ran']} ran: {apart['failures']} failed, {apart['errors']} errors, {apart['skipped']} skipped"
            if apart.get("ran") is not None
            else f"no summary (exit {apart['exit']})"
        )
        text += f"; without {apart['module']}, which ran apart on one node: {got}"
    return text


def note(suite: str, stack: str, doc: dict) -> str:
    """What a figure's row says it is: the suite, its version, the stack and where it ran."""
    if suite == "mpi4py":
        where = f"2 ranks on {' and '.join(doc.get('hosts') or ['?'])} of true-world"
    else:
        where = f"inside {doc.get('topology')}"
    return f"{suite.replace('-', ' ')} {doc.get('version', '')} on {stack}, {where}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.suites", description=__doc__.split("\n\n")[0])
    p.add_argument("suite", choices=["mpi4py", "ipyparallel-mpi", "ipyparallel-slurm"])
    p.add_argument("--mpi", default="openmpi4", choices=["openmpi4", "openmpi5", "mpich"])
    p.add_argument("--record", action="store_true", help="put the summary into benchmarks/results/figures.json")
    p.add_argument("--record-only", action="store_true", help="record the summary of the last run, run nothing")
    args = p.parse_args(argv)
    if args.record_only:
        doc = json.loads((OUT / f"{args.suite}-{args.mpi}.json").read_text())
        record(args, doc)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / f"{args.suite}-{args.mpi}.log"
    log.write_text("")
    if args.suite == "mpi4py":
        doc = mpi4py_suite(args.mpi, log)
    else:
        doc = ipyparallel_suite(args.suite.split("-", 1)[1], args.mpi, log)
    (OUT / f"{args.suite}-{args.mpi}.json").write_text(json.dumps(doc, indent=1) + "\n")
    text = summary_text(doc)
    print(f"== {args.suite} on {args.mpi}: {text}")
    if args.record:
        record(args, doc)
    return 0 if doc.get("ran") else 1


def record(args, doc: dict) -> None:
    """The summary into figures.json, as ``suite.<suite>.<stack>``."""
    cmd = f"python -m benchmarks.suites {args.suite} --mpi {args.mpi}"
    text = summary_text(doc)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.figures",
            "record",
            f"suite.{args.suite}.{args.mpi}",
            text,
            "--unit",
            "",
            "--command",
            cmd,
            "--note",
            note(args.suite, args.mpi, doc),
        ],
        check=True,
        cwd=ROOT,
    )


if __name__ == "__main__":
    sys.exit(main())
