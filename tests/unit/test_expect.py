"""Expected values derived from a topology: scatter chunks, worlds, ranks, sums.

The lecture's numbers appear here only as the values the derivation must reproduce
for the lecture's own sizes; other sizes are checked against hand-worked values.
"""

from pathlib import Path

import pytest

from testbed import topology
from testbed.expect import derive, scatter_bounds


def lens(bounds):
    return [b - a for a, b in bounds]


@pytest.mark.parametrize(
    "n, k, want",
    [
        (32, 5, [7, 7, 6, 6, 6]),  # lecture L5
        (28, 5, [6, 6, 6, 5, 5]),  # lecture L8, L10
        (10, 4, [3, 3, 2, 2]),  # lecture L9
        (40, 7, [6, 6, 6, 6, 6, 5, 5]),
        (3, 5, [1, 1, 1, 0, 0]),
        (0, 2, [0, 0]),
    ],
)
def test_scatter_gives_the_first_n_mod_k_one_more(n, k, want):
    b = scatter_bounds(n, k)
    assert lens(b) == want
    assert b[0][0] == 0 and b[-1][1] == n
    assert all(b[i][1] == b[i + 1][0] for i in range(k - 1))


def test_single_world_reproduces_lecture_l5():
    e = derive(topology.load("single-world"))
    assert [x.chunk_len for x in e] == [7, 7, 6, 6, 6]
    assert [x.psum for x in e] == [496.0] * 5
    assert [x.world_rank for x in e] == [0, 1, 2, 3, 4]
    assert {x.hostname for x in e} == {"head"}
    assert {x.world for x in e} == {0} and {x.world_size for x in e} == {5}


def test_single_world_other_sizes():
    t = topology.load("single-world").with_counts((4,))
    e = derive(t, scatter=10)
    assert [x.chunk_len for x in e] == [3, 3, 2, 2]
    assert [x.psum for x in e] == [45.0] * 4  # sum(range(10))
    assert [x.world_rank for x in e] == [0, 1, 2, 3]


def _two_worlds(order="ascending", late_node="head"):
    doc = {
        "services": {"head": {"hostname": "head"}, "b": {"hostname": "nodeb"}},
        "x-testbed": {
            "controller": "head",
            "groups": [
                {"name": "first", "node": "head", "launch": "ipcluster", "mpi": True, "engines": 3},
                {"name": "late", "node": late_node, "launch": "mpiexec", "engines": 2, "order": order},
            ],
        },
    }
    return topology.from_compose(doc, Path("two.yaml"))


def test_late_mpiexec_group_is_a_second_world():
    e = derive(_two_worlds(order="descending"), scatter=28)
    assert [x.psum for x in e] == [153.0, 153.0, 153.0, 225.0, 225.0]  # lecture L10
    assert [x.world_rank for x in e] == [0, 1, 2, 1, 0]  # lecture L10
    assert [x.world for x in e] == [0, 0, 0, 3, 3]
    assert [x.world_size for x in e] == [3, 3, 3, 2, 2]


def test_remote_late_world_sums_for_scatter_32():
    e = derive(_two_worlds(late_node="b"), scatter=32)
    assert [x.psum for x in e] == [190.0, 190.0, 190.0, 306.0, 306.0]  # lecture L11
    assert [x.hostname for x in e] == ["head"] * 3 + ["nodeb"] * 2
    assert [x.world_rank for x in e] == [0, 1, 2, 0, 1]


def test_changed_group_sizes_follow():
    t = _two_worlds().with_counts((4, 3))
    e = derive(t, scatter=40)
    # 7 engines, 40 items: 6,6,6,6,6,5,5 -> first world 0..23, second 24..39
    assert [x.chunk_len for x in e] == [6, 6, 6, 6, 6, 5, 5]
    assert [x.psum for x in e] == [sum(range(24))] * 4 + [sum(range(24, 40))] * 3
    assert [x.world_rank for x in e] == [0, 1, 2, 3, 0, 1, 2]


def test_hand_started_engines_are_worlds_of_one():
    doc = {
        "services": {"head": {}},
        "x-testbed": {
            "controller": "head",
            "groups": [
                {"name": "first", "node": "head", "launch": "ipcluster", "mpi": False, "engines": 2},
                {"name": "extra", "node": "head", "launch": "ipengine", "engines": 1},
            ],
        },
    }
    e = derive(topology.from_compose(doc, Path("p.yaml")), scatter=9)
    assert [x.chunk_len for x in e] == [3, 3, 3]
    assert [x.psum for x in e] == [3.0, 12.0, 21.0]
    assert [(x.world, x.world_rank, x.world_size) for x in e] == [(0, 0, 1), (1, 0, 1), (2, 0, 1)]


def test_true_world_spans_hosts_round_robin():
    e = derive(topology.load("true-world"))
    assert [x.chunk_len for x in e] == [7, 7, 6, 6, 6]
    assert [x.psum for x in e] == [496.0] * 5
    assert [x.world_rank for x in e] == [0, 1, 2, 3, 4] and {x.world for x in e} == {0}
    assert [x.hostname for x in e] == ["node1", "node2", "node1", "node2", "node1"]
    assert all(x.merged_size is None for x in e)


def test_true_world_other_sizes():
    e = derive(topology.load("true-world").with_counts((4,)), scatter=10)
    assert [x.hostname for x in e] == ["node1", "node2"] * 2
    assert [x.psum for x in e] == [45.0] * 4


def test_merged_world_keeps_comm_world_split_and_merges():
    e = derive(topology.load("merged-world"))
    assert [x.psum for x in e] == [153.0, 153.0, 153.0, 225.0, 225.0]
    assert [x.merged_psum for x in e] == [378.0] * 5  # sum(range(28))
    assert [x.merged_size for x in e] == [5] * 5
    # first world low, each world keeping its rank order; ids 3,4 are ranks 1,0
    assert [x.merged_rank for x in e] == [0, 1, 2, 4, 3]
    assert sorted(x.merged_rank for x in e) == [0, 1, 2, 3, 4]
