"""Property-based: whatever a topology file or a command line holds, the answer is a topology or
one line (exit status 2), never a traceback, and nothing is started.

hypothesis generates ``x-testbed:`` blocks and compose documents, biased towards the real
keys and values so that it reaches deep into the validation, YAML texts, and values for
every option of the commands that bring clusters up."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testbed import cli, launch, limits, topology
from testbed.errors import TestbedError

# In CI the examples are the same on every run (derandomize): a run that lands must not depend on
# which random inputs it drew. Elsewhere they are random, to find what CI's fixed set does not.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")

KEYS = ["controller", "groups", "scatter", "merge", "name_server", "shared", "summary", "lecture"]
GROUP_KEYS = ["name", "node", "launch", "engines", "mpi", "hosts", "order"]
NAMES = ["head", "node1", "node2", "laptop", "", "x" * 70, "a/b", "ünï", "\0", "-"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.sampled_from(NAMES),
    st.sampled_from(list(launch.names()) + ["teleport"]),
    st.text(max_size=12),
)
anything = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
group = st.dictionaries(st.sampled_from(GROUP_KEYS), st.one_of(scalars, st.lists(st.sampled_from(NAMES), max_size=3)))
x_testbed = st.fixed_dictionaries(
    {},
    optional={
        "controller": st.one_of(st.sampled_from(NAMES), anything),
        "groups": st.one_of(st.lists(group, max_size=4), anything),
        "scatter": st.one_of(st.integers(-5, 10**12), anything),
        "merge": anything,
        "name_server": anything,
        "shared": anything,
    },
)
services = st.one_of(
    st.dictionaries(
        st.sampled_from(NAMES),
        st.one_of(st.fixed_dictionaries({}, optional={"hostname": scalars}), anything),
        max_size=4,
    ),
    anything,
)
documents = st.one_of(
    st.fixed_dictionaries({}, optional={"x-testbed": st.one_of(x_testbed, anything), "services": services}),
    anything,
)


def one_line(e: TestbedError) -> str:
    msg = str(e)
    assert msg and "\n" not in msg and "Traceback" not in msg, msg
    return msg


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_compose_document_is_a_topology_or_one_line(doc):
    try:
        topo = topology.from_compose(doc, Path("gen.yaml"))
    except TestbedError as e:
        assert one_line(e).startswith("gen.yaml")
        return
    # accepted: it must be a topology every later step can use
    assert topo.groups and topo.controller in topo.nodes and topo.engine_count >= 1
    for g in topo.groups:
        assert g.node in topo.nodes and all(h in topo.nodes for h in g.hosts)


yaml_texts = st.one_of(
    documents.map(lambda d: yaml.safe_dump(d, allow_unicode=True) if _dumpable(d) else "x: ["),
    st.text(alphabet=string.printable + "&*!|>{}[]:-", max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)


def _dumpable(d) -> bool:
    try:
        yaml.safe_dump(d)
        return True
    except yaml.YAMLError:
        return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(yaml_texts, st.booleans())
def test_any_file_is_a_topology_or_one_line(tmp_path, text, as_bytes):
    path = tmp_path / "gen.yaml"
    if as_bytes:
        path.write_bytes(text.encode("utf-8", "surrogatepass") + b"\xff\xfe")  # not UTF-8 at the end
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        topology.load(str(path))
    except TestbedError as e:
        one_line(e)


class Started(Exception):
    """Raised where a cluster would be started: an accepted command line got that far."""


def _refuse(*a, **k):
    raise Started()


def _refused_in_one_line_or_started(argv, capsys) -> None:
    """What every command line must do: argparse's usage (status 2), a start (Started), or one
    line with status 2."""
    try:
        code = cli.main(argv)
    except SystemExit as e:  # argparse: usage and one error line, status 2
        assert e.code in (0, 2)
        return
    except Started:
        return  # valid enough to start: the test stops it there
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("testbed: error:"), (argv, code, err)


@pytest.fixture
def no_docker(monkeypatch):
    for where in ("testbed.cli.Cluster.up", "testbed.cli.session", "testbed.cli.attach", "testbed.docker_env.client"):
        monkeypatch.setattr(where, _refuse)


option_values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["3,2", "0", "-1", "64", "65", "1,1,1", ",", "3,", "1e3", "99999999999"]),
    st.integers(-10, 10**6).map(str),
)
commands = st.tuples(
    st.sampled_from(["up", "check", "run", "shell", "down", "faults"]),
    st.sampled_from(topology.known_topologies() + ["nowhere", "../etc/passwd", "", "-x"]),
    st.lists(
        st.tuples(
            st.sampled_from(["--engines", "--scatter", "--name", "--mpi", "-n", "--only", "--ipp"]), option_values
        ),
        max_size=3,
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands)
def test_any_command_line_is_refused_in_one_line_or_reaches_the_start(no_docker, capsys, cmd):
    capsys.readouterr()  # one example's output only (the fixture lives across examples)
    sub, topo, opts = cmd
    argv = [sub, topo] if sub != "run" else [sub, topo, "hello"]
    for flag, value in opts:
        argv += [flag, value]
    _refused_in_one_line_or_started(argv, capsys)


@pytest.fixture
def nothing_runs(monkeypatch):
    """Where reproduce, images and notebook would start work, they stop: the line was accepted."""

    for where in (
        "testbed.reproduce.run",
        "testbed.images.build",
        "testbed.images.build_lab",
        "testbed.cli.is_up",
        "testbed.docker_env.client",
    ):
        monkeypatch.setattr(where, _refuse)


numbers = st.one_of(
    option_values,
    st.sampled_from(["inf", "-inf", "nan", "1e400", "0.0", "1e-9", "20", "1000.1", "65536", "8888"]),
)
other_commands = st.one_of(
    st.tuples(
        st.just(["reproduce"]),
        st.lists(
            st.tuples(
                st.sampled_from(
                    ["--only", "--out", "--lb-scale", "--digit-files", "--digits-per-file", "--digit-cache", "--mpi"]
                ),
                numbers,
            ),
            max_size=4,
        ),
    ),
    st.tuples(st.just(["images"]), st.lists(st.tuples(st.sampled_from(["--mpi", "--ipp"]), numbers), max_size=2)),
    st.tuples(
        st.sampled_from([["notebook", t] for t in topology.known_topologies() + ["nowhere", ""]]),
        st.lists(
            st.tuples(st.sampled_from(["--port", "--execute", "--out", "--name", "--engines", "--mpi"]), numbers),
            max_size=3,
        ),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(other_commands)
def test_any_option_of_reproduce_images_notebook_is_refused_in_one_line_or_accepted(nothing_runs, capsys, cmd):
    capsys.readouterr()
    head, opts = cmd
    argv = list(head)
    for flag, value in opts:
        argv += [flag, value]
    _refused_in_one_line_or_started(argv, capsys)


# JSON texts: generated values, bracket runs of any depth (past limits.JSON_DEPTH), and noise
json_texts = st.one_of(
    anything.map(lambda v: json.dumps(v, default=str)),
    st.integers(0, 20_000).map(lambda n: "[" * n + "]" * n),
    st.integers(0, 20_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.text(alphabet='[]{}":,0123456789 \\', max_size=300),
)


@settings(max_examples=200, deadline=None)
@given(json_texts)
def test_any_json_text_is_a_value_or_one_line(text):
    try:
        limits.loads_json(text, "gen.json")
    except TestbedError as e:
        assert one_line(e).startswith("gen.json")


@settings(max_examples=200, deadline=None)
@given(st.one_of(yaml_texts, st.integers(0, 5_000).map(lambda n: "[" * n + "]" * n)))
def test_any_yaml_text_is_a_document_or_one_line(text):
    try:
        limits.load_yaml(text, "gen.yaml")
    except TestbedError as e:
        assert one_line(e).startswith("gen.yaml")
