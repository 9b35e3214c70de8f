"""Beyond the lecture: one MPI world over several hosts, and two worlds merged into one."""

from __future__ import annotations

import pytest

from testbed import programs
from testbed.errors import TestbedError

from .helpers import checked_engines


@pytest.mark.cluster("true-world")
def test_true_world_one_world_over_two_hosts(clusters):
    engines = checked_engines(clusters("true-world"), 32)
    assert [e["chunk_len"] for e in engines] == [7, 7, 6, 6, 6]
    assert [e["psum"] for e in engines] == [496.0] * 5
    assert [e["world_rank"] for e in engines] == [0, 1, 2, 3, 4]
    assert {e["world_size"] for e in engines} == {5}
    assert len({e["hostname"] for e in engines}) >= 2
    assert "head" not in {e["hostname"] for e in engines}  # the engines live on the engine nodes


@pytest.mark.extended
@pytest.mark.cluster(("true-world", (4,)))
def test_true_world_other_sizes(clusters):
    engines = checked_engines(clusters("true-world", counts=(4,)), 10)
    assert [e["psum"] for e in engines] == [45.0] * 4


@pytest.mark.cluster("true-world")
@pytest.mark.parametrize("name", ["hello", "collectives", "mpi_io", "rma"])
def test_plain_programs_on_true_world_nodes(clusters, name):
    cluster = clusters("true-world")
    program = programs.get(name)
    across, workdir = cluster.program_where(program.shared_file)
    assert across  # true-world shares /shared, so even MPI-IO spans the nodes
    code, out, err = cluster.run_program(program.script, program.ranks, program.args, across=across, workdir=workdir)
    assert code == 0, err
    assert programs.compare_output(program, program.ranks, out).ok, out


@pytest.mark.cluster("true-world")
def test_mpi_io_file_is_one_file_for_every_node(clusters):
    cluster = clusters("true-world")
    program = programs.get("mpi_io")
    across, workdir = cluster.program_where(program.shared_file)
    code, _, err = cluster.run_program(program.script, 4, program.args, across=across, workdir=workdir)
    assert code == 0, err
    # ranks go round the nodes (--map-by node: head, node1, node2, head); each node sees one file of all four
    want = b"".join(r.to_bytes(8, "little") * 10 for r in range(4))
    for node in ("node1", "node2"):
        res = cluster.node(node).container.exec_run(["cat", f"{workdir}/mpi_IO"], user="mpi")
        assert res.exit_code == 0 and res.output == want, node


@pytest.mark.cluster("merged-world")
def test_merged_world(clusters):
    engines = checked_engines(clusters("merged-world"), 28)
    assert [e["psum"] for e in engines] == [153.0, 153.0, 153.0, 225.0, 225.0]  # COMM_WORLD still split
    assert [e["merged_psum"] for e in engines] == [378.0] * 5
    assert sorted(e["merged_rank"] for e in engines) == [0, 1, 2, 3, 4]
    assert {e["merged_size"] for e in engines} == {5}


@pytest.mark.extended  # it kills the name server: a cluster of its own
@pytest.mark.cluster(("merged-world", (2, 1)))
def test_merge_without_name_server_is_a_clear_error(clusters):
    cluster = clusters("merged-world", counts=(2, 1))
    cluster.sh("head", "pkill -x ompi-server; true")
    with pytest.raises(TestbedError, match="name server"):
        cluster.report(28)
