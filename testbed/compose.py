"""The compose backend: a topology's nodes as a Compose v2 project on this host.

testcontainers' ``DockerCompose`` runs ``docker compose up --wait`` on the topology's
file, with the cluster's name, image and labels in an env file; ``node(service)``
returns a handle on a running container of the project. The other backend, a Swarm
stack (``testbed.swarm``), gives the same handles, so nothing above it changes.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import yaml

from . import docker_env, labels
from .errors import TestbedError
from .node import Node
from .topology import Topology


def project_name(cluster: str) -> str:
    return f"ipp-testbed-{cluster}"


class Backend:
    """What both backends share: the topology file, its overrides and the cluster's env file."""

    def __init__(self, topology: Topology, name: str, image: str, mpi: str, overrides: dict | None = None):
        self.topology = topology
        self.name = name
        self.image = image
        self.mpi = mpi
        # {service: compose keys}: a second compose file on top of the topology's (the lab's
        # image and published port on the controller node)
        self.overrides = overrides or {}
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


class ComposeBackend(Backend):
    """The nodes as a Compose v2 project on this host."""

    _compose = None

    def _project(self):
        if self._compose is None:
            import logging

            from testcontainers.compose import DockerCompose

            # it logs a failed command's whole output; start() and stop() say it in one line
            logging.getLogger("testcontainers.compose").setLevel(logging.CRITICAL)

            self._compose = DockerCompose(
                context=str(self.topology.path.parent),
                compose_file_name=self._files(),
                env_file=self._env_file(),
                wait=True,
            )
        return self._compose

    def start(self) -> None:
        """``docker compose up --wait``: every node running."""
        try:
            self._project().start()
        except subprocess.CalledProcessError as e:
            err = (e.stderr or b"").decode(errors="replace").strip().splitlines()
            taken = [line for line in err if "port is already allocated" in line or "address already in use" in line]
            if taken:
                why = taken[-1].strip()[-160:]
                raise TestbedError(f"docker compose up: a published port is taken ({why})") from None
            raise TestbedError(
                f"docker compose up failed for {self.topology.path.name}: "
                f"{err[-1] if err else 'exit ' + str(e.returncode)}"
            ) from None

    def stop(self) -> None:
        """Remove the project, then anything still labelled for this cluster."""
        try:
            self._project().stop(down=True)
        except Exception:  # noqa: BLE001 - fall through to the label sweep
            pass
        docker_env.clean(self.docker, self.name)

    def node(self, service: str) -> Node:
        found = self.docker.containers.list(
            filters={"label": [f"{labels.CLUSTER}={self.name}", f"{labels.COMPOSE_SERVICE}={service}"]},
            ignore_removed=True,
        )
        if not found:
            raise TestbedError(f"cluster {self.name}: node {service!r} is not running")
        return Node(found[0], service)
