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


DEFAULT_ENDPOINT = "unix:///var/run/docker.sock"


def endpoint() -> str:
    """The engine the testbed talks to: DOCKER_HOST, else the current Docker context's (as the docker
    CLI, and so Compose, would use it), else the default socket."""
    if host := os.environ.get("DOCKER_HOST"):
        return host
    try:
        from docker.context import ContextAPI

        ctx = ContextAPI.get_current_context()
        if ctx is not None and ctx.name != "default" and ctx.Host:
            return ctx.Host
    except Exception:  # noqa: BLE001 - an unreadable context: the CLI would say so; use the socket
        pass
    return DEFAULT_ENDPOINT


def is_local(where: str | None = None) -> bool:
    """Is the engine on this machine (a unix socket, or TCP on loopback)? Elsewhere, a folder of this
    machine is not there to bind, and a port it publishes on 127.0.0.1 is not this machine's."""
    from urllib.parse import urlparse

    u = urlparse(where or endpoint())
    if u.scheme in ("unix", "npipe", ""):
        return True
    return u.scheme in ("tcp", "http", "https") and (u.hostname or "") in ("127.0.0.1", "localhost", "::1")


def require_local(what: str) -> None:
    """A one-line refusal of ``what`` (a feature that needs this machine's files or ports) on a remote engine."""
    if not is_local():
        raise TestbedError(f"{what}, but the Docker engine is remote ({endpoint()}): run the testbed on that host")


def client():
    """A docker-py client whose daemon answers, or a TestbedError saying why not."""
    from docker.errors import DockerException

    import docker

    try:
        # DOCKER_HOST and its TLS settings as docker-py reads them; else the context's endpoint, or the socket
        c = (
            docker.from_env(timeout=120)
            if os.environ.get("DOCKER_HOST")
            else (docker.DockerClient(base_url=endpoint(), timeout=120))
        )
        c.ping()
    except DockerException as e:
        host = endpoint()
        raise TestbedError(
            f"cannot reach the Docker daemon at {host}: is Docker running and may this user use it? ({_short(e)})"
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
        proc = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
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


def is_podman(version: dict) -> bool:
    """Is the engine whose ``version()`` this is Podman (behind its Docker-compatible API)?"""
    return any("Podman" in part.get("Name", "") for part in version.get("Components") or [])


def run_once(c, image: str, argv: list[str], timeout: float = 120, **kw) -> bytes:
    """``argv`` in a one-off container of ``image``: its output, the container removed. docker-py's
    own ``run(remove=True)`` reads the output after removing the container when the log driver is
    not json-file or journald (Podman's k8s-file), and then gets nothing."""
    ctr = c.containers.run(image, argv, detach=True, **kw)
    try:
        status = ctr.wait(timeout=timeout)["StatusCode"]
        out = ctr.logs(stdout=True, stderr=status != 0)
    finally:
        ctr.remove(force=True)
    if status != 0:
        raise TestbedError(
            f"{argv[0]} in a container of {image} exited with status {status}: "
            f"{out.decode(errors='replace').strip()[-200:]}"
        )
    return out


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
