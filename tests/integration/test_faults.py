"""The fault catalogue on live clusters (faults 1, 2, 4 and 7 of the catalogue): each fault on a
fresh cluster, what it takes derived from the topology, and no task lost."""

from __future__ import annotations

import pytest

from testbed import faults, topology


def run(topo: str, fault: str) -> faults.FaultResult:
    (res,) = faults.Drills(topology.load(topo), log=print).run([fault])
    print(res.as_json())
    return res


@pytest.mark.parametrize(
    "topo, fault, lost",
    [
        ("remote-engines", "engine-killed", [3]),  # the plain engine on laptop
        ("remote-engines", "node-lost", [3]),  # laptop holds engine 3 only
        ("split-world", "rank-killed", [3, 4]),  # rank 0 of the late world: the whole world goes
    ],
)
def test_fault_takes_what_the_topology_says_and_no_task_is_lost(docker_client, topo, fault, lost):
    res = run(topo, fault)
    assert res.lost == lost and not res.skipped
    assert res.ok, res.failed
    assert res.tasks_lost == 0 and res.detect_s is not None and res.detect_s >= 0
    assert any("EngineError" in h for h in res.held)  # the direct tasks on lost engines: an error, no hang


def test_up_killed_leaves_a_named_remainder_and_down_removes_all_of_it(docker_client):
    res = run("remote-engines", "up-killed")
    assert res.ok, res.failed
    assert res.extra["after_down"] == {"containers": 0, "networks": 0, "volumes": 0}
    assert "testbed down --name faults-upkill-remote-engines" in res.extra["next_up_says"]
