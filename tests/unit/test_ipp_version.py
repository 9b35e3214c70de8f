"""Another ipyparallel than the pinned one (issue 29): its image's tag, wheelhouse, requirements,
build arguments and inputs hash, and the version string checked before it reaches pip or a tag."""

from __future__ import annotations

import re

import pytest

from testbed import cli, images, stacks
from testbed.cluster import Cluster, _running_ipp
from testbed.errors import TestbedError
from testbed.topology import load

OPENMPI4, MPICH = stacks.get("openmpi4"), stacks.get("mpich")


def test_the_default_is_the_pin_of_requirements_node():
    pins = re.findall(r"(?m)^ipyparallel==(\S+)$", images.REQUIREMENTS.read_text())
    assert pins == [stacks.DEFAULT_IPP]
    assert f"ARG IPYPARALLEL={stacks.DEFAULT_IPP}" in (images.DOCKER_DIR / "Dockerfile").read_text()


@pytest.mark.parametrize("asked", [None, "", stacks.DEFAULT_IPP])
def test_the_default_version_is_the_image_of_before(monkeypatch, asked):
    monkeypatch.delenv("TESTBED_IMAGE", raising=False)
    assert stacks.ipp_version(asked) is None
    assert OPENMPI4.image_for(asked) == OPENMPI4.image == "ipp-testbed/node:openmpi4"
    assert OPENMPI4.variant(asked) == "openmpi4"
    assert images.wheelhouse_of(OPENMPI4, asked) == images.WHEELHOUSE / "openmpi4"
    assert images.node_requirements(asked) == images.REQUIREMENTS.read_text()
    args = images.build_args(OPENMPI4, asked)
    assert args["WHEELS"] == "openmpi4"
    assert args["NODE_REQUIREMENTS"] == "docker/requirements-node.txt"
    assert args["IPYPARALLEL"] == stacks.DEFAULT_IPP
    assert args == images.build_args(OPENMPI4)


def test_another_version_is_an_image_and_a_wheelhouse_of_its_own(monkeypatch):
    monkeypatch.setenv("TESTBED_IMAGE", "mine:latest")  # overrides the default image only
    assert MPICH.image_for("8.8.0") == "ipp-testbed/node:mpich-ipp8.8.0"
    assert MPICH.image_for(None) == "mine:latest"
    assert images.wheelhouse_of(MPICH, "8.8.0") == images.WHEELHOUSE / "mpich-ipp8.8.0"
    args = images.build_args(MPICH, "8.8.0")
    assert args["MPI_STACK"] == "mpich"  # the stack's own pins are the same
    assert args["WHEELS"] == "mpich-ipp8.8.0"
    assert args["NODE_REQUIREMENTS"] == "docker/wheelhouse/mpich-ipp8.8.0/requirements-node.txt"
    assert args["IPYPARALLEL"] == "8.8.0"


def test_the_derived_requirements_replace_the_pin_only():
    base = images.REQUIREMENTS.read_text().splitlines()
    derived = images.node_requirements("7.1.0").splitlines()
    changed = [(a, b) for a, b in zip(base, derived, strict=True) if a != b]
    assert changed == [(f"ipyparallel=={stacks.DEFAULT_IPP}", "ipyparallel==7.1.0")]


def test_the_wheelhouse_of_another_version_holds_its_requirements(monkeypatch, tmp_path):
    fetched = []
    monkeypatch.setattr(images, "_download", lambda folder, what, whose, arch=None: fetched.append(what))
    images.ensure_wheelhouse(MPICH, log=lambda m: None, arch="x86_64", wheelhouse=tmp_path, ipp="8.8.0")
    folder = tmp_path / "mpich-ipp8.8.0"
    assert "ipyparallel==8.8.0\n" in (folder / "requirements-node.txt").read_text()
    assert fetched == [
        [
            "--requirement",
            str(folder / "requirements-node.txt"),
            "--requirement",
            str(images.STACK_REQUIREMENTS / "mpich.txt"),
        ]
    ]
    images.ensure_wheelhouse(MPICH, log=lambda m: None, arch="x86_64", wheelhouse=tmp_path, ipp="8.8.0")
    assert len(fetched) == 1  # current: nothing downloaded again
    images.ensure_wheelhouse(MPICH, log=lambda m: None, arch="x86_64", wheelhouse=tmp_path)
    assert fetched[-1][1] == str(images.REQUIREMENTS)  # the default's folder: the repository's file
    assert not (tmp_path / "mpich" / "requirements-node.txt").exists()


def test_the_inputs_hash_differs_between_versions():
    default = images.inputs_hash("sha256:base", OPENMPI4)
    assert images.inputs_hash("sha256:base", OPENMPI4, stacks.DEFAULT_IPP) == default
    v8 = images.inputs_hash("sha256:base", OPENMPI4, "8.8.0")
    v7 = images.inputs_hash("sha256:base", OPENMPI4, "7.1.0")
    assert len({default, v8, v7}) == 3
    assert v8 != images.inputs_hash("sha256:base", MPICH, "8.8.0")


HOSTILE = [
    "8.8",
    "8.8.0rc1",
    "v8.8.0",
    "8.8.0 ",
    "8.8.0\n",
    "8.8.0\nnumpy==1",
    "8.8.0; rm -rf /",
    "8.8.0 --index-url http://evil",
    "-r/etc/passwd",
    "../9.2.0",
    "8.8.0:latest",
    "١.٢.٣",  # digits, but not ASCII ones
    "1234.0.0",
    "8" * 5000,
    "$(id)",
]


@pytest.mark.parametrize("bad", HOSTILE)
def test_a_hostile_version_is_refused_in_one_line(bad):
    with pytest.raises(TestbedError) as e:
        stacks.ipp_version(bad)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("ipyparallel version ") and len(msg) < 300
    with pytest.raises(TestbedError):
        OPENMPI4.image_for(bad)
    with pytest.raises(TestbedError):
        images.build_args(OPENMPI4, bad)


@pytest.mark.parametrize("sub", [["images"], ["up", "single-world"], ["check", "single-world"]])
def test_a_hostile_version_on_the_command_line_starts_nothing(monkeypatch, capsys, sub):
    def started(*a, **k):
        raise AssertionError("started")

    for where in ("testbed.images.build", "testbed.docker_env.client", "testbed.cli.is_up", "testbed.cli.session"):
        monkeypatch.setattr(where, started)
    code = cli.main([*sub, "--ipp", "8.8.0;id"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("testbed: error: ipyparallel version '8.8.0;id'")


def test_images_passes_the_version_and_refuses_it_for_the_lab(monkeypatch, capsys):
    built = []
    monkeypatch.setattr("testbed.images.build", lambda stack, force, log, ipp: built.append((stack.name, ipp)))
    assert cli.main(["images", "--mpi", "all", "--ipp", "8.8.0"]) == 0
    assert built == [(name, "8.8.0") for name in stacks.STACKS]
    assert cli.main(["images", "--ipp", stacks.DEFAULT_IPP]) == 0
    assert built[-1] == ("openmpi4", None)
    assert cli.main(["images", "--lab", "--ipp", "8.8.0"]) == 2
    assert "--lab" in capsys.readouterr().err


def test_a_cluster_of_another_version_runs_its_image(monkeypatch):
    monkeypatch.setattr(Cluster, "_overrides", lambda self: {})
    c = Cluster(load("single-world"), stack=MPICH, ipp="8.8.0")
    assert (c.ipp, c.image, c.backend.image) == ("8.8.0", "ipp-testbed/node:mpich-ipp8.8.0", c.image)
    assert Cluster(load("single-world"), ipp=stacks.DEFAULT_IPP).ipp is None


def test_a_running_cluster_keeps_its_version_and_refuses_another():
    label = "ipp-testbed.ipyparallel"
    assert _running_ipp("c", {label: "8.8.0"}, None) == "8.8.0"
    assert _running_ipp("c", {label: "8.8.0"}, "8.8.0") == "8.8.0"
    assert _running_ipp("c", {}, "8.8.0") == "8.8.0"  # an image of before the label: the one asked for
    assert _running_ipp("c", {label: "x;y"}, None) is None  # a label that is no version is not used
    with pytest.raises(TestbedError, match=r"runs ipyparallel 9\.2\.0, not 8\.8\.0: `testbed down --name c`"):
        _running_ipp("c", {label: "9.2.0"}, "8.8.0")


def test_the_makefile_passes_ipp_quoted():
    text = (images.ROOT / "Makefile").read_text()
    assert "ipp_arg     := $(if $(IPP),--ipp $(call quote,$(IPP)))" in text
    for target in ("images", "up", "check"):
        assert re.search(rf"\$\(TESTBED\) {target} [^\n]*\$\(ipp_arg\)", text), target
