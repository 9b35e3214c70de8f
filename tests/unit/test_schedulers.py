"""Schedulers (testbed/schedulers/): a contract every registered one passes, and the proof that
the nodes' watch of a batch job (workloads/testbed_node.py) runs the scheduler module's own
parsers and rules, shipped by the image, not a copy of them."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from testbed import images, launch, schedulers, topology
from testbed.node import WORKLOADS
from testbed.schedulers import JOB_KEYS, MAX_QUEUE_LINES, Daemon, SchedFile, Scheduler
from testbed.schedulers import slurm as slurm_module

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "testbed" / "schedulers"
HOSTILE = "x; rm -rf / $(id) `id` 'q\" \n|"


def members() -> list[Path]:
    return sorted(PACKAGE.glob("*.py"))


def top_level_imports(path: Path) -> list[str]:
    """What a file imports when it runs (imports under ``if TYPE_CHECKING:`` left out)."""
    tree = ast.parse(path.read_text())
    out = []

    def visit(body):
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                out.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                out.append("." * node.level + (node.module or ""))
            for field in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, field, []) or [])

    visit(tree.body)
    return out


@pytest.mark.parametrize("path", members(), ids=lambda p: p.name)
def test_the_package_is_standard_library_only(path):
    """It runs inside the nodes too, where there is no testbed package."""
    for name in top_level_imports(path):
        if name.startswith("."):
            assert not name.startswith(".."), f"{path.name} imports {name}, outside the package"
            continue
        assert name.split(".")[0] in sys.stdlib_module_names or name == "__future__", f"{path.name} imports {name}"


def test_every_module_registers_one_scheduler_and_launch_kinds_name_registered_ones():
    assert set(schedulers.names()) == {p.stem for p in members() if p.stem != "__init__"} >= {"slurm", "pbs"}
    for kind in launch.REGISTRY.values():
        if kind.scheduler is not None:
            assert schedulers.get(kind.scheduler.name) is kind.scheduler
    with pytest.raises(ValueError, match=r"^unknown scheduler 'nope' \(known: "):
        schedulers.get("nope")


def a_topology_for(sched: Scheduler):
    """A shipped topology with a group of a launch kind that submits to ``sched``, and those groups."""
    for name in topology.known_topologies():
        topo = topology.load(name)
        groups = [g for g in topo.groups if launch.kind(g.launch).scheduler is sched]
        if groups:
            return topo, groups
    return None, []


@pytest.mark.parametrize("name", schedulers.names())
def test_contract(name):
    sched = schedulers.get(name)
    assert isinstance(sched, Scheduler) and sched.name == name and sched.title
    assert sched.ready_timeout > 0 and sched.hopeless_grace >= 0
    # submitting: argv lists; a name stays one argument, never shell text
    job = sched.job_name("g")
    for argv in (
        sched.submit_argv(PurePosixPath("/tmp/testbed/g.job")),
        sched.cancel_argv(job),
        sched.queue_argv(),
        sched.queue_argv(job),
        sched.nodes_argv(),
    ):
        assert isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)
    assert any(job in a for a in sched.cancel_argv(job))  # queue_argv(name) may list every job: callers pick
    assert len(sched.cancel_argv(HOSTILE)) == len(sched.cancel_argv(job))
    out = sched.output("/tmp/testbed", "g")
    header = sched.header(job_name=job, tasks=3, hosts=["node1", "node2"], output=out)
    assert header and all(isinstance(ln, str) and ln.startswith("#") and "\n" not in ln for ln in header)
    assert any(job in ln for ln in header) and any(out in ln for ln in header)
    # reading: nothing, garbage and a flood are read without error, and bounded
    assert sched.parse_queue("") == [] and sched.parse_nodes("") == {}
    assert sched.parse_queue("garbage\n|||\n") == [] and sched.parse_nodes("garbage\n") == {}
    flood = "\n".join(["|".join(["1"] * len(JOB_KEYS))] * (MAX_QUEUE_LINES + 5))
    assert len(sched.parse_queue(flood)) <= MAX_QUEUE_LINES
    some = dict(zip(JOB_KEYS, ("7", job, "PENDING", "None", "1", "")))
    assert isinstance(sched.hopeless(some), bool) and isinstance(sched.ended(some), bool)
    assert not sched.hopeless(some) and not sched.ended(some)
    assert "\n" not in sched.describe(some) and job in sched.describe(some)
    assert sched.output_of(some, "/tmp/testbed").startswith("/tmp/testbed/")
    # configuration and daemons, for a shipped topology that uses it (if any)
    topo, groups = a_topology_for(sched)
    if topo is not None:
        computes = sched.compute_nodes(groups)
        assert computes and set(computes) <= set(topo.nodes)
        for d in sched.daemons(topo, groups):
            assert isinstance(d, Daemon) and d.node in topo.nodes and all(isinstance(a, str) for a in d.argv)
        for f in sched.files(topo, groups):
            assert isinstance(f, SchedFile) and f.node in topo.nodes and f.path.is_absolute()
        want = {topo.hostname(s) for s in computes}
        assert not sched.ready({}, want)


# -- the nodes run this very module -------------------------------------------------------------
def test_the_image_ships_the_package_next_to_testbed_node_py():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert f"COPY --chown=mpi:mpi testbed/schedulers/ {WORKLOADS}/schedulers/" in dockerfile
    assert "!testbed/schedulers/" in (ROOT / ".dockerignore").read_text().splitlines()
    inputs = images._build_inputs(images.stacks.DEFAULT)
    assert {PACKAGE / "__init__.py", PACKAGE / "slurm.py"} <= set(inputs)  # a change rebuilds the image


def test_testbed_node_py_keeps_no_copy_of_a_schedulers_rules():
    source = (ROOT / "workloads" / "testbed_node.py").read_text()
    for word in (*slurm_module.HOPELESS, *slurm_module.ENDED, "squeue", "sinfo", slurm_module.SQUEUE_FORMAT):
        assert word not in source, f"testbed_node.py spells {word!r} itself"


@pytest.fixture
def node_layout(tmp_path):
    """The image's layout: testbed_node.py with the package beside it as ``schedulers``."""
    work = tmp_path / "workloads"
    work.mkdir()
    shutil.copy(ROOT / "workloads" / "testbed_node.py", work)
    shutil.copytree(PACKAGE, work / "schedulers", ignore=shutil.ignore_patterns("__pycache__"))
    return work


def test_in_the_nodes_layout_testbed_node_py_imports_the_package_alone(node_layout):
    code = (
        "import json, sys, testbed_node\n"
        "s = testbed_node.scheduler('slurm')\n"
        "job = dict(id='3', name='j', state='PENDING', reason='ReqNodeNotAvail, x', nodes='2', nodelist='')\n"
        "extra = sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names))\n"
        "print(json.dumps([type(s).__module__, sys.modules[type(s).__module__].__file__, s.hopeless(job), extra]))\n"
    )
    # -I -S: no site-packages, no PYTHONPATH: the standard library, and what is beside the script
    argv = [sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {str(node_layout)!r}); {code}"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    module, file, hopeless, extra = json.loads(proc.stdout)
    assert module == "schedulers.slurm" and Path(file) == node_layout / "schedulers" / "slurm.py"
    assert hopeless is True and extra == ["__main__", "schedulers", "testbed_node"]  # nothing of the testbed package


@pytest.fixture
def node_py(monkeypatch, tmp_path):
    """testbed_node.py loaded here, finding ``schedulers`` where the image puts it: the host's folder."""
    import importlib.util

    (tmp_path / "schedulers").symlink_to(PACKAGE, target_is_directory=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    for m in [m for m in sys.modules if m == "schedulers" or m.startswith("schedulers.")]:
        monkeypatch.delitem(sys.modules, m)
    spec = importlib.util.spec_from_file_location("testbed_node_under_test", ROOT / "workloads" / "testbed_node.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    yield mod
    for m in [m for m in sys.modules if m == "schedulers" or m.startswith("schedulers.")]:
        del sys.modules[m]


def test_the_nodes_watch_uses_the_scheduler_modules_rule(node_py, monkeypatch, capsys):
    sched = node_py.scheduler("slurm")
    # the same source file, so the same hopeless rule, the same formats and parsers
    assert Path(type(sched).hopeless.__code__.co_filename).resolve() == PACKAGE / "slurm.py"
    assert type(sched).hopeless.__code__.co_code == slurm_module.Slurm.hopeless.__code__.co_code
    squeue = "3|ipengine-job|PENDING|ReqNodeNotAvail, UnavailableNodes:node2|2|\n"
    sinfo = "node1|idle|none\nnode2|drained|testbed drill\n"
    watch = node_py.JobWatch(sched, "ipengine-job")
    monkeypatch.setattr(watch, "_run", lambda argv: squeue if argv == sched.queue_argv("ipengine-job") else sinfo)
    now = [100.0]
    monkeypatch.setattr(node_py.time, "monotonic", lambda: now[0])
    watch.check()  # hopeless for a moment: not yet
    now[0] += sched.hopeless_grace + 1
    with pytest.raises(SystemExit) as end:
        watch.check()
    assert end.value.code == 2
    (msg,) = json.loads(capsys.readouterr().out).values()
    assert msg == (
        "Slurm job 3 (ipengine-job) is PENDING, reason 'ReqNodeNotAvail, UnavailableNodes:node2' (squeue): "
        "it cannot start; sinfo: node1 idle, node2 drained (testbed drill)"
    )


def test_the_nodes_watch_reports_an_ended_job_at_once(node_py, monkeypatch, capsys):
    sched = node_py.scheduler("slurm")
    watch = node_py.JobWatch(sched, "ipengine-job")
    monkeypatch.setattr(watch, "_run", lambda argv: "4|ipengine-job|CANCELLED|None|2|node[1-2]\n")
    with pytest.raises(SystemExit):
        watch.check()
    (msg,) = json.loads(capsys.readouterr().out).values()
    assert msg.startswith("Slurm job 4 (ipengine-job) is CANCELLED on node[1-2] (squeue) before its engines")
    assert "/tmp/testbed/*-slurm-4.out" in msg


def test_an_unknown_or_hostile_scheduler_name_is_one_line(node_py, capsys):
    for name in ("nope", HOSTILE):
        with pytest.raises(SystemExit):
            node_py.scheduler(name)
        (msg,) = json.loads(capsys.readouterr().out).values()
        assert "\n" not in msg and len(msg) < 300


def test_pbs_reads_its_json_and_says_which_job_can_never_run():
    pbs = schedulers.get("pbs")
    qstat = json.dumps(
        {
            "Jobs": {
                "12.head": {
                    "Job_Name": "ipengine-job",
                    "job_state": "Q",
                    "comment": "Can Never Run: Insufficient amount of resource: host",
                    "Resource_List": {"nodect": 2},
                },
                "13.head": {
                    "Job_Name": "ipengine-late",
                    "job_state": "R",
                    "comment": "Job run at ...",
                    "exec_host": "node1/0*2+node2/0*2",
                    "Resource_List": {"nodect": 2},
                },
                "14.head": {"Job_Name": "ipengine-gone", "job_state": "F", "Resource_List": {"nodect": 1}},
            }
        }
    )
    jobs = pbs.parse_queue(qstat)
    assert [(j["id"], j["name"], j["state"]) for j in jobs] == [
        ("12.head", "ipengine-job", "Q"),
        ("13.head", "ipengine-late", "R"),
        ("14.head", "ipengine-gone", "F"),
    ]
    assert jobs[1]["nodelist"] == "node1,node2" and jobs[1]["nodes"] == "2"
    assert [pbs.hopeless(j) for j in jobs] == [True, False, False] and [pbs.ended(j) for j in jobs] == [0, 0, 1]
    nodes = pbs.parse_nodes(
        json.dumps({"nodes": {"node1": {"state": "free"}, "node2": {"state": "offline", "comment": "drill"}}})
    )
    assert nodes == {"node1": {"state": "free", "reason": ""}, "node2": {"state": "offline", "reason": "drill"}}
    assert pbs.ready(nodes, {"node1"}) and not pbs.ready(nodes, {"node1", "node2"})
    assert pbs.parse_queue('{"Jobs": [1, 2]}') == [] and pbs.parse_nodes("[]") == {}
    assert pbs.header(job_name="j", tasks=5, hosts=["a", "b"], output="o")[1] == (
        "#PBS -l select=1:host=a:ncpus=3:mpiprocs=3+1:host=b:ncpus=2:mpiprocs=2"
    )
