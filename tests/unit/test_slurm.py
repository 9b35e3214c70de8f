"""Slurm's configuration, derived from the topology, and what the head's commands say."""

from pathlib import Path

import pytest

from testbed import launch, topology
from testbed.errors import TestbedError
from testbed.schedulers import slurm

SLURM = slurm.Slurm()


def slurm_groups(topo):
    return [g for g in topo.groups if launch.kind(g.launch).scheduler is not None]


def conf_text(name: str) -> str:
    topo = topology.load(name)
    return slurm.conf(topo, SLURM.compute_nodes(slurm_groups(topo)))


def conf_of(name: str) -> dict[str, str]:
    out = {}
    for line in conf_text(name).splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out.setdefault(key, value)
    return out


@pytest.mark.parametrize("name", ["slurm", "slurm-split-world"])
def test_conf_comes_from_the_topology(name):
    topo = topology.load(name)
    c = conf_of(name)
    assert c["SlurmctldHost"] == topo.hostname(topo.controller) == "head"
    assert SLURM.compute_nodes(slurm_groups(topo)) == ("node1", "node2")
    assert c["NodeName"].startswith("node1,node2 ") and f"CPUs={slurm.SLOTS}" in c["NodeName"]
    assert c["PartitionName"].startswith(f"{slurm.PARTITION} Nodes=node1,node2 Default=YES")


def test_conf_fits_a_container():
    c = conf_of("slurm")
    assert c["ProctrackType"] == "proctrack/linuxproc" and c["TaskPlugin"] == "task/none"
    assert c["AccountingStorageType"] == "accounting_storage/none" and c["AuthType"] == "auth/munge"
    assert "cgroup" not in conf_text("slurm")


@pytest.mark.parametrize("name", ["plain", "split-world", "true-world", "ssh-engines"])
def test_other_topologies_have_no_slurm(name):
    assert not slurm_groups(topology.load(name))


def test_a_munge_key_per_cluster():
    a, b = slurm.make_key(), slurm.make_key()
    assert len(a) == len(b) == 1024 and a != b


def test_squeue_and_sinfo_are_read_field_by_field():
    out = (
        "3|ipengine-job|PENDING|ReqNodeNotAvail, UnavailableNodes:node2|2|\n4|ipengine-late|RUNNING|None|2|node[1-2]\n"
    )
    jobs = SLURM.parse_queue(out)
    assert [j["id"] for j in jobs] == ["3", "4"]
    assert jobs[0]["reason"] == "ReqNodeNotAvail, UnavailableNodes:node2" and SLURM.hopeless(jobs[0])
    assert not SLURM.hopeless(jobs[1]) and not SLURM.hopeless({**jobs[0], "reason": "Resources"})
    assert not SLURM.hopeless({**jobs[0], "state": "RUNNING"})  # only a pending job is hopeless
    assert SLURM.ended({**jobs[1], "state": "CANCELLED"}) and not SLURM.ended(jobs[1])
    nodes = SLURM.parse_nodes("node1|idle|none\nnode2|drained|testbed drill\n")
    assert nodes == {"node1": {"state": "idle", "reason": ""}, "node2": {"state": "drained", "reason": "testbed drill"}}


def _doc(groups):
    return {
        "services": {s: {"hostname": s} for s in ("head", "n1", "n2")},
        "x-testbed": {"controller": "head", "groups": groups},
    }


@pytest.mark.parametrize(
    "group, message",
    [
        ({"node": "head", "launch": "slurm", "engines": 2}, "needs hosts"),
        ({"node": "n1", "launch": "slurm", "engines": 2, "hosts": ["n2"]}, "submitted from the controller node"),
        ({"node": "head", "launch": "slurm", "engines": 2, "hosts": ["head", "n1"]}, "runs slurmctld"),
        ({"node": "n1", "launch": "ssh", "engines": 2, "mpi": True}, "ssh starts plain engines"),
        ({"node": "head", "launch": "ssh", "engines": 2}, "another node than the controller"),
    ],
)
def test_slurm_and_ssh_groups_that_cannot_work(group, message):
    with pytest.raises(TestbedError, match=message):
        topology.from_compose(_doc([{"name": "g", **group}]), Path("x.yaml"))
