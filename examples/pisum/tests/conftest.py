"""Fixtures for both ways these tests run.

From the host, the testbed's pytest plugin gives ``testbed_cluster``, ``ipp_client`` and
``testbed_exec`` (``pytest --testbed TOPOLOGY --testbed-mount .``). Inside a node of a
cluster (``testbed exec`` or ``testbed matrix`` set ``TESTBED_NODE``), the same fixtures
are made here from what the node has: the controller's connection file, and processes.
"""

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

IN_NODE = bool(os.environ.get("TESTBED_NODE"))

if IN_NODE:

    @pytest.fixture(scope="session")
    def testbed_cluster():
        facts = json.loads(Path("/tmp/testbed/facts.json").read_text())
        return SimpleNamespace(
            mpi=os.environ["TESTBED_MPI"],
            topology=os.environ["TESTBED_TOPOLOGY"],
            nodes=facts["nodes"],
            engines=len(facts["engines"]),
            expected=lambda: facts,
            mount=Path.cwd(),
        )

    @pytest.fixture(scope="session")
    def ipp_client(testbed_cluster):
        import ipyparallel as ipp

        rc = ipp.Client()
        rc.wait_for_engines(testbed_cluster.engines, timeout=60)
        yield rc
        rc.close()

    @pytest.fixture
    def testbed_exec():
        def run(argv, node=None, check=False):
            assert node is None, "in a node, commands run where the tests run"
            res = subprocess.run(argv, capture_output=True, text=True, check=check)
            return SimpleNamespace(code=res.returncode, out=res.stdout, err=res.stderr, ok=res.returncode == 0)

        return run


@pytest.fixture
def hostfile_args(testbed_cluster):
    """mpiexec's options that read the cluster's hostfile ($TESTBED_HOSTFILE, written by exec)."""
    flag = "-f" if testbed_cluster.mpi == "mpich" else "--hostfile"
    return [flag, "/tmp/testbed/hostfile"]
