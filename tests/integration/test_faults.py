"""The fault catalogue on live clusters, compose projects (every fault; test_swarm.py runs them on a
swarm): each fault on a fresh cluster, what it takes derived from the topology, and no task lost."""

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
        ("remote-engines", "engine-killed", [3]),  # the plain engine on laptop: the everyday tier's fault
        pytest.param("remote-engines", "node-lost", [3], marks=pytest.mark.faults),  # laptop holds engine 3 only
        # rank 0 of the late world: the whole world goes
        pytest.param("split-world", "rank-killed", [3, 4], marks=pytest.mark.faults),
        # laptop off the network for longer than the heartbeat allows: its engine is dropped
        pytest.param("remote-engines", "partition", [3], marks=pytest.mark.faults),
        # a world cut in two ends (openmpi4's runtime keepalive), and every rank of it is dropped
        pytest.param("true-world", "partition", [0, 1, 2, 3, 4], marks=pytest.mark.faults),
    ],
)
def test_fault_takes_what_the_topology_says_and_no_task_is_lost(docker_client, topo, fault, lost):
    res = run(topo, fault)
    assert res.lost == lost and not res.skipped
    assert res.ok, res.failed
    assert res.tasks_lost == 0 and res.detect_s is not None and res.detect_s >= 0
    assert any("EngineError" in h for h in res.held)  # the direct tasks on lost engines: an error, no hang


@pytest.mark.faults
def test_controller_restart_is_measured_and_the_check_agrees(docker_client):
    res = run("split-world", "controller-restart")
    assert res.ok, res.failed
    # every engine back, by count: 0 back is a failure, not a vacuous check of no engine
    assert res.extra["engines_back"] == topology.load("split-world").engine_count == 5 and res.lost == []


@pytest.mark.faults
def test_slow_network_slows_big_messages_and_the_results_stay_right(docker_client):
    """netem where the kernel has it; here tbf's rate limit and iptables' loss (no netem in this
    kernel): either way the check holds, and a 64 KiB round trip to the slowed node grows."""
    res = run("remote-engines", "slow-network")
    assert res.ok, res.failed
    assert res.tasks_lost == 0 and res.lost == []
    grown = "small" if "netem" in res.done and "no netem" not in res.done else "big"
    before, after = res.extra["before"][grown], res.extra["after"][grown]
    assert after["task_rtt_ms"] > before["task_rtt_ms"] and after["mpi_rtt_us"] > before["mpi_rtt_us"]


@pytest.mark.faults
def test_up_killed_leaves_a_named_remainder_and_down_removes_all_of_it(docker_client):
    res = run("remote-engines", "up-killed")
    assert res.ok, res.failed
    assert res.extra["after_down"] == {"containers": 0, "networks": 0, "volumes": 0}
    assert "testbed down --name faults-upkill-remote-engines" in res.extra["next_up_says"]


@pytest.mark.faults
# each a line `up` prints before it is done (the last: the first of two groups registered)
@pytest.mark.parametrize("phase", ["starting node(s)", "ssh ready", "ipcluster start", "engine(s) registered"])
def test_ctrl_c_at_each_phase_of_up_leaves_nothing(docker_client, phase):
    """Ctrl-C (SIGINT to the whole foreground group, as a terminal sends it) once `up` reports a
    phase: it fails (130, or 2 when a child it waited for died of the same Ctrl-C first) and leaves
    no container, network or volume of the cluster."""
    import os
    import signal
    import subprocess
    import sys

    from testbed import docker_env

    name = "it-ctrlc"
    docker_env.clean(docker_client, name)
    proc = subprocess.Popen(
        [sys.executable, "-m", "testbed.cli", "up", "remote-engines", "--name", name],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in proc.stdout:
        seen.append(line.rstrip())
        if phase in line:
            os.killpg(proc.pid, signal.SIGINT)
            break
    rest = proc.communicate(timeout=300)[0]
    try:
        assert any(phase in s for s in seen), seen  # the phase was reached, then interrupted
        assert proc.returncode in (130, 2), (seen, rest)
        assert docker_env.leftovers(docker_client, name) == {"containers": 0, "networks": 0, "volumes": 0}
    finally:
        docker_env.clean(docker_client, name)
