"""two-networks (ipyparallel#231): an engine host with two networks registers with an address the
controller cannot use. Measured: the engine node's networks, and whether the controller's address
in the engine's connection file is reachable from it. One network per node: not applicable."""

from __future__ import annotations

from ..launch import ENGINE_FILE
from .base import Scenario, flag, node_json, num, register


@register
class TwoNetworks(Scenario):
    name = "two-networks"
    issue = "ipyparallel#231"
    url = "https://github.com/ipython/ipyparallel/issues/231"
    title = "Engines on a host with two networks register an address the controller cannot use"
    measures = "the engine node's IPv4 networks; the connection file's controller address reachable from it?"
    topology = "remote-engines"
    bound_s = 180.0
    keys = ("networks", "location", "port", "reachable")
    logs = r"Registration timed out|CRITICAL|ERROR"
    example_reproduced = {"networks": 2, "location": "10.0.0.2", "port": 10101, "reachable": False}
    example_fixed = {"networks": 2, "location": "head", "port": 10101, "reachable": True}

    def trigger(self, cluster, m) -> None:
        engine_node = next(s for s in cluster.topology.nodes if s != cluster.topology.controller)
        m.update(node_json(cluster, "reach", "--file", str(ENGINE_FILE), timeout=60, service=engine_node))

    def observe(self, cluster, m) -> None:
        pass

    def verdict(self, m) -> str:
        networks, reachable = num(m, "networks"), flag(m, "reachable")
        if networks is None or networks < 2 or reachable is None:  # one network: nothing to mix up
            return "not-applicable"
        return "fixed" if reachable else "reproduced"
