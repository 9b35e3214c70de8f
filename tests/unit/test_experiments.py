"""Experiments judge what a cluster printed against the schedule, the topology and the lecture.

A fake cluster stands in for Docker: it hands back what a workload would print.
"""

import json

import pytest

from testbed import experiments, topology
from testbed.errors import TestbedError
from testbed.experiments import Context, Params, lb_schedule


def test_lb_schedule_is_the_lectures():
    s = lb_schedule(5, 0.02)  # 20 ms a unit: light 0.2 s, heavy 1 s
    assert s["tasks"] == 27 and s["heavy"] == 5
    assert s["serial_s"] == pytest.approx(9.4)
    assert s["direct_split"] == [6, 6, 5, 5, 5]
    assert max(s["direct_engine_s"]) == pytest.approx(5.2)
    assert s["speedup_direct"] == pytest.approx(9.4 / 5.2)  # the lecture's 1.81
    assert s["speedup_lb_ideal"] == pytest.approx(9.4 / 2.0)  # heavy round, then 22 light over 5


def test_get_keeps_catalogue_order_and_rejects_unknown():
    assert [e.id for e in experiments.get(["l3", "L1"])] == ["L1", "L3"]
    assert len(experiments.get(None)) == 13
    with pytest.raises(TestbedError, match="L12"):
        experiments.get(["L12"])


class FakeCluster:
    def __init__(self, topo_name, stdout="", report=None):
        self.topology = topology.load(topo_name)
        self.name = "fake"
        self._stdout = stdout
        self._report = report

    def client_json(self, script, *args):
        return json.loads(self._stdout)

    def report(self, scatter):
        return self._report


def _lb_output(direct_engine_of, lb_wall=2.02, direct_wall=5.21):
    """What load_balance.py prints: tasks with engine, start, end."""
    cost = [1.0] * 5 + [0.2] * 22

    def view(engine_of, wall):
        tasks = [{"task": i, "engine": engine_of(i), "start": 0.0, "end": c} for i, c in enumerate(cost)]
        return {"serial_time": sum(cost), "wall_time": wall, "speedup": sum(cost) / wall, "tasks": tasks}

    return json.dumps({"views": {"lb": view(lambda i: i % 5, lb_wall), "direct": view(direct_engine_of, direct_wall)}})


def _ctx(cluster, tmp_path):
    return Context(cluster, tmp_path, Params(), log=lambda m: None)


def _chunked(i):  # the direct view's consecutive chunks 6,6,5,5,5
    return 0 if i < 6 else 1 if i < 12 else 2 if i < 17 else 3 if i < 22 else 4


def test_l1_agrees_with_the_lecture(tmp_path):
    out = experiments.run_l1(_ctx(FakeCluster("plain", _lb_output(_chunked)), tmp_path))
    assert out.ok, [r for r in out.rows if not r.agree]
    assert out.testbed["direct_split"] == [6, 6, 5, 5, 5]
    assert (tmp_path / "L1_load_balance.png").stat().st_size > 1000


def test_l1_disagrees_on_a_round_robin_direct_view(tmp_path):
    out = experiments.run_l1(_ctx(FakeCluster("plain", _lb_output(lambda i: i % 5)), tmp_path))
    assert not out.ok
    assert out.testbed["direct_split"] == [6, 6, 5, 5, 5]  # same counts, but heavy tasks spread
    assert out.testbed["heavy_tasks_on_engines"] == [0, 1, 2, 3, 4]


def test_l1_disagrees_on_a_slow_balancer(tmp_path):
    out = experiments.run_l1(_ctx(FakeCluster("plain", _lb_output(_chunked, lb_wall=3.0)), tmp_path))
    assert not out.ok  # 9.4 / 3.0 = 3.1, far below the lecture's 4.64


def _lecture_split_world():
    """split-world as the lecture printed it (L10): psum and ranks from its table."""
    psum = [153, 153, 153, 225, 225]
    ranks = [0, 1, 2, 1, 0]
    starts = [0, 6, 12, 18, 23]
    lens = [6, 6, 6, 5, 5]
    worlds = [0, 0, 0, 3, 3]
    return {
        "engines": [
            {"id": i, "hostname": "head", "pid": 10 + i, "world_rank": ranks[i], "world_size": 3 if i < 3 else 2,
             "world": worlds[i], "chunk_len": lens[i], "chunk_start": float(starts[i]), "psum": float(psum[i])}
            for i in range(5)
        ]
    }  # fmt: skip


def test_engine_check_agrees_with_lecture_table(tmp_path):
    cluster = FakeCluster("split-world", report=_lecture_split_world())
    out = experiments._engine_check(_ctx(cluster, tmp_path), "L10")
    assert out.ok, [(r.what, r.testbed) for r in out.rows if not r.agree]
    assert out.testbed["psum"] == [153, 153, 153, 225, 225]


def test_engine_check_catches_one_wrong_sum(tmp_path):
    report = _lecture_split_world()
    report["engines"][4]["psum"] = 378.0  # as if the late group had joined the first world
    out = experiments._engine_check(_ctx(FakeCluster("split-world", report=report), tmp_path), "L10")
    assert not out.ok
    assert any(r.what == "psum" and r.agree is False for r in out.rows)
