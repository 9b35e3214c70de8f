"""The scenario catalogue's contract (every member passes it), the CLI's list, the results file's
merge, the docs table and the upstream report (no Docker)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from testbed import cli, scenarios, topology
from testbed.scenarios import base

ROOT = Path(__file__).resolve().parent.parent.parent
NAMES = list(scenarios.SCENARIOS)
SYNTHETIC = [
    {},
    {"error": "TimeoutError: x"},
    {"expected": 0, "registered": 0},
    {"expected": "4", "registered": None, "blocked": "yes", "answered": 1},
    {"expected": float("nan"), "registered": float("inf"), "reachable": None, "networks": True},
    {k: -1 for k in ("expected", "registered", "outstanding", "hub_pending", "after_short", "after_long")},
    {"kill_detect_s": 0.0, "node_loss_detect_s": 0.0, "came_back": False, "restarted": True, "task_error": 5},
]


def test_the_catalogue_has_the_threads_it_was_asked_for():
    assert len(NAMES) >= 10
    issues = {scenarios.REGISTRY[n].issue for n in NAMES}
    for want in ("ipyparallel#301", "ipyparallel#229", "ipyparallel#322", "ipyparallel#882", "ipython#6444"):
        assert want in issues


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_keeps_the_contract(name):
    sc = scenarios.REGISTRY[name]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", sc.name)
    repo, number = re.fullmatch(r"(ipyparallel|ipython)#(\d+)", sc.issue).groups()
    assert sc.url == f"https://github.com/ipython/{repo}/issues/{number}"
    assert sc.title and sc.measures and sc.keys and 0 < sc.bound_s <= 900
    assert sc.topology in topology.known_topologies()
    sc.topo()  # the counts fit the topology's groups
    module = ROOT / "testbed" / "scenarios" / (name.replace("-", "_") + ".py")
    assert module.is_file() and type(sc).__module__ == f"testbed.scenarios.{module.stem}"
    assert f"`{name}`" in (ROOT / "docs" / "scenarios.md").read_text()
    assert sc.fixed_in is None or re.fullmatch(r"\d+\.\d+\.\d+", sc.fixed_in)


@pytest.mark.parametrize("name", NAMES)
def test_the_verdict_is_total_and_pure(name):
    sc = scenarios.REGISTRY[name]
    for m in SYNTHETIC + [sc.example_reproduced, sc.example_fixed]:
        before = json.dumps(m, sort_keys=True, default=str)
        assert sc.verdict(m) in scenarios.VERDICTS
        assert sc.verdict(m) == sc.verdict(dict(m))  # the same figures, the same verdict
        assert json.dumps(m, sort_keys=True, default=str) == before  # the figures are not touched


@pytest.mark.parametrize("name", NAMES)
def test_the_verdict_tells_the_failure_from_its_absence(name):
    sc = scenarios.REGISTRY[name]
    assert set(sc.keys) <= set(sc.example_reproduced) and set(sc.keys) <= set(sc.example_fixed)
    assert sc.verdict(sc.example_reproduced) == "reproduced"
    assert sc.verdict(sc.example_fixed) == "fixed"


def test_every_module_of_the_package_is_a_scenario():
    stems = {p.stem for p in (ROOT / "testbed" / "scenarios").glob("*.py")} - {"__init__", "base"}
    assert stems == {n.replace("-", "_") for n in NAMES}


def test_every_node_subcommand_a_scenario_names_exists():
    text = (ROOT / "workloads" / "scenarios_node.py").read_text()
    for src in (ROOT / "testbed" / "scenarios").glob("*.py"):
        for sub in re.findall(r'node_json\(\s*cluster,\s*"([a-z-]+)"', src.read_text()):
            assert f'"{sub}"' in text, (src.name, sub)


def test_list_json_shape(capsys):
    assert cli.main(["scenario", "--list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == NAMES
    assert all(set(r) == {"name", "issue", "topology"} for r in rows)


def test_an_unknown_name_is_one_line_naming_the_scenarios(capsys):
    assert cli.main(["scenario", "no-such\nthing"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "many-engines" in err[0]


def result(name="many-engines", version="9.2.0", verdict="reproduced") -> base.ScenarioResult:
    sc = scenarios.REGISTRY[name]
    return base.ScenarioResult(
        name,
        sc.issue,
        sc.topology,
        ipyparallel=version,
        verdict=verdict,
        measured=dict(sc.example_reproduced),
        error="TimeoutError: 31 of 40 engines after 90 s",
        logs={"head": "2026-01-01 [IPController] WARNING | registration::purging stalled registration: 7"},
        versions={"ipyparallel": version, "python": "3.12.3", "mpi": "Open MPI v4.1.6", "testbed": "abc1234"},
        stack="openmpi4",
        seconds=95.0,
    )


def test_save_merges_by_name_and_ipyparallel_version(tmp_path):
    base.save([result(version="9.2.0"), result("segfault-task", version="9.2.0")], tmp_path)
    base.save([result(version="8.8.0"), result(version="9.2.0", verdict="fixed")], tmp_path)
    rows = json.loads((tmp_path / "scenarios.json").read_text())["scenarios"]
    keys = sorted((r["name"], r["ipyparallel"], r["verdict"]) for r in rows)
    assert keys == [
        ("many-engines", "8.8.0", "reproduced"),
        ("many-engines", "9.2.0", "fixed"),
        ("segfault-task", "9.2.0", "reproduced"),
    ]


def test_a_broken_results_file_is_started_again(tmp_path):
    (tmp_path / "scenarios.json").write_bytes(b"\xff{not json")
    base.save([result()], tmp_path)
    assert len(json.loads((tmp_path / "scenarios.json").read_text())["scenarios"]) == 1


def test_the_report_is_self_contained_markdown():
    res = result()
    text = base.report(res, scenarios.REGISTRY["many-engines"])
    assert text.startswith("# ") and "ipyparallel#301" in text
    assert "https://github.com/ipython/ipyparallel/issues/301" in text
    for want in ("9.2.0", "3.12.3", "Open MPI v4.1.6", "abc1234", "testbed scenario many-engines"):
        assert want in text
    assert "x-testbed:" in text  # the topology file itself
    assert "purging stalled registration" in text and "TimeoutError: 31 of 40" in text
    assert "| `registered` | `31` |" in text
    assert str(ROOT) not in text  # nothing of this checkout


def test_render_table_fills_the_version_columns():
    text = base.render_table([result().as_json(), result(version="8.8.0", verdict="fixed").as_json()])
    row = next(ln for ln in text.splitlines() if "`many-engines`" in ln)
    assert row.endswith("| reproduced | fixed |")
    other = next(ln for ln in text.splitlines() if "`segfault-task`" in ln)
    assert other.endswith("| (not run yet) | (not run yet) |")
    assert len(text.splitlines()) == 2 + len(NAMES)


def test_the_committed_docs_table_is_the_rendering_of_docs_scenarios_json(tmp_path):
    assert base.render(write=False), "run `testbed scenario --render`"


def test_render_rewrites_between_the_markers(tmp_path):
    doc = tmp_path / "s.md"
    doc.write_text(f"head\n<!-- {base.BLOCK} -->\nold\n<!-- /{base.BLOCK} -->\ntail\n")
    res = tmp_path / "r.json"
    res.write_text(json.dumps({"scenarios": [result().as_json()]}))
    assert base.render(doc, res) is False
    text = doc.read_text()
    assert text.startswith("head\n") and text.endswith("tail\n") and "old" not in text
    assert base.render(doc, res) is True


def test_the_numbers_of_a_measured_dict_are_read_safely():
    assert base.num({"a": 1}, "a") == 1.0
    assert base.num({"a": True}, "a") is None and base.num({"a": "1"}, "a") is None
    assert base.num({"a": float("nan")}, "a") is None and base.num([], "a") is None
    assert base.flag({"a": True}, "a") is True and base.flag({"a": 1}, "a") is None
