"""pisum on a cluster: its engines, its MPI ranks across the nodes, its files.

Every expected value comes from the topology (``expected()``) or from the serial sum on
this machine, never from the output under test.
"""

import math
import os
from pathlib import Path

import pisum
import pytest
from ipyparallel import interactive

N = 200_000
# Functions sent to the engines are made interactive: they then run in the engines'
# namespace, and the engines need not import this test module (which they cannot).


def test_serial_sum_is_pi():
    assert abs(pisum.pi_serial(N) - math.pi) <= pisum.error_bound(N)


def test_parts_add_up_on_the_engines(ipp_client, testbed_cluster):
    """Each engine imports pisum from the mounted folder and sums its part."""
    view = ipp_client[:]
    parts = len(ipp_client.ids)
    assert parts == len(testbed_cluster.expected()["engines"])
    view.execute("import os, sys; sys.path.insert(0, os.getcwd()); import pisum", block=True)
    shares = [
        ipp_client[e].apply_sync(interactive(lambda k, p, n: __import__("pisum").part(k, p, n)), k, parts, N)
        for k, e in enumerate(ipp_client.ids)
    ]
    assert math.isclose(sum(shares), pisum.pi_serial(N), rel_tol=1e-12)


def test_engines_run_in_the_mounted_folder(ipp_client, testbed_cluster):
    cwd = ipp_client[:].apply_sync(os.getcwd)
    assert set(cwd) == {str(testbed_cluster.mount)}


def test_mpiexec_across_the_nodes(testbed_exec, testbed_cluster, hostfile_args):
    """mpiexec over the cluster's hostfile: the ranks' sum is the serial sum, on the cluster's hosts."""
    ranks = 4
    res = testbed_exec(["mpiexec", *hostfile_args, "-n", str(ranks), "python3", "-m", "pisum.mpi_pi", str(N)])
    assert res.code == 0, res.err[-2000:]
    line = [ln for ln in res.out.splitlines() if ln.startswith("pi ")][-1].split()
    assert math.isclose(float(line[1]), pisum.pi_serial(N), rel_tol=1e-12)
    assert int(line[3]) == ranks
    hosts = line[5].split(",")
    assert set(hosts) <= set(testbed_cluster.nodes)
    if len(testbed_cluster.nodes) > 1:
        assert len(set(hosts)) > 1, f"every rank on one host: {hosts}"


def test_files_written_on_the_nodes_are_mine(ipp_client, testbed_cluster, testbed_exec):
    """What an engine writes in the mounted folder belongs to the user who brought the cluster up."""
    if os.environ.get("TESTBED_NODE"):
        pytest.skip("checked from the host")
    if testbed_exec(["test", "-w", "."]).code != 0:
        pytest.skip(
            "the nodes cannot write in the mounted folder: root's folder, mounted as root "
            "(MPI refuses root; docs/own-code.md)"
        )
    name = f"written-by-engine-{os.getpid()}.txt"
    ipp_client[ipp_client.ids[-1]].apply_sync(interactive(lambda n: open(n, "w").write("from an engine\n")), name)
    here = Path(testbed_cluster.mount_source) / name
    try:
        # the caller's uid; MPI refuses root, so for root the folder owner's (docs/own-code.md)
        want = os.getuid() or Path(testbed_cluster.mount_source).stat().st_uid
        assert here.read_text() == "from an engine\n"
        assert here.stat().st_uid == want
    finally:
        here.unlink(missing_ok=True)
