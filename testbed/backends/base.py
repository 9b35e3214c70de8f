"""The backend protocol, its registry, and what every member shares.

A backend is where a cluster's nodes run: a Compose project on this host
(``compose``), a Swarm stack (``swarm``), or manifests written out for Kubernetes
(``k8s``, rendered, not run). ``Cluster``, the fault catalogue, the notebook, status and
clean reach nodes through a backend only: a new one is one module with one class,
registered with ``@register``, that passes ``tests/unit/test_backends.py``.
"""

from __future__ import annotations

import ipaddress
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import yaml

from .. import docker_env, labels
from ..errors import TestbedError
from ..node import Node
from ..topology import Topology

REGISTRY: dict[str, type[Backend]] = {}


def register(cls: type[Backend]) -> type[Backend]:
    """Class decorator: make ``cls`` the backend of its ``kind``."""
    if not cls.kind or cls.kind in REGISTRY:
        raise ValueError(f"backend {cls.__name__}: kind {cls.kind!r} is empty or taken")
    REGISTRY[cls.kind] = cls
    return cls


def get(kind: str) -> type[Backend]:
    try:
        return REGISTRY[kind]
    except KeyError:
        raise TestbedError(f"no backend {kind!r}; the backends: {', '.join(REGISTRY)}") from None


def kind_of(cluster_labels: Mapping[str, str]) -> str:
    """The backend of a running cluster, from one of its nodes' labels (compose sets none)."""
    return cluster_labels.get(labels.BACKEND) or "compose"


class NoNetem(TestbedError):
    """The kernel cannot add delay or loss (no sch_netem)."""


def project_name(cluster: str) -> str:
    return f"ipp-testbed-{cluster}"


class Backend:
    """Where a cluster's nodes run. A member starts and stops them, hands out node handles
    (``testbed.node.Node``: exec, copy, logs), and does what the fault catalogue does to a
    node (kill it, cut it off its network, run tc or iptables in its network namespace).

    What every member shares: the topology file, its overrides and the cluster's env file.
    A member says ``kind`` (its registry key, and the value of ``labels.BACKEND`` on its nodes)
    and whether its nodes are on this host (``on_this_host``: a folder of this host can be bound
    into them, and a port published on this host's loopback reaches them).
    """

    kind: ClassVar[str] = ""
    what: ClassVar[str] = ""  # what a cluster is, in a sentence: "compose project", "swarm stack"
    on_this_host: ClassVar[bool] = False
    takes_place: ClassVar[bool] = False  # may nodes be placed on hosts by label (--place)?

    def __init__(
        self,
        topology: Topology,
        name: str,
        image: str,
        mpi: str,
        overrides: dict | None = None,
        place: Mapping[str, str] | None = None,
    ):
        if place and not self.takes_place:
            raise TestbedError("--place puts nodes on swarm nodes: give --swarm as well")
        self.topology = topology
        self.name = name
        self.image = image
        self.mpi = mpi
        # {service: compose keys}: a second compose file on top of the topology's (the lab's
        # image and published port on the controller node)
        self.overrides = overrides or {}
        self.place = dict(place or {})
        self._docker = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    @property
    def docker(self):
        if self._docker is None:
            self._docker = docker_env.client()
        return self._docker

    def _tmpdir(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ipp-testbed-")
        return Path(self._tmp.name)

    def _files(self) -> list[str]:
        files = [self.topology.path.name]
        if self.overrides:
            path = self._tmpdir() / "override.yaml"
            doc: dict = {"services": self.overrides}
            named = {
                v.split(":", 1)[0]
                for body in self.overrides.values()
                for v in body.get("volumes", [])
                if isinstance(v, str) and not v.startswith(("/", "."))
            }
            if named:  # the cluster's own volumes, labelled so that down and clean find them
                doc["volumes"] = {v: {"labels": {labels.CLUSTER: self.name}} for v in sorted(named)}
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            files.append(str(path))
        return files

    def _env_file(self) -> str:
        path = self._tmpdir() / "compose.env"
        counts = ",".join(str(n) for n in self.topology.counts)
        path.write_text(
            f"TESTBED_CLUSTER={self.name}\n"
            f"TESTBED_PROJECT={project_name(self.name)}\n"
            f"TESTBED_IMAGE={self.image}\n"
            f"TESTBED_COUNTS={counts}\n"
            f"TESTBED_TOPOLOGY={self.topology.name}\n"
            f"TESTBED_MPI={self.mpi}\n"
        )
        return str(path)

    def endpoint_of(self, service: str) -> str | None:
        """The Docker endpoint of node ``service`` when it is not this engine (see the swarm backend)."""
        return None

    def require_image(self, remedy: str) -> None:
        """Refuse, in one line, to start where the node image is missing."""
        docker_env.require_image(self.docker, self.image, remedy)

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def node(self, service: str) -> Node:
        raise NotImplementedError

    # -- what the fault catalogue does to a node ---------------------------------------------
    def kill_node(self, service: str) -> None:
        """The node dies at once, as a host that loses power (docker kill: SIGKILL)."""
        self.node(service).container.kill()

    def interface(self, service: str, peer: str) -> str:
        """The network interface of node ``service`` that reaches node ``peer`` (found, not assumed:
        a swarm task has its overlay network and docker_gwbridge, in either order)."""
        node = self.node(service)
        hostname = self.topology.hostname(peer)
        res = node.exec(["getent", "ahostsv4", hostname])
        words = res.out.split()
        try:
            addr = str(ipaddress.IPv4Address(words[0]))
        except (IndexError, ValueError):
            raise TestbedError(f"node {service} cannot resolve {hostname}: {res.err.strip()[-200:]}") from None
        route = node.exec(["ip", "-o", "-4", "route", "get", addr]).out.split()
        if "dev" not in route or route.index("dev") + 1 >= len(route):
            raise TestbedError(f"node {service} has no route to {hostname} ({addr}): {' '.join(route)[:200]}")
        return route[route.index("dev") + 1]

    def net_admin(self, service: str, argv: list[str]) -> None:
        """``argv`` (tc or iptables) in node ``service``'s network namespace, from a helper container
        on the node's own engine: NET_ADMIN is granted to that helper only, never to a node."""
        from docker.errors import ContainerError

        ctr = self.node(service).container
        try:
            ctr.client.containers.run(
                self.image,
                argv,
                entrypoint=[],
                network_mode=f"container:{ctr.id}",
                cap_add=["NET_ADMIN"],
                remove=True,
                labels={labels.CLUSTER: self.name},
                user="root",
            )
        except ContainerError as e:
            if "qdisc kind is unknown" in str(e) and "netem" in argv:  # the kernel has no sch_netem
                raise NoNetem("this kernel has no netem qdisc (tc: 'Specified qdisc kind is unknown')") from None
            raise TestbedError(f"{' '.join(argv)} on {service} failed: {str(e)[-300:]}") from None

    def cut_off(self, service: str, seconds: float) -> str:
        """Node ``service`` off the cluster network for ``seconds``, then on it again; says how."""
        ctr = self.node(service).container
        ctr.reload()
        (net_name,) = list(ctr.attrs["NetworkSettings"]["Networks"])[:1]
        net = ctr.client.networks.get(net_name)
        net.disconnect(ctr)
        time.sleep(seconds)
        # the node's names on the network, as the backend gave them (the service, its hostname)
        net.connect(ctr, aliases=list(dict.fromkeys([service, self.topology.hostname(service)])))
        return f"disconnected from network {net_name}, then connected again"

    # -- what is running, by label ---------------------------------------------------------------
    @staticmethod
    def running(c) -> dict[str, list]:
        """name -> containers, for every cluster with a container on this engine."""
        return docker_env.running_clusters(c)

    @staticmethod
    def clean(c, name: str | None = None) -> dict[str, int]:
        """Remove everything labelled for cluster ``name`` (or any), swarm services first."""
        return docker_env.clean(c, name)
