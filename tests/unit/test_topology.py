"""Topology parsing: the x-testbed block of a compose file, and its errors."""

from pathlib import Path

import pytest
import yaml

from testbed import limits, names, topology
from testbed.errors import TestbedError


def test_single_world_is_read_from_its_compose_file():
    t = topology.load("single-world")
    assert t.controller == "head"
    assert t.hostname("head") == "head"
    assert [(g.name, g.node, g.launch, g.mpi, g.engines) for g in t.groups] == [("world", "head", "ipcluster", True, 5)]
    assert t.scatter == 32 and t.lecture == "L5"


def test_unknown_topology_lists_the_known_ones():
    with pytest.raises(TestbedError) as e:
        topology.load("no-such-topology")
    assert "unknown topology 'no-such-topology'" in str(e.value)
    assert "single-world" in str(e.value)


def test_counts_override_in_group_order():
    t = topology.load("single-world").with_counts(topology.parse_counts("3"))
    assert t.counts == (3,) and t.engine_count == 3


@pytest.mark.parametrize("text", ["a", "3,", "3;2", ""])
def test_bad_engine_counts_text(text):
    with pytest.raises(TestbedError, match="--engines"):
        topology.parse_counts(text)


@pytest.mark.parametrize("counts", [(0,), (129,), (3, 2)])
def test_counts_out_of_range_or_wrong_number(counts):
    with pytest.raises(TestbedError):
        topology.load("single-world").with_counts(counts)


def _doc(groups, controller="head", services=("head", "b")):
    return {
        "services": {s: {"hostname": s} for s in services},
        "x-testbed": {"controller": controller, "groups": groups},
    }


def test_without_ipcluster_the_controller_runs_alone_and_mpiexec_may_span_hosts():
    doc = _doc([{"name": "g", "node": "head", "launch": "mpiexec", "engines": 2, "hosts": ["b", "head"]}])
    t = topology.from_compose(doc, Path("x.yaml"))
    assert t.groups[0].rank_hosts == ("b", "head")


def test_hosts_must_be_services():
    doc = _doc([{"name": "g", "node": "head", "launch": "mpiexec", "engines": 2, "hosts": ["nowhere"]}])
    with pytest.raises(TestbedError, match="hosts must list services"):
        topology.from_compose(doc, Path("x.yaml"))


@pytest.mark.parametrize(
    "group, message",
    [
        ({"node": "nowhere", "launch": "ipengine", "engines": 1}, "node must name a service"),
        ({"node": "b", "launch": "teleport", "engines": 1}, "launch must be one of"),
        ({"node": "b", "launch": "ipengine", "engines": 0}, "engine count"),
        ({"node": "b", "launch": "ipengine", "engines": 1, "order": "descending"}, "order applies"),
        ({"node": "b", "launch": "ipcluster", "engines": 1}, "only the first group"),
        ({"node": "b", "launch": "ipengine", "engines": 1, "hosts": ["head"]}, "hosts applies to mpiexec, slurm"),
    ],
)
def test_group_errors_name_the_problem(group, message):
    first = {"name": "first", "node": "head", "launch": "ipcluster", "engines": 1}
    doc = _doc([first, {"name": "second", **group}])
    with pytest.raises(TestbedError, match=message):
        topology.from_compose(doc, Path("x.yaml"))


def test_hostname_defaults_to_service_name(tmp_path):
    doc = _doc([{"name": "g", "node": "head", "launch": "ipcluster", "engines": 2}])
    del doc["services"]["head"]["hostname"]
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(doc))
    t = topology.load(str(path))
    assert t.name == "mine" and t.hostname("head") == "head"


HOSTILE = {
    "a list where a name belongs": "x-testbed: {controller: [head], groups: []}\nservices: {head: {}}\n",
    "a mapping as a group name": (
        "x-testbed: {controller: head, groups: [{name: {a: 1}, node: head, launch: ipcluster, engines: 1}]}\n"
        "services: {head: {}}\n"
    ),
    "a boolean engine count": (
        "x-testbed: {controller: head, groups: [{node: head, launch: ipcluster, engines: true}]}\n"
        "services: {head: {}}\n"
    ),
    "a list as the launch": (
        "x-testbed: {controller: head, groups: [{node: head, launch: [ipcluster], engines: 1}]}\nservices: {head: {}}\n"
    ),
    "a string as mpi": (
        "x-testbed: {controller: head, groups: [{node: head, launch: ipcluster, mpi: 'no', engines: 1}]}\n"
        "services: {head: {}}\n"
    ),
    "a number as a hostname": "x-testbed: {controller: head, groups: []}\nservices: {head: {hostname: 7}}\n",
    "a service that is a list": "x-testbed: {controller: head, groups: []}\nservices: {head: [1, 2]}\n",
    "a list as the summary": (
        "x-testbed: {controller: head, summary: [a, b], groups: [{node: head, launch: ipcluster, engines: 1}]}\n"
        "services: {head: {}}\n"
    ),
    "a YAML alias bomb": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    + "x-testbed: {summary: *i}\n",
    "a document that is a scalar": "42\n",
    "two nodes with one hostname": (
        "x-testbed: {controller: head, groups: [{node: head, launch: ipengine, engines: 1}]}\n"
        "services: {head: {hostname: a}, b: {hostname: a}}\n"
    ),
    "broken YAML": "x-testbed: {controller: head\n  groups: [\n",
}


@pytest.mark.parametrize("what", sorted(HOSTILE))
def test_hostile_topology_files_are_one_clear_error(tmp_path, what):
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE[what])
    with pytest.raises(TestbedError) as e:
        topology.load(str(path))
    message = str(e.value)
    assert message.startswith(("hostile.yaml: ", "hostile: ", str(path))) and "\n" not in message and len(message) < 400


def test_a_file_that_is_not_utf8_is_one_clear_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("x-testbed: {summary: 'caf\xe9'}\n".encode("latin-1"))
    with pytest.raises(TestbedError, match="not UTF-8 text"):
        topology.load(str(path))


@pytest.mark.parametrize("name", [["single-world"], 7, "", "../compose/single-world", "a\0b"])
def test_a_topology_name_that_is_not_a_name(name):
    with pytest.raises(TestbedError):
        topology.load(name)


def test_mpi_io_spans_nodes_only_over_a_shared_folder():
    from pathlib import PurePosixPath

    from testbed.cluster import Cluster

    assert topology.load("true-world").shared == "/shared"
    assert Cluster(topology.load("true-world")).program_where(True) == (True, PurePosixPath("/shared/run"))
    # remote-engines' hosts share nothing: one file needs one node
    assert Cluster(topology.load("remote-engines")).program_where(True) == (False, PurePosixPath("/tmp/testbed/run"))
    assert Cluster(topology.load("remote-engines")).program_where(False)[0] is True
    assert Cluster(topology.load("single-world")).program_where(True)[0] is False


def test_the_limits_of_a_topology_file_hold_where_advertised(tmp_path):
    base = topology.compose_dir() / "split-world.yaml"
    text = base.read_text()
    # 100 aliases is fine (compose files use anchors); the 101st is an alias bomb
    anchors = "x-a: &a 1\n" + "".join(f"x-use{i}: *a\n" for i in range(100))
    ok = tmp_path / "anchors.yaml"
    ok.write_text(text + anchors)
    assert topology.load(str(ok)).name == "anchors"
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(text + anchors + "x-use100: *a\n")
    with pytest.raises(TestbedError, match="101 YAML aliases"):
        topology.load(str(bomb))
    # a file of the bound is read (a comment pads it); one byte over is refused before parsing
    bound = limits.TOPOLOGY_BYTES.hi
    pad = bound - len(text.encode()) - 2
    under = tmp_path / "under.yaml"
    under.write_text(text + "#" + "x" * pad + "\n")
    assert under.stat().st_size == bound and topology.load(str(under)).engine_count == 5
    over = tmp_path / "over.yaml"
    over.write_text(text + "#" + "x" * (pad + 1) + "\n")
    with pytest.raises(TestbedError, match=f"larger than {bound:,} bytes"):
        topology.load(str(over))


def test_every_topology_of_the_catalogue_has_safe_names():
    for name in topology.known_topologies():
        t = topology.load(name)
        assert names.TOPOLOGY.ok(t.name) and names.CLUSTER.ok(t.name), name
        assert all(names.GROUP.ok(g.name) for g in t.groups), name
        assert all(names.NODE.ok(n.service) and names.HOSTNAME.ok(n.hostname) for n in t.nodes.values()), name


SHELL_TEXT = ["a;b", "$(id)", "a b", "a'b", "`id`", "-x", "a/b", "..", "", "A", "x" * 64, "a\nb", "ü"]


@pytest.mark.parametrize("bad", SHELL_TEXT)
@pytest.mark.parametrize("where", ["group", "service", "hostname"])
def test_a_name_that_is_not_safe_is_one_line_naming_it_and_the_pattern(bad, where):
    doc = _doc([{"name": "g", "node": "head", "launch": "ipcluster", "engines": 1}])
    pattern = {"group": names.GROUP, "service": names.NODE, "hostname": names.HOSTNAME}[where]
    if where == "group":
        doc["x-testbed"]["groups"][0]["name"] = bad
    elif where == "service":
        doc["services"][bad] = {"hostname": "other"}
    else:
        doc["services"]["b"]["hostname"] = bad
    with pytest.raises(TestbedError) as e:
        topology.from_compose(doc, Path("x.yaml"))
    message = str(e.value)
    assert message.startswith("x.yaml: ") and "\n" not in message
    assert repr(bad)[:60] in message and pattern.regex.pattern in message


@pytest.mark.parametrize("good", ["a", "node1", "head-2", "n" * 63])
def test_plain_names_are_names(good):
    assert names.NODE.ok(good) and names.GROUP.ok(good) and names.HOSTNAME.ok(good)
    assert names.HOSTNAME.ok(f"{good}.cluster.example")


def test_hostnames_follow_rfc_1123():
    ok, bad = names.HOSTNAME.ok, lambda h: not names.HOSTNAME.ok(h)
    assert ok("a-b.c-d") and ok("0x") and ok(".".join(["a" * 63] * 3) + "." + "b" * 61)
    assert bad("-a") and bad("a-") and bad("a..b") and bad(".a") and bad("a.") and bad("a" * 64) and bad("a_b")
    assert bad(".".join(["a" * 63] * 4))  # 255 characters


def test_a_topology_file_named_unsafely_is_refused(tmp_path):
    good = topology.compose_dir() / "single-world.yaml"
    path = tmp_path / "a;b.yaml"
    path.write_text(good.read_text())
    with pytest.raises(TestbedError, match=r"topology name 'a;b' must match"):
        topology.load(str(path))


def test_cluster_names_keep_their_pattern():
    from testbed.cluster import check_name

    assert check_name("it-sw-wide-world") == "it-sw-wide-world"
    for bad in ("Bad Name", "x;$(id)", "-x", "a" * 42, 7):
        with pytest.raises(TestbedError, match=r"cluster name .* must match \[a-z0-9\]"):
            check_name(bad)
