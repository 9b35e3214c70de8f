"""Every bound of testbed/limits.py, where the input comes in: a value at the bound is accepted
and one past it is refused in one line naming the input; and each kind of file the testbed
reads (topology, requirements, results JSON) is refused in one line, fast, when it is a FIFO,
/dev/zero, 10 MB, an alias bomb or 10,000 levels deep."""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

import pytest

from testbed import api, cli, limits, matrix, packages, report, topology
from testbed.errors import TestbedError

ROOT = Path(__file__).resolve().parents[2]


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg and "Traceback" not in msg and len(msg) < 600, msg
    return msg


def _doc(groups=None, services=("head", "b"), **spec):
    groups = groups or [{"name": "g", "node": "head", "launch": "ipcluster", "engines": 1}]
    return {
        "services": {s: {"hostname": s} for s in services},
        "x-testbed": {"controller": "head", "groups": groups, **spec},
    }


def _load(doc) -> topology.Topology:
    return topology.from_compose(doc, Path("t.yaml"))


def _refused(doc, says: str) -> str:
    with pytest.raises(TestbedError) as e:
        _load(doc)
    msg = one_line(e)
    assert msg.startswith("t") and re.search(says, msg), msg
    return msg


# ---- the topology's sizes -------------------------------------------------------------------------------------
def _ipengine(i: int, engines: int = 1) -> dict:
    return {"name": f"g{i}", "node": "head", "launch": "ipengine", "engines": engines}


def test_engines_in_a_group():
    hi = limits.ENGINES_PER_GROUP.hi
    assert _load(_doc([{"name": "g", "node": "head", "launch": "ipcluster", "engines": hi}])).engine_count == hi
    _refused(_doc([{"name": "g", "node": "head", "launch": "ipcluster", "engines": hi + 1}]), f"1 to {hi}.*{hi + 1}")


def test_engines_in_all():
    per, hi = limits.ENGINES_PER_GROUP.hi, limits.ENGINES_TOTAL.hi
    full = [_ipengine(i, per) for i in range(hi // per)]
    t = _load(_doc(full))
    assert t.engine_count == hi and t.with_counts([per] * len(full)).engine_count == hi
    _refused(_doc([*full, _ipengine(99)]), f"{hi + 1} engines in all: at most {hi}")
    more = _load(_doc([*full[:-1], _ipengine(98, per - 1), _ipengine(99)]))  # at the bound, in three groups
    with pytest.raises(TestbedError, match=f"{hi + 1} engines in all: at most {hi}") as e:
        more.with_counts([per] * len(full) + [1])  # --engines past it
    one_line(e)


def test_engine_groups():
    hi = limits.GROUPS.hi
    assert len(_load(_doc([_ipengine(i) for i in range(hi)])).groups) == hi
    _refused(_doc([_ipengine(i) for i in range(hi + 1)]), f"{hi + 1} groups: at most {hi}")


def test_nodes():
    hi = limits.NODES.hi
    assert len(_load(_doc(services=["head", *(f"n{i}" for i in range(hi - 1))])).nodes) == hi
    _refused(_doc(services=["head", *(f"n{i}" for i in range(hi))]), f"{hi + 1} services .*at most {hi}")


def test_hosts_of_a_group():
    hi = limits.GROUP_HOSTS.hi
    group = {"name": "g", "node": "head", "launch": "mpiexec", "engines": 2, "hosts": ["head", "b"] * (hi // 2)}
    assert len(_load(_doc([group])).groups[0].hosts) == hi
    _refused(_doc([{**group, "hosts": group["hosts"] + ["b"]}]), f"{hi + 1} nodes: at most {hi}")


def test_scatter():
    hi = limits.SCATTER.hi
    assert _load(_doc(scatter=hi)).scatter == hi
    _refused(_doc(scatter=hi + 1), f"from 0 to {hi:,}, got {hi + 1}")


@pytest.mark.parametrize("key", ["summary", "lecture", "shared"])
def test_text(key):
    hi = limits.TEXT.hi
    text = "/" + "x" * (hi - 1)
    assert len(getattr(_load(_doc(**{key: text})), key)) == hi
    _refused(_doc(**{key: text + "x"}), f"x-testbed.{key}")


def test_shm_size_and_ulimits():
    hi = limits.SHM_BYTES.hi
    doc = _doc()
    doc["services"]["head"].update(shm_size=hi, ulimits={"nofile": {"soft": limits.ULIMIT.hi, "hard": -1}})
    assert _load(doc)
    doc["services"]["head"]["shm_size"] = f"{hi >> 30}g"
    assert _load(doc)
    doc["services"]["head"]["shm_size"] = hi + 1
    _refused(doc, f"shm_size {hi + 1}: larger than")
    doc["services"]["head"].update(shm_size="256m", ulimits={"nofile": limits.ULIMIT.hi + 1})
    _refused(doc, f"ulimits.'nofile' {limits.ULIMIT.hi + 1}")


# ---- YAML and JSON structure -----------------------------------------------------------------------------------
def test_yaml_depth_aliases_and_expanded_nodes():
    deep = limits.YAML_DEPTH.hi
    assert limits.load_yaml("[" * deep + "]" * deep, "y") is not None
    with pytest.raises(TestbedError, match=f"more than {deep} levels") as e:
        limits.load_yaml("[" * (deep + 1) + "]" * (deep + 1), "y")
    one_line(e)
    many = limits.YAML_ALIASES.hi
    assert limits.load_yaml("a: &a 1\nb: [" + ", ".join(["*a"] * many) + "]\n", "y")["a"] == 1
    with pytest.raises(TestbedError, match=f"{many + 1} YAML aliases"):
        limits.load_yaml("a: &a 1\nb: [" + ", ".join(["*a"] * (many + 1)) + "]\n", "y")
    # a huge anchor used a few times: few aliases, many nodes once expanded
    nodes = limits.YAML_NODES.hi
    big = "a: &a [" + ", ".join(["1"] * 999) + "]\n"  # 1,000 nodes with its sequence
    uses = nodes // 1000 - 2  # the root mapping, its keys and `a` itself count too
    assert limits.load_yaml(big + "b: [" + ", ".join(["*a"] * uses) + "]\n", "y")
    with pytest.raises(TestbedError, match="nodes with its aliases expanded") as e:
        limits.load_yaml(big + "b: [" + ", ".join(["*a"] * (uses + 2)) + "]\n", "y")
    one_line(e)


def test_json_depth_and_size(tmp_path):
    deep = limits.JSON_DEPTH.hi
    assert limits.loads_json('{"a": ' * (deep - 1) + "[1]" + "}" * (deep - 1), "j")
    with pytest.raises(TestbedError, match=f"more than {deep} levels") as e:
        limits.loads_json("[" * (deep + 1) + "]" * (deep + 1), "j")
    one_line(e)
    assert limits.json_depth('["[[[[", {"a": "]]]"}]') == 2  # brackets in strings do not count
    hi = limits.JSON_BYTES.hi
    f = tmp_path / "r.json"
    f.write_bytes(b'"' + b"x" * (hi - 2) + b'"')
    assert len(limits.load_json(f)) == hi - 2
    f.write_bytes(b'"' + b"x" * (hi - 1) + b'"')
    with pytest.raises(TestbedError, match=f"larger than {hi:,} bytes") as e:
        limits.load_json(f)
    one_line(e)


# ---- the command line ------------------------------------------------------------------------------------------
def _options(argv: list[str]) -> None:
    limits.check_options(cli.build_parser().parse_args(argv))


def _cli_refuses(argv: list[str], capsys, says: str) -> str:
    t0 = time.monotonic()
    code = cli.main(argv)
    took = time.monotonic() - t0
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("testbed: error:"), (argv, code, err)
    assert re.search(says, err[0]), err[0]
    assert took < 2, took
    return err[0]


NUMBERS = [
    (["check", "single-world", "--scatter"], limits.SCATTER, "--scatter"),
    (["run", "single-world", "hello", "-n"], limits.RANKS, "-n"),
    (["notebook", "single-world", "--port"], limits.PORT, "--port"),
    (["reproduce", "--digits-per-file", "1000", "--digit-files"], limits.DIGIT_FILES, "--digit-files"),
    (["reproduce", "--digit-files", "1", "--digits-per-file"], limits.DIGITS_PER_FILE, "--digits-per-file"),
    (["reproduce", "--lb-scale"], limits.LB_SCALE, "--lb-scale"),
    (["dind", "up", "--hosts"], limits.DIND_HOSTS, "--hosts"),
]


@pytest.mark.parametrize(("argv", "bound", "option"), NUMBERS, ids=[n[2] for n in NUMBERS])
def test_a_number_option_at_its_bound_and_past_it(capsys, argv, bound, option):
    _options([*argv, str(bound.hi)])
    _options([*argv, str(bound.lo)])
    past = bound.hi * 2 if isinstance(bound.hi, float) else bound.hi + 1
    _cli_refuses([*argv, str(past)], capsys, f"{re.escape(option)} {past}: must be from")
    low = bound.lo / 2 if isinstance(bound.lo, float) else bound.lo - 1
    _cli_refuses([*argv, str(low)], capsys, f"{re.escape(option)} ")


def test_digits_in_all(capsys):
    hi = limits.DIGITS_TOTAL.hi
    _options(["reproduce", "--digit-files", "5", "--digits-per-file", str(hi // 5)])
    _cli_refuses(["reproduce", "--digit-files", "6", "--digits-per-file", str(hi // 5)], capsys, f"at most {hi:,}")


def test_engines_text(capsys):
    hi = limits.ENGINES_TEXT.hi
    assert topology.parse_counts(",".join(["1"] * (hi // 2)) + "1")
    _cli_refuses(["check", "single-world", "--engines", "1" * (hi + 1)], capsys, f"--engines .*at most {hi}")


@pytest.mark.parametrize("option", ["--only", "--rows", "--steps"])
def test_a_list_option(capsys, option):
    cmd = {"--only": ["reproduce"], "--rows": ["hosts-matrix"], "--steps": ["hosts-matrix"]}[option]
    hi = limits.LIST_ITEMS.hi
    _options([*cmd, option, ",".join(["a"] * hi)])
    _cli_refuses([*cmd, option, ",".join(["a"] * (hi + 1))], capsys, f"{option} .*{hi + 1} long, at most {hi}")
    _cli_refuses([*cmd, option, "x" * (limits.LIST_TEXT.hi + 1)], capsys, f"at most {limits.LIST_TEXT.hi:,}")
    _cli_refuses([*cmd, option, "a,$(id)"], capsys, r"'\$\(id\)' is not a name")


@pytest.mark.parametrize("option", ["--out", "--digit-cache"])
def test_a_path_option(capsys, tmp_path, option):
    hi = limits.PATH_TEXT.hi
    _options(["reproduce", option, "x" * hi])
    _cli_refuses(["reproduce", option, "x" * (hi + 1)], capsys, f"{option} 'xxx.*at most {hi:,}")
    _cli_refuses(["reproduce", option, "a\nb"], capsys, f"{option} 'a\\\\nb': give a path")


def test_place(capsys):
    hi = limits.PLACE_ITEMS.hi
    _options(["up", "single-world", "--swarm", *[f"--place=head=h{i}" for i in range(hi)]])
    argv = ["up", "single-world", "--swarm", *[f"--place=head=h{i}" for i in range(hi + 1)]]
    _cli_refuses(argv, capsys, f"--place .*{hi + 1} long, at most {hi}")
    _cli_refuses(["up", "single-world", "--swarm", "--place", "head=a;rm -rf"], capsys, "VALUE must match")


def test_host_kind(capsys):
    _cli_refuses(["host", "up", "$(id)"], capsys, r"KIND '\$\(id\)': not a name")


def test_matrix_rows(monkeypatch):
    hi = limits.MATRIX_ROWS.hi
    per = hi // 3  # three stacks
    monkeypatch.setattr(topology, "known_topologies", lambda *a: [f"t{i}" for i in range(per + 1)])
    topos, mpis = matrix.parse_axes(",".join(f"t{i}" for i in range(per)), "all")
    assert len(topos) * len(mpis) == hi
    with pytest.raises(TestbedError, match=f"{(per + 1) * 3} rows: at most {hi}") as e:
        matrix.parse_axes(",".join(f"t{i}" for i in range(per + 1)), "all")
    one_line(e)


def test_exec_arguments():
    n, chars = limits.ARGV_ITEMS.hi, limits.ARG_CHARS.hi
    assert len(api.check_argv(["x"] * n)) == n and api.check_argv(["x" * chars])
    for bad in (["x"] * (n + 1), ["x" * (chars + 1)]):
        with pytest.raises(TestbedError, match=f"at most {n} arguments") as e:
            api.check_argv(bad)
        one_line(e)


def test_api_engines_and_timeout():
    with pytest.raises(TestbedError, match="whole numbers") as e:
        api.engine_counts(["3", 2])
    one_line(e)
    with pytest.raises(TestbedError, match="a list of engine counts"):
        api.engine_counts([1] * (limits.GROUPS.hi + 1))
    assert api.engine_counts([3, 2]) == (3, 2)
    np = pytest.importorskip("numpy")
    assert api.engine_counts(np.array([3, 2])) == (3, 2)
    with pytest.raises(TestbedError, match="whole numbers"):
        api.engine_counts([True])
    hi = limits.CLIENT_TIMEOUT.hi
    with pytest.raises(TestbedError, match=f"timeout {hi + 1:g}.*must be from") as e:
        api.TestbedCluster(None).client(timeout=hi + 1)
    one_line(e)


def test_env_names():
    assert limits.env_name("TESTBED_NODE") == "TESTBED_NODE"
    for bad in ("A B", "$(id)", "1A", "A=B", "", "A" * 65):
        with pytest.raises(TestbedError, match="environment variable name") as e:
            limits.env_name(bad)
        one_line(e)


def test_requirements(tmp_path):
    hi = limits.REQUIREMENTS.hi
    f = tmp_path / "r.txt"
    f.write_text("".join(f"pkg{i}\n" for i in range(hi)))
    assert len(packages.request(f).lines) == hi
    f.write_text("".join(f"pkg{i}\n" for i in range(hi + 1)))
    with pytest.raises(TestbedError, match=f"{hi + 1} requirements, at most {hi}"):
        packages.request(f)
    size = limits.REQUIREMENTS_BYTES.hi
    f.write_text("pkg\n" + "#" * (size - 5) + "\n")
    assert packages.request(f).lines == ("pkg",)
    f.write_text("pkg\n" + "#" * (size - 4) + "\n")
    with pytest.raises(TestbedError, match=f"larger than {size:,} bytes") as e:
        packages.request(f)
    one_line(e)


# ---- each kind of file, each hostile shape: one line within a second -----------------------------------------
def _hostile(tmp_path: Path, shape: str, suffix: str) -> Path:
    path = tmp_path / f"h{suffix}"
    if shape == "fifo":
        os.mkfifo(path)
    elif shape == "dev-zero":
        path.symlink_to("/dev/zero")
    elif shape == "10MB":
        path.write_bytes(b"a: [" + b"1," * (5 << 20) + b"]\n")
    elif shape == "alias-bomb":
        lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
        path.write_text("\n".join(lines) + "\n")
    elif shape == "deep":
        path.write_text('{"a": ' * 10_000 + "1" + "}" * 10_000)
    elif shape == "long-line":
        path.write_text("a: " + "x" * (10 << 20) + "\n")
    return path


SHAPES = ["fifo", "dev-zero", "10MB", "alias-bomb", "deep", "long-line"]


def _fast_one_line(call) -> str:
    t0 = time.monotonic()
    with pytest.raises(TestbedError) as e:
        call()
    took = time.monotonic() - t0
    assert took < 2, took
    return one_line(e)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_hostile_topology_file_is_one_line_fast(tmp_path, capsys, shape):
    path = _hostile(tmp_path, shape, ".yaml")
    _fast_one_line(lambda: topology.load(str(path)))
    _cli_refuses(["check", str(path)], capsys, "topology|YAML|nested|alias")


@pytest.mark.parametrize("shape", SHAPES)
def test_a_hostile_requirements_file_is_one_line_fast(tmp_path, capsys, shape):
    path = _hostile(tmp_path, shape, ".txt")
    if shape in ("alias-bomb", "deep"):  # small text: read, and refused as requirements
        _fast_one_line(lambda: packages.request(path))
        return
    _fast_one_line(lambda: packages.request(path))
    _cli_refuses(["matrix", "--topologies", "single-world", "--requirements", str(path), "--", "true"], capsys, "")


@pytest.mark.parametrize("shape", SHAPES)
def test_a_hostile_results_file_is_one_line_fast(tmp_path, shape):
    path = _hostile(tmp_path, shape, ".json")
    if shape == "alias-bomb":
        path.write_text("[" * 100 + "]" * 100)  # JSON has no aliases: a nesting of 100 instead
    _fast_one_line(lambda: limits.load_json(path))
    (tmp_path / "faults.json").unlink(missing_ok=True)
    path.rename(tmp_path / "faults.json")
    t0 = time.monotonic()
    assert report.load_faults(tmp_path) == []  # a broken results file is no section of the report
    assert time.monotonic() - t0 < 2


def test_a_fifo_named_like_a_topology_does_not_hang_the_open(tmp_path):
    fifo = tmp_path / "t.yaml"
    os.mkfifo(fifo)
    msg = _fast_one_line(lambda: limits.read_file(fifo, limits.TOPOLOGY_BYTES, "topology file"))
    assert "not a regular file" in msg


# ---- the table of docs/bad-input.md is the bounds of limits.py ------------------------------------------------
def bounds_table() -> str:
    """The "Bounds" table of docs/bad-input.md, made from limits.BOUNDS."""
    rows = ["| input | bound | why |", "|---|---|---|"]
    for b in limits.BOUNDS:
        rows.append(f"| {b.what} | {b.range()} | {b.why or '-'} |")
    return "\n".join(rows) + "\n"


def test_the_docs_table_is_the_bounds_of_limits_py():
    doc = (ROOT / "docs" / "bad-input.md").read_text()
    assert bounds_table() in doc, "docs/bad-input.md's Bounds table differs from testbed/limits.py:\n" + bounds_table()


def test_every_bound_has_a_reason_and_a_range():
    assert len({b.what for b in limits.BOUNDS}) == len(limits.BOUNDS)
    for b in limits.BOUNDS:
        assert b.hi is not None and (b.lo is None or b.lo <= b.hi) and b.range(), b


def test_check_options_reads_what_the_parser_defines():
    dests = set()
    for action in cli.build_parser()._subparsers._group_actions[0].choices.values():
        dests |= {a.dest for a in action._actions if not isinstance(a, argparse._HelpAction)}
    for table in (limits.OPTION_NUMBERS, limits.OPTION_PATHS, limits.OPTION_LISTS, limits.OPTION_NAMES):
        assert set(table) <= dests, set(table) - dests
