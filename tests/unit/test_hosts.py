"""The host kinds, the host matrix's rows, results and document, and what a remote engine refuses."""

from __future__ import annotations

import json

import pytest

from testbed import docker_env, hostrows, hosts
from testbed import mount as mounts
from testbed.errors import TestbedError


@pytest.mark.parametrize("name", list(hosts.KINDS))
def test_every_kind_keeps_the_contract(name):
    k = hosts.KINDS[name]
    assert k.name == name and k.suite in ("trixie", "bookworm") and k.engine in ("docker", "podman")
    argv = k.command("ipp-testbed-x", mirror=True)
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    assert any(f"tcp://0.0.0.0:{hosts.PORT}" in a for a in argv)  # reachable from this machine
    assert k.storage in ("/var/lib/docker", "/var/lib/containers")
    for v in (*k.user_env().values(), *k.engine_env().values()):
        assert "\n" not in v


def test_a_docker_host_uses_its_registry_as_mirror_only_when_asked():
    k = hosts.KINDS["docker26"]
    assert f"--registry-mirror=http://{hosts.REGISTRY}" in k.command("p", mirror=True)
    assert not any("mirror" in a for a in k.command("p", mirror=False))


def test_an_unknown_kind_is_one_line():
    with pytest.raises(TestbedError, match="one of docker26"):
        hosts.kind("docker99; rm -rf /")


def test_a_host_name_is_checked_as_a_cluster_name():
    with pytest.raises(TestbedError, match="cluster name"):
        hosts.TestHost("docker26", name="x;$(id)")


@pytest.mark.parametrize(
    ("where", "local"),
    [
        ("unix:///var/run/docker.sock", True),
        ("tcp://127.0.0.1:2375", True),
        ("tcp://localhost:2375", True),
        ("tcp://172.20.0.2:2375", False),
        ("ssh://user@host", False),
        ("tcp://10.1.2.3:2376", False),
    ],
)
def test_local_and_remote_engines(where, local):
    assert docker_env.is_local(where) is local


def test_mount_is_refused_on_a_remote_engine_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", "tcp://172.20.0.2:2375")
    with pytest.raises(TestbedError) as e:
        mounts.parse(str(tmp_path))
    assert "remote (tcp://172.20.0.2:2375)" in str(e.value) and "\n" not in str(e.value)


def test_mount_is_accepted_on_a_local_engine(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", "unix:///var/run/docker.sock")
    assert mounts.parse(str(tmp_path)).host == tmp_path.resolve()


def test_docker_host_wins_over_a_context(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.9.8.7:2375")
    assert docker_env.endpoint() == "tcp://10.9.8.7:2375"


def test_a_current_context_is_followed_as_the_cli_follows_it(monkeypatch, tmp_path):
    import hashlib

    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    cfg = tmp_path / ".docker"
    meta = cfg / "contexts" / "meta" / hashlib.sha256(b"far").hexdigest()
    meta.mkdir(parents=True)
    endpoints = {"docker": {"Host": "tcp://10.0.0.9:2375", "SkipTLSVerify": False}}
    (meta / "meta.json").write_text(json.dumps({"Name": "far", "Metadata": {}, "Endpoints": endpoints}))
    (cfg / "config.json").write_text(json.dumps({"currentContext": "far"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(cfg))
    assert docker_env.endpoint() == "tcp://10.0.0.9:2375"
    assert not docker_env.is_local()


# -- the matrix --------------------------------------------------------------------------------------------
def test_rows_are_chosen_by_id_and_an_unknown_one_is_one_line():
    assert [r.id for r in hostrows.chosen("4,5a")] == ["4", "5a"]
    assert len(hostrows.chosen(None)) == len(hostrows.ROWS)
    with pytest.raises(TestbedError, match="choose from 1,2,3,4"):
        hostrows.chosen("4,9")


def test_every_row_names_a_kind_and_its_command():
    for r in hostrows.ROWS.values():
        assert r.host is None or r.host in hosts.KINDS
        assert r.command == f"make hosts ROWS={r.id}"
    assert any(r.registry for r in hostrows.ROWS.values())
    assert any(r.host and hosts.KINDS[r.host].engine == "podman" for r in hostrows.ROWS.values())


def test_an_unknown_step_is_refused():
    with pytest.raises(TestbedError, match="choose from reproduce,test"):
        hostrows.Runner(steps=("reproduce", "rm -rf"))


@pytest.mark.parametrize(
    ("step", "output", "want"),
    [
        ("reproduce", "L1 ... agrees\n13/13 experiments agree with the lecture on openmpi4. Report: x", "13/13 agree"),
        ("reproduce", "12/13 experiments agree with the lecture on openmpi4.", "12/13 agree"),
        ("reproduce", "testbed: error: no Docker", ""),
        ("test", "===== 502 passed, 3 skipped in 301.20s (0:05:01) =====", "502 passed, 3 skipped"),
        ("test", "== 1 failed, 500 passed in 290.1s ==", "1 failed, 500 passed"),
    ],
)
def test_a_steps_summary_is_its_own_line(step, output, want):
    assert hostrows.summary(step, output) == want


def test_results_merge_by_row_in_the_rows_order(tmp_path):
    path = tmp_path / "hosts.json"
    hostrows.merge([{"row": "5a", "result": "passed", "steps": []}], path)
    hostrows.merge([{"row": "1", "result": "failed", "steps": []}], path)
    hostrows.merge([{"row": "5a", "result": "failed", "steps": []}], path)
    doc = json.loads(path.read_text())
    assert list(doc["rows"]) == ["1", "5a"] and doc["rows"]["5a"]["result"] == "failed"


def test_a_broken_results_file_is_an_empty_one(tmp_path):
    path = tmp_path / "hosts.json"
    path.write_text("{not json")
    assert hostrows.load(path) == {"rows": {}}
    path.write_text('{"rows": [1, 2]}')
    assert hostrows.load(path) == {"rows": {}}


def test_the_table_escapes_pipes_and_says_failures():
    step = {"step": "make test", "status": 2, "seconds": 9, "summary": "a | b"}
    row = {
        "title": "t",
        "engine": "Docker 26.1.5",
        "storage": "overlay2",
        "cgroup": "1",
        "rootless": False,
        "registry": True,
        "user": "tester",
        "result": "failed",
        "date": "2026-12-07",
        "steps": [step],
    }
    doc = {"rows": {"4": row}}
    line = hostrows.table(doc).splitlines()[-1]
    assert "a \\| b" in line and "exit 2" in line and "| yes |" in line and line.count(" | ") == 10


def test_docs_hosts_md_is_rendered_from_its_results():
    assert hostrows.render(write=False), "docs/hosts.md is stale: `testbed hosts-matrix --render`"


def test_a_host_client_of_another_python_is_told_what_it_cannot_send():
    from testbed import hostclient, images

    major, minor = (int(x) for x in images.NODE_PYTHON.split("."))
    assert hostclient.python_note((major, minor)) is None
    note = hostclient.python_note((major, minor + 2))
    assert f"Python {major}.{minor + 2}" in note and "bytecode" in note and "\n" not in note


def test_a_run_of_some_steps_keeps_the_rows_other_steps(tmp_path):
    path = tmp_path / "hosts.json"
    repro = {"step": "make reproduce", "status": 0, "seconds": 200, "summary": "13/13 agree"}
    hostrows.merge([{"row": "4", "result": "failed", "steps": [repro, {"step": "make test", "status": 2}]}], path)
    test = {"step": "make test", "status": 0, "seconds": 400, "summary": "548 passed"}
    doc = hostrows.merge([{"row": "4", "result": "passed", "steps": [test]}], path)
    row = doc["rows"]["4"]
    assert [s["step"] for s in row["steps"]] == ["make reproduce", "make test"] and row["result"] == "passed"
    assert row["steps"][1]["status"] == 0


class _Exec:
    def __init__(self, code):
        self.code = code


class _Node:
    def __init__(self, code):
        self.code = code

    def exec(self, argv, **kw):
        return _Exec(self.code)


class _Engine:
    def __init__(self, name):
        self.name = name

    def version(self):
        return {"Components": [{"Name": self.name}]}


@pytest.mark.parametrize(("engine", "said"), [("Podman Engine", "netavark"), ("Engine", "no DNS between")])
def test_nodes_that_cannot_resolve_each_other_are_one_line_naming_podman(monkeypatch, engine, said):
    from testbed import ssh

    monkeypatch.setattr(ssh, "NAMES_TIMEOUT", 0.2)
    monkeypatch.setattr("testbed.docker_env.client", lambda: _Engine(engine))
    nodes = {"head": _Node(2), "node1": _Node(2)}
    with pytest.raises(TestbedError) as e:
        ssh.names_resolve(nodes, {"head": "head", "node1": "node1"}, "head")
    assert said in str(e.value) and "\n" not in str(e.value)
    assert ("Podman" in str(e.value)) == ("Podman" in engine)


def test_nodes_that_resolve_pass():
    from testbed import ssh

    ssh.names_resolve({"head": _Node(0), "node1": _Node(0)}, {"head": "head", "node1": "node1"}, "head")
