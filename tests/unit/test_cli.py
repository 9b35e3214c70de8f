"""CLI errors a user can cause: one clear line, a non-zero exit, nothing started."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testbed import cli, stacks, topology


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "testbed.cli", *args], capture_output=True, text=True, env=env
    )


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
    fake.write_text("#!/bin/sh\necho \"docker: unknown command: docker $1\" >&2\nexit 1\n")
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
    monkeypatch.setattr("testbed.compose.ComposeBackend.start", lambda self: created.append("compose up"))
    code = cli.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    image = "ipp-testbed/node:" + ("mpich" if "mpich" in argv else "openmpi4")
    assert f"image {image} is not built: run `{remedy}`" in err[0]
    assert created == []
