"""MPI stacks: how each spells mpiexec, its placement and its name server."""

import pytest

from testbed import stacks
from testbed.errors import TestbedError
from testbed.stacks import Context

THREE = [Context(("a",), host="n1"), Context(("b",), host="n2"), Context(("c",), host="n1")]


def test_open_mpi_puts_each_context_on_its_host():
    argv = stacks.get("openmpi4").mpiexec(THREE, hostfile="/tmp/hf")
    assert argv[:3] == ["mpiexec", "--hostfile", "/tmp/hf"]
    x = ["-x", "PATH", "-x", "PYTHONDONTWRITEBYTECODE", "-x", "MPI4PY_RC_THREAD_LEVEL"]
    # -x binds to one app context: each context forwards what its remote rank needs
    assert argv[3:] == [
        "-n",
        "1",
        *x,
        "--host",
        "n1",
        "a",
        ":",
        "-n",
        "1",
        *x,
        "--host",
        "n2",
        "b",
        ":",
        "-n",
        "1",
        *x,
        "--host",
        "n1",
        "c",
    ]
    o5 = stacks.get("openmpi5").mpiexec(THREE, hostfile="/tmp/hf")
    assert o5[3:9] == ["-n", "1", "-x", "PATH", "-x", "PYTHONDONTWRITEBYTECODE"]


def test_hydra_takes_one_host_list_in_rank_order():
    # hydra refuses a second host setting, and -f beside -host ("duplicate host file or host list setting")
    argv = stacks.get("mpich").mpiexec(THREE, hostfile=None)
    # round-robin: each host once with one slot, hydra goes round (a host listed twice would be
    # two nodes to hydra: inside a Slurm allocation, more nodes than the job has)
    assert argv == ["mpiexec", "-hosts", "n1:1,n2:1", "-n", "1", "a", ":", "-n", "1", "b", ":", "-n", "1", "c"]
    other = [Context(("a",), host="n1"), Context(("b",), host="n2"), Context(("c",), host="n2")]
    assert stacks.get("mpich").mpiexec(other)[:3] == ["mpiexec", "-hosts", "n1,n2,n2"]  # rank by rank
    assert not stacks.get("mpich").uses_hostfile
    with pytest.raises(ValueError):
        stacks.get("mpich").mpiexec([Context(("a",), host="n1"), Context(("b",))])


def test_one_node_needs_no_placement():
    for stack in stacks.STACKS.values():
        assert stack.mpiexec([Context(("x",), ranks=4)]) == ["mpiexec", "-n", "4", "x"]


def test_name_servers():
    uri = "/tmp/testbed/name-server.uri"
    assert stacks.get("openmpi4").name_server_args(uri, "head") == ["--ompi-server", f"file:{uri}"]
    assert stacks.get("openmpi5").name_server_args(uri, "head") == ["--dvm", f"file:{uri}"]  # a PRRTE DVM
    assert stacks.get("mpich").name_server_args(uri, "head") == ["-nameserver", "head:6392"]
    # a name server's liveness is its whole command line: a process name stops at 15 characters
    alive = stacks.get("mpich").name_server_alive_argv(uri)
    assert alive[:2] == ["pgrep", "-f"] and "hydra_nameserver" in alive[2]


def test_image_per_stack_and_unknown_stack(monkeypatch):
    monkeypatch.delenv("TESTBED_IMAGE", raising=False)
    assert {s.image for s in stacks.STACKS.values()} == {
        "ipp-testbed/node:openmpi4",
        "ipp-testbed/node:openmpi5",
        "ipp-testbed/node:mpich",
    }
    with pytest.raises(TestbedError, match="unknown MPI stack 'lam'; known: openmpi4, openmpi5, mpich"):
        stacks.get("lam")


def test_every_stack_has_its_settings_and_pins():
    from testbed.images import DOCKER_DIR
    from testbed.topology import compose_dir

    for name in stacks.STACKS:
        env = (compose_dir() / "mpi" / f"{name}.env").read_text()
        assert "eth0" in env  # the cluster network is pinned
        assert (DOCKER_DIR / "stacks" / f"{name}.txt").is_file()
