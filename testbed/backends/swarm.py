"""The swarm backend: a topology's nodes as a Docker Swarm stack, on one host or several.

Compose itself flattens the topology file (``docker compose config``: ``extends``,
``env_file`` and the cluster's variables resolved); ``render`` turns that into what
``docker stack deploy`` accepts:

- a ``version: "3.8"`` file, without Compose's own keys (``name``, null entries);
- ``shm_size``, which a stack ignores, becomes a tmpfs on /dev/shm of the same size;
- the network is an attachable overlay, so the testbed (and ``docker run --network``)
  can still reach the nodes;
- one service per node: one replica, never restarted (a node that dies is a fault to
  see, not to hide), DNS round-robin (a node's name is its own address, no virtual IP)
  and its hostname as an alias on the network;
- ``--place NODE=VALUE`` puts a node on the swarm nodes labelled ``ipp-testbed.host=VALUE``.

The stack is deployed with ``--resolve-image never``: the images are local, and there is
no registry to ask. A node whose image is missing on its swarm node is said in one line.
A node's handle is its task's container, found through the swarm and reached through the
Docker engine of the swarm node it runs on: this host's, or the endpoint that swarm
node's label ``ipp-testbed.docker`` names (docs/swarm.md).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence

import yaml

from .. import docker_env, labels
from ..errors import TestbedError
from ..node import Node
from ..waiting import NotYet, poll
from .base import Backend, project_name, register

STACK_VERSION = "3.8"
START_TIMEOUT = 180.0  # s for every node's task to run (a swarm node may still be loading the image)
# what a node's service keeps of Compose's flattened service; anything else is refused by name
_KEEP = ("image", "hostname", "environment", "labels", "command", "entrypoint", "cap_add")
_HANDLED = ("shm_size", "volumes", "networks")
_FAILED = {"failed", "rejected", "shutdown", "orphaned", "remove", "complete"}
MAX_NAME = 63  # a service's name, <stack>_<node>, is a DNS label


def parse_place(items: Sequence[str] | None, nodes: Sequence[str]) -> dict[str, str]:
    """``["node1=hostA", ...]`` -> {node: label value}; one clear line for what is wrong."""
    out: dict[str, str] = {}
    for item in items or ():
        node, sep, value = str(item).partition("=")
        if not sep or not node or not value or any(ch.isspace() for ch in value):
            raise TestbedError(f"--place {item!r}: give NODE=VALUE, e.g. node1=hostA")
        if node not in nodes:
            raise TestbedError(f"--place {item!r}: the topology has no node {node!r} (its nodes: {', '.join(nodes)})")
        out[node] = value
    return out


def render(config: Mapping, cluster: str, place: Mapping[str, str] | None = None) -> dict:
    """The stack file for Compose's flattened ``config`` of one cluster."""
    place = place or {}
    stack = project_name(cluster)
    services = config.get("services") or {}
    out: dict = {"version": STACK_VERSION, "services": {}}

    def labelled(body) -> dict:
        return {"labels": {**(body or {}).get("labels", {}), labels.CLUSTER: cluster}}

    out["networks"] = {
        net: {"driver": "overlay", "attachable": True, **labelled(body)}
        for net, body in (config.get("networks") or {}).items()
    }
    if config.get("volumes"):
        out["volumes"] = {vol: labelled(body) for vol, body in config["volumes"].items()}
    for svc, body in services.items():
        if len(f"{stack}_{svc}") > MAX_NAME:
            raise TestbedError(
                f"swarm service name {stack}_{svc} is longer than {MAX_NAME} characters: choose a shorter --name"
            )
        if body.get("ports"):
            raise TestbedError(f"node {svc} publishes ports (the lab): on a swarm, use `testbed up` without a lab")
        unknown = sorted(set(body) - set(_KEEP) - set(_HANDLED) - {"ports"})
        if unknown:
            raise TestbedError(f"node {svc}: {', '.join(unknown)} cannot be rendered for a swarm stack")
        s = {k: body[k] for k in _KEEP if body.get(k) is not None}
        node_labels = {**s.get("labels", {}), labels.NODE: svc, labels.BACKEND: "swarm", labels.CLUSTER: cluster}
        s["labels"] = node_labels  # on the container
        mounts = [
            {k: v for k, v in m.items() if k in ("type", "source", "target", "read_only")}
            for m in body.get("volumes") or []
        ]
        if body.get("shm_size"):  # ignored by a stack: the same size as a tmpfs
            mounts.append({"type": "tmpfs", "target": "/dev/shm", "tmpfs": {"size": int(body["shm_size"])}})
        if mounts:
            s["volumes"] = mounts
        hostname = body.get("hostname", svc)
        s["networks"] = {net: {"aliases": [hostname]} for net in (body.get("networks") or {})}
        deploy: dict = {
            "replicas": 1,
            "endpoint_mode": "dnsrr",
            "restart_policy": {"condition": "none"},
            "labels": node_labels,  # on the service: clean and status find it by them
        }
        if svc in place:
            deploy["placement"] = {"constraints": [f"node.labels.{labels.SWARM_PLACE} == {place[svc]}"]}
        s["deploy"] = deploy
        out["services"][svc] = s
    return out


def require_manager(c) -> None:
    info = docker_env.swarm_info(c)
    state = info.get("LocalNodeState") or "inactive"
    if state != "active":
        raise TestbedError(
            f"this Docker engine is not part of a swarm (Swarm: {state}): `docker swarm init` makes a "
            "single-node one; docs/swarm.md joins more hosts"
        )
    if not info.get("ControlAvailable"):
        raise TestbedError(
            "this Docker engine is a swarm worker: run the testbed on a manager (`docker node ls` lists them)"
        )


def _latest_task(service) -> dict | None:
    tasks = service.tasks()
    return max(tasks, key=lambda t: t.get("CreatedAt", "")) if tasks else None


@register
class SwarmBackend(Backend):
    """The nodes as the services of one swarm stack."""

    kind = "swarm"
    what = "swarm stack"
    takes_place = True

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        unknown = sorted(set(self.place) - set(self.topology.nodes))
        if unknown:
            nodes = ", ".join(self.topology.nodes)
            raise TestbedError(f"place: the topology has no node {unknown[0]!r} (its nodes: {nodes})")
        self.stack = project_name(self.name)
        self._clients: dict[str, object] = {}
        self._endpoints: dict[str, str] = {}  # swarm node id -> the engine it was reached through
        self._node_names: dict[str, str] = {}
        self._local_id: str | None = None  # this engine's swarm node id, asked once

    def require_image(self, remedy: str) -> None:
        require_manager(self.docker)
        if len(self.docker.nodes.list()) == 1:  # on several swarm nodes, each says it for itself at start
            super().require_image(remedy)

    def rendered(self) -> dict:
        """``docker compose config`` of the topology (flattened), rendered for ``docker stack deploy``."""
        argv = ["docker", "compose"]
        for f in self._files():
            argv += ["-f", f]
        argv += ["--env-file", self._env_file(), "config", "--format", "json"]
        proc = subprocess.run(argv, cwd=self.topology.path.parent, capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            err = proc.stderr.strip().splitlines()
            raise TestbedError(f"docker compose config failed for {self.topology.path.name}: {err[-1] if err else ''}")
        return render(json.loads(proc.stdout), self.name, self.place)

    def start(self) -> None:
        """``docker stack deploy``, then wait until every node's task runs (or one failed)."""
        c = self.docker
        require_manager(c)
        if self.place:  # a constraint no node meets would leave the task pending, silently
            have = {(n.attrs["Spec"].get("Labels") or {}).get(labels.SWARM_PLACE) for n in c.nodes.list()}
            for value in sorted(set(self.place.values()) - have):
                raise TestbedError(
                    f"no swarm node is labelled {labels.SWARM_PLACE}={value} (--place): `docker node update "
                    f"--label-add {labels.SWARM_PLACE}={value} NODE`; `testbed status --swarm` lists the nodes"
                )
        path = self._tmpdir() / "stack.yaml"
        path.write_text(yaml.safe_dump(self.rendered(), sort_keys=False))
        argv = ["docker", "stack", "deploy", "--resolve-image", "never", "-c", str(path), self.stack]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            err = proc.stderr.strip().splitlines()
            raise TestbedError(f"docker stack deploy {self.stack} failed: {err[-1] if err else proc.returncode}")
        what = f"swarm stack {self.stack}: every node running"
        poll(self._all_running, timeout=START_TIMEOUT, what=what, interval=0.5)

    def _service(self, svc: str):
        found = [
            s
            for s in self.docker.services.list(filters={"name": f"{self.stack}_{svc}"})
            if s.name == f"{self.stack}_{svc}"
        ]
        return found[0] if found else None

    def _task(self, svc: str) -> dict | None:
        """The latest task of node ``svc``'s service, or None."""
        service = self._service(svc)
        return _latest_task(service) if service else None

    def _swarm_node_name(self, node_id: str) -> str:
        if node_id not in self._node_names:
            try:
                self._node_names[node_id] = self.docker.nodes.get(node_id).attrs["Description"]["Hostname"]
            except Exception:  # noqa: BLE001 - a name for a message only
                self._node_names[node_id] = node_id[:12]
        return self._node_names[node_id]

    def _all_running(self) -> bool:
        waiting = []
        for svc in self.topology.nodes:
            task = self._task(svc)
            if task is None:
                waiting.append(f"{svc}: no task yet")
                continue
            status = task.get("Status", {})
            state = status.get("State", "?")
            err = status.get("Err") or status.get("Message") or ""
            where = self._swarm_node_name(task["NodeID"]) if task.get("NodeID") else "no swarm node yet"
            if state in _FAILED:
                if "No such image" in err:
                    image = self.image
                    raise TestbedError(
                        f"image {image} is missing on swarm node {where} (node {svc}): build it there "
                        f"(`make images`) or copy it (`docker save {image} | docker -H <that host> load`)"
                    )
                raise TestbedError(f"node {svc} on swarm node {where}: task {state}: {err}")
            if state != "running":
                waiting.append(f"{svc}: {state} on {where}" + (f" ({err})" if err else ""))
        if waiting:
            raise NotYet("; ".join(waiting))
        return True

    def _client_for(self, node_id: str, service: str):
        """The Docker engine of swarm node ``node_id``: this one, or its label's endpoint."""
        c = self.docker
        if self._local_id is None:
            self._local_id = docker_env.swarm_info(c).get("NodeID", "")
        if node_id == self._local_id:
            return c
        if node_id not in self._clients:
            import docker

            node = c.nodes.get(node_id)
            host = node.attrs["Description"]["Hostname"]
            endpoint = (node.attrs["Spec"].get("Labels") or {}).get(labels.SWARM_ENDPOINT)
            if not endpoint:
                raise TestbedError(
                    f"node {service} runs on swarm node {host}, not on this host, and {host} has no label "
                    f"{labels.SWARM_ENDPOINT} (the Docker endpoint to reach it by): "
                    f"`docker node update --label-add {labels.SWARM_ENDPOINT}=ssh://USER@{host} {host}` (docs/swarm.md)"
                )
            try:
                ssh_cli = endpoint.startswith("ssh://")  # the ssh command's own config and keys
                client = docker.DockerClient(base_url=endpoint, timeout=120, use_ssh_client=ssh_cli)
                client.ping()
            except Exception as e:  # noqa: BLE001 - one line, whatever docker-py raised
                why = str(e).strip()[-200:]
                raise TestbedError(f"cannot reach the Docker engine of swarm node {host} ({endpoint}): {why}") from None
            self._clients[node_id] = client
            self._endpoints[node_id] = endpoint
        return self._clients[node_id]

    def endpoint_of(self, service: str) -> str | None:
        """The Docker endpoint node ``service`` is reached through, or None for this engine."""
        task = self._task(service)
        if not task:
            return None
        self._client_for(task["NodeID"], service)
        return self._endpoints.get(task["NodeID"])

    def node(self, service: str) -> Node:
        task = self._task(service)
        status = (task or {}).get("Status", {})
        cid = status.get("ContainerStatus", {}).get("ContainerID")
        if not task or status.get("State") != "running" or not cid:
            raise TestbedError(f"cluster {self.name}: node {service!r} is not running")
        from docker.errors import NotFound

        try:
            ctr = self._client_for(task["NodeID"], service).containers.get(cid)
        except NotFound:
            raise TestbedError(f"cluster {self.name}: node {service!r} is not running") from None
        return Node(ctr, service)

    def stop(self) -> None:
        """Remove the stack's services, then anything still labelled for this cluster."""
        docker_env.clean(self.docker, self.name)


def stack_nodes(c, name: str) -> list[tuple[str, str, str]]:
    """(node, task state, swarm node's hostname) of each service of cluster ``name``."""
    hosts = {n.id: n.attrs["Description"]["Hostname"] for n in c.nodes.list()}
    out = []
    for svc in docker_env.swarm_services(c, name):
        spec = svc.attrs["Spec"]
        task = _latest_task(svc) or {}
        node = labels.node_of(spec.get("Labels") or {}, svc.name)
        out.append((node, task.get("Status", {}).get("State", "no task"), hosts.get(task.get("NodeID"), "-")))
    return sorted(out)


def swarm_nodes(c) -> list[str]:
    """One line per swarm node: hostname, state, availability, role and its ipp-testbed labels."""
    lines = []
    for n in c.nodes.list():
        spec, desc = n.attrs["Spec"], n.attrs["Description"]
        marks = {k: v for k, v in (spec.get("Labels") or {}).items() if k.startswith("ipp-testbed.")}
        extra = "  " + " ".join(f"{k}={v}" for k, v in sorted(marks.items())) if marks else ""
        lines.append(
            f"{desc['Hostname']:20} {n.attrs['Status']['State']:6} {spec.get('Availability', '?'):7} "
            f"{spec.get('Role', '?'):8}{extra}"
        )
    return lines
