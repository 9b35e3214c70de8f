"""The swarm stack file rendered from Compose's flattened config, and --place / --swarm input."""

from __future__ import annotations

import pytest

from testbed import cli, labels
from testbed.backends import swarm
from testbed.errors import TestbedError

# the shape of `docker compose config --format json` for a two-node topology (what Compose
# prints: null command/entrypoint, shm_size in bytes as a string, long-syntax volumes)
CONFIG = {
    "name": "ipp-testbed-c1",
    "networks": {"cluster": {"name": "ipp-testbed-c1_cluster", "ipam": {}, "labels": {labels.CLUSTER: "c1"}}},
    "volumes": {"shared": {"name": "ipp-testbed-c1_shared"}},
    "services": {
        "head": {
            "command": None,
            "entrypoint": None,
            "environment": {"OMPI_MCA_btl_tcp_if_include": "eth0"},
            "hostname": "head",
            "image": "ipp-testbed/node:openmpi4",
            "labels": {labels.CLUSTER: "c1", labels.TOPOLOGY: "true-world", labels.COUNTS: "4"},
            "networks": {"cluster": None},
            "shm_size": "268435456",
            "volumes": [{"type": "volume", "source": "shared", "target": "/shared", "volume": {}}],
        },
        "n1": {
            "image": "ipp-testbed/node:openmpi4",
            "hostname": "node1",
            "networks": {"cluster": None},
            "shm_size": "268435456",
        },
    },
    "x-testbed": {"controller": "head"},
}


def test_render_gives_what_stack_deploy_accepts():
    doc = swarm.render(CONFIG, "c1")
    assert doc["version"] == "3.8" and "name" not in doc and "x-testbed" not in doc
    net = doc["networks"]["cluster"]
    assert net["driver"] == "overlay" and net["attachable"] is True and net["labels"][labels.CLUSTER] == "c1"
    assert doc["volumes"] == {"shared": {"labels": {labels.CLUSTER: "c1"}}}
    head = doc["services"]["head"]
    assert "shm_size" not in head and "command" not in head and "entrypoint" not in head
    assert {"type": "tmpfs", "target": "/dev/shm", "tmpfs": {"size": 268435456}} in head["volumes"]
    assert {"type": "volume", "source": "shared", "target": "/shared"} in head["volumes"]
    assert head["environment"] == {"OMPI_MCA_btl_tcp_if_include": "eth0"}
    deploy = head["deploy"]
    assert deploy["replicas"] == 1 and deploy["endpoint_mode"] == "dnsrr"
    assert deploy["restart_policy"] == {"condition": "none"} and "placement" not in deploy
    for where in (head["labels"], deploy["labels"]):  # the container's and the service's
        assert where[labels.NODE] == "head" and where[labels.BACKEND] == "swarm"
        assert where[labels.TOPOLOGY] == "true-world" and where[labels.CLUSTER] == "c1"
    # a node's hostname is its name on the network, also where it differs from the service's
    assert doc["services"]["n1"]["networks"] == {"cluster": {"aliases": ["node1"]}}


def test_render_places_a_node_by_the_label_given():
    doc = swarm.render(CONFIG, "c1", {"n1": "hostB"})
    assert doc["services"]["n1"]["deploy"]["placement"] == {
        "constraints": [f"node.labels.{labels.SWARM_PLACE} == hostB"]
    }
    assert "placement" not in doc["services"]["head"]["deploy"]


@pytest.mark.parametrize(
    "change, says",
    [
        ({"ports": [{"target": 8888, "published": "8888"}]}, "publishes ports"),
        ({"privileged": True}, "privileged cannot be rendered"),
    ],
)
def test_render_refuses_what_a_stack_would_not_do_as_asked(change, says):
    config = {**CONFIG, "services": {"head": {**CONFIG["services"]["head"], **change}}}
    with pytest.raises(TestbedError, match=says):
        swarm.render(config, "c1")


def test_render_refuses_a_service_name_longer_than_a_dns_label():
    config = {**CONFIG, "services": {"compute-node-number-one": CONFIG["services"]["n1"]}}
    swarm.render(config, "c" * 27)  # ipp-testbed-<27>_compute-node-number-one: 63
    with pytest.raises(TestbedError, match="longer than 63 characters: choose a shorter --name"):
        swarm.render(config, "c" * 28)


@pytest.mark.parametrize(
    "items, says",
    [
        (["n1"], "give NODE=VALUE"),
        (["n1="], "give NODE=VALUE"),
        (["=hostB"], "give NODE=VALUE"),
        (["n1=host B"], "give NODE=VALUE"),
        (["nowhere=hostB"], "has no node 'nowhere'"),
    ],
)
def test_place_input_is_checked(items, says):
    with pytest.raises(TestbedError, match=says):
        swarm.parse_place(items, ["head", "n1"])


def test_place_parses():
    assert swarm.parse_place(["n1=hostB", "head=a.b-c"], ["head", "n1"]) == {"n1": "hostB", "head": "a.b-c"}


def test_place_without_swarm_is_one_line(capsys):
    code = cli.main(["up", "split-world", "--place", "head=hostA"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["testbed: error: --place puts nodes on swarm nodes: give --swarm as well"]


def test_swarm_on_an_engine_in_no_swarm_is_one_line(monkeypatch, capsys):
    """`testbed up --swarm` where the engine is in no swarm: one line saying how to make one."""

    class Images:
        def get(self, name):
            return object()

    class Containers:
        def list(self, **kw):
            return []

    class Client:
        images, containers = Images(), Containers()

        def info(self):
            return {"Swarm": {"LocalNodeState": "inactive"}}

    monkeypatch.setattr("testbed.docker_env.client", lambda: Client())
    monkeypatch.setattr("testbed.docker_env.require_compose", lambda: None)
    code = cli.main(["up", "split-world", "--swarm"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "not part of a swarm (Swarm: inactive): `docker swarm init`" in err[0]
