"""CLI errors a user can cause: one clear line, a non-zero exit, nothing started."""

import subprocess
import sys

import pytest

from testbed import cli


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


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("up", "check", "shell", "status", "down", "clean", "images"):
        assert cmd in out
