"""The benchmark report's arithmetic: medians, run-by-run ratios, the headline latest.json carries."""

import pytest

from benchmarks import run


def test_stats_and_pairwise_ratios():
    s = run.stats([3.0, 1.0, 2.0, 5.0, 4.0])
    assert (s["median"], s["min"], s["max"], s["runs"]) == (3.0, 1.0, 5.0, 5)
    # ratios pair run i with run i, not medians with medians
    r = run.ratios([2.0, 9.0, 4.0], [1.0, 3.0, 4.0])
    assert r["values"] == [2.0, 3.0, 1.0] and r["median"] == 2.0


def _section_stats(v):
    return run.stats([v, v, v, v, v])


def _synthetic():
    bring = {f"n{n}": {"host_s": _section_stats(2.0 * n), "containers_s": _section_stats(2.2 * n),
                       "ratio": _section_stats(1.1), "host_defaults_s": _section_stats(7.0),
                       "ratio_vs_host_defaults": _section_stats(0.5)} for n in (1, 5, 10)}  # fmt: skip
    tasks = {"tasks": 2000, "engines": 5}
    for v, r in (("lb", 0.9), ("direct", 0.97)):
        tasks[v] = {"host_tasks_per_s": _section_stats(500.0), "containers_tasks_per_s": _section_stats(500 * r),
                    "ratio": _section_stats(r)}  # fmt: skip
    img = {"image_size_mb": 367.0, "warm_rebuild_s": _section_stats(0.02), "cached_build_s": _section_stats(0.1),
           "workload_change_rebuild_s": _section_stats(15.0), "workload_change_reinstalls_packages": False,
           "workload_change_reran_steps": []}  # fmt: skip
    return {"started": "2026-11-25T00:00:00Z", "runs": 5, "sections": {"bringup": bring, "tasks": tasks, "images": img},
            "machine": {"cores": 2, "memory_gib": 23.5, "kernel": "k", "docker": "20.10"}}  # fmt: skip


def test_headline_has_the_required_keys():
    h = run.headline(_synthetic())
    required = ("bringup_ratio_n5", "lb_throughput_ratio", "direct_throughput_ratio", "image_size_mb", "warm_rebuild_s")
    assert set(required) <= set(h)
    assert h["bringup_ratio_n5"] == pytest.approx(1.1)
    assert h["lb_throughput_ratio"] == pytest.approx(0.9)
    assert h["image_size_mb"] == 367.0


def test_markdown_table():
    md = run.markdown(_synthetic())
    assert "| bring-up ratio, 5 engine(s) (goal <= 1.1) | 1.10 | 1.10 | 1.10 | 5 |" in md
    assert "| task throughput ratio, load-balanced (goal >= 0.95) | 0.90 |" in md
    assert "| workload change reinstalls packages | False |" in md


def _cold(total):
    one = {"total_s": total, "base_s": 30.0, "wheels_s": 2.0, "node_s": total - 32.0}
    return {**one, "runs": 1, "all": [one]}


def test_latest_cites_the_run_that_measured_each_figure(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "RESULTS", tmp_path)
    first = _synthetic()
    first["sections"]["images"]["cold"] = _cold(150.0)
    run.write_latest(first, "A")
    # a later run without a cold build keeps A's cold build, and says it is A's
    second = _synthetic()
    latest = run.write_latest(second, "B")
    assert latest["cold_build_s"] == 150.0
    assert latest["sources"]["images"] == "B.json" and latest["sources"]["images cold build"] == "A.json"
    # a run with its own cold build replaces it, and no older source is cited for it
    third = _synthetic()
    third["sections"]["images"]["cold"] = _cold(160.0)
    latest = run.write_latest(third, "C")
    assert latest["cold_build_s"] == 160.0
    assert "images cold build" not in latest["sources"]
    assert "| 160 s | 160 s | 160 s | 1 |" in (tmp_path / "latest.md").read_text()


def test_fs_rows_name_the_storage_driver_only_for_containers():
    res = _synthetic()
    one = {k: _section_stats(v) for k, v in (("stat_abs_us", 1.0), ("stat_rel_us", 1.0), ("import_ipyparallel_s", 0.2))}
    res["sections"]["fs"] = {"storage_driver": "fuse-overlayfs", "host": one, "container_mpi": one,
                             "container_root": one, "import_ratio_container_mpi": _section_stats(2.5)}  # fmt: skip
    md = run.markdown(res)
    assert "| stat() of an absolute path, host | 1.0 us |" in md
    assert "| stat() of an absolute path, container (fuse-overlayfs), user mpi | 1.0 us |" in md
    assert run.headline(res)["import_ratio_container_mpi"] == 2.5


def test_scale_topology_spreads_one_world_round_robin(tmp_path):
    from testbed import placement

    topo = run.scale_topology(tmp_path, 10, 4)
    assert list(topo.nodes) == ["head", "node1", "node2", "node3", "node4"] and topo.controller == "head"
    rows = placement.derive(topo)
    assert [r.hostname for r in rows[:5]] == ["node1", "node2", "node3", "node4", "node1"]
    assert {r.world for r in rows} == {0} and [r.rank for r in rows] == list(range(10))


def test_scale_points_in_the_report_and_the_plot(tmp_path):
    points = [
        {"engines": 8, "nodes": 1, "ok": True, "checked": 8, "bringup_s": 12.0, "host_bringup_s": 6.0,
         "host_mpi_bringup_s": 8.0, "teardown_s": 2.0, "host_teardown_s": 1.0, "mem_mb_per_engine": 70.0,
         "mem_mb_per_node": {"node1": 600.0}},
        {"engines": 128, "nodes": 4, "ok": False, "error": "0 of 128 registered", "host_bringup_s": 60.0},
    ]  # fmt: skip
    res = _synthetic()
    res["sections"]["scale"] = points
    md = run.markdown(res)
    # the ratio is to the host's like-for-like MPI world: 12.0 / 8.0
    assert "| 8 | 1 | 12.0 | 6.0 | 8.0 | 1.50 | 2.0 | 1.0 | 70.0 | 600 | 8/8 ok |" in md
    assert "| 128 | 4 | - | 60.0 | - | - |" in md and "FAILED 0 of 128 registered" in md
    run.scale_plot(points, tmp_path / "scale.png")
    assert (tmp_path / "scale.png").stat().st_size > 5000


def test_the_default_bench_leaves_out_scale():
    assert "scale" in run.SECTIONS and "scale" not in run.DEFAULT_SECTIONS


def test_a_scale_run_of_some_points_replaces_only_those(tmp_path, monkeypatch):
    """`--scale-engines 128 --scale-nodes 1` measures one point: the others in latest.json stay."""
    monkeypatch.setattr(run, "RESULTS", tmp_path)
    old = [{"engines": n, "nodes": 1, "ok": True, "bringup_s": float(n)} for n in (1, 8, 128)]
    first = _synthetic()
    first["sections"] = {"scale": old}
    monkeypatch.setattr(run, "scale_plot", lambda points, path: None)
    run.write_latest(first, "one")
    second = _synthetic()
    second["sections"] = {"scale": [{"engines": 128, "nodes": 1, "ok": True, "bringup_s": 99.0}]}
    latest = run.write_latest(second, "two")
    assert [(p["engines"], p["bringup_s"]) for p in latest["scale"]] == [(1, 1.0), (8, 8.0), (128, 99.0)]


@pytest.mark.parametrize("argv", [["--scale-engines", "8,x"], ["--scale-engines", "256"], ["--scale-nodes", "9"]])
def test_scale_subsets_are_checked(argv, capsys):
    assert run.main(["--only", "scale", *argv]) == 2
    assert capsys.readouterr().err.startswith("benchmarks: ")
