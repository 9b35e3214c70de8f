"""The compose backend: a topology's nodes as a Compose v2 project on this host.

testcontainers' ``DockerCompose`` runs ``docker compose up --wait`` on the topology's
file, with the cluster's name, image and labels in an env file; ``node(service)``
returns a handle on a running container of the project. The other backends (a Swarm
stack, ``testbed.backends.swarm``) give the same handles, so nothing above them changes.
"""

from __future__ import annotations

import subprocess

from .. import docker_env, labels
from ..errors import TestbedError
from ..node import Node
from .base import Backend, register


@register
class ComposeBackend(Backend):
    """The nodes as a Compose v2 project on this host."""

    kind = "compose"
    what = "compose project"
    on_this_host = True

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
