"""Every topology of the catalogue comes up and its engines report what it derives.

For the lecture's own sizes the observed values are also compared with the
numbers the lecture printed (``testbed.lecture``, listed in docs/lecture.md).
"""

from __future__ import annotations

import re

import pytest

from testbed import lecture, topology

from .helpers import checked_engines

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
