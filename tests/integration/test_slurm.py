"""A batch-scheduled cluster: Slurm in the nodes, engines started by ipyparallel's own Slurm
and SSH launchers, and the faults users meet there (a drained node, a cancelled job).

Expected values come from the topology (the placement) and the lecture (L10's psums and
ranks); the Slurm job ids are only compared with each other (which engines share a job)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from testbed import lecture, topology
from testbed.cluster import Cluster, IfExists
from testbed.errors import TestbedError
from testbed.launch import ENGINE_FILE, LOGS
from testbed.node import one_off
from testbed.schedulers import slurm
from testbed.waiting import poll

from .helpers import checked_engines, write_topology


def jobs_of(engines) -> list[str]:
    return [e["slurm_job_id"] for e in engines]


@pytest.mark.cluster("slurm")
def test_slurm_one_job_one_world_over_two_compute_nodes(clusters):
    cluster = clusters("slurm")
    engines = checked_engines(cluster, 32)  # ranks and hosts as placed, psum 496 on every engine
    assert [e["psum"] for e in engines] == [496.0] * 5
    assert {e["hostname"] for e in engines} == {"node1", "node2"}
    (job,) = set(jobs_of(engines))  # one batch job holds all five
    assert job.isdigit()
    (listed,) = [j for j in cluster.scheduler_jobs() if j["id"] == job]
    assert listed["name"] == slurm.job_name("job") and listed["state"] == "RUNNING"
    assert listed["nodelist"] in ("node[1-2]", "node1,node2")
    # one munge key on every Slurm node, owner munge, mode 0400, made at bring-up: none in the image
    key = str(slurm.MUNGE_KEY)
    nodes = [cluster.node(s) for s in ("head", "node1", "node2")]
    assert {n.exec(["stat", "-c", "%U %a", key], user="root").out.strip() for n in nodes} == {"munge 400"}
    assert len({n.exec(["sha256sum", key], user="root").out.split()[0] for n in nodes}) == 1
    with one_off(cluster.image, "it-nokey", user="root", entrypoint=["sleep", "infinity"]) as bare:
        assert bare.exec(["test", "-e", key], user="root").code == 1


@pytest.mark.cluster("slurm-split-world")
def test_slurm_split_world_is_the_lectures_L10_on_a_scheduler(clusters):
    cluster = clusters("slurm-split-world")
    engines = checked_engines(cluster, lecture.SCATTER["L10"])
    assert [e["psum"] for e in engines] == [float(x) for x in lecture.ENGINES["L10"]["psum"]]
    assert [e["world_rank"] for e in engines] == lecture.ENGINES["L10"]["world_rank"]
    jobs = jobs_of(engines)
    assert len(set(jobs[:3])) == len(set(jobs[3:])) == 1 and jobs[0] != jobs[3]  # two jobs, two worlds


@pytest.mark.cluster("ssh-engines")
def test_ssh_engines_started_by_ipclusters_ssh_launcher(clusters):
    cluster = clusters("ssh-engines")
    engines = checked_engines(cluster, 16)
    assert [e["hostname"] for e in engines] == ["node1", "node1", "node2", "node2"]
    assert jobs_of(engines) == [""] * 4  # not under Slurm
    # nobody copied the connection file: ipyparallel's launcher sent it (scp) before starting
    log = cluster.node("head").read(LOGS / "on-node1.log")
    assert "SSHEngineSetLauncher" in log and f"sending {ENGINE_FILE} to node1:" in log
    assert cluster.node("node1").exec(["test", "-s", str(ENGINE_FILE)]).code == 0


@pytest.mark.extended
def test_slurm_other_sizes_and_plain_engines_by_srun(docker_client, tmp_path):
    """A hand-written Slurm topology: 3 plain engines placed by srun task by task, then one
    MPI world of 4 over the nodes in the other order; --engines-like sizes come from the file."""
    topo = write_topology(
        tmp_path,
        "slurmix",
        "  controller: head\n"
        "  scatter: 40\n"
        "  groups:\n"
        "    - {name: plain, node: head, launch: slurm, mpi: false, engines: 3, hosts: [c1, c2]}\n"
        "    - {name: world, node: head, launch: slurm, engines: 4, hosts: [c2, c1], order: descending}\n",
        ["head", "c1", "c2"],
    )
    cluster = Cluster(topo, name="it-slurmix", log=print).up(if_exists=IfExists.REPLACE)
    try:
        engines = checked_engines(cluster, 40)
    finally:
        cluster.down()
    # worked by hand: plain ids 0,1,2 on c1,c2,c1 (task i on host i % 2); world ranks 0..3 take
    # ids 6,5,4,3 on c2,c1,c2,c1
    assert [(e["id"], e["hostname"], e["world_rank"], e["world_size"]) for e in engines] == [
        (0, "c1", 0, 1),
        (1, "c2", 0, 1),
        (2, "c1", 0, 1),
        (3, "c1", 3, 4),
        (4, "c2", 2, 4),
        (5, "c1", 1, 4),
        (6, "c2", 0, 4),
    ]
    jobs = jobs_of(engines)
    assert len(set(jobs[:3])) == len(set(jobs[3:])) == 1 and jobs[0] != jobs[3]
    # 40 items over 7 engines (6,6,6,6,6,5,5): the world {3,4,5,6} holds items 18..39
    assert [e["psum"] for e in engines][3:] == [float(sum(range(18, 40)))] * 4


@pytest.mark.extended
def test_a_drained_node_leaves_the_job_pending_and_says_why(docker_client):
    cluster = Cluster(topology.load("slurm"), name="it-slurm-drained", log=print)
    cluster.up(engines=False, if_exists=IfExists.REPLACE)  # nodes and Slurm, no engines yet
    try:
        drain = ["scontrol", "update", "nodename=node2", "state=drain", "reason=testbed drill"]
        assert cluster.node("head").exec(drain, user="root").code == 0
        assert cluster.scheduler_nodes()["node2"]["state"] == "drained"
        with pytest.raises(TestbedError) as err:
            cluster._start_engines()  # submits the job: it can never start
        msg = str(err.value)
        # squeue's own reason, and which node is why
        assert "PENDING" in msg and "ReqNodeNotAvail" in msg and "node2" in msg and "testbed drill" in msg
        assert "registered within" not in msg  # said at once, not after the registration wait
    finally:
        cluster.down()


@pytest.mark.extended
def test_scancel_of_the_engines_job_is_named_by_the_check(docker_client):
    cluster = Cluster(topology.load("slurm"), name="it-slurm-scancel", log=print).up(if_exists=IfExists.REPLACE)
    try:
        head = cluster.node("head")
        assert head.exec(slurm.Slurm().cancel_argv(slurm.job_name("job"))).code == 0
        count = ["python3", "-c", "import ipyparallel as ipp; rc = ipp.Client(); print(len(rc.ids))"]
        # the controller drops the engines once their heartbeats stop (or they unregister)
        poll(lambda: head.exec(count).out.strip() == "0", timeout=90, what="the controller to drop the engines")
        assert head.exec(["pgrep", "-f", "ipcontroller"]).code == 0  # the controller stays up
        proc = subprocess.run(
            [sys.executable, "-m", "testbed.cli", "check", "slurm", "--name", cluster.name, "--json"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 1, proc.stderr[-2000:]
        doc = json.loads(proc.stdout)
        assert [e["mismatches"] for e in doc["engines"]] == [["missing"]] * 5
        (note,) = doc["problems"]
        assert "0, 1, 2, 3, 4 (group 'job') not registered" in note and "CANCELLED" in note
    finally:
        cluster.down()
