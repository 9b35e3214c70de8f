"""The benchmark report's arithmetic: medians, run-by-run ratios, the headline latest.json carries;
and the sections' registry: every section passes the contract, the CLI is the registry."""

import ast
from pathlib import Path

import pytest

from benchmarks import context, report, run, sections
from benchmarks.sections import scale

SECTIONS_DIR = Path(sections.__file__).parent


def test_stats_and_pairwise_ratios():
    s = context.stats([3.0, 1.0, 2.0, 5.0, 4.0])
    assert (s["median"], s["min"], s["max"], s["runs"]) == (3.0, 1.0, 5.0, 5)
    # ratios pair run i with run i, not medians with medians
    r = context.ratios([2.0, 9.0, 4.0], [1.0, 3.0, 4.0])
    assert r["values"] == [2.0, 3.0, 1.0] and r["median"] == 2.0


def _section_stats(v):
    return context.stats([v, v, v, v, v])


def _synthetic():
    bring = {
        f"n{n}": {
            "host_s": _section_stats(2.0 * n),
            "containers_s": _section_stats(2.2 * n),
            "ratio": _section_stats(1.1),
            "host_defaults_s": _section_stats(7.0),
            "ratio_vs_host_defaults": _section_stats(0.5),
        }
        for n in (1, 5, 10)
    }
    tasks = {"tasks": 2000, "engines": 5}
    for v, r in (("lb", 0.9), ("direct", 0.97)):
        tasks[v] = {
            "host_tasks_per_s": _section_stats(500.0),
            "containers_tasks_per_s": _section_stats(500 * r),
            "ratio": _section_stats(r),
        }
    img = {
        "image_size_mb": 367.0,
        "warm_rebuild_s": _section_stats(0.02),
        "cached_build_s": _section_stats(0.1),
        "workload_change_rebuild_s": _section_stats(15.0),
        "workload_change_reinstalls_packages": False,
        "workload_change_reran_steps": [],
    }
    return {
        "started": "2026-11-25T00:00:00Z",
        "runs": 5,
        "sections": {"bringup": bring, "tasks": tasks, "images": img},
        "machine": {"cores": 2, "memory_gib": 23.5, "kernel": "k", "docker": "20.10"},
    }


def test_headline_has_the_required_keys():
    h = report.headline(_synthetic())
    required = ("bringup_ratio_n5", "lb_throughput_ratio", "direct_throughput_ratio", "image_size_mb", "warm_rebuild_s")
    assert set(required) <= set(h)
    assert h["bringup_ratio_n5"] == pytest.approx(1.1)
    assert h["lb_throughput_ratio"] == pytest.approx(0.9)
    assert h["image_size_mb"] == 367.0


def test_markdown_table():
    md = report.markdown(_synthetic())
    assert "| bring-up ratio, 5 engine(s) (goal <= 1.1) | 1.10 | 1.10 | 1.10 | 5 |" in md
    assert "| task throughput ratio, load-balanced (goal >= 0.95) | 0.90 |" in md
    assert "| workload change reinstalls packages | False |" in md


def _cold(total):
    one = {"total_s": total, "base_s": 30.0, "wheels_s": 2.0, "node_s": total - 32.0}
    return {**one, "runs": 1, "all": [one]}


def test_latest_cites_the_run_that_measured_each_figure(tmp_path):
    first = _synthetic()
    first["sections"]["images"]["cold"] = _cold(150.0)
    report.write_latest(first, "A", tmp_path)
    # a later run without a cold build keeps A's cold build, and says it is A's
    second = _synthetic()
    latest = report.write_latest(second, "B", tmp_path)
    assert latest["cold_build_s"] == 150.0
    assert latest["sources"]["images"] == "B.json" and latest["sources"]["images cold build"] == "A.json"
    # a run with its own cold build replaces it, and no older source is cited for it
    third = _synthetic()
    third["sections"]["images"]["cold"] = _cold(160.0)
    latest = report.write_latest(third, "C", tmp_path)
    assert latest["cold_build_s"] == 160.0
    assert "images cold build" not in latest["sources"]
    assert "| 160 s | 160 s | 160 s | 1 |" in (tmp_path / "latest.md").read_text()


def test_fs_rows_name_the_storage_driver_only_for_containers():
    res = _synthetic()
    one = {k: _section_stats(v) for k, v in (("stat_abs_us", 1.0), ("stat_rel_us", 1.0), ("import_ipyparallel_s", 0.2))}
    res["sections"]["fs"] = {
        "storage_driver": "fuse-overlayfs",
        "host": one,
        "container_mpi": one,
        "container_root": one,
        "import_ratio_container_mpi": _section_stats(2.5),
    }
    md = report.markdown(res)
    assert "| stat() of an absolute path, host | 1.0 us |" in md
    assert "| stat() of an absolute path, container (fuse-overlayfs), user mpi | 1.0 us |" in md
    assert report.headline(res)["import_ratio_container_mpi"] == 2.5


def test_scale_topology_spreads_one_world_round_robin(tmp_path):
    from testbed import placement

    topo = scale.scale_topology(tmp_path, 10, 4)
    assert list(topo.nodes) == ["head", "node1", "node2", "node3", "node4"] and topo.controller == "head"
    rows = placement.derive(topo)
    assert [r.hostname for r in rows[:5]] == ["node1", "node2", "node3", "node4", "node1"]
    assert {r.world for r in rows} == {0} and [r.rank for r in rows] == list(range(10))


def test_scale_points_in_the_report_and_the_plot(tmp_path):
    points = [
        {
            "engines": 8,
            "nodes": 1,
            "ok": True,
            "checked": 8,
            "bringup_s": 12.0,
            "host_bringup_s": 6.0,
            "host_mpi_bringup_s": 8.0,
            "teardown_s": 2.0,
            "host_teardown_s": 1.0,
            "mem_mb_per_engine": 70.0,
            "mem_mb_per_node": {"node1": 600.0},
        },
        {"engines": 128, "nodes": 4, "ok": False, "error": "0 of 128 registered", "host_bringup_s": 60.0},
    ]
    res = _synthetic()
    res["sections"]["scale"] = points
    md = report.markdown(res)
    # the ratio is to the host's like-for-like MPI world: 12.0 / 8.0
    assert "| 8 | 1 | 12.0 | 6.0 | 8.0 | 1.50 | 2.0 | 1.0 | 70.0 | 600 | 8/8 ok |" in md
    assert "| 128 | 4 | - | 60.0 | - | - |" in md and "FAILED 0 of 128 registered" in md
    scale.scale_plot(points, tmp_path / "scale.png")
    assert (tmp_path / "scale.png").stat().st_size > 5000


def test_the_default_bench_leaves_out_scale():
    assert "scale" in sections.names() and "scale" not in sections.default_names()
    assert [s.name for s in run.chosen_sections(None)] == list(sections.default_names())


def test_a_scale_run_of_some_points_replaces_only_those(tmp_path, monkeypatch):
    """`--scale-engines 128 --scale-nodes 1` measures one point: the others in latest.json stay."""
    old = [{"engines": n, "nodes": 1, "ok": True, "bringup_s": float(n)} for n in (1, 8, 128)]
    first = _synthetic()
    first["sections"] = {"scale": old}
    monkeypatch.setattr(scale, "scale_plot", lambda points, path: None)
    report.write_latest(first, "one", tmp_path)
    second = _synthetic()
    second["sections"] = {"scale": [{"engines": 128, "nodes": 1, "ok": True, "bringup_s": 99.0}]}
    latest = report.write_latest(second, "two", tmp_path)
    assert [(p["engines"], p["bringup_s"]) for p in latest["scale"]] == [(1, 1.0), (8, 8.0), (128, 99.0)]
    # each point cites its run: the earlier run's source, then this run's for the points it measured
    assert latest["sources"]["scale"] == "one.json; two.json for 128x1"


@pytest.mark.parametrize("argv", [["--scale-engines", "8,x"], ["--scale-engines", "256"], ["--scale-nodes", "9"]])
def test_scale_subsets_are_checked(argv, capsys):
    assert run.main(["--only", "scale", *argv]) == 2
    assert capsys.readouterr().err.startswith("benchmarks: ")


# -- the sections' registry ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sections.names())
def test_every_section_passes_the_contract(name):
    sec = sections.REGISTRY[name]
    assert sec.name == name and name.isidentifier() and name.islower()
    assert isinstance(sec.measures, str) and sec.measures.strip() and "\n" not in sec.measures
    assert callable(sec.run) and type(sec).run is not sections.Section.run
    assert isinstance(sec.order, int) and isinstance(sec.default, bool)


def test_sections_run_in_one_order_and_every_module_registers_one():
    orders = [s.order for s in sections.ordered()]
    assert len(set(orders)) == len(orders)
    modules = {p.stem for p in SECTIONS_DIR.glob("*.py") if p.stem != "__init__"}
    assert modules == {type(s).__module__.rsplit(".", 1)[-1] for s in sections.REGISTRY.values()}


def test_the_cli_choices_are_the_registry(capsys):
    assert run.choices() == sections.names() == tuple(s.name for s in sections.ordered())
    for name in sections.names():
        assert [s.name for s in run.chosen_sections(name)] == [name]
    helptext = run.parser().format_help()
    assert all(name in helptext for name in sections.names())
    assert run.main(["--only", "bringup,nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("benchmarks: unknown section(s) ['nope']") and str(sections.names()) in err


@pytest.mark.parametrize("argv", [["--runs", "0"], ["--runs", "1000"], ["--cold-runs", "-1"], ["--suite-runs", "99"]])
def test_sizes_are_bounded(argv, capsys):
    assert run.main(["--only", "fs", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("benchmarks: ") and err.count("\n") == 1


def _sources():
    bench = Path(run.__file__).parent
    return [*SECTIONS_DIR.glob("*.py"), *bench.glob("*.py"), bench.parent / "workloads" / "bench_wait.py"]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.name)
def test_no_shell_text_and_no_global_state(path):
    """argv lists only (no shell=True, no os.system), no ``global`` (a context object is passed)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        assert not isinstance(node, ast.Global | ast.Nonlocal), f"{path.name}:{node.lineno}: global"
        if isinstance(node, ast.keyword) and node.arg == "shell":
            assert isinstance(node.value, ast.Constant) and node.value.value is False, f"{path.name}: shell="
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            assert node.attr not in ("system", "popen"), f"{path.name}:{node.lineno}: os.{node.attr}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval"):
            raise AssertionError(f"{path.name}:{node.lineno}: {node.func.id}")
