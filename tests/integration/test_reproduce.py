"""`make reproduce`'s experiments on real clusters, with shortened sleeps and fewer digits.

The `reproduce` target itself runs the lecture's parameters; here the expectations
are the ones that do not depend on them: the load-balance schedule, identical
counts from both implementations, counts equal to the files counted on the host.
Each experiment is collected on the cluster and judged on what it collected.
"""

import json

import pytest

from testbed import experiments, lecture, reproduce, topology
from testbed.experiments import Context, Params


@pytest.fixture
def run(clusters, tmp_path):
    """Collect ``exp_id`` on a plain cluster with ``params``, then judge it: (data, outcome)."""

    def make(exp_id: str, **params):
        (exp,) = experiments.get([exp_id])
        ctx = Context(clusters("plain"), tmp_path, Params(**params), log=print)
        data = exp.collect(ctx)
        return data, exp.judge(data, ctx.params, ctx.cluster.topology)

    return make


@pytest.mark.cluster("plain")
def test_l1_load_balance_schedule(run):
    _data, out = run("L1", lb_scale_ms=5.0)  # light 50 ms, heavy 250 ms
    assert out.testbed["direct_split"] == lecture.L1["direct_split"]
    assert len(out.testbed["heavy_tasks_on_engines"]) == 1  # the direct view gives them all to one engine
    assert out.ok, [(r.what, r.testbed) for r in out.rows if r.agree is False]
    assert out.testbed["speedup_lb"] > out.testbed["speedup_direct"]


@pytest.mark.cluster("plain")
def test_l2_serial_digits(run):
    _data, out = run("L2")
    assert out.ok, [(r.what, r.testbed) for r in out.rows if r.agree is False]
    assert sum(out.testbed["freqs"]) == 10_000


@pytest.mark.cluster("plain")
def test_l3_parallel_digits_small(run, tmp_path):
    files, per_file = 5, 200_000
    data, out = run(
        "L3", digit_files=files, digits_per_file=per_file, digit_cache=tmp_path / "cache", check_prefix=1_000_000
    )
    t = out.testbed
    assert t["identical_counts"] and t["counts_match_files"]
    assert t["digits_in_files"] == [per_file] * files
    # every overlapping pair of a file's digits but the last (the lecture's parser drops it), in both codes
    for impl in ("lecture", "numpy"):
        assert [sum(f) for f in data["runs"][impl]["all"]["freqs"]] == [per_file - 2] * files
        assert sum(data["runs"][impl]["one"]["freqs"]) == per_file - 2
    assert t["ideal_speedup"] == min(5, t["cores"])
    assert out.ok


@pytest.mark.extended
def test_reproduce_writes_the_report(docker_client, tmp_path):
    chosen = experiments.get(["L2", "L10"])
    outcomes, paths = reproduce.run(chosen, tmp_path, Params(), log=print, prefix="it-repro-")
    assert [e.id for e, _o in outcomes] == ["L2", "L10"]
    doc = json.loads(paths["json"].read_text())
    assert doc["experiments"]["L10"]["ok"], doc["experiments"]["L10"]["rows"]
    assert doc["experiments"]["L10"]["testbed"]["psum"] == lecture.ENGINES["L10"]["psum"]
    assert doc["machine"]["ipyparallel"] == "9.2.0"
    assert "data:image/png;base64," in paths["html"].read_text()
    assert (tmp_path / "L2_one_digit_freqs.png").exists()
    collected = json.loads(paths["collected"].read_text())
    assert sorted(collected) == ["L10", "L2"]
    (l10,) = experiments.get(["L10"])  # judged again from the collected data alone
    assert l10.judge(collected["L10"], Params(), topology.load(l10.topology)).ok


@pytest.mark.cluster(lambda p: experiments.get([p["exp_id"]])[0].topology)
@pytest.mark.parametrize("exp_id", ["L4", "L5", "L6", "L7", "L8", "L9", "L10", "L11", "B1", "B2"])
def test_catalogue_experiment_agrees_with_the_lecture(clusters, tmp_path, exp_id):
    """Each of reproduce's L4-L11, B1, B2 on its topology's session cluster (the lecture's parameters)."""
    (exp,) = experiments.get([exp_id])
    cluster = clusters(exp.topology)
    data = exp.collect(Context(cluster, tmp_path, Params(), log=print))
    out = exp.judge(data, Params(), cluster.topology)
    assert out.ok, [(r.what, r.lecture, r.testbed) for r in out.rows if r.agree is False]
    assert any(r.agree for r in out.rows)  # something was compared
