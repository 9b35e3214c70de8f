"""`make reproduce`'s experiments on real clusters, with shortened sleeps and fewer digits.

The `reproduce` target itself runs the lecture's parameters; here the expectations
are the ones that do not depend on them: the load-balance schedule, identical
counts from both implementations, counts equal to the files counted on the host.
"""

import json

import pytest

from testbed import experiments, reproduce
from testbed.experiments import Context, Params


@pytest.fixture
def ctx(clusters, tmp_path):
    def make(**params):
        return Context(clusters("plain"), tmp_path, Params(**params), log=print)

    return make


def test_l1_load_balance_schedule(ctx):
    out = experiments.run_l1(ctx(lb_scale_ms=5.0))  # light 50 ms, heavy 250 ms
    assert out.testbed["direct_split"] == [6, 6, 5, 5, 5]
    assert len(out.testbed["heavy_tasks_on_engines"]) == 1  # the direct view gives them all to one engine
    assert out.ok, [(r.what, r.testbed) for r in out.rows if r.agree is False]
    assert out.testbed["speedup_lb"] > out.testbed["speedup_direct"]


def test_l2_serial_digits(ctx):
    out = experiments.run_l2(ctx())
    assert out.ok, [(r.what, r.testbed) for r in out.rows if r.agree is False]
    assert sum(out.testbed["freqs"]) == 10_000


def test_l3_parallel_digits_small(ctx, tmp_path):
    out = experiments.run_l3(ctx(digit_files=5, digits_per_file=200_000, digit_cache=tmp_path / "cache",
                                 check_prefix=1_000_000))  # fmt: skip
    t = out.testbed
    assert t["identical_counts"] and t["counts_match_files"]
    assert t["digits_in_files"] == [200_000] * 5
    assert t["digits_per_s_1"] > 0 and t["numpy_digits_per_s_5"] > 0
    assert t["ideal_speedup"] == min(5, t["cores"])
    assert out.ok


def test_reproduce_writes_the_report(docker_client, tmp_path):
    chosen = experiments.get(["L2", "L10"])
    outcomes, paths = reproduce.run(chosen, tmp_path, Params(), log=print, prefix="it-repro-")
    assert [e.id for e, _o in outcomes] == ["L2", "L10"]
    doc = json.loads(paths["json"].read_text())
    assert doc["experiments"]["L10"]["ok"], doc["experiments"]["L10"]["rows"]
    assert doc["experiments"]["L10"]["testbed"]["psum"] == [153, 153, 153, 225, 225]  # the lecture's L10
    assert doc["machine"]["ipyparallel"] == "9.2.0"
    assert "data:image/png;base64," in paths["html"].read_text()
    assert (tmp_path / "L2_one_digit_freqs.png").exists()


@pytest.mark.parametrize("exp_id", ["L4", "L5", "L6", "L7", "L8", "L9", "L10", "L11", "B1", "B2"])
def test_catalogue_experiment_agrees_with_the_lecture(clusters, tmp_path, exp_id):
    """Each of reproduce's L4-L11, B1, B2 on its topology's session cluster (the lecture's parameters)."""
    (exp,) = experiments.get([exp_id])
    out = exp.run(Context(clusters(exp.topology), tmp_path, Params(), log=print))
    assert out.ok, [(r.what, r.lecture, r.testbed) for r in out.rows if r.agree is False]
    assert any(r.agree for r in out.rows)  # something was compared
