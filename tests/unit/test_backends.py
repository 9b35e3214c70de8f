"""The contract every backend of the registry passes (testbed.backends)."""

from __future__ import annotations

import inspect

import pytest

from testbed import backends, topology
from testbed.errors import TestbedError

REQUIRED = ("start", "stop", "node")


@pytest.mark.parametrize("kind", sorted(backends.REGISTRY))
def test_every_backend_is_one_module_with_one_class(kind):
    cls = backends.REGISTRY[kind]
    assert issubclass(cls, backends.Backend) and cls.kind == kind and cls.what
    assert inspect.getmodule(cls).__name__ == f"testbed.backends.{kind}"
    for method in REQUIRED:  # its own, not the protocol's NotImplementedError
        assert getattr(cls, method) is not getattr(backends.Backend, method), f"{kind} lacks {method}"


@pytest.mark.parametrize("kind", sorted(backends.REGISTRY))
def test_place_is_taken_only_where_the_backend_places_nodes(kind):
    cls = backends.REGISTRY[kind]
    topo = topology.load("remote-engines")
    if cls.takes_place:
        assert cls(topo, "c1", "img", "openmpi4", place={"laptop": "h1"}).place == {"laptop": "h1"}
    else:
        with pytest.raises(TestbedError, match="--place"):
            cls(topo, "c1", "img", "openmpi4", place={"laptop": "h1"})


def test_an_unknown_backend_is_one_line_naming_the_backends():
    with pytest.raises(TestbedError) as e:
        backends.get("kubernetes-live")
    assert "compose" in str(e.value) and "swarm" in str(e.value) and "\n" not in str(e.value)


def test_a_running_cluster_says_its_backend_by_label():
    assert backends.kind_of({}) == "compose"
    assert backends.kind_of({"ipp-testbed.backend": "swarm"}) == "swarm"
