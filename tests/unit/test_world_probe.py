"""The report's world probe (workloads/testbed_node.py): which engines it calls broken, and why.

The probe's bound depends on the hub's count of requests outstanding on each engine: a busy engine
is stuck in an earlier call and gets ``probe_s`` + 5 s; an idle one may first start MPI and gets
``answer_s``. A fake client stands in for ipyparallel: each engine answers after a given time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def node_py():
    spec = importlib.util.spec_from_file_location("testbed_node_probe", ROOT / "workloads" / "testbed_node.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class RemoteError(Exception):
    """What ipyparallel raises for an engine's exception: the remote type and message as attributes."""

    def __init__(self, ename, evalue):
        super().__init__(f"{ename}({evalue})")
        self.ename, self.evalue = ename, evalue


class Answer:
    """An AsyncResult that is ready after ``takes`` seconds (of the caller's waiting), with a value or an error."""

    def __init__(self, takes: float, value=True, error: Exception | None = None):
        self.takes, self.value, self.error, self.waited = takes, value, error, None

    def wait(self, timeout):
        self.waited = timeout
        return timeout >= self.takes

    def successful(self):
        return self.error is None

    def exception(self):
        return self.error

    def get(self):
        return self.value


class Client:
    def __init__(self, answers: dict[int, Answer], outstanding: dict[int, int]):
        self.answers, self.outstanding = answers, outstanding

    def queue_status(self, targets):
        return {i: {"queue": self.outstanding.get(i, 0), "completed": 3, "tasks": 0} for i in targets}

    def __getitem__(self, i):
        client = self

        class View:
            def apply_async(self, f, *args):
                assert callable(f) and args == (5.0,)
                return client.answers[i]

        return View()


def probe(node_py, answers, outstanding=None, answer_s=60.0):
    rc = Client(answers, outstanding or {})
    return node_py.probe_worlds(rc, sorted(answers), probe_s=5.0, answer_s=answer_s)


def test_an_idle_engine_slow_to_start_mpi_is_not_called_broken(node_py):
    # 20 s to answer: past the busy bound (10 s), within an idle engine's (60 s)
    assert probe(node_py, {0: Answer(0.1), 1: Answer(20.0), 2: Answer(0.1)}) == {}


def test_an_engine_busy_with_an_earlier_request_gets_the_short_bound(node_py):
    why = probe(node_py, {0: Answer(0.1), 1: Answer(20.0)}, outstanding={1: 1})
    assert list(why) == [1]
    assert "no answer within 10 s" in why[1] and "busy" in why[1]


def test_an_idle_engine_that_never_answers_is_named_after_its_bound(node_py):
    why = probe(node_py, {0: Answer(float("inf"))}, answer_s=30.0)
    assert why == {0: "no answer within 30 s"}


def test_a_world_whose_barrier_does_not_complete_is_named(node_py):
    why = probe(node_py, {0: Answer(0.1, value=False), 1: Answer(0.1)})
    assert why == {0: "its world's barrier did not complete within 5 s"}


def test_a_probe_that_raised_says_what_on_one_line(node_py):
    err = RemoteError("ImportError", "libmpi.so.40: cannot open shared object file\nmore")
    why = probe(node_py, {3: Answer(0.1, error=err)})
    assert why == {3: "the probe failed: ImportError: libmpi.so.40: cannot open shared object file"}


def test_outstanding_reads_int_and_str_keys(node_py):
    assert node_py.outstanding({2: {"queue": 1, "tasks": 2}}, 2) == 3
    assert node_py.outstanding({"2": {"queue": 0, "tasks": 1}}, 2) == 1
    assert node_py.outstanding({}, 2) == 0


def test_a_reports_probe_failures_read_as_problems_with_their_reasons():
    from testbed import checks

    report = {"broken": [1, 4], "broken_why": {"1": "no answer within 10 s"}}
    assert checks.probe_problems(report) == [
        "engine 1 did not pass the world probe: no answer within 10 s",
        "engine 4 did not pass the world probe: ?",
    ]
    assert checks.probe_problems({"engines": []}) == []
