"""Experiments are judged on data alone: recorded from real clusters, and tampered with.

``data/<ID>.json`` holds what each experiment collected on its topology's cluster
(``python -m tests.unit.data.record``). Each judge must agree on the recording, and
disagree when one thing in it is wrong. What the judges expect comes from the topology,
the workload's parameters or the lecture (``testbed.lecture``), never from the data.

The contract every registered experiment (one module of ``testbed/experiments/``) keeps:
a known topology and stacks, an id and title, reference tuples (value, lower, upper, unit)
whose value is the lecture's, a pure judge, recorded data it agrees on and tampered cases
it disagrees on (docs/experiments.md).
"""

from __future__ import annotations

import ast
import copy
import json
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from testbed import experiments, lecture, stacks, topology
from testbed.errors import TestbedError
from testbed.experiments import Context, Experiment, Params, bounds, lb_schedule, within

DATA = Path(__file__).parent / "data"
IDS = [e.id for e in experiments.EXPERIMENTS]
PACKAGE = Path(experiments.__file__).parent


def recorded(exp_id: str) -> tuple[dict, Params]:
    doc = json.loads((DATA / f"{exp_id}.json").read_text())
    return doc["data"], Params(**doc["params"])


def judge(exp_id: str, data: dict, params: Params):
    (exp,) = experiments.get([exp_id])
    return exp.judge(data, params, topology.load(exp.topology))


def disagreeing(out) -> list[str]:
    return [r.what for r in out.rows if r.agree is False]


# -- the catalogue -----------------------------------------------------------------------------
def test_lb_schedule_is_the_lectures():
    s = lb_schedule(5, 0.02)  # 20 ms a unit: light 0.2 s, heavy 1 s
    assert s["tasks"] == 27 and s["heavy"] == 5
    assert s["serial_s"] == pytest.approx(9.4)
    assert s["direct_split"] == lecture.L1["direct_split"]
    assert max(s["direct_engine_s"]) == pytest.approx(5.2)
    assert s["speedup_direct"] == pytest.approx(9.4 / 5.2)
    assert round(s["speedup_direct"], 2) == lecture.L1["speedup_direct"]
    assert s["speedup_lb_ideal"] == pytest.approx(9.4 / 2.0)  # heavy round, then 22 light over 5


def test_get_keeps_catalogue_order_and_rejects_unknown():
    assert [e.id for e in experiments.get(["l3", "L1"])] == ["L1", "L3"]
    assert IDS == ["L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9", "L10", "L11", "B1", "B2"]
    with pytest.raises(TestbedError, match="L12"):
        experiments.get(["L12"])


# -- the contract every registered experiment keeps ------------------------------------------------
@pytest.mark.parametrize("exp", experiments.EXPERIMENTS, ids=IDS)
def test_experiment_is_complete(exp):
    assert isinstance(exp, Experiment)
    assert exp.id and exp.title and exp.id == exp.id.upper()
    assert exp.topology in topology.known_topologies()
    assert exp.stacks and set(exp.stacks) <= set(stacks.STACKS)
    assert type(exp).collect is not Experiment.collect and type(exp).judge is not Experiment.judge
    assert exp.plot is None or callable(exp.plot)
    assert exp.beyond == (exp.id not in lecture.FIGURES)  # the lecture's experiments have its figures


@pytest.mark.parametrize("exp", experiments.EXPERIMENTS, ids=IDS)
def test_reference_tuples_are_the_lectures_figures_with_a_tolerance(exp):
    figures = lecture.FIGURES.get(exp.id) or {}
    for name, ref in exp.reference.items():
        assert isinstance(ref, tuple) and len(ref) == 4, name
        value, lower, upper, unit = ref
        assert isinstance(value, int | float) and isinstance(unit, str), name
        assert value == figures.get(name), f"{exp.id} {name}: not testbed.lecture's figure"
        assert lower is None or lower <= 0, name
        assert upper is None or upper >= 0, name
        assert within(value, ref)


def test_one_module_an_experiment():
    modules = [type(e).__module__ for e in experiments.EXPERIMENTS]
    assert len(set(modules)) == len(modules)
    found = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_"))
    assert sorted(m.rsplit(".", 1)[1] for m in modules) == found


def test_no_shared_module_names_an_experiment():
    """What one experiment compares lives in its module: the shared ones never test an id."""
    shared = [*PACKAGE.glob("_*.py"), PACKAGE.parent / "reproduce.py", PACKAGE.parent / "report.py"]
    for path in shared:
        consts = [n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)]
        assert not set(consts) & set(IDS), path.name


@pytest.mark.parametrize("exp_id", IDS)
def test_judge_is_pure(exp_id, monkeypatch):
    """The same data gives the same outcome, the data stays as it was, and no process or socket is opened."""

    def refuse(*args, **kwargs):
        raise AssertionError("a judge talked to the outside")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    data, params = recorded(exp_id)
    before = copy.deepcopy(data)
    first, second = judge(exp_id, data, params), judge(exp_id, data, params)
    assert data == before
    assert first.as_json() == second.as_json() and first.detail == second.detail


def test_bounds_are_fractions_of_the_value_or_of_a_derived_center():
    ref = (4.0, -0.1, 0.05, "x")
    assert bounds(ref) == pytest.approx((3.6, 4.2))
    assert bounds(ref, center=2.0) == pytest.approx((1.8, 2.1))
    assert bounds((4.0, None, None, "x")) == (float("-inf"), float("inf"))
    assert experiments.absolute(50.0, 1e-3)[1:3] == pytest.approx((-2e-5, 2e-5))
    assert within(50.0009, experiments.absolute(50.0, 1e-3)) and not within(50.0011, experiments.absolute(50.0, 1e-3))


def test_l1_holds_the_load_balanced_speedup_to_its_reference():
    (l1,) = experiments.get(["L1"])
    low = bounds(l1.reference["speedup_lb"])[0]
    for speedup, agrees in ((low - 0.01, False), (low + 0.01, True)):
        data, params = recorded("L1")
        data["views"]["lb"]["speedup"] = speedup
        out = judge("L1", data, params)
        assert out.ok is agrees, speedup


# -- every judge agrees on what a real cluster gave ----------------------------------------------
@pytest.mark.parametrize("exp_id", IDS)
def test_judge_agrees_on_recorded_data(exp_id):
    data, params = recorded(exp_id)
    before = copy.deepcopy(data)
    out = judge(exp_id, data, params)
    assert out.ok, disagreeing(out)
    assert out.id == exp_id
    assert any(r.agree for r in out.rows)  # something was compared
    assert data == before  # judging changes nothing
    json.dumps(out.as_json())  # the report can write it


def test_recorded_data_is_from_the_lecture_set_ups():
    for exp_id in IDS:
        doc = json.loads((DATA / f"{exp_id}.json").read_text())
        assert doc["experiment"] == exp_id and doc["topology"] == experiments.get([exp_id])[0].topology
    assert json.loads((DATA / "L1.json").read_text())["params"]["lb_scale_ms"] == 20.0  # the lecture's sleeps


# -- and disagrees when one thing is wrong -------------------------------------------------------
def _engines(d: dict) -> list[dict]:
    return sorted(d["report"]["engines"], key=lambda e: e["id"])


def _set(d: dict, i: int, **fields) -> None:
    _engines(d)[i].update(fields)


def _drop_line(d: dict, program: str, line: str) -> None:
    run = d["programs"][program]
    lines = run["out"].splitlines()
    assert line in lines, line  # the tamper must hit something
    lines.remove(line)
    run["out"] = "\n".join(lines) + "\n"


def _replace_line(d: dict, program: str, old: str, new: str) -> None:
    _drop_line(d, program, old)
    d["programs"][program]["out"] += new + "\n"


def _l1_round_robin(d):  # the direct view hands tasks out in turn: same counts, heavy tasks spread
    for t in d["views"]["direct"]["tasks"]:
        t["engine"] = t["task"] % 5


def _l1_slow_balancer(d):  # 9.4 / 3.0 = 3.1, far below the lecture's 4.64
    lb = d["views"]["lb"]
    lb["wall_time"] = 3.0
    lb["speedup"] = lb["serial_time"] / 3.0


def _l1_too_fast(d):  # faster than the schedule allows
    d["views"]["lb"]["speedup"] = 5.0


def _l1_wrong_split(d):  # one task moved from engine 4 to engine 0
    last = max(d["views"]["direct"]["tasks"], key=lambda t: t["task"])
    last["engine"] = min(t["engine"] for t in d["views"]["direct"]["tasks"])


def _l1_task_lost(d):
    d["views"]["lb"]["tasks"].pop()


def _l1_direct_slow(d):
    d["views"]["direct"]["speedup"] *= 0.9


def _l2_one_count(d):
    d["freqs"][3] += 1


def _l2_one_decimal(d):
    i = 5000
    d["decimals"] = d["decimals"][:i] + str((int(d["decimals"][i]) + 1) % 10) + d["decimals"][i + 1 :]


def _l2_too_few(d):
    d["decimals"] = d["decimals"][:-1]


def _l3_engine_count_off(d):  # both implementations agree, but not with the file counted on the host
    for impl in ("lecture", "numpy"):
        d["runs"][impl]["all"]["freqs"][2][41] += 1


def _l3_implementations_differ(d):
    d["runs"]["numpy"]["one"]["freqs"][7] -= 1


def _l3_file_missing(d):
    for impl in ("lecture", "numpy"):
        d["runs"][impl]["all"]["freqs"].pop()


def _l3_short_file(d):
    d["digits_in_files"][4] -= 10


def _psum(i: int, value: float) -> Callable[[dict], None]:
    return lambda d: _set(d, i, psum=value)


def _rank(i: int, value: int) -> Callable[[dict], None]:
    return lambda d: _set(d, i, world_rank=value)


def _host(i: int, value: str) -> Callable[[dict], None]:
    return lambda d: _set(d, i, hostname=value)


def _drop_engine(i: int) -> Callable[[dict], None]:
    return lambda d: d["report"]["engines"].remove(_engines(d)[i])


def _chunk(i: int, start: float, length: int) -> Callable[[dict], None]:
    return lambda d: _set(d, i, chunk_start=start, chunk_len=length)


def _ids_after_first_engine(d):  # the first hand-started ipengine got id 4, not 3
    d["id_history"][1] = [0, 1, 2, 4]


def _b1_one_host(d):
    for e in d["report"]["engines"]:
        e["hostname"] = "node1"


def _b2_unmerged(d):  # the late group never joined: merged psum is its own world's
    for e in _engines(d)[3:]:
        e["merged_psum"] = 225.0


def _b2_merged_rank_twice(d):
    _set(d, 4, merged_rank=0)


def _b2_one_world(d):  # COMM_WORLD itself as if joined
    for e in d["report"]["engines"]:
        e["psum"] = 378.0


def _exit(program: str) -> Callable[[dict], None]:
    def tamper(d):
        d["programs"][program]["code"] = 1

    return tamper


TAMPERED: dict[str, dict[str, Callable[[dict], None]]] = {
    "L1": {
        "round-robin direct view": _l1_round_robin,
        "slow load balancer": _l1_slow_balancer,
        "speedup above the schedule": _l1_too_fast,
        "wrong direct split": _l1_wrong_split,
        "a task lost": _l1_task_lost,
        "direct speedup 10% low": _l1_direct_slow,
    },
    "L2": {"one count off": _l2_one_count, "one decimal wrong": _l2_one_decimal, "a decimal short": _l2_too_few},
    "L3": {
        "engine count off": _l3_engine_count_off,
        "implementations differ": _l3_implementations_differ,
        "a file missing": _l3_file_missing,
        "a file short": _l3_short_file,
    },
    "L4": {
        "missing line": lambda d: _drop_line(d, "hello", "Hello world from 3 out of 5!"),
        "wrong size": lambda d: _replace_line(
            d, "hello", "Hello world from 3 out of 5!", "Hello world from 3 out of 4!"
        ),
        "mpiexec failed": _exit("hello"),
        "did not run": lambda d: d["programs"].clear(),
    },
    "L5": {
        "wrong psum": _psum(2, 495.0),
        "wrong rank": _rank(3, 4),
        "missing engine": _drop_engine(4),
        "two hosts": _host(1, "laptop"),
    },
    "L6": {
        "wrong d": lambda d: d["d"].__setitem__(0, 6.0),
        "d on the wrong rank": lambda d: d.update(d=[0.0, 7.0, 0.0, 0.0, 0.0]),
        "wrong bb": lambda d: d.update(bb=[3, 0, 0, 0, 0]),
        "sendrecv line missing": lambda d: _drop_line(d, "sendrecv", "Process 1 data =  {'a': 7, 'b': 3.14}"),
        "blocking_send failed": _exit("blocking_send"),
    },
    "L7": {
        "wrong Reduce": lambda d: _replace_line(d, "collectives", "Process 0 rec 10 18", "Process 0 rec 10 17"),
        "Alltoall line missing": lambda d: _drop_line(d, "collectives", "Process 1 Alltoall d 1 2 5 10"),
        "wrong gather": lambda d: _replace_line(
            d, "objects", "Process 0 gather data =  [1, 4, 9, 16]", "Process 0 gather data =  [1, 4, 9]"
        ),
        "MPI-IO file wrong": lambda d: d["programs"]["mpi_io"].update(out="file " + " ".join("0123" * 10) + "\n"),
    },
    "L8": {
        "ids in another order": _ids_after_first_engine,
        "wrong split": _chunk(0, 0.0, 7),
        "wrong psum": _psum(4, 27.0),
    },
    "L9": {"one host": _host(3, "head"), "wrong chunk": _chunk(3, 7.0, 3), "missing engine": _drop_engine(3)},
    "L10": {
        "late group joined": _psum(4, 378.0),
        "ranks of the late group swapped": lambda d: (_rank(3, 0)(d), _rank(4, 1)(d)),
        "wrong world": lambda d: _set(d, 3, world=0),
    },
    "L11": {"wrong psum": _psum(3, 305.0), "late group on the head": _host(4, "head")},
    "B1": {
        "one host": _b1_one_host,
        "two worlds": lambda d: _set(d, 4, psum=300.0),
        "hello line missing": lambda d: _drop_line(d, "hello", "Hello world from 0 out of 5!"),
        "MPI-IO failed": _exit("mpi_io"),
    },
    "B2": {"not merged": _b2_unmerged, "merged rank twice": _b2_merged_rank_twice, "one COMM_WORLD": _b2_one_world},
}

CASES = [(exp_id, name) for exp_id, tampers in TAMPERED.items() for name in tampers]


def test_every_experiment_has_tampered_cases():
    assert list(TAMPERED) == IDS


@pytest.mark.parametrize(("exp_id", "name"), CASES, ids=[f"{i}-{n}" for i, n in CASES])
def test_judge_disagrees_on_tampered_data(exp_id, name):
    data, params = recorded(exp_id)
    TAMPERED[exp_id][name](data)
    assert data != recorded(exp_id)[0], "the tamper changed nothing"
    out = judge(exp_id, data, params)
    assert not out.ok
    assert disagreeing(out)  # a row says what is wrong


def test_l1_round_robin_names_the_heavy_tasks():
    data, params = recorded("L1")
    _l1_round_robin(data)
    out = judge("L1", data, params)
    assert out.testbed["direct_split"] == lecture.L1["direct_split"]  # same counts, but heavy tasks spread
    assert out.testbed["heavy_tasks_on_engines"] == [0, 1, 2, 3, 4]
    assert disagreeing(out) == ["engines running the heavy tasks (direct)"]


def test_l1_judged_with_the_lecture_tolerance_only_at_the_lectures_sleeps():
    data, params = recorded("L1")
    assert params.lecture_lb
    out = judge("L1", data, params)
    assert abs(out.testbed["speedup_lb"] - lecture.L1["speedup_lb"]) <= 0.1 * lecture.L1["speedup_lb"]


def test_engine_check_names_the_wrong_psum():
    data, params = recorded("L10")
    _psum(4, 378.0)(data)
    out = judge("L10", data, params)
    assert "psum" in disagreeing(out)
    assert out.testbed["psum"] == [153, 153, 153, 225, 378]


def test_l3_small_files_show_mean_and_std_without_comparing():
    data, params = recorded("L3")
    assert not params.lecture_digits
    out = judge("L3", data, params)
    means = [r for r in out.rows if r.what.startswith(("mean", "std"))]
    assert len(means) == 4 and all(r.agree is None for r in means)
    # each file's counts: every overlapping pair but the last (the lecture's parser)
    per_file = params.digits_per_file - 2
    assert [sum(f) for f in data["runs"]["lecture"]["all"]["freqs"]] == [per_file] * params.digit_files


def test_l3_with_the_lectures_digits_compares_mean_and_std():
    data, _ = recorded("L3")
    data["digits_in_files"] = [10_000_000] * 5  # judged as the lecture's files: 200,000 digits are not enough
    out = judge("L3", data, Params())
    rows = {r.what.split(" (")[0]: r.agree for r in out.rows}
    assert rows["digits in each file"] is True
    assert rows["mean, 10m digits"] is False or rows["std, 10m digits"] is False


# -- plots render the data --------------------------------------------------------------------------
@pytest.mark.parametrize("exp_id", ["L1", "L2", "L3"])
def test_plots_from_recorded_data(exp_id, tmp_path):
    (exp,) = experiments.get([exp_id])
    names = exp.plot(recorded(exp_id)[0], tmp_path)
    assert names and all((tmp_path / n).stat().st_size > 1000 for n in names)


def test_only_the_plotted_experiments_have_plots():
    assert [e.id for e in experiments.EXPERIMENTS if e.plot] == ["L1", "L2", "L3"]


# -- collect talks to the cluster only, and returns JSON ------------------------------------------
class FakeCluster:
    """Hands back what the recorded run's cluster did."""

    def __init__(self, topo_name: str, data: dict):
        self.topology = topology.load(topo_name)
        self.name = data.get("cluster", "fake")
        self.id_history = data.get("id_history", [])
        self._data = data

    def client_json(self, script, *args):
        return {"views": self._data["views"]}

    def report(self, scatter):
        return self._data["report"]


@pytest.mark.parametrize(("exp_id", "topo"), [("L1", "plain"), ("L10", "split-world")])
def test_collect_gives_json_the_judge_agrees_on(exp_id, topo, tmp_path):
    data, params = recorded(exp_id)
    (exp,) = experiments.get([exp_id])
    got = exp.collect(Context(FakeCluster(topo, data), tmp_path, params, log=lambda m: None))
    assert json.loads(json.dumps(got)) == got
    assert judge(exp_id, got, params).ok
    assert list(tmp_path.iterdir()) == []  # collecting draws nothing


def test_reproduce_skips_an_experiment_on_a_stack_it_does_not_hold_on(tmp_path):
    from testbed import reproduce

    class MpichOnly(type(experiments.get(["L2"])[0])):
        stacks = ("mpich",)

    said = []
    outcomes, paths = reproduce.run([MpichOnly()], tmp_path, Params(), log=said.append, stack=stacks.DEFAULT)
    assert outcomes == [] and paths == {}  # no cluster was brought up
    assert said == [f"== L2: not run on {stacks.DEFAULT.name} (it holds on mpich)"]
