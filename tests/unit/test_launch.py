"""Launch commands, built without Docker for every group of every shipped topology,
checked against the placement rows they must hand to the engines."""

import json
import shlex
from collections import Counter
from pathlib import Path

import pytest

from testbed import launch, placement, stacks, topology
from testbed.errors import TestbedError
from testbed.launch import ENGINE_FILE, LaunchContext


def contexts(argv, stack=stacks.DEFAULT):
    """Split an mpiexec argv into (global options, [app contexts]); each context a dict whose
    host is the one its rank runs on, however the stack spells it."""
    assert argv[0] == "mpiexec"
    first = argv.index("-n")
    head, rest = argv[1:first], argv[first:]
    global_hosts = head[head.index("-hosts") + 1].split(",") if "-hosts" in head else None
    out, cur = [], []
    for a in rest + [":"]:
        if a == ":":
            out.append(cur)
            cur = []
        else:
            cur.append(a)
    parsed = []
    for ctx in out:
        assert ctx[0] == "-n"
        d = {"n": int(ctx[1]), "host": None}
        rest = ctx[2:]
        while rest[0] == "-x":  # environment forwarded to the context's ranks
            rest = rest[2:]
        if rest[0] in ("--host", "-host"):
            d["host"], rest = rest[1], rest[2:]
        d["argv"] = rest
        parsed.append(d)
    if global_hosts is not None:  # hydra: one global list, entry i for rank i; or hosts:1 gone round
        assert all(d["host"] is None and d["n"] == 1 for d in parsed)
        if all(h.endswith(":1") for h in global_hosts):
            ring = [h[: -len(":1")] for h in global_hosts]
            global_hosts = [ring[i % len(ring)] for i in range(len(parsed))]
        assert len(global_hosts) == len(parsed)
        for d, h in zip(parsed, global_hosts):
            d["host"] = h
    return head, parsed


def flag(argv, name):
    values = [a.split("=", 1)[1] for a in argv if a.startswith(name + "=")]
    assert len(values) == 1, (name, argv)
    return values[0]


def check_starts(topo, stack=stacks.DEFAULT):
    """Every group's commands against its rows; returns the Start objects in bring-up order."""
    ctx = LaunchContext(topo, stack)
    rows = placement.by_group(topo)
    starts, registered = [], 0
    for g in topo.groups:
        group_rows = rows[g.name]
        got = launch.kind(g.launch).starts(g, group_rows, ctx)
        assert got and all(s.registered > registered for s in got)  # each start adds engines
        registered += g.engines
        assert got[-1].registered == registered  # after the group: every engine so far
        for s in got:
            assert s.node in topo.nodes and s.argv and str(s.log).startswith("/tmp/testbed/")
        if g.launch == "mpiexec":
            (s,) = got
            head, ctxs = contexts(list(s.argv), stack)
            assert len(ctxs) == g.engines  # one app context per rank
            for rank, (c, row) in enumerate(zip(ctxs, group_rows)):
                assert row.rank == rank and c["n"] == 1
                assert c["argv"][:2] == ["ipengine", "--mpi"]
                assert int(flag(c["argv"], "--IPEngine.id")) == row.id
                assert flag(c["argv"], "--file") == str(ENGINE_FILE)
                assert c["host"] == (row.hostname if g.hosts else None)
                assert row.node in s.engine_file_on
            if g.hosts and stack.uses_hostfile:
                ((node, path, text),) = s.files
                assert node == g.node and str(path) == head[head.index(stack.hostfile_flag) + 1]
                slots = {ln.split()[0]: int(ln.split()[1].removeprefix("slots=")) for ln in text.splitlines()}
                assert slots == Counter(r.hostname for r in group_rows)
            if topo.name_server:
                want = stack.name_server_args(launch.NAME_SERVER_URI, topo.hostname(topo.controller))
                assert " ".join(want) in " ".join(head)
        elif g.launch == "ipcluster":
            (s,) = got
            assert s.argv[:2] == ("ipcluster", "start") and s.node == topo.controller
            assert int(flag(s.argv, "--n")) == g.engines
            assert flag(s.argv, "--engines") == ("mpi" if g.mpi else "local")
            if topo.name_server and g.mpi:  # ipcluster's own mpiexec joins the name server too
                want = stack.name_server_args(launch.NAME_SERVER_URI, topo.hostname(topo.controller))
                assert [a.split("=", 1)[1] for a in s.argv if a.startswith("--MPIEngineSetLauncher.mpi_args=")] == want
            # ipengine --mpi asks for its rank as id: the placement must say id == rank
            if g.mpi:
                assert [r.id for r in group_rows] == [r.rank for r in group_rows] == list(range(g.engines))
        elif g.launch == "slurm":
            check_slurm_start(topo, g, group_rows, got, stack)
        elif g.launch == "ssh":
            (s,) = got
            assert s.argv[:3] == ("ipcluster", "engines", "--daemonize") and s.node == topo.controller
            assert flag(s.argv, "--engines") == "ssh" and int(flag(s.argv, "--n")) == g.engines
            assert json.loads(flag(s.argv, "--SSHEngineSetLauncher.engines")) == {topo.hostname(g.node): g.engines}
            assert s.engine_file_on == ()  # ipyparallel sends the connection file itself
            assert {r.node for r in group_rows} == {g.node} and not g.one_world
        elif g.launch == "ipengine":
            assert len(got) == g.engines  # one at a time
            for s, row in zip(got, group_rows):
                assert s.node == row.node and s.engine_file_on == (row.node,)
                assert int(flag(s.argv, "--IPEngine.id")) == row.id
                assert ("--mpi" in s.argv) == g.mpi
        starts += got
    return starts


PROGRAM = "/opt/venv/bin/python3 -m ipyparallel.engine --profile-dir=/home/mpi/.ipython/profile_default"


def check_slurm_start(topo, g, group_rows, got, stack):
    """A slurm group: one ipcluster engines call whose batch template, once ipyparallel fills
    it in, hands each task its placement row."""
    (s,) = got
    assert s.argv[:3] == ("ipcluster", "engines", "--daemonize") and s.node == topo.controller
    assert flag(s.argv, "--engines") == "slurm" and int(flag(s.argv, "--n")) == g.engines
    ((node, path, template),) = s.files
    assert node == topo.controller and flag(s.argv, "--SlurmEngineSetLauncher.batch_template_file") == str(path)
    script = template.format(program_and_args=PROGRAM)  # what ipyparallel's formatter makes of it
    sbatch = dict(ln[len("#SBATCH --") :].split("=", 1) for ln in script.splitlines() if ln.startswith("#SBATCH --"))
    hosts = [topo.hostname(h) for h in g.hosts]
    assert sbatch["job-name"] == f"ipengine-{g.name}" and int(sbatch["ntasks"]) == g.engines
    assert sbatch["nodelist"].split(",") == hosts and int(sbatch["nodes"]) == len(hosts)
    assert s.watch == ("--scheduler", "slurm", "--job", sbatch["job-name"])
    assert set(s.engine_file_on) == {r.node for r in group_rows}
    (last,) = [ln for ln in script.splitlines() if ln.startswith("exec ")]
    argv = shlex.split(last)[1:]
    if g.mpi:
        head, ctxs = contexts(argv, stack)
        assert len(ctxs) == g.engines
        for rank, (c, row) in enumerate(zip(ctxs, group_rows)):
            assert row.rank == rank and c["host"] == row.hostname
            assert " ".join(c["argv"]).startswith(PROGRAM + " --mpi")
            assert int(flag(c["argv"], "--IPEngine.id")) == row.id
        for k, v in stack.in_allocation_env.items():
            assert f"export {k}={v}" in script.splitlines()
    else:  # srun: task i on line i of the hostfile, with id first + i
        assert argv[0] == "srun" and "--distribution=arbitrary" in argv
        hostfile = script.split("<<'EOF'\n", 1)[1].split("\nEOF", 1)[0].splitlines()
        assert hostfile == [r.hostname for r in group_rows]
        i = argv.index("engine-of-task")
        assert all(f"-u {v}" in " ".join(argv) for v in stack.srun_singleton_unset)  # an MPI singleton
        assert int(argv[i + 1]) == group_rows[0].id and [r.id for r in group_rows] == list(
            range(group_rows[0].id, group_rows[0].id + g.engines)
        )


@pytest.mark.parametrize("stack", list(stacks.STACKS))
@pytest.mark.parametrize("name", topology.known_topologies())
def test_every_groups_launch_hands_out_its_placement(name, stack):
    topo = topology.load(name)
    check_starts(topo, stacks.get(stack))
    check_starts(topo.with_counts(tuple(n + 2 for n in topo.counts)), stacks.get(stack))  # other sizes too


def test_shipped_topologies_are_the_catalogue():
    # the README's table and reproduce's experiments name these (wide-world: the scale figures)
    assert set(topology.known_topologies()) == {
        "plain",
        "single-world",
        "added-engines",
        "remote-engines",
        "split-world",
        "remote-split-world",
        "true-world",
        "merged-world",
        "slurm",
        "slurm-split-world",
        "ssh-engines",
        "wide-world",
    }


def _doc(groups, services=("head", "n1", "n2")):
    return {
        "services": {s: {"hostname": f"host-{s}"} for s in services},
        "x-testbed": {"controller": "head", "groups": groups},
    }


MANY = [
    {"name": "a", "node": "head", "launch": "ipcluster", "mpi": True, "engines": 2},
    {"name": "b", "node": "n1", "launch": "ipengine", "engines": 2},
    {"name": "c", "node": "head", "launch": "mpiexec", "engines": 3, "hosts": ["n1", "n2"], "order": "descending"},
    {"name": "d", "node": "n2", "launch": "mpiexec", "engines": 2},
]


def test_hand_written_topology_several_groups_over_several_nodes():
    topo = topology.from_compose(_doc(MANY), Path("many.yaml"))
    rows = [(r.id, r.group, r.world, r.rank, r.size, r.node, r.hostname) for r in placement.derive(topo)]
    # worked by hand: a takes 0,1 (ids = ranks); b's two plain engines 2,3 on n1; c's ranks 0,1,2
    # take 6,5,4 (descending) on n1,n2,n1 (round-robin); d's 7,8 on its own node n2
    assert rows == [
        (0, "a", 0, 0, 2, "head", "host-head"),
        (1, "a", 0, 1, 2, "head", "host-head"),
        (2, "b", 2, 0, 1, "n1", "host-n1"),
        (3, "b", 3, 0, 1, "n1", "host-n1"),
        (4, "c", 4, 2, 3, "n1", "host-n1"),
        (5, "c", 4, 1, 3, "n2", "host-n2"),
        (6, "c", 4, 0, 3, "n1", "host-n1"),
        (7, "d", 7, 0, 2, "n2", "host-n2"),
        (8, "d", 7, 1, 2, "n2", "host-n2"),
    ]
    for stack in stacks.STACKS.values():
        check_starts(topo, stack)
    starts = check_starts(topo)
    assert [s.node for s in starts] == ["head", "n1", "n1", "head", "n2"]
    assert [s.registered for s in starts] == [2, 3, 4, 7, 9]


def test_an_mpiexec_over_other_hosts_runs_where_ssh_starts():
    groups = [{"name": "x", "node": "n1", "launch": "mpiexec", "engines": 2, "hosts": ["n2"]}]
    with pytest.raises(TestbedError, match="runs on the controller node"):
        topology.from_compose(_doc(groups), Path("x.yaml"))


def test_a_new_kind_is_one_registered_class():
    @launch.register
    class Twice(launch.LaunchKind):
        name = "unit-twice"

        def one_world(self, group):
            return True

        def starts(self, group, rows, ctx):
            return []

    try:
        topo = topology.from_compose(
            _doc([{"name": "g", "node": "head", "launch": "unit-twice", "engines": 3, "order": "descending"}]),
            Path("t.yaml"),
        )
        assert [(r.id, r.rank) for r in placement.derive(topo)] == [(0, 2), (1, 1), (2, 0)]
        with pytest.raises(ValueError, match="registered twice"):
            launch.register(Twice)
    finally:
        del launch.REGISTRY["unit-twice"]
    with pytest.raises(TestbedError, match="launch must be one of ipcluster, ipengine, mpiexec"):
        topology.from_compose(_doc([{"node": "head", "launch": "unit-twice", "engines": 1}]), Path("t.yaml"))


def test_controller_alone_when_no_kind_starts_it():
    topo = topology.load("true-world")
    assert not launch.kind(topo.groups[0].launch).starts_controller
    s = launch.controller_start(topo)
    assert s.argv[0] == "ipcontroller" and s.node == "head" and s.registered == 0
    assert launch.kind("ipcluster").starts_controller
