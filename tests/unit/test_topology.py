"""Topology parsing: the x-testbed block of a compose file, and its errors."""

from pathlib import Path

import pytest
import yaml

from testbed import topology
from testbed.errors import TestbedError


def test_single_world_is_read_from_its_compose_file():
    t = topology.load("single-world")
    assert t.controller == "head"
    assert t.hostname("head") == "head"
    assert [(g.name, g.node, g.launch, g.mpi, g.engines) for g in t.groups] == [
        ("world", "head", "ipcluster", True, 5)
    ]
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


@pytest.mark.parametrize("counts", [(0,), (65,), (3, 2)])
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


def test_every_shipped_topology_parses():
    names = topology.known_topologies()
    assert "single-world" in names
    for name in names:
        t = topology.load(name)
        assert t.engine_count >= 1


def test_mpi_io_spans_nodes_only_over_a_shared_folder():
    from pathlib import PurePosixPath

    from testbed.cluster import Cluster

    assert topology.load("true-world").shared == "/shared"
    assert Cluster(topology.load("true-world")).program_where(True) == (True, PurePosixPath("/shared/run"))
    # remote-engines' hosts share nothing: one file needs one node
    assert Cluster(topology.load("remote-engines")).program_where(True) == (False, PurePosixPath("/tmp/testbed/run"))
    assert Cluster(topology.load("remote-engines")).program_where(False)[0] is True
    assert Cluster(topology.load("single-world")).program_where(True)[0] is False
