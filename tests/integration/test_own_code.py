"""A user's own code on a cluster: --mount, --pip, exec, hosts, the host-side client, the
pytest plugin and the matrix runner, on live clusters (docs/own-code.md).

One true-world cluster (three nodes, five engines on node1 and node2) is brought up for
the module through the public API, with a copy of examples/pisum mounted and one extra
package. Expected values come from the topology (``expected()``, the placement) and from
arithmetic, never from the output under test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import testbed
from testbed import docker_env, hostclient, topology

pytestmark = pytest.mark.integration
# functions sent from a host client travel as bytecode: only from the nodes' Python (testbed.hostclient)
NODE_PYTHON_HERE = pytest.mark.skipif(hostclient.python_note() is not None, reason=str(hostclient.python_note())[:160])

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pisum"
NAME = "it-own-code"
EXTRA = "tabulate==0.9.0"  # a small pure-Python wheel the image does not have


def tb(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "testbed.cli", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the example project: the folder the cluster mounts (tests write into it)."""
    dest = tmp_path_factory.mktemp("own") / "pisum"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    dest.chmod(0o755)
    if os.getuid() == 0:  # as root, user mpi takes the folder owner's ids (MPI refuses root)
        for p in [dest, *dest.rglob("*")]:
            os.chown(p, 1000, 1000)
    return dest


def owner(project: Path) -> int:
    """The uid user mpi runs as: the caller's, or for root the mounted folder's owner's."""
    return os.getuid() or project.stat().st_uid


@pytest.fixture(scope="module")
def own(docker_client, project):
    with testbed.cluster("true-world", name=NAME, mount=project, pip=[EXTRA], reuse=False) as c:
        yield c


def test_the_host_client_reaches_every_engine_where_the_topology_puts_it(own):
    expected = {e["id"]: e["hostname"] for e in own.expected()["engines"]}
    p = tb("client", "true-world", "--name", NAME)
    assert p.returncode == 0, p.stderr
    path = Path(p.stdout.strip())
    assert path.is_file() and (path.stat().st_mode & 0o777) == 0o600
    doc = json.loads(path.read_text())
    assert doc["location"] == "127.0.0.1" and doc["interface"] == "tcp://127.0.0.1"
    import ipyparallel as ipp

    rc = ipp.Client(str(path))
    try:
        rc.wait_for_engines(len(expected), timeout=60)
        assert sorted(rc.ids) == sorted(expected)
        hosts = rc[:].apply_async(__import__("socket").gethostname).get_dict(timeout=60)
        assert hosts == expected
    finally:
        rc.close()


@NODE_PYTHON_HERE
def test_engines_work_in_the_mounted_folder_and_write_as_the_host_user(own, project):
    rc = own.client()
    try:
        assert set(rc[:].apply_sync(os.getcwd)) == {"/project"}
        import ipyparallel as ipp

        rc[rc.ids[0]].apply_sync(ipp.interactive(lambda: open("from-engine.txt", "w").write("hello\n")))
    finally:
        rc.close()
    written = project / "from-engine.txt"
    assert written.read_text() == "hello\n"
    assert written.stat().st_uid == owner(project)


def test_exec_streams_output_and_passes_the_exit_status_through(own):
    p = tb("exec", "true-world", "--name", NAME, "--", "sh", "-c", "echo out; echo err >&2; pwd; exit 7")
    assert p.returncode == 7
    assert p.stdout.splitlines() == ["out", "/project"] and p.stderr.strip() == "err"


def test_exec_on_another_node_as_the_mpi_user_with_the_cluster_env(own, project):
    p = tb(
        "exec",
        "true-world",
        "--name",
        NAME,
        "--node",
        "node2",
        "--",
        "sh",
        "-c",
        'hostname; id -u; echo "$TESTBED_MPI $TESTBED_TOPOLOGY"',
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:3] == ["node2", str(owner(project)), "openmpi4 true-world"]


@pytest.mark.parametrize(
    "args, says",
    [
        (["--", "no-such-command-here"], "command not found on node head: 'no-such-command-here'"),
        (["--node", "node9", "--", "true"], "has no node 'node9'; its nodes: head, node1, node2"),
    ],
)
def test_exec_bad_input_is_one_line(own, args, says):
    p = tb("exec", "true-world", "--name", NAME, *args)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and says in p.stderr


def test_extra_package_is_on_every_node(own):
    name, version = EXTRA.split("==")
    for node in ("head", "node1", "node2"):
        res = own.exec(["python3", "-c", f"import {name}; print({name}.__version__)"], node=node)
        assert (res.code, res.out.strip()) == (0, version), res.err


def test_hosts_is_the_placement_as_a_hostfile(own):
    p = tb("hosts", "true-world", "--name", NAME)
    rows = topology.load("true-world")
    per = {}
    from testbed import placement

    for r in placement.derive(rows):
        per[rows.hostname(r.node)] = per.get(rows.hostname(r.node), 0) + 1
    want = "".join(f"{h} slots={per.get(h, 0) or 1}\n" for h in ("head", "node1", "node2"))
    assert p.returncode == 0 and p.stdout == want


ONE_SIDED = r"""
import os, socket
from mpi4py import MPI
comm = MPI.COMM_WORLD
buf = bytearray(8 * comm.size) if comm.rank == 0 else None
win = MPI.Win.Create(buf if buf is not None else MPI.BOTTOM, 8 if comm.rank == 0 else 1, comm=comm)
win.Fence()
win.Put(bytearray((comm.rank * 10 + 1).to_bytes(8, "little")), 0, target=(comm.rank, 8, MPI.BYTE))
win.Fence()
win.Free()
levels = {MPI.THREAD_SINGLE: "single", MPI.THREAD_FUNNELED: "funneled",
          MPI.THREAD_SERIALIZED: "serialized", MPI.THREAD_MULTIPLE: "multiple"}
seen = comm.gather((socket.gethostname(), os.environ.get("MPI4PY_RC_THREAD_LEVEL"), levels[MPI.Query_thread()]))
if comm.rank == 0:
    got = [int.from_bytes(buf[8 * r: 8 * r + 8], "little") for r in range(comm.size)]
    print("PUT", *got)
    for host, env, level in seen:
        print("RANK", host, env, level)
"""


def test_a_hand_run_mpiexec_gets_the_same_environment_on_remote_ranks(own, project):
    """One-sided communication across nodes by hand: it needs MPI4PY_RC_THREAD_LEVEL (and osc
    settings) on every rank, which only the testbed's own launches forwarded before."""
    (project / "one_sided.py").write_text(ONE_SIDED)
    ranks = 4  # hostfile: head 1 slot, node1 3: ranks over two nodes
    res = own.exec(["mpiexec", "--hostfile", "/tmp/testbed/hostfile", "-n", str(ranks), "python3", "one_sided.py"])
    assert res.code == 0, res.err[-2000:]
    lines = res.out.splitlines()
    put = next(ln for ln in lines if ln.startswith("PUT")).split()[1:]
    assert [int(x) for x in put] == [r * 10 + 1 for r in range(ranks)]
    rank_lines = [ln.split() for ln in lines if ln.startswith("RANK")]
    assert {h for _r, h, _e, _l in rank_lines} == {"head", "node1"}
    assert all(env == "serialized" and level == "serialized" for _r, _h, env, level in rank_lines), rank_lines


def _plugin_pytest(project, topo: str, name: str, *more: str) -> subprocess.CompletedProcess:
    """The example project's tests, run by pytest from the host with the plugin's options."""
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--testbed", topo]
    argv += ["--testbed-name", name, "--testbed-mount", str(project), "tests", *more]
    return subprocess.run(argv, capture_output=True, text=True, cwd=project, timeout=600)


@NODE_PYTHON_HERE
def test_the_example_project_passes_through_the_plugin(own, project):
    """The example's own tests, from the host, through the plugin, on the module's cluster (reused)."""
    p = _plugin_pytest(project, "true-world", NAME)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert "5 passed" in p.stdout, p.stdout[-1000:]


@NODE_PYTHON_HERE
def test_the_plugin_brings_a_cluster_up_and_takes_it_down(docker_client, project, tmp_path):
    """Without a running cluster the plugin's session brings one up and removes it at the end."""
    name = "it-plugin"
    p = _plugin_pytest(project, "single-world", name, "-k", "engines or mpiexec")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert "3 passed" in p.stdout, p.stdout[-1000:]
    assert not any(docker_env.leftovers(docker_client, name).values())


def test_a_package_that_would_replace_numpy_is_refused_in_one_line(docker_client):
    p = tb("up", "single-world", "--name", "it-refused", "--pip", "numpy==1.26.4")
    assert p.returncode == 2
    line = p.stderr.strip()
    assert len(line.splitlines()) == 1 and "would replace numpy==1.26.4 (the image has numpy 2.4.6)" in line


def test_exec_on_a_cluster_that_is_not_up(docker_client):
    p = tb("exec", "true-world", "--name", "it-not-up", "--", "true")
    assert p.returncode == 2 and "no cluster named 'it-not-up' is up" in p.stderr


@pytest.mark.stacks
def test_matrix_rows_follow_the_stack_and_a_failure_is_a_row(docker_client, tmp_path):
    """A command that fails on mpich only: the mpich row fails, the other passes, exit 1."""
    junit = tmp_path / "m.xml"
    p = tb(
        "matrix",
        "--topologies",
        "single-world",
        "--mpi",
        "openmpi4,mpich",
        "--junit",
        str(junit),
        "--json",
        "--",
        "sh",
        "-c",
        'echo "on $TESTBED_MPI"; test "$TESTBED_MPI" != mpich',
    )
    assert p.returncode == 1, p.stderr[-2000:]
    doc = json.loads(p.stdout.strip().splitlines()[-1])
    assert [(r["topology"], r["mpi"], r["ok"], r["exit"]) for r in doc["rows"]] == [
        ("single-world", "openmpi4", True, 0),
        ("single-world", "mpich", False, 1),
    ]
    cases = ET.parse(junit).getroot().findall("testcase")
    assert [(c.get("name"), c.find("failure") is not None) for c in cases] == [("openmpi4", False), ("mpich", True)]
    assert "on mpich" in cases[1].find("system-out").text
