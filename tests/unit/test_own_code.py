"""A user's own code on a cluster, without Docker: --mount, --requirements/--pip, the
host client's ports, exec's argv, hosts, the matrix's report and the plugin's options."""

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

import pytest

from testbed import api, hostclient, matrix, packages, stacks, topology
from testbed import mount as mounts
from testbed.cluster import Cluster, merge_overrides
from testbed.errors import TestbedError

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "testbed.cli", *args], capture_output=True, text=True, cwd=cwd)


def one_line_error(p) -> str:
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


# -- --mount -------------------------------------------------------------------------------------
def test_mount_default_path_and_resolved_host(tmp_path):
    m = mounts.parse(str(tmp_path))
    assert m.host == tmp_path.resolve() and m.path == PurePosixPath("/project")
    assert mounts.parse(f"{tmp_path}:/srv/data").path == PurePosixPath("/srv/data")
    assert mounts.parse(".", cwd=tmp_path).host == tmp_path.resolve()


def test_mount_host_folder_with_a_colon(tmp_path):
    odd = tmp_path / "a:b"
    odd.mkdir()
    assert mounts.parse(str(odd)).host == odd.resolve()
    assert mounts.parse(f"{odd}:/data").path == PurePosixPath("/data")


@pytest.mark.parametrize(
    "spec, says",
    [
        ("/no/such/folder", "no folder"),
        ("", "give a folder"),
        ("x" * 5000, "at most"),
        ("a\nb", "give a folder"),
    ],
)
def test_mount_bad_host_side(spec, says):
    with pytest.raises(TestbedError, match=says):
        mounts.parse(spec)


def test_mount_a_file_is_refused(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(TestbedError, match="is a file"):
        mounts.parse(str(f))


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/etc",
        "/opt/venv",
        "/usr/lib",
        "/home/mpi",
        "/home/mpi/.ssh",
        "/tmp/testbed/x",
        "/tmp",
        "/shared",
        "/proc/1",
    ],
)
def test_mount_paths_the_node_needs_are_refused(tmp_path, path):
    with pytest.raises(TestbedError, match="need that folder"):
        mounts.parse(f"{tmp_path}:{path}")


@pytest.mark.parametrize("path", ["relative", "/a b", "/a/../etc", "/$(id)", "/a;b", "/" + "a" * 300])
def test_mount_path_must_be_plain_and_absolute(tmp_path, path):
    with pytest.raises(TestbedError, match="absolute"):
        mounts.parse(f"{tmp_path}:{path}") if path.startswith("/") else mounts.node_path(path)


def test_mount_overrides_every_node_with_the_host_ids(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "getuid", lambda: 1234)
    monkeypatch.setattr(os, "getgid", lambda: 2345)
    out = mounts.parse(str(tmp_path)).overrides(["head", "node1"])
    assert set(out) == {"head", "node1"}
    body = out["node1"]
    assert body["volumes"] == [{"type": "bind", "source": str(tmp_path.resolve()), "target": "/project"}]
    assert body["working_dir"] == "/project"
    assert body["environment"] == {"TESTBED_WORKDIR": "/project", "TESTBED_UID": "1234", "TESTBED_GID": "2345"}
    assert body["labels"]["ipp-testbed.uid"] == "1234:2345"


def test_mount_as_root_takes_the_folder_owner_or_keeps_1000(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "getuid", lambda: 0)
    monkeypatch.setattr(os, "getgid", lambda: 0)
    m = mounts.parse(str(tmp_path))
    owner = tmp_path.stat()
    if owner.st_uid == 0:  # root's own folder: mpi keeps the image's 1000
        body = m.overrides(["head"])["head"]
        assert "TESTBED_UID" not in body["environment"] and "ipp-testbed.uid" not in body["labels"]
    else:
        assert m.ids == (owner.st_uid, owner.st_gid)
    monkeypatch.setattr(Path, "stat", lambda self, **kw: os.stat_result((0o40755, 0, 0, 0, 4321, 4322, 0, 0, 0, 0)))
    assert mounts.host_ids(tmp_path) == (4321, 4322)


def test_a_folder_the_nodes_cannot_write_is_said(tmp_path, monkeypatch):
    m = mounts.parse(str(tmp_path))
    monkeypatch.setattr(mounts.Mount, "ids", property(lambda self: (4321, 4321)))
    tmp_path.chmod(0o755)
    assert "cannot write in" in m.write_note() and "uid 4321" in m.write_note()
    tmp_path.chmod(0o777)
    assert m.write_note() is None


def test_cluster_overrides_merge_mount_ports_and_lab(tmp_path):
    topo = topology.load("true-world")
    c = Cluster(topo, name="x", mount=mounts.parse(str(tmp_path)), lab_port=8999)
    o = c._overrides()
    assert set(o) == set(topo.nodes)
    head = o["head"]
    assert "127.0.0.1:8999:8888" in head["ports"] and f"127.0.0.1::{hostclient.REGISTRATION_PORT}" in head["ports"]
    assert head["labels"]["ipp-testbed.mount"] == "/project" and "ipp-testbed.lab-port" in head["labels"]
    assert "ports" not in o["node1"]


def test_a_mount_on_a_swarm_is_refused_with_the_reason(tmp_path):
    with pytest.raises(TestbedError, match="other hosts"):
        Cluster(topology.load("true-world"), name="x", backend="swarm", mount=mounts.parse(str(tmp_path)))


def test_merge_overrides_extends_lists_and_maps():
    out = merge_overrides({"a": {"ports": [1], "labels": {"x": "1"}}}, {"a": {"ports": [2], "labels": {"y": "2"}}})
    assert out == {"a": {"ports": [1, 2], "labels": {"x": "1", "y": "2"}}}


# -- --requirements / --pip -------------------------------------------------------------------------
def test_request_normalises_and_sorts(tmp_path):
    f = tmp_path / "req.txt"
    f.write_text("# mine\nscipy>=1.10  # comment\n\ntabulate\n")
    req = packages.request(f, ["tabulate", "rich==13.7.1"])
    assert req.lines == ("rich==13.7.1", "scipy>=1.10", "tabulate")
    assert req.digest("sha256:a") != req.digest("sha256:b")
    assert packages.derived_tag("ipp-testbed/node:mpich", "abc") == "ipp-testbed/node:mpich-pkgs-abc"


@pytest.mark.parametrize(
    "line, says",
    [
        ("-e .", "pip options"),
        ("--index-url http://x", "pip options"),
        ("foo @ https://example.com/foo.whl", "only packages from PyPI"),
        ("not a requirement!!", "is not a requirement"),
        ("x" * 400, "at most"),
    ],
)
def test_bad_requirements_are_one_line(line, says):
    with pytest.raises(TestbedError, match=says):
        packages.request(None, [line])


def test_requirements_file_bounds(tmp_path):
    with pytest.raises(TestbedError, match="no file"):
        packages.request(tmp_path / "none.txt")
    big = tmp_path / "big.txt"
    big.write_text("a\n" * 40_000)
    with pytest.raises(TestbedError, match="larger than"):
        packages.request(big)
    many = tmp_path / "many.txt"
    many.write_text("".join(f"p{i}\n" for i in range(packages.MAX_REQUIREMENTS + 1)))
    with pytest.raises(TestbedError, match="at most"):
        packages.request(many)


def test_protected_packages_may_not_change_version():
    have = {"ipyparallel": "9.2.0", "numpy": "2.4.6", "mpi4py": "3.1.4", "tabulate": "0.9"}
    req = packages.request(None, ["numpy<2", "ipyparallel>=9", "mpi4py==4.1.2", "tabulate==0.8"])
    bad = packages.protected_conflicts(req, have)
    assert len(bad) == 2 and any(b.startswith("numpy<2") for b in bad) and any("mpi4py==4.1.2" in b for b in bad)


def test_constraints_skip_unreadable_versions():
    found = packages.constraints({"a": "1.0", "b": "1.0+dfsg", "c": "not-a-version", "": "1"})
    assert found == ["a==1.0", "b==1.0+dfsg"]


def test_cli_refuses_a_bad_requirement_before_starting():
    line = one_line_error(cli("up", "single-world", "--pip", "-e ."))
    assert "pip options" in line


# -- the host client ---------------------------------------------------------------------------------
def test_published_ports_match_the_controller_profile():
    text = (ROOT / "docker/ipython/ipcontroller_config.py").read_text()
    assert f"engine_ports = [{hostclient.REGISTRATION_PORT}]" in text
    lo, hi = hostclient.CLIENT_PORTS[0], hostclient.CLIENT_PORTS[-1] + 1
    assert f"client_ports = list(range({lo}, {hi}))" in text
    assert hostclient.overrides("head") == {"head": {"ports": [f"127.0.0.1::{p}" for p in hostclient.PORTS]}}


def test_rewrite_points_the_connection_at_the_host_ports():
    doc = {
        "interface": "tcp://0.0.0.0",
        "location": "head",
        "ssh": "",
        "key": "k",
        "registration": 10101,
        "control": 10102,
        "mux": 10103,
        "task": 10104,
        "iopub": 10105,
        "notification": 10106,
        "broadcast": 10107,
        "task_scheme": "leastload",
    }
    ports = {p: 40000 + i for i, p in enumerate(hostclient.PORTS)}
    out = hostclient.rewrite(doc, ports)
    assert out["interface"] == "tcp://127.0.0.1" and out["location"] == "127.0.0.1"
    assert out["registration"] == 40000 and out["broadcast"] == 40006 and out["key"] == "k"
    with pytest.raises(TestbedError, match="not published"):
        hostclient.rewrite({**doc, "mux": 5555}, ports)


def test_host_ipyparallel_versions():
    hostclient.check_version("8.8.0")
    hostclient.check_version("9.2.0")
    with pytest.raises(TestbedError, match="works with 8 or 9"):
        hostclient.check_version("7.1.0")


# -- exec, hosts ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [[], "ls -l", ["a"] * (api.MAX_ARGV + 1), ["x\0y"]])
def test_exec_argv_is_a_bounded_list(argv):
    with pytest.raises(TestbedError):
        api.check_argv(argv)


def test_hosts_give_every_node_its_engines_as_the_stack_writes_them():
    topo = topology.load("true-world")  # 5 engines round-robin over node1, node2; head has none
    ompi = api.hostfile(Cluster(topo, name="x"))
    assert ompi == "head slots=1\nnode1 slots=3\nnode2 slots=2\n"
    mpich = api.hostfile(Cluster(topo, name="x", stack=stacks.get("mpich")))
    assert mpich == "head:1\nnode1:3\nnode2:2\n"


def test_exec_needs_a_command_and_a_cluster():
    assert "needs a command" in one_line_error(cli("exec", "single-world", "--"))
    line = one_line_error(cli("exec", "single-world", "--name", "not-up-here", "--", "true"))
    assert "no cluster named 'not-up-here' is up" in line


def test_hosts_of_a_cluster_that_is_not_up_come_from_the_topology():
    p = cli("hosts", "split-world", "--name", "not-up-here")
    assert p.returncode == 0 and p.stdout == "head slots=5\n"


def test_client_of_a_cluster_that_is_not_up():
    assert "is up" in one_line_error(cli("client", "single-world", "--name", "not-up-here"))


# -- matrix ------------------------------------------------------------------------------------------
def test_matrix_axes():
    assert matrix.parse_axes("single-world,true-world", "all") == (["single-world", "true-world"], list(stacks.STACKS))
    assert matrix.parse_axes("single-world", "mpich,openmpi4")[1] == ["mpich", "openmpi4"]
    with pytest.raises(TestbedError, match="unknown MPI stack"):
        matrix.parse_axes("single-world", "lam")
    with pytest.raises(TestbedError, match="needs --topologies"):
        matrix.parse_axes(" , ", "all")


def test_matrix_failed_rows_are_rows_and_the_report_says_so(tmp_path):
    def run_row(t, m):
        if m == "mpich":
            raise TestbedError("bring-up failed: no\nsecond line")
        return (0 if t == "a" else 3), f"output of {t} {m}"

    rows = matrix.run(["a", "b"], ["openmpi4", "mpich"], ["pytest"], run_row, log=lambda s: None)
    assert [(r.topology, r.mpi, r.ok, r.exit) for r in rows] == [
        ("a", "openmpi4", True, 0),
        ("a", "mpich", False, None),
        ("b", "openmpi4", False, 3),
        ("b", "mpich", False, None),
    ]
    assert rows[1].error == "bring-up failed: no"
    text = matrix.table(rows)
    assert "1/4 rows passed" in text and "FAILED" in text
    doc = rows[2].as_json()
    assert set(doc) == {"topology", "mpi", "ok", "exit", "seconds"}
    path = matrix.junit(rows, ["pytest", "-q"], tmp_path / "m.xml")
    suite = ET.parse(path).getroot()
    assert suite.get("tests") == "4" and suite.get("failures") == "1" and suite.get("errors") == "2"
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases][0] == ("a", "openmpi4")
    assert cases[2].find("failure").get("message") == "exit 3"


def test_matrix_refuses_bad_input_before_any_cluster(tmp_path):
    assert "unknown" in one_line_error(cli("matrix", "--topologies", "nowhere", "--", "true"))
    p = cli("matrix", "--topologies", "single-world", "--mount", "/no/such", "--", "true")
    assert "no folder" in one_line_error(p)
    assert "needs a command" in one_line_error(cli("matrix", "--topologies", "single-world"))


# -- the plugin ----------------------------------------------------------------------------------------
def test_plugin_is_registered_and_skips_without_a_topology(tmp_path):
    (tmp_path / "test_x.py").write_text("def test_x(testbed_cluster):\n    pass\n")
    p = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stdout
    assert re.search(r"SKIPPED .*run pytest with --testbed TOPOLOGY", p.stdout), p.stdout


def test_plugin_unknown_topology_ends_the_session_in_one_line(tmp_path):
    (tmp_path / "test_x.py").write_text("def test_x(testbed_cluster):\n    pass\n")
    p = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--testbed", "nowhere", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert p.returncode == 2
    assert "testbed: unknown topology 'nowhere'" in p.stdout + p.stderr


def test_public_api_is_small():
    import testbed

    assert sorted(testbed.__all__) == ["ExecResult", "TestbedCluster", "TestbedError", "cluster"]
    assert json.dumps(api.__all__)


def test_review_findings_stay_fixed(tmp_path, monkeypatch):
    """A folder under mpi's home (re-owned when mpi takes the host's ids) is refused; a host
    user of uid 1000 with another gid is still remapped; any error of a row is that row's;
    a command's control characters do not break the JUnit file; `--` belongs to exec and matrix."""
    with pytest.raises(TestbedError, match="need that folder"):
        mounts.parse(f"{tmp_path}:/home/mpi/work")
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    monkeypatch.setattr(os, "getgid", lambda: 1234)
    env = mounts.parse(str(tmp_path)).overrides(["head"])["head"]["environment"]
    assert (env["TESTBED_UID"], env["TESTBED_GID"]) == ("1000", "1234")

    def run_row(t, m):
        raise OSError("disk full")

    rows = matrix.run(["a"], ["openmpi4"], ["x"], run_row, log=lambda s: None)
    assert rows[0].exit is None and rows[0].error == "OSError: disk full"
    row = matrix.Row("a", "openmpi4", ok=False, exit=1, output="\x1b[31mred\x00\x07 text")
    path = matrix.junit([row], ["x"], tmp_path / "j.xml")
    assert "red" in ET.parse(path).getroot().find("testcase/system-out").text
    assert "takes no command" in one_line_error(cli("shell", "single-world", "--", "x"))
