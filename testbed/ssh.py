"""SSH trust inside a cluster, so that ``mpiexec`` on the controller node reaches every node.

The key pair is made at bring-up, on the controller node, for this cluster only (no
key is in the image). Each node's public host key (made when that node started) goes
into known_hosts, so host keys are checked, not waved through. Ready when every node
answers an ``ssh``.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import docker_env
from .errors import TestbedError
from .node import HOME, Node
from .waiting import NotYet, poll

KEY = HOME / ".ssh/id_ed25519"
HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"
READY_TIMEOUT = 30.0


NAMES_TIMEOUT = 15.0  # s for the engine's DNS to know a node that has started


def names_resolve(nodes: Mapping[str, Node], hostnames: Mapping[str, str], controller: str) -> None:
    """Every node's name resolves on ``controller``, or one line says the engine's network has no DNS
    between containers (Podman 4's CNI network without the dnsname plugin: docs/hosts.md)."""
    ctl = nodes[controller]
    for svc in nodes:

        def known(host: str = hostnames[svc]) -> bool:
            if ctl.exec(["getent", "hosts", host]).code != 0:
                raise NotYet(f"{host} unknown")
            return True

        try:
            poll(known, timeout=NAMES_TIMEOUT, what=f"the name {hostnames[svc]} on {controller}")
        except TestbedError:
            podman = docker_env.is_podman(docker_env.client().version())
            why = (
                (
                    "Podman's network has no DNS between containers: use netavark with aardvark-dns "
                    '(network_backend = "netavark" in containers.conf), or CNI\'s dnsname plugin'
                )
                if podman
                else ("the engine's network has no DNS between containers")
            )
            name = hostnames[svc]
            raise TestbedError(f"node {controller} cannot resolve node {name!r}: {why} (docs/hosts.md)") from None


def setup_trust(nodes: Mapping[str, Node], hostnames: Mapping[str, str], controller: str) -> None:
    """Let ``controller`` ssh as mpi to every node of ``nodes`` (service -> node handle)."""
    ctl = nodes[controller]
    names_resolve(nodes, hostnames, controller)
    code, _, err = ctl.exec(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "testbed", "-f", str(KEY)])
    if code != 0:
        raise TestbedError(f"ssh-keygen on {controller} failed: {err.strip()}")
    pub = ctl.read(KEY.with_suffix(".pub")).encode()
    known = []
    for svc, node in nodes.items():
        node.put_file(HOME / ".ssh/authorized_keys", pub)

        def host_key(node: Node = node) -> str:
            return node.exec(["cat", HOST_KEY]).out.strip()

        key = poll(host_key, timeout=READY_TIMEOUT, what=f"the ssh host key of node {svc} (did sshd start?)")
        keytype, blob = key.split()[:2]
        known.append(f"{hostnames[svc]} {keytype} {blob}")
    ctl.put_file(HOME / ".ssh/known_hosts", ("\n".join(known) + "\n").encode(), 0o644)
    for svc in nodes:

        def answers(host: str = hostnames[svc]) -> bool:
            code, _, err = ctl.exec(["ssh", host, "true"])
            if code != 0:
                raise NotYet(err.strip()[-200:])
            return True

        poll(answers, timeout=READY_TIMEOUT, what=f"ssh from {controller} to {hostnames[svc]}")
