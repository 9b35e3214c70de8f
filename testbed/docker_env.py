"""Preflight checks on the Docker side, each ending in one clear error line."""

from __future__ import annotations

import os
import shutil
import subprocess

from . import labels
from .errors import TestbedError
from .waiting import NotYet, poll

# testcontainers' Ryuk reaper needs an image pull; this testbed cleans up by
# label itself (see clean()), so Ryuk stays off everywhere.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")


def client():
    """A docker-py client whose daemon answers, or a TestbedError saying why not."""
    from docker.errors import DockerException

    import docker

    try:
        c = docker.from_env(timeout=120)
        c.ping()
    except DockerException as e:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise TestbedError(
            f"cannot reach the Docker daemon at {host}: is Docker running and may this user "
            f"use it? ({_short(e)})"
        ) from None
    return c


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[-1][:200] if text else type(e).__name__


def require_compose() -> None:
    """Compose v2 (`docker compose`) must be there: testcontainers drives it."""
    if shutil.which("docker") is None:
        raise TestbedError("the docker CLI is not on PATH: install Docker")
    try:
        proc = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        raise TestbedError("`docker compose version` hung for 30 s") from None
    if proc.returncode != 0:
        raise TestbedError(
            "Docker Compose v2 (`docker compose`) is missing: run `make compose`, which installs "
            "Debian's docker-compose 2.x plugin (or install the plugin from Docker)"
        )


def require_image(c, image: str, remedy: str = "make images") -> None:
    from docker.errors import ImageNotFound

    try:
        c.images.get(image)
    except ImageNotFound:
        raise TestbedError(f"image {image} is not built: run `{remedy}`") from None


def cluster_containers(c, name: str | None = None, all: bool = True):
    """The containers labelled for ``name`` (or any cluster). docker-py inspects each one it lists;
    one removed in between (a bring-up being killed or torn down) is left out, not an error."""
    label = f"{labels.CLUSTER}={name}" if name else labels.CLUSTER
    return c.containers.list(all=all, filters={"label": label}, ignore_removed=True)


def running_clusters(c) -> dict[str, list]:
    """name -> containers, for every cluster with a container on this host."""
    out: dict[str, list] = {}
    for ctr in cluster_containers(c):
        out.setdefault(ctr.labels.get(labels.CLUSTER, "?"), []).append(ctr)
    return out


def leftovers(c, name: str) -> dict[str, int]:
    """How many containers, networks and volumes are labelled for cluster ``name``."""
    label = f"{labels.CLUSTER}={name}"
    return {
        # sparse: no inspect of each container, which fails when one goes while it is listed
        "containers": len(c.containers.list(all=True, sparse=True, filters={"label": label})),
        "networks": len(c.networks.list(filters={"label": label})),
        "volumes": len(c.volumes.list(filters={"label": label})),
        **({"services": n} if (n := len(swarm_services(c, name))) else {}),
    }


def cluster_labels(c, name: str) -> dict | None:
    """The labels of running cluster ``name`` (topology, counts, MPI stack, backend): from one of its
    containers on this host, else from one of its swarm services; None when it is not up."""
    running = cluster_containers(c, name, all=False)
    if running:
        return dict(running[0].labels)
    for svc in swarm_services(c, name):
        return service_labels(svc)
    return None


def service_labels(service) -> dict:
    """The labels a swarm service puts on its tasks' containers (the cluster's, as compose's nodes carry)."""
    return dict(service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"].get("Labels") or {})


def swarm_info(c) -> dict:
    return c.info().get("Swarm") or {}


def is_manager(c) -> bool:
    """Is this engine a manager of an active swarm (may it list and remove services)?"""
    info = swarm_info(c)
    return info.get("LocalNodeState") == "active" and bool(info.get("ControlAvailable"))


def swarm_services(c, name: str | None = None) -> list:
    """The swarm services labelled for cluster ``name`` (or any); none when this engine is no manager."""
    if not is_manager(c):
        return []
    label = f"{labels.CLUSTER}={name}" if name else labels.CLUSTER
    return c.services.list(filters={"label": label})


NETWORK_GONE_TIMEOUT = 30.0  # s: a swarm network is removable only once its tasks' endpoints are gone


def clean(c, name: str | None = None) -> dict[str, int]:
    """Remove every swarm service, container, network and volume labelled for ``name`` (or any cluster)."""
    from docker.errors import APIError, NotFound

    label = f"{labels.CLUSTER}={name}" if name else labels.CLUSTER
    removed = {"containers": 0, "networks": 0, "volumes": 0}
    services = swarm_services(c, name)
    for svc in services:  # first, or a service would start its task again
        try:
            svc.remove()
            removed["services"] = removed.get("services", 0) + 1
        except NotFound:
            pass
    for ctr in cluster_containers(c, name):
        try:
            ctr.remove(force=True, v=True)
            removed["containers"] += 1
        except NotFound:
            pass
    def networks_gone() -> bool:
        for net in c.networks.list(filters={"label": label}):
            try:
                net.remove()
                removed["networks"] += 1
            except NotFound:
                pass
            except APIError:
                if not services:
                    continue
                raise NotYet(f"network {net.name} still has endpoints") from None
        # a swarm network is removed from the swarm at once, and from this engine a moment later
        if services and (left := c.networks.list(filters={"label": label})):
            raise NotYet(f"network {left[0].name} still listed")
        return True

    try:  # a swarm network outlives its services for a moment: wait for it; a local one is tried once
        poll(networks_gone, timeout=NETWORK_GONE_TIMEOUT, what="the cluster's swarm network removed", interval=0.5)
    except TestbedError:
        pass  # left for the next clean; the removed counts say what went
    for vol in c.volumes.list(filters={"label": label}):
        try:
            vol.remove(force=True)
            removed["volumes"] += 1
        except (NotFound, APIError):
            pass
    return removed
