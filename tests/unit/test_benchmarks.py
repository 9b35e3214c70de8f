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
