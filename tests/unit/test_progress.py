"""testbed.progress (a live line on a terminal's stderr, nothing elsewhere), the node-side
progress of `testbed_node.py wait`, and the streamed exec that carries it to the host."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import types
from pathlib import Path

import pytest

from testbed import images, progress
from testbed.errors import TestbedError
from testbed.node import Node

ROOT = Path(__file__).resolve().parents[2]


class Terminal(io.StringIO):
    """A stream that says it is a terminal (what rich writes is kept)."""

    def isatty(self):
        return True


@pytest.fixture(autouse=True)
def no_display_left():
    yield
    assert progress._display is None, "a progress display was left running"


@pytest.fixture
def node_py(monkeypatch):
    spec = importlib.util.spec_from_file_location("testbed_node_under_test", ROOT / "workloads" / "testbed_node.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# -- the display -----------------------------------------------------------------------------------
def test_not_a_terminal_gets_the_quiet_variant_which_writes_nothing(capsys):
    bar = progress.track("[c] group 'a'", total=5, unit="engines registered")  # pytest's stderr: no tty
    assert type(bar) is progress.Quiet
    assert bar.text() == "[c] group 'a': ? of 5 engines registered"  # not told yet: not a misleading 0
    with bar:
        bar.update(3)
        assert bar.registered_line('{"registered": 4, "of": 5}')
    assert capsys.readouterr() == ("", "")
    assert bar.text() == "[c] group 'a': 4 of 5 engines registered"  # what it would have said


def test_a_dumb_terminal_gets_the_quiet_variant(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    assert type(progress.track("x", stream=Terminal())) is progress.Quiet


def test_a_terminal_gets_a_live_line_with_the_count_and_it_is_gone_after(monkeypatch):
    monkeypatch.delenv("TERM", raising=False)
    tty = Terminal()
    with progress.track("[c] group 'a'", total=5, unit="engines registered", stream=tty) as bar:
        assert type(bar) is progress.Shown and progress._display is not None
        assert bar.registered_line('{"registered": 3, "of": 5}')
        progress._display.rich.refresh()
        assert "[c] group 'a': 3 of 5 engines registered" in tty.getvalue()
        assert not bar.registered_line("a warning from the engine")  # other lines are not taken
    assert progress._display is None
    out = tty.getvalue()
    assert "\x1b[2K" in out[out.rindex("engines registered") :]  # transient: the line is erased after


def test_nested_lines_share_one_display_until_the_last_stops(monkeypatch):
    monkeypatch.delenv("TERM", raising=False)
    tty = Terminal()
    outer = progress.track("[3/13] L3 digits", stream=tty).start()
    display = progress._display
    with progress.track("[c] group 'a'", total=2, unit="engines registered", stream=tty) as inner:
        assert progress._display is display and display.lines == 2
        inner.update(1)
        display.rich.refresh()
    assert progress._display is display and display.lines == 1  # the outer line is still up
    assert "[3/13] L3 digits" in tty.getvalue() and "1 of 2 engines registered" in tty.getvalue()
    outer.stop()
    outer.stop()  # twice is harmless


def test_echo_goes_above_a_live_display_on_its_terminal_and_plainly_elsewhere(monkeypatch):
    monkeypatch.delenv("TERM", raising=False)
    tty, pipe = Terminal(), io.StringIO()
    with progress.track("waiting", stream=tty):
        progress.echo("[c] ssh ready", tty)
        progress.echo("[c] to a pipe", pipe)
    assert "[c] ssh ready\n" in tty.getvalue()
    assert pipe.getvalue() == "[c] to a pipe\n"
    progress.echo("no display now", pipe)
    assert pipe.getvalue().endswith("no display now\n")


@pytest.mark.parametrize(
    "line, want",
    [
        ('{"registered": 3, "of": 5}', (3, 5)),
        ('  {"registered": 0, "of": 128}\n', (0, 128)),
        ('{"registered": true, "of": 5}', None),
        ('{"registered": -1, "of": 5}', None),
        ('{"registered": 3}', None),
        ('{"registered": 3, "of": 5', None),
        ('{"ids": [0, 1]}', None),
        ("Traceback (most recent call last):", None),
        ("", None),
    ],
)
def test_registered_reads_only_progress_lines(line, want):
    assert progress.registered(line) == want


def test_seconds_format():
    assert [progress.seconds(s) for s in (0.2, 12.4, 59.4, 60, 184.9)] == ["0s", "12s", "59s", "1m00s", "3m04s"]


# -- the node side: testbed_node.py wait -----------------------------------------------------------
def test_node_progress_prints_each_change_at_most_every_half_second(node_py):
    out = io.StringIO()
    show = node_py.Registered(5, every=0.5, out=out)
    calls = [(0, 0.0), (0, 0.1), (1, 0.2), (2, 0.6), (2, 5.0), (3, 5.1), (5, 5.7)]
    printed = [show(k, now) for k, now in calls]
    assert printed == [True, False, False, True, False, True, True]
    got = [progress.registered(ln) for ln in out.getvalue().splitlines()]
    assert got == [(0, 5), (2, 5), (3, 5), (5, 5)]


def test_node_progress_is_throttled_to_about_two_lines_a_second(node_py):
    out = io.StringIO()
    show = node_py.Registered(300, out=out)
    for i in range(300):  # a new engine every 10 ms for 3 s
        show(i, now=i * 0.01)
    assert 5 <= len(out.getvalue().splitlines()) <= 7


def test_node_wait_reports_the_count_as_it_grows(node_py, monkeypatch):
    """connect() with a fake ipyparallel whose Client registers one engine per wait slice."""

    class Client:
        def __init__(self, timeout):
            self._ids = []

        @property
        def ids(self):
            return list(self._ids)

        def wait_for_engines(self, n, timeout):
            self._ids.append(len(self._ids))
            if len(self._ids) < n:
                raise TimeoutError

    monkeypatch.setitem(sys.modules, "ipyparallel", types.SimpleNamespace(Client=Client))
    out = io.StringIO()
    rc = node_py.connect(3, 30.0, progress=node_py.Registered(3, every=0.0, out=out))
    assert rc.ids == [0, 1, 2]
    assert [progress.registered(ln) for ln in out.getvalue().splitlines()] == [(0, 3), (1, 3), (2, 3)]


# -- the host side: the streamed exec --------------------------------------------------------------
class _API:
    def __init__(self, chunks, code):
        self.chunks, self.code, self.created = chunks, code, None

    def exec_create(self, cid, cmd, user):
        self.created = (cid, cmd, user)
        return {"Id": "exec-1"}

    def exec_start(self, eid, stream, demux):
        assert eid == "exec-1" and stream and demux
        yield from self.chunks

    def exec_inspect(self, eid):
        return {"ExitCode": self.code}


def _node(chunks, code=0):
    api = _API(chunks, code)
    ctr = types.SimpleNamespace(id="ctr-1", client=types.SimpleNamespace(api=api))
    return Node(ctr, "head"), api


def test_exec_lines_streams_stderr_by_line_and_leaves_out_what_was_taken():
    chunks = [
        (b'{"ids": [0, 1', None),
        (None, b'{"registered": 1, "of": 3}\n{"regis'),
        (None, b'tered": 2, "of": 3}\na warning\n'),
        (b", 2]}\n", None),
        (None, b"last words"),
    ]
    node, api = _node(chunks, code=3)
    seen = []

    def take(line):
        seen.append(line)
        return progress.registered(line) is not None

    res = node.exec_lines(["python3", "x.py"], take)
    assert api.created == ("ctr-1", ["python3", "x.py"], "mpi")
    assert seen == ['{"registered": 1, "of": 3}', '{"registered": 2, "of": 3}', "a warning", "last words"]
    assert (res.code, res.out, res.err) == (3, '{"ids": [0, 1, 2]}\n', "a warning\nlast words")


def test_run_json_streamed_keeps_the_errors_and_exit_code_of_today():
    bar = progress.Quiet("w", 5)
    node, _ = _node([(None, b'{"registered": 2, "of": 5}\n'), (b'{"error": "only 2 of 5 engines"}\n', None)], code=2)
    with pytest.raises(TestbedError, match=r"^testbed_node.py wait on head \(exit 2\): only 2 of 5 engines$"):
        node.run_json(["python3", "n.py", "wait"], what="testbed_node.py wait", on_err_line=bar.registered_line)
    assert bar.done == 2
    # no JSON at all: the stderr tail is quoted, without the progress lines
    node, _ = _node([(None, b'{"registered": 0, "of": 5}\nTraceback: boom\n')], code=1)
    with pytest.raises(TestbedError) as e:
        node.run_json(["python3", "n.py", "wait"], what="w", on_err_line=bar.registered_line)
    assert str(e.value) == "w on head (exit 1) printed no result: Traceback: boom"
    # and a good answer
    node, _ = _node([(b'{"ids": [0, 1, 2, 3, 4]}\n', None)])
    assert node.run_json(["x"], on_err_line=bar.registered_line) == {"ids": [0, 1, 2, 3, 4]}


# -- image builds ----------------------------------------------------------------------------------
def test_an_image_build_feeds_its_steps_to_the_progress(monkeypatch):
    class Recorder(progress.Quiet):
        made: list = []

        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.updates = []
            Recorder.made.append(self)

        def update(self, done=None, total=None, note=None):
            self.updates.append((done, total, note))

    monkeypatch.setattr(progress, "track", Recorder)
    stream = [
        {"stream": "Step 1/3 : FROM debian:bookworm-slim\n"},
        {"stream": " ---> abc\n"},
        {"stream": "Step 2/3 : RUN apt-get install -y openmpi-bin\n ---> Using cache\n"},
        {"stream": "Step 3/3 : COPY workloads /opt/testbed/workloads\n"},
    ]
    client = types.SimpleNamespace(
        api=types.SimpleNamespace(build=lambda **kw: iter(stream)),
        images=types.SimpleNamespace(get=lambda name: types.SimpleNamespace(attrs={"Size": 5e8})),
    )
    logged = []
    res = images.docker_build(client, "ipp-testbed/node:test", log=logged.append)
    (bar,) = Recorder.made
    assert bar.what == "[images] building ipp-testbed/node:test"
    assert bar.updates == [
        (1, 3, "FROM debian:bookworm-slim"),
        (2, 3, "RUN apt-get install -y openmpi-bin"),
        (3, 3, "COPY workloads /opt/testbed/workloads"),
    ]
    assert [s["cached"] for s in res["steps"]] == [False, True, False]
    assert len(logged) == 3 and logged[0].startswith("[images]   Step 1/3 : FROM")  # stdout lines unchanged


def test_status_lines_json_on_stdout_are_not_touched_by_echo_without_a_display():
    buf = io.StringIO()
    progress.echo(json.dumps({"a": 1}), buf)
    assert json.loads(buf.getvalue()) == {"a": 1}


def test_a_workload_that_printed_no_result_is_named_by_its_last_line_first():
    from testbed.node import last_json

    err = 'Traceback (most recent call last):\n  File "x.py", line 3, in get\n    raise e\n'
    err += "TimeoutError: 3 tasks unfinished\n"
    with pytest.raises(TestbedError) as e:
        last_json("", err, "report")
    first, *rest = str(e.value).splitlines()
    assert first == "report printed no result: TimeoutError: 3 tasks unfinished"
    assert rest[0] == "Traceback (most recent call last):"
