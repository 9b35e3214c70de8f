"""Every topology of the catalogue comes up and its engines report what it derives.

For the lecture's own sizes the observed values are also compared with the
numbers the lecture printed (../shared/LECTURE.md).
"""

from __future__ import annotations

import pytest

from testbed import topology

from .helpers import checked_engines

# the lecture's observations for its own set-ups: (scatter, chunk lengths, psums, ranks)
LECTURE = {
    "added-engines": dict(scatter=28, chunks=[6, 6, 6, 5, 5]),  # L8
    "split-world": dict(scatter=28, psum=[153, 153, 153, 225, 225], ranks=[0, 1, 2, 1, 0]),  # L10
    "remote-engines": dict(scatter=10, chunks=[3, 3, 2, 2], hosts=2),  # L9
    "remote-split-world": dict(scatter=32, chunks=[7, 7, 6, 6, 6], psum=[190, 190, 190, 306, 306]),  # L11
    "plain": dict(scatter=32, chunks=[7, 7, 6, 6, 6], hosts=1),  # L1/L3 set-up
    "single-world": dict(scatter=32, psum=[496] * 5, ranks=[0, 1, 2, 3, 4]),  # L5
}


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


def test_split_world_with_other_sizes(clusters):
    cluster = clusters("split-world", counts=(4, 3))
    engines = checked_engines(cluster, 40)
    # 7 engines, 40 items: worlds {0..3} and {4..6} sum 0..23 and 24..39
    assert [e["psum"] for e in engines] == [276.0] * 4 + [504.0] * 3
    assert [e["world_size"] for e in engines] == [4] * 4 + [3] * 3
