"""The comparison of engine reports with derived expectations can fail, and says where."""

import pytest

from testbed import topology
from testbed.checks import compare, format_table
from testbed.expect import derive


def _observed(expected):
    return [
        {
            "id": e.id,
            "hostname": e.hostname,
            "pid": 100 + e.id,
            "world_rank": e.world_rank,
            "world_size": e.world_size,
            "world": e.world,
            "chunk_len": e.chunk_len,
            "chunk_start": float(e.chunk_start),
            "psum": e.psum,
        }
        for e in expected
    ]


@pytest.fixture
def sw():
    """single-world's expectations and a report that matches them, to be spoiled."""
    exp = derive(topology.load("single-world"))
    return exp, _observed(exp)


def _run(observed, expected):
    return compare(expected, observed, topology="single-world", cluster="t", scatter=32)


def test_matching_reports_pass(sw):
    exp, obs = sw
    r = _run(obs, exp)
    assert r.ok
    j = r.as_json()
    assert j["ok"] is True and len(j["engines"]) == 5
    for e in j["engines"]:
        for key in ("id", "hostname", "pid", "world_rank", "world_size", "chunk_len", "psum"):
            assert key in e
        assert e["expected_psum"] == 496.0 and e["expected_world_size"] == 5
    assert "OK: single-world" in format_table(r)


def test_wrong_psum_is_a_mismatch(sw):
    exp, obs = sw
    obs[3]["psum"] = 225.0
    r = _run(obs, exp)
    assert not r.ok
    assert r.engines[3]["mismatches"] == ["psum"]
    assert "225 (want 496)" in format_table(r)


def test_split_world_ranks_are_a_mismatch_for_one_world(sw):
    exp, obs = sw
    obs[3]["world_rank"], obs[4]["world_rank"] = 1, 0
    r = _run(obs, exp)
    assert [e["ok"] for e in r.engines] == [True, True, True, False, False]


def test_missing_and_extra_engines_fail(sw):
    exp, obs = sw
    obs[4]["id"] = 9
    r = _run(obs, exp)
    assert not r.ok
    assert r.engines[4]["mismatches"] == ["missing"]
    assert any("ids [9]" in p for p in r.problems)


def test_shared_pid_fails(sw):
    exp, obs = sw
    obs[1]["pid"] = obs[0]["pid"]
    r = _run(obs, exp)
    assert not r.ok and any("share one pid" in p for p in r.problems)
