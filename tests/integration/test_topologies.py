"""Every topology of the catalogue comes up and its engines report what it derives.

For the lecture's own sizes the observed values are also compared with the
numbers the lecture printed (``testbed.lecture``, listed in docs/lecture.md).
"""

from __future__ import annotations

import re

import pytest

from testbed import lecture, topology
from testbed.cluster import Cluster, IfExists

from .helpers import checked_engines, write_topology

ENG, SCATTER = lecture.ENGINES, lecture.SCATTER
L9_CHUNKS = [b - a for a, b in (map(int, re.findall(r"\d+", r)) for r in ENG["L9"]["chunks"])]

# the lecture's observations for its own set-ups: (scatter, chunk lengths, psums, ranks)
LECTURE = {
    "added-engines": dict(scatter=SCATTER["L8"], chunks=ENG["L8"]["chunk_len"]),  # L8
    "split-world": dict(scatter=SCATTER["L10"], psum=ENG["L10"]["psum"], ranks=ENG["L10"]["world_rank"]),  # L10
    "remote-engines": dict(scatter=SCATTER["L9"], chunks=L9_CHUNKS, hosts=ENG["L9"]["hostnames"]),  # L9
    "remote-split-world": dict(scatter=SCATTER["L11"], chunks=ENG["L5"]["chunk_len"], psum=ENG["L11"]["psum"]),  # L11
    "plain": dict(scatter=SCATTER["L5"], chunks=ENG["L5"]["chunk_len"], hosts=1),  # L1/L3 set-up, L5's scatter
    "single-world": dict(
        scatter=SCATTER["L5"], psum=ENG["L5"]["psum"], ranks=ENG["L5"]["world_rank"], hosts=ENG["L5"]["hostnames"]
    ),  # L5
}


@pytest.mark.cluster(lambda p: p["name"])
@pytest.mark.parametrize("name", sorted(LECTURE))
def test_topology_matches_derivation_and_lecture(clusters, name):
    cluster = clusters(name)
    lec = LECTURE[name]
    engines = checked_engines(cluster, lec["scatter"])
    assert [e["id"] for e in engines] == list(range(topology.load(name).engine_count))
    if "chunks" in lec:
        assert [e["chunk_len"] for e in engines] == lec["chunks"]
    if "psum" in lec:
        assert [e["psum"] for e in engines] == [float(x) for x in lec["psum"]]
    if "ranks" in lec:
        assert [e["world_rank"] for e in engines] == lec["ranks"]
    if "hosts" in lec:
        assert len({e["hostname"] for e in engines}) == lec["hosts"]


@pytest.mark.extended
@pytest.mark.cluster(("split-world", (4, 3)))
def test_split_world_with_other_sizes(clusters):
    cluster = clusters("split-world", counts=(4, 3))
    engines = checked_engines(cluster, 40)
    # 7 engines, 40 items: worlds {0..3} and {4..6} sum 0..23 and 24..39
    assert [e["psum"] for e in engines] == [276.0] * 4 + [504.0] * 3
    assert [e["world_size"] for e in engines] == [4] * 4 + [3] * 3


@pytest.mark.extended
def test_hand_written_topology_four_groups_three_nodes(docker_client, tmp_path):
    """Every launch kind in one file, over three nodes: each engine where the placement puts it."""
    topo = write_topology(
        tmp_path,
        "many",
        "  controller: head\n"
        "  scatter: 45\n"
        "  groups:\n"
        "    - {name: a, node: head, launch: ipcluster, mpi: true, engines: 2}\n"
        "    - {name: b, node: n1, launch: ipengine, engines: 2}\n"
        "    - {name: c, node: head, launch: mpiexec, engines: 3, hosts: [n1, n2], order: descending}\n"
        "    - {name: d, node: n2, launch: mpiexec, engines: 2}\n",
        ["head", "n1", "n2"],
    )
    cluster = Cluster(topo, name="it-many", log=print).up(if_exists=IfExists.REPLACE)
    try:
        engines = checked_engines(cluster, 45)
    finally:
        cluster.down()
    # worked by hand (tests/unit/test_launch.py): c's ranks 0,1,2 are ids 6,5,4 on n1,n2,n1
    assert [(e["id"], e["hostname"], e["world_rank"]) for e in engines if e["id"] in (4, 5, 6)] == [
        (4, "n1", 2),
        (5, "n2", 1),
        (6, "n1", 0),
    ]
    assert [e["world_size"] for e in engines] == [2, 2, 1, 1, 3, 3, 3, 2, 2]
    # 45 items over 9 engines, 5 each: worlds {0,1}, {2}, {3}, {4,5,6}, {7,8}
    assert [e["psum"] for e in engines] == [45.0, 45.0, 60.0, 85.0, 405.0, 405.0, 405.0, 395.0, 395.0]
