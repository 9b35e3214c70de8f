"""A client on the host: the controller's client ports published on 127.0.0.1, and a
connection file that reaches them.

The controller's profile fixes the ports a client connects to
(``docker/ipython/ipcontroller_config.py``: registration 10101, then 10102-10107), and
every compose cluster publishes them on the host's 127.0.0.1, each on a port Docker
chooses, so that clusters side by side never collide. ``connection`` reads the
controller's own ``ipcontroller-client.json`` and rewrites its address and ports to
those published ones; ``ipp.Client(path)`` from the host's Python then reaches
the engines. Nothing is published on other interfaces.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from . import docker_env
from .errors import TestbedError
from .launch import SECURITY

HOST = "127.0.0.1"
REGISTRATION_PORT = 10101
CLIENT_PORTS = tuple(range(10102, 10108))  # control, mux, task, iopub, notification, broadcast
PORTS = (REGISTRATION_PORT, *CLIENT_PORTS)
CLIENT_FILE = SECURITY / "ipcontroller-client.json"
PORT_KEYS = ("registration", "control", "mux", "task", "iopub", "notification", "broadcast")
# ipyparallel versions a host client was seen to work with against the image's 9.2 (docs/api.md)
HOST_MAJORS = (8, 9)


def overrides(controller: str) -> dict:
    """Compose keys of the controller node: its client ports, each on a free port of 127.0.0.1."""
    return {controller: {"ports": [f"{HOST}::{p}" for p in PORTS]}}


def published(container) -> dict[int, int]:
    """{port in the node: port on the host's 127.0.0.1} of a running controller node."""
    container.reload()
    found = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
    out = {}
    for p in PORTS:
        for b in found.get(f"{p}/tcp") or []:
            if b.get("HostIp") in (HOST, "") and b.get("HostPort"):
                out[p] = int(b["HostPort"])
    return out


def rewrite(doc: dict, ports: dict[int, int]) -> dict:
    """The controller's client connection dict, pointed at the published ports of the host."""
    out = dict(doc)
    missing = [k for k in PORT_KEYS if isinstance(doc.get(k), int) and doc[k] not in ports]
    if missing:
        raise TestbedError(
            f"the controller listens for clients on port(s) {', '.join(str(doc[k]) for k in missing)}, "
            "which are not published: it was started without the testbed's profile"
        )
    for k in PORT_KEYS:
        if isinstance(doc.get(k), int):
            out[k] = ports[doc[k]]
    out["interface"] = f"tcp://{HOST}"
    out["location"] = HOST
    out["ssh"] = ""
    return out


def connection(cluster) -> dict:
    """The connection dict of ``cluster`` (a testbed.cluster.Cluster that is up) for the host."""
    if not cluster.on_this_host:
        raise TestbedError(
            f"a host-side client reaches a compose cluster on this host; "
            f"a {cluster.backend.what}'s nodes publish no port"
        )
    # its ports are on 127.0.0.1 of the engine's machine (docs/hosts.md)
    docker_env.require_local("a host-side client connects to ports published on 127.0.0.1 of the engine's machine")
    ctl = cluster.controller
    ports = published(ctl.container)
    if not ports:
        raise TestbedError(
            f"cluster {cluster.name!r} publishes no client port (it was brought up by an older testbed): "
            f"`testbed down --name {cluster.name}`, then bring it up again"
        )
    try:
        doc = json.loads(ctl.read(CLIENT_FILE))
    except (TestbedError, json.JSONDecodeError):
        raise TestbedError(
            f"cluster {cluster.name!r} has no controller yet ({CLIENT_FILE} is missing on {ctl.service}): "
            "is it up with its engines?"
        ) from None
    return rewrite(doc, ports)


def default_path(name: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ipp-testbed" / "clients" / f"{name}.json"


def write(cluster, path: Path | None = None) -> Path:
    """Write the host's connection file of ``cluster`` (mode 600: it holds the cluster's key)."""
    doc = connection(cluster)
    path = Path(path) if path else default_path(cluster.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through open: made private before the key goes in
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=1)
    return path


def python_note(version_info: tuple = tuple(sys.version_info[:2])) -> str | None:
    """What a host-side client cannot do when this Python is not the nodes' (None when it is)."""
    from .images import NODE_PYTHON

    here = f"{version_info[0]}.{version_info[1]}"
    if here == NODE_PYTHON:
        return None
    return (
        f"this host runs Python {here} and the nodes {NODE_PYTHON}: a function you send (apply, map, @remote) "
        f'travels as bytecode, which the nodes\' Python cannot run ("SystemError: no locals ..."); code as text '
        f"(execute, run), data (push, pull, scatter) and the lecture's programs work. Send functions from Python "
        f"{NODE_PYTHON}, or run them on the nodes (`testbed shell`, `testbed exec`)"
    )


def check_version(version: str) -> None:
    """Refuse, in one line, a host ipyparallel whose major version was not seen to work."""
    try:
        major = int(version.split(".")[0])
    except ValueError:
        return
    if major not in HOST_MAJORS:
        raise TestbedError(
            f"ipyparallel {version} on the host: a host-side client works with {' or '.join(map(str, HOST_MAJORS))}.x "
            "(the nodes run 9.2); `pip install 'ipyparallel>=8,<10'`"
        )
