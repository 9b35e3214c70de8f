"""JupyterLab on the controller node of a cluster (``testbed notebook``).

The controller node of a cluster that serves notebooks runs the lab image of its stack
(``ipp-testbed/lab:<stack>``: the node image with JupyterLab and the repository's
notebooks); every other node keeps the node image. The lab's port is published on the
host's loopback address only, and the server takes a token made for that cluster. The
kernels run on the controller node, on the Python of the engines, as user ``mpi``,
beside the client connection file: ``ipp.Client()`` needs no argument, and ``%px``
works.

ipyparallel's JupyterLab panel lists the clusters of the profile's cluster files; the
testbed writes one for its controller (``testbed_node.py lab-cluster``), so the panel
shows the cluster as running, with its engine count.
"""

from __future__ import annotations

import json
import secrets
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from . import labels, limits
from .errors import TestbedError
from .launch import LOGS
from .waiting import NotYet, poll

Cluster = Any  # testbed.cluster.Cluster (which imports this module)
LAB_PORT = 8888  # the lab's port inside the controller node
FIRST_PORT = 8888  # the first host port tried when none is asked for
PORT_TRIES = 100
NOTEBOOKS = PurePosixPath("/home/mpi/notebooks")
LAB_LOG = LOGS / "lab.log"
READY_TIMEOUT = 60.0  # s for the lab to answer (it takes 3-6 s here)
HOST = "127.0.0.1"


def known() -> list[str]:
    """The repository's notebooks (the lab image holds the same)."""
    from .images import NOTEBOOKS as SOURCE

    return sorted(p.name for p in SOURCE.glob("*.ipynb"))


def resolve(name: object, known_names: list[str]) -> str:
    """A notebook's file name from a name, a prefix (``03``) or a path ending in it."""
    if not isinstance(name, str) or not name.strip():
        raise TestbedError(f"notebook {limits.show(name)}: give one of {', '.join(known_names)}")
    base = PurePosixPath(name.strip()).name
    hits = [k for k in known_names if k == base or k == f"{base}.ipynb" or k.startswith(base)]
    if len(hits) != 1:
        what = "matches several" if hits else "is not one of the notebooks"
        raise TestbedError(f"notebook {limits.show(name)} {what}: give one of {', '.join(known_names)}")
    return hits[0]


def port_free(port: int) -> bool:
    """True when nothing listens on (or holds) ``port`` of the loopback address."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def choose_port(port: int | None) -> int:
    """The host port for the lab: ``port`` when it is free, else the first free from 8888."""
    if port is not None:
        if not 1 <= port <= 65535:
            raise TestbedError(f"--port {port}: a port is 1-65535")
        if not port_free(port):
            raise TestbedError(
                f"port {port} on {HOST} is taken: choose another with --port (make: PORT=), "
                "or leave it out and the testbed picks a free one"
            )
        return port
    for p in range(FIRST_PORT, FIRST_PORT + PORT_TRIES):
        if port_free(p):
            return p
    last = FIRST_PORT + PORT_TRIES - 1
    raise TestbedError(f"ports {FIRST_PORT}-{last} on {HOST} are all taken: choose one with --port")


def overrides(controller: str, image: str, port: int) -> dict:
    """The compose keys that make ``controller`` a lab node: its image and its published port."""
    published = f"{HOST}:{port}:{LAB_PORT}"
    return {controller: {"image": image, "ports": [published], "labels": {labels.LAB_PORT: str(port)}}}


def lab_argv(token: str, root: PurePosixPath = NOTEBOOKS) -> list[str]:
    """JupyterLab's command: it opens ``root`` (the repository's notebooks, or a mounted folder)."""
    return [
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=0.0.0.0",
        f"--port={LAB_PORT}",
        "--port-retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
    ]


def http_get(url: str, token: str | None, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET ``url`` with ``Authorization: token ...`` (when given): (status, body)."""
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@dataclass
class Lab:
    """A lab served from a cluster's controller node."""

    cluster: Cluster
    port: int
    token: str

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/lab?token={self.token}"

    def get(self, path: str, token: str | None = "") -> tuple[int, bytes]:
        return http_get(self.base + path, self.token if token == "" else token)

    def answers(self) -> bool:
        try:
            code, _ = self.get("/api/status")
        except OSError as e:  # not listening yet, or the proxy's connection was reset
            raise NotYet(str(e)) from None
        if code != 200:
            raise NotYet(f"/api/status: HTTP {code}")
        return True

    @classmethod
    def start(cls, cluster: Cluster, port: int) -> Lab:
        """Start JupyterLab on the controller node with a new token; wait until it answers."""
        lab = cls(cluster, port, secrets.token_hex(24))
        ctl = cluster.controller
        ctl.start(lab_argv(lab.token, cluster.mount_path or NOTEBOOKS), LAB_LOG)
        try:
            poll(lab.answers, timeout=READY_TIMEOUT, what=f"JupyterLab on {cluster.topology.controller}")
        except TestbedError as e:
            raise TestbedError(f"{e}\n--- {LAB_LOG} ---\n{ctl.tail(LAB_LOG.name, 10)}") from None
        cluster.node_json(["lab-cluster", "--id", cluster.name, "--engines", str(cluster.topology.engine_count)])
        return lab

    @classmethod
    def find(cls, cluster: Cluster) -> Lab | None:
        """The lab of a running cluster (None: its controller node is not a lab node)."""
        ctr = cluster.controller.container
        port = (ctr.labels or {}).get(labels.LAB_PORT)
        if not port:
            return None
        res = cluster.controller.exec(["jupyter", "server", "list", "--json"])
        for line in res.out.splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if doc.get("port") == LAB_PORT and doc.get("token"):
                return cls(cluster, int(port), doc["token"])
        return cls.start(cluster, int(port))  # a lab node whose server ended: start it again

    def execute(self, notebook: str, timeout: int = 300) -> dict:
        """Run ``notebook`` (a file of NOTEBOOKS) headless on the controller node (nbclient), in
        its own kernel; the executed notebook, as a dict."""
        out = LOGS / f"executed-{PurePosixPath(notebook).name}"
        code = (
            "import sys, nbformat, nbclient\n"
            "nb = nbformat.read(sys.argv[1], as_version=4)\n"
            "client = nbclient.NotebookClient(nb, timeout=int(sys.argv[3]), kernel_name='python3',"
            " resources={'metadata': {'path': sys.argv[4]}})\n"
            "try:\n"
            "    client.execute()\n"
            "finally:\n"
            "    nbformat.write(nb, sys.argv[2])\n"
        )
        ctl = self.cluster.controller
        res = ctl.exec(["python3", "-c", code, str(NOTEBOOKS / notebook), str(out), str(timeout), str(NOTEBOOKS)])
        written = ctl.exec(["cat", str(out)])  # absent when the notebook could not even be read
        # bounded in size and depth (limits.NOTEBOOK_BYTES, limits.JSON_DEPTH): one line, never a RecursionError
        doc = limits.loads_json(written.out, f"executed {notebook}", limits.NOTEBOOK_BYTES) if written.code == 0 else {}
        if res.code:
            last = (res.err.strip().splitlines() or ["exit " + str(res.code)])[-1]
            raise NotebookFailed(f"{notebook}: {last[:300]}", doc)
        return doc


class NotebookFailed(TestbedError):
    def __init__(self, msg: str, executed: dict):
        super().__init__(msg)
        self.executed = executed


def outputs_text(nb: dict) -> str:
    """Every text output of an executed notebook, in order (streams, results, errors)."""
    parts = []
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                parts.append("".join(o.get("text", "")))
            elif o.get("output_type") in ("execute_result", "display_data"):
                parts.append("".join(o.get("data", {}).get("text/plain", "")))
            elif o.get("output_type") == "error":
                parts.append(f"{o.get('ename')}: {o.get('evalue')}")
    return "\n".join(parts)
