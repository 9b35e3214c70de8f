"""CLI errors a user can cause: one clear line, a non-zero exit, nothing started."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testbed import cli, stacks, topology


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "testbed.cli", *args], capture_output=True, text=True, env=env)


def test_unknown_topology_is_one_line_listing_known_ones():
    p = run("check", "nowhere")
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "unknown topology 'nowhere'" in lines[0] and "single-world" in lines[0]


def test_bad_engine_counts():
    p = run("check", "single-world", "--engines", "x")
    assert p.returncode == 2 and "--engines" in p.stderr


def test_wrong_number_of_engine_counts():
    p = run("check", "single-world", "--engines", "3,2")
    assert p.returncode == 2 and "takes 1 count" in p.stderr


def test_bad_cluster_name():
    p = run("check", "single-world", "--name", "Bad Name")
    assert p.returncode == 2 and "cluster name" in p.stderr


def test_docker_unreachable_is_one_clear_line(monkeypatch, tmp_path):
    import os

    env = dict(os.environ, DOCKER_HOST=f"unix://{tmp_path}/no-docker.sock")
    p = run("status", env=env)
    assert p.returncode == 2
    assert "cannot reach the Docker daemon" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_compose_missing_is_named(monkeypatch, tmp_path):
    import os

    # a PATH whose `docker` knows no `compose` subcommand
    fake = tmp_path / "docker"
    fake.write_text('#!/bin/sh\necho "docker: unknown command: docker $1" >&2\nexit 1\n')
    fake.chmod(0o755)
    from testbed import docker_env
    from testbed.errors import TestbedError

    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with pytest.raises(TestbedError, match="Compose v2"):
        docker_env.require_compose()


def test_every_testbed_command_the_makefile_runs_exists():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    used = set(re.findall(r"\$\(TESTBED\) ([a-z-]+)", makefile))
    assert {"images", "up", "down", "shell", "check", "run", "status", "clean", "reproduce"} <= used
    commands = set(cli.build_parser()._subparsers._group_actions[0].choices)
    assert used <= commands, used - commands


def test_shell_command_runs_python_not_ipython():
    argv = cli.shell_argv("ctr123", "print(rc.ids)", tty=False)
    assert argv[:2] == ["docker", "exec"] and "-i" in argv and "-it" not in argv
    i = argv.index("ctr123")
    assert argv[i + 1 : i + 3] == ["python3", "-c"] and argv[-1].endswith("\nprint(rc.ids)")
    assert "ipython" not in argv
    argv = cli.shell_argv("ctr123", None, tty=True)
    assert "-it" in argv and argv[argv.index("ctr123") + 1] == "ipython"
    # a controller node on another swarm host: through that host's engine
    argv = cli.shell_argv("ctr123", None, tty=True, host="tcp://10.0.0.2:2375")
    assert argv[:4] == ["docker", "-H", "tcp://10.0.0.2:2375", "exec"]


def test_hints_name_the_cluster_when_it_is_not_the_topologys():
    topo = topology.load("split-world")
    hints = cli._hints(topo, "mine")
    assert hints.count("NAME=mine") == 3 and hints.count("TOPOLOGY=split-world") == 3
    assert "NAME=" not in cli._hints(topo, "split-world")
    shell, check, down = cli._hints(topo, "mine", stacks.get("mpich")).splitlines()
    assert "NAME=mine MPI=mpich" in shell and "NAME=mine MPI=mpich" in check
    assert down.strip() == "make cluster-down TOPOLOGY=split-world NAME=mine"  # down needs no stack


def test_hostile_topology_file_on_the_command_line_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe not yaml")
    p = run("check", str(bad))
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "not UTF-8" in lines[0] and "Traceback" not in p.stderr


def test_a_full_disk_while_results_are_written_is_one_line(monkeypatch, capsys, tmp_path):
    """Simulated: every write fails with ENOSPC once the fault drills are done."""
    import errno
    from pathlib import Path

    from testbed import cli, faults

    class Images:
        def get(self, name):
            return object()

    class Client:
        images = Images()

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    monkeypatch.setattr("testbed.docker_env.client", lambda: Client())
    monkeypatch.setattr(faults.Drills, "run", lambda self, names: [faults.FaultResult(n, "plain") for n in names])
    monkeypatch.setattr(Path, "write_text", full)
    code = cli.main(["faults", "plain", "--only", "engine-killed", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("testbed: error: No space left on device: ") and "faults" in err[0]


@pytest.mark.parametrize(
    "argv, remedy",
    [
        (["up", "single-world", "--mpi", "mpich"], "make images MPI=mpich"),
        (["check", "split-world"], "make images"),
        (["up", "single-world", "--ipp", "8.8.0"], "make images IPP=8.8.0"),
        (["check", "split-world", "--mpi", "mpich", "--ipp", "8.8.0"], "make images MPI=mpich IPP=8.8.0"),
    ],
)
def test_a_missing_image_is_one_line_with_the_command_that_builds_it(monkeypatch, capsys, argv, remedy):
    """No node image: one line naming the image and the make command; no container is created."""
    from docker.errors import ImageNotFound

    created = []

    class Images:
        def get(self, name):
            raise ImageNotFound(f"No such image: {name}")

    class Containers:
        def list(self, **kw):
            return []

        def run(self, *a, **k):
            created.append(a)

    class Client:
        images, containers = Images(), Containers()

        def info(self):  # no swarm here
            return {"Swarm": {"LocalNodeState": "inactive"}}

    monkeypatch.setattr("testbed.docker_env.client", lambda: Client())
    monkeypatch.setattr("testbed.docker_env.require_compose", lambda: None)
    monkeypatch.setattr("testbed.backends.compose.ComposeBackend.start", lambda self: created.append("compose up"))
    code = cli.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    image = (
        "ipp-testbed/node:" + ("mpich" if "mpich" in argv else "openmpi4") + ("-ipp8.8.0" if "--ipp" in argv else "")
    )
    assert f"image {image} is not built: run `{remedy}`" in err[0]
    assert created == []


# -- issue 25: --version, --json, run's positional topology, a down that names its cluster ----------
ROOT = Path(__file__).resolve().parents[2]


class Started(Exception):
    """Raised where a command would start a cluster: the command line was accepted."""


def test_version_prints_the_distributions_version():
    from importlib import metadata

    p = run("--version")
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout == f"testbed {metadata.version('ipp-testbed')}\n"


def test_version_falls_back_to_pyprojects(monkeypatch):
    from importlib import metadata

    import tomllib

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    with open(ROOT / "pyproject.toml", "rb") as f:
        want = tomllib.load(f)["project"]["version"]
    assert cli.version() == want


def test_topologies_json_is_what_the_topology_files_say():
    import yaml

    p = run("topologies", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)  # one document, nothing else on stdout
    files = sorted((ROOT / "compose").glob("*.yaml"), key=lambda f: f.stem)
    assert [t["name"] for t in doc["topologies"]] == [f.stem for f in files]
    for t, f in zip(doc["topologies"], files):
        x = yaml.safe_load(f.read_text())["x-testbed"]
        assert (t["lecture"], t["summary"], t["controller"]) == (x["lecture"], x["summary"], x["controller"])
        assert t["groups"] == [{k: g[k] for k in ("name", "engines", "launch", "node")} for g in x["groups"]]
        assert t["engines"] == sum(g["engines"] for g in x["groups"])


class _Ctr:
    def __init__(self, name, labels_, status="running", ip=None):
        self.name, self.labels, self.status = name, labels_, status
        self.attrs = {"NetworkSettings": {"Networks": {"net": {"IPAddress": ip}}}}


class _Containers:
    def __init__(self, ctrs):
        self.ctrs = ctrs

    def list(self, all=False, filters=None, ignore_removed=False, sparse=False):
        key, _, value = (filters or {}).get("label", "").partition("=")
        return [c for c in self.ctrs if not key or (key in c.labels and (not value or c.labels[key] == value))]


class _Docker:
    def __init__(self, ctrs=()):
        self.containers = _Containers(list(ctrs))

    def info(self):  # in no swarm
        return {"Swarm": {"LocalNodeState": "inactive"}}


def _node_ctr(cluster, topo, node, counts, **extra):
    from testbed import labels

    lab = {
        labels.CLUSTER: cluster,
        labels.TOPOLOGY: topo,
        labels.COUNTS: counts,
        labels.MPI: "openmpi4",
        labels.COMPOSE_SERVICE: node,
        **extra,
    }
    return _Ctr(f"ipp-testbed-{cluster}-{node}-1", lab)


def test_status_json_with_nothing_up(monkeypatch, capsys):
    monkeypatch.setattr("testbed.docker_env.client", lambda: _Docker())
    assert cli.main(["status", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"clusters": [], "dind": []} and err == ""


def test_status_json_names_each_cluster_its_nodes_and_engines(monkeypatch, capsys):
    from testbed import labels

    split = topology.load("split-world")
    wide_yaml = __import__("yaml").safe_load((ROOT / "compose" / "wide-world.yaml").read_text())["x-testbed"]
    ctrs = [
        _node_ctr("it-foo", "split-world", "head", "3,2", **{labels.LAB_PORT: "8890"}),
        _node_ctr("wide-world", "wide-world", "node1", "8"),
        _node_ctr("wide-world", "wide-world", "node2", "8"),
        _Ctr("dind1", {labels.CLUSTER: "testbed-dind", labels.ROLE: "swarm-host", labels.NODE: "dind1"}, ip="10.9.0.2"),
    ]
    wide_total = sum(g["engines"] for g in wide_yaml["groups"])

    class Attached:
        def __init__(self, topo, name, log):
            self.topology, self.name = topo, name

        def report(self, scatter, timeout, partial):
            if self.name == "wide-world":
                raise cli.TestbedError("the controller does not answer")
            return {"engines": [{"id": i} for i in range(split.engine_count - 1)]}  # one short

    monkeypatch.setattr("testbed.docker_env.client", lambda: _Docker(ctrs))
    monkeypatch.setattr(cli, "attach", Attached)
    assert cli.main(["status", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["dind"] == [{"name": "testbed-dind", "hosts": [{"name": "dind1", "endpoint": "tcp://10.9.0.2:2375"}]}]
    foo, wide = doc["clusters"]  # by name
    assert foo["name"] == "it-foo" and foo["topology"] == "split-world" and foo["backend"] == "compose"
    assert foo["mpi"] == "openmpi4" and foo["counts"] == [3, 2] and foo["lab_port"] == 8890
    assert foo["nodes"] == [{"name": "head", "state": "running"}]
    assert foo["engines"]["registered"] == split.engine_count - 1
    assert foo["engines"]["expected"] == 5 == split.engine_count
    assert foo["engines"]["missing"] == [split.engine_count - 1]
    assert wide["name"] == "wide-world" and "lab_port" not in wide
    assert [n["name"] for n in wide["nodes"]] == ["node1", "node2"]
    assert wide["engines"]["registered"] is None and wide["engines"]["expected"] == wide_total
    assert "does not answer" in wide["engines"]["error"]


def _stop_at_session(monkeypatch) -> list:
    seen = []

    def session(topo, name, **kw):
        seen.append((topo.name, name))
        raise Started()

    monkeypatch.setattr(cli, "session", session)
    return seen


def test_run_takes_the_topology_then_the_program(monkeypatch):
    seen = _stop_at_session(monkeypatch)
    with pytest.raises(Started):
        cli.main(["run", "split-world", "collectives", "-n", "4", "--name", "mine"])
    assert seen == [("split-world", "mine")]
    assert cli.main(["run", "split-world", "nowhere"]) == 2  # the program is checked: not started
    assert len(seen) == 1


def test_the_makefiles_run_line_is_the_new_form(monkeypatch):
    line = next(ln for ln in (ROOT / "Makefile").read_text().splitlines() if "$(TESTBED) run " in ln)
    words = line.split()
    at = words.index("run")
    assert words[at + 1 : at + 3] == ["$(TOPOLOGY)", "$(PROGRAM)"], line
    seen = _stop_at_session(monkeypatch)
    with pytest.raises(Started):
        cli.main(["run", "wide-world", "hello"])
    assert seen == [("wide-world", "wide-world")]


@pytest.mark.parametrize(
    "argv, says",
    [
        (["run", "hello", "--topology", "single-world"], "`testbed run single-world hello`"),
        (["run", "collectives", "--topology", "split-world", "-n", "4"], "`testbed run split-world collectives`"),
        (["run", "hello"], "`testbed run single-world hello`"),
        (["run", "collectives", "split-world"], "`testbed run split-world collectives`"),
        (["run", "split-world"], "`testbed run split-world PROGRAM`"),
        (["run"], "testbed run TOPOLOGY PROGRAM"),
    ],
)
def test_a_wrong_form_of_run_is_one_line_giving_the_right_one(monkeypatch, capsys, argv, says):
    seen = _stop_at_session(monkeypatch)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("testbed: error: ") and says in err[0], err
    assert seen == []


def test_old_form_of_run_from_the_shell_is_one_line_and_status_2():
    p = run("run", "hello", "--topology", "single-world")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and "testbed run single-world hello" in p.stderr and "usage:" not in p.stderr


def _record_removals(monkeypatch) -> list:
    removed = []
    monkeypatch.setattr(cli.Cluster, "down", lambda self, quiet=False: removed.append(self.name))
    monkeypatch.setattr("testbed.docker_env.clean", lambda c, name=None: removed.append(f"clean {name}"))
    return removed


def test_down_without_a_cluster_names_those_up_and_removes_nothing(monkeypatch, capsys):
    ctrs = [_node_ctr("single-world", "single-world", "head", "5"), _node_ctr("it-foo", "split-world", "head", "3,2")]
    monkeypatch.setattr("testbed.docker_env.client", lambda: _Docker(ctrs))
    removed = _record_removals(monkeypatch)
    assert cli.main(["down"]) == 2
    out, err = capsys.readouterr()
    assert removed == [] and out == ""
    assert err.strip() == (
        "testbed: error: down needs a cluster: give its topology or --name; up now: it-foo, single-world"
    )


def test_down_without_a_cluster_when_none_is_up_says_so(monkeypatch, capsys):
    monkeypatch.setattr("testbed.docker_env.client", lambda: _Docker())
    removed = _record_removals(monkeypatch)
    assert cli.main(["down"]) == 0
    assert capsys.readouterr().out == "no ipp-testbed cluster is up\n" and removed == []


def test_down_with_a_topology_or_a_name_removes_that_one(monkeypatch, capsys):
    ctrs = [_node_ctr("single-world", "single-world", "head", "5"), _node_ctr("it-foo", "split-world", "head", "3,2")]
    monkeypatch.setattr("testbed.docker_env.client", lambda: _Docker(ctrs))
    removed = _record_removals(monkeypatch)
    assert cli.main(["down", "single-world"]) == 0
    assert cli.main(["down", "--name", "it-foo"]) == 0
    assert removed == ["single-world", "it-foo"]
    assert capsys.readouterr().out.splitlines()[-2:] == ["[single-world] removed", "[it-foo] removed"]
