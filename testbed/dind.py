"""A swarm of several Docker hosts on this one machine: Docker-in-Docker hosts.

Each host is a container of ``ipp-testbed/dind`` (Debian's docker.io) running its own
``dockerd``, with its own storage (a volume of its own, overlay2) and its own address on
a bridge network of this machine. Its engine answers on ``tcp://ADDRESS:2375`` (no TLS:
the address is reachable from this machine only). The first host inits a swarm, the
others join it, and each is labelled as a user labels real hosts (docs/swarm.md):
``ipp-testbed.host=dindN`` for ``--place`` and ``ipp-testbed.docker=tcp://...`` for the
testbed to exec into the nodes it runs. The node images are copied into every host
(``docker save | docker load``): there is no registry.

A host needs more than a container's defaults: every capability this machine grants
(``--privileged`` asks for CAP_SYS_RESOURCE as well, which the engine here lacks), no
seccomp or AppArmor profile, every device, and the host's cgroup hierarchy writable
(cgroup v1) so that its dockerd can make cgroups, under a parent of its own.

Everything carries the cluster label of its name, so ``testbed clean`` removes it too.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import docker_env, images, labels, limits
from .errors import TestbedError
from .waiting import NotYet, poll

DEFAULT_NAME = "dind"
PORT = 2375
MAX_HOSTS = limits.DIND_HOSTS.hi  # what was checked to work here (docs/swarm.md)
READY_TIMEOUT = 60.0  # s for a host's dockerd to answer
LOAD_TIMEOUT = 600  # s for one image to be copied into one host
# what a container running an engine of its own is given (here and in testbed.hosts): every capability
# this machine grants (--privileged asks for CAP_SYS_RESOURCE too, which the engine here lacks), no
# seccomp or AppArmor profile, every device
ENGINE_IN_CONTAINER = {
    "cap_add": ["ALL"],
    "cap_drop": ["SYS_RESOURCE"],
    "security_opt": ["seccomp=unconfined", "apparmor=unconfined"],
    "device_cgroup_rules": ["a *:* rwm"],
}


@dataclass(frozen=True)
class Host:
    name: str  # its hostname and swarm node name: dind1, dind2, ...
    address: str

    @property
    def endpoint(self) -> str:
        return f"tcp://{self.address}:{PORT}"


def _engine(endpoint: str):
    import docker

    return docker.DockerClient(base_url=endpoint, timeout=120)


def copy_image(image: str, endpoint: str, timeout: float = LOAD_TIMEOUT) -> str | None:
    """``docker save IMAGE | docker -H ENDPOINT load`` (no registry to pull from): None, or why it
    failed (the end of load's stderr)."""
    save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    load = subprocess.run(
        ["docker", "-H", endpoint, "load", "-q"], stdin=save.stdout, capture_output=True, text=True, timeout=timeout
    )
    save.stdout.close()
    if save.wait() != 0 or load.returncode != 0:
        return load.stderr.strip()[-200:]
    return None


class DindSwarm:
    """``hosts`` Docker hosts in containers, one swarm over them."""

    def __init__(self, name: str = DEFAULT_NAME, hosts: int = 3, log: Callable[[str], None] = print):
        from .cluster import check_name

        self.name = check_name(name)
        bad = not isinstance(hosts, int) or isinstance(hosts, bool)
        if bad or not 1 <= hosts <= MAX_HOSTS:
            raise TestbedError(f"--hosts {limits.show(hosts)}: 1 to {MAX_HOSTS} (checked to work on one machine)")
        self.count = hosts
        self.log = log
        self.prefix = f"ipp-testbed-{self.name}"
        self.hosts: list[Host] = []

    def _labels(self) -> dict:
        return {labels.CLUSTER: self.name, labels.ROLE: "swarm-host"}

    def up(self, node_images: Sequence[str]) -> list[Host]:
        """Start the hosts, copy ``node_images`` into each, form the swarm; on failure remove it all."""
        c = docker_env.client()
        for image in node_images:
            docker_env.require_image(c, image)
        if any(docker_env.leftovers(c, self.name).values()):
            raise TestbedError(f"{self.name!r} is already there: `testbed dind down --name {self.name}` removes it")
        images.build_dind(log=self.log)
        t0 = time.monotonic()
        try:
            self._start_hosts(c)
            self._copy_images(node_images)
            self._form_swarm()
        except BaseException:
            self.log(f"[{self.name}] failed: removing the hosts")
            docker_env.clean(c, self.name)
            raise
        self.log(f"[{self.name}] a swarm of {self.count} Docker host(s) in {time.monotonic() - t0:.0f}s")
        return self.hosts

    def _start_hosts(self, c) -> None:
        net = c.networks.create(f"{self.prefix}_hosts", driver="bridge", labels=self._labels())
        for i in range(1, self.count + 1):
            host = f"dind{i}"
            vol = c.volumes.create(f"{self.prefix}-{host}-docker", labels=self._labels())
            c.containers.run(
                images.DIND_IMAGE,
                [
                    "dockerd",
                    "--host=unix:///var/run/docker.sock",
                    f"--host=tcp://0.0.0.0:{PORT}",
                    "--tls=false",
                    f"--cgroup-parent={self.prefix}-{host}",
                ],
                name=f"{self.prefix}-{host}",
                hostname=host,
                detach=True,
                network=net.name,
                labels={**self._labels(), labels.NODE: host},
                **ENGINE_IN_CONTAINER,
                volumes={
                    vol.name: {"bind": "/var/lib/docker", "mode": "rw"},
                    "/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
                },
                tmpfs={"/run": "", "/tmp": ""},
            )
        for i in range(1, self.count + 1):
            ctr = c.containers.get(f"{self.prefix}-dind{i}")
            address = ctr.attrs["NetworkSettings"]["Networks"][net.name]["IPAddress"]
            self.hosts.append(Host(f"dind{i}", address))
        for host in self.hosts:

            def answers(host: Host = host) -> bool:
                try:
                    return bool(_engine(host.endpoint).ping())
                except Exception as e:  # noqa: BLE001 - not up yet, whatever the client says
                    raise NotYet(str(e)[-120:]) from None

            poll(answers, timeout=READY_TIMEOUT, what=f"the Docker engine of {host.name} ({host.endpoint})")
        self.log(
            f"[{self.name}] {self.count} Docker host(s) answer: "
            + ", ".join(f"{h.name} {h.endpoint}" for h in self.hosts)
        )

    def _copy_images(self, node_images: Sequence[str]) -> None:
        """``docker save IMAGE | docker -H HOST load`` into every host at once."""
        failures: list[str] = []

        def copy(host: Host, image: str) -> None:
            if (why := copy_image(image, host.endpoint)) is not None:
                failures.append(f"{image} into {host.name}: {why}")

        for image in node_images:
            t = time.monotonic()
            self.log(f"[{self.name}] copying {image} into {', '.join(h.name for h in self.hosts)}")
            threads = [threading.Thread(target=copy, args=(h, image)) for h in self.hosts]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            if failures:
                raise TestbedError(f"copying an image failed: {failures[0]}")
            self.log(f"[{self.name}] {image} is on every host ({time.monotonic() - t:.0f}s)")

    def _form_swarm(self) -> None:
        first, rest = self.hosts[0], self.hosts[1:]
        manager = _engine(first.endpoint)
        manager.swarm.init(advertise_addr=first.address, listen_addr=f"{first.address}:2377")
        token = manager.swarm.attrs["JoinTokens"]["Worker"]
        for host in rest:
            _engine(host.endpoint).swarm.join(
                remote_addrs=[f"{first.address}:2377"], join_token=token, advertise_addr=host.address
            )
        by_name = {h.name: h for h in self.hosts}

        def all_ready() -> bool:
            nodes = manager.nodes.list()
            ready = [n for n in nodes if n.attrs["Status"]["State"] == "ready"]
            if len(ready) < self.count:
                raise NotYet(f"{len(ready)} of {self.count} swarm nodes ready")
            return True

        poll(all_ready, timeout=READY_TIMEOUT, what="every Docker host a ready swarm node")
        for node in manager.nodes.list():
            host = by_name[node.attrs["Description"]["Hostname"]]
            spec = node.attrs["Spec"]
            spec["Labels"] = {
                **(spec.get("Labels") or {}),
                labels.SWARM_PLACE: host.name,
                labels.SWARM_ENDPOINT: host.endpoint,
            }
            node.update(spec)
        self.log(
            f"[{self.name}] swarm: {first.name} manager, {', '.join(h.name for h in rest) or 'no'} worker(s); "
            f"each labelled {labels.SWARM_PLACE}=<name>, {labels.SWARM_ENDPOINT}=<its engine>"
        )

    def down(self) -> dict:
        return docker_env.clean(docker_env.client(), self.name)


def hosts_of(containers) -> list[Host]:
    """The DinD hosts among ``containers`` (listed by the caller), by name."""
    out = []
    for ctr in containers:
        if ctr.labels.get(labels.ROLE) != "swarm-host":
            continue
        nets = ctr.attrs["NetworkSettings"]["Networks"]
        out.append(Host(ctr.labels.get(labels.NODE, ctr.name), next(iter(nets.values()))["IPAddress"]))
    return sorted(out, key=lambda h: h.name)
