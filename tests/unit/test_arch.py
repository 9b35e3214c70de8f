"""The engine's architecture: Debian's multiarch folder and pip's wheel tags follow it."""

import hashlib
from pathlib import Path

import pytest

from testbed import arch, images, topology
from testbed.cluster import ENGINES_ON_OVERLAY, Cluster, lib_volumes
from testbed.errors import TestbedError


class FakeClient:
    """docker-py's client as far as engine_arch asks it: info(), counted."""

    def __init__(self, architecture, driver="fuse-overlayfs"):
        self.architecture = architecture
        self.driver = driver
        self.asked = 0

    def info(self):
        self.asked += 1
        return {"Architecture": self.architecture, "OSType": "linux", "Driver": self.driver}


@pytest.mark.parametrize(
    "name, triplet, wheel",
    [
        ("x86_64", "x86_64-linux-gnu", "x86_64"),
        ("amd64", "x86_64-linux-gnu", "x86_64"),
        ("aarch64", "aarch64-linux-gnu", "aarch64"),
        ("arm64", "aarch64-linux-gnu", "aarch64"),
    ],
)
def test_docker_and_debian_names_map_to_triplet_and_wheel_tag(name, triplet, wheel):
    assert arch.names(name) == (triplet, wheel)
    assert arch.triplet(name) == triplet and arch.wheel_machine(name) == wheel


def test_an_unknown_architecture_is_one_line_naming_it_and_the_supported_ones():
    for odd in ("ppc64le", "s390x", "armv7l", "riscv64", "", "x86_64\nrm -rf"):
        with pytest.raises(TestbedError) as e:
            arch.names(odd)
        msg = str(e.value)
        assert "\n" not in msg
        assert repr(odd) in msg
        assert "x86_64" in msg and "aarch64" in msg and "arm64" in msg and "amd64" in msg


def test_engine_arch_asks_the_engine_every_time():
    client = FakeClient("aarch64")
    assert arch.engine_arch(client) == "aarch64"
    client.architecture = "x86_64"  # another engine behind the same client: nothing was kept
    assert arch.engine_arch(client) == "x86_64"
    assert client.asked == 2
    assert arch.engine_arch(FakeClient("arm64")) == "aarch64"


def test_engine_arch_of_an_unknown_or_silent_engine_is_a_testbed_error():
    with pytest.raises(TestbedError, match="'ppc64le'"):
        arch.engine_arch(FakeClient("ppc64le"))
    with pytest.raises(TestbedError, match="Architecture"):
        arch.engine_arch(FakeClient(None))


def test_platform_args_on_x86_64_are_as_before():
    tags = [f"manylinux_2_{m}_x86_64" for m in range(5, 37)]
    tags += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    assert images._platform_args("x86_64") == [a for t in tags for a in ("--platform", t)]
    assert images._platform_args("amd64") == images._platform_args("x86_64")


def test_platform_args_for_aarch64_are_aarch64_tags_only():
    args = images._platform_args("aarch64")
    tags = args[1::2]
    assert set(args[0::2]) == {"--platform"}
    assert tags and all(t.endswith("_aarch64") for t in tags)
    assert "manylinux_2_36_aarch64" in tags and "manylinux2014_aarch64" in tags
    assert not any("x86_64" in a for a in args)
    assert images._platform_args("arm64") == args


def test_download_argv_takes_the_engines_arch_not_this_hosts(monkeypatch):
    monkeypatch.setattr("testbed.docker_env.client", lambda: FakeClient("aarch64"))
    argv = images._download_argv(Path("/tmp/w"), ["numpy"])
    assert "manylinux_2_36_aarch64" in argv and not any("x86_64" in a for a in argv)
    given = images._download_argv(Path("/tmp/w"), ["numpy"], "x86_64")  # given: the engine is not asked
    assert "manylinux_2_36_x86_64" in given and not any("aarch64" in a for a in given)


def test_a_wheelhouse_stamp_is_unchanged_on_x86_64_and_differs_for_aarch64():
    data = b"ipyparallel==9.2.0\n"
    assert images._wheels_stamp(data, "x86_64") == hashlib.sha256(data).hexdigest()  # a current wheelhouse stays
    assert images._wheels_stamp(data, "amd64") == images._wheels_stamp(data, "x86_64")
    assert images._wheels_stamp(data, "aarch64") != images._wheels_stamp(data, "x86_64")
    assert images._wheels_stamp(data, "arm64") == images._wheels_stamp(data, "aarch64")


def test_lib_volumes_follow_the_arch():
    assert dict(lib_volumes("x86_64"))["usr-lib"] == "/usr/lib/x86_64-linux-gnu"
    assert dict(lib_volumes("aarch64"))["usr-lib"] == "/usr/lib/aarch64-linux-gnu"
    assert dict(lib_volumes("arm64"))["venv"] == "/opt/venv"


def test_a_crowded_node_gets_the_engines_library_folder_on_a_volume(monkeypatch):
    monkeypatch.setattr("testbed.docker_env.client", lambda: FakeClient("arm64"))
    n = ENGINES_ON_OVERLAY + 1
    c = Cluster(topology.load("single-world").with_counts((n,)), name="t-arch")
    volumes = [v for svc in c._overrides().values() for v in svc.get("volumes", [])]
    assert any(v.endswith(":/usr/lib/aarch64-linux-gnu") for v in volumes)
    assert not any("x86_64" in v for v in volumes)


def test_on_overlay2_a_crowded_node_keeps_its_libraries_in_the_image(monkeypatch):
    monkeypatch.setattr("testbed.docker_env.client", lambda: FakeClient("x86_64", driver="overlay2"))
    c = Cluster(topology.load("single-world").with_counts((ENGINES_ON_OVERLAY + 1,)), name="t-arch-o2")
    assert not [v for svc in c._overrides().values() for v in svc.get("volumes", [])]


def test_a_small_cluster_does_not_ask_the_engine(monkeypatch):
    def no_docker():
        raise AssertionError("no engine wanted for a cluster without a crowded node")

    monkeypatch.setattr("testbed.docker_env.client", no_docker)
    Cluster(topology.load("single-world"), name="t-arch-small")


def test_on_a_host_of_another_python_uv_resolves_for_the_nodes_python(tmp_path):
    from testbed import images

    req = tmp_path / "r.txt"
    argv, out = images._uv_compile_argv(
        tmp_path, ["--requirement", str(req), "--constraint", "c.txt", "pip", "numpy==2.4.6"], "aarch64"
    )
    assert argv[argv.index("--python-version") + 1] == images.NODE_PYTHON
    assert argv[argv.index("--python-platform") + 1] == "aarch64-manylinux_2_36"
    assert ["--constraint", "c.txt"] == argv[argv.index("--constraint") : argv.index("--constraint") + 2]
    assert str(req) in argv and argv[-2:] == ["--output-file", str(out)]
    assert (tmp_path / "extra-requirements.in").read_text() == "pip\nnumpy==2.4.6\n"  # loose specs in a file


def test_on_a_host_of_the_nodes_python_pip_gets_the_request_as_it_is(monkeypatch, tmp_path):
    from testbed import images

    monkeypatch.setattr(images, "_same_python", lambda: True)
    assert images._for_node(tmp_path, ["--requirement", "r.txt"], "x86_64") == (["--requirement", "r.txt"], None)
