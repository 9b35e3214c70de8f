"""Launch kinds: one small class per way of starting engines, in a registry keyed by ``launch:``.

A kind (modelled on ipyparallel's ``cluster/launcher.py``: one class per mechanism,
argv lists rather than shell text) says:

- ``validate(group, index, topology)``: what is wrong with a group of this kind, if
  anything (the topology parser calls it, so a bad file fails before anything starts);
- ``one_world(group)``: whether the group's engines share one ``MPI_COMM_WORLD``;
- ``starts(group, rows, ctx)``: the commands that start it, each with its node, its
  argv, its log and how many engines are registered once it is up (what to wait for).
  ``rows`` are the group's placements (``testbed.placement``): every id, rank and host
  a command hands to an engine comes from them.
- ``starts_controller``: whether the kind starts the controller too (ipcluster);
  otherwise the lifecycle starts ``ipcontroller`` alone first.

A new kind is one module in this package that defines a subclass decorated with
``@register``; every module here is imported when the package is, so nothing else
changes. See docs/launch-kinds.md. The registry itself is ``testbed.kinds`` (re-exported
here), which the topology parser reads without importing this package.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, ClassVar

from .. import stacks
from ..kinds import REGISTRY, kind, names, register  # noqa: F401  (the kinds' API, here as before)

if TYPE_CHECKING:  # pragma: no cover
    from ..placement import Placement
    from ..schedulers import Scheduler
    from ..topology import Group, Topology

# where things live in a node (the image makes these folders, owned by user mpi)
HOME = PurePosixPath("/home/mpi")
SECURITY = HOME / ".ipython/profile_default/security"
ENGINE_FILE = SECURITY / "ipcontroller-engine.json"
LOGS = PurePosixPath("/tmp/testbed")
NAME_SERVER_URI = LOGS / "name-server.uri"


@dataclass(frozen=True)
class Start:
    """One command that starts engines (or the controller), and what to wait for after it."""

    node: str  # the service it runs on
    argv: tuple[str, ...]
    log: PurePosixPath  # its output
    registered: int  # engines registered at the controller once it is up
    says: str  # a progress line for the user
    engine_file_on: tuple[str, ...] = ()  # nodes that need the engine connection file first
    files: tuple[tuple[str, PurePosixPath, str], ...] = ()  # (node, path, text) written first
    watch: tuple[str, ...] = ()  # options of the wait that watch the launch (e.g. its Slurm job)


@dataclass(frozen=True)
class LaunchContext:
    """What a kind needs to know about the cluster to build its commands (plain data)."""

    topology: Topology
    stack: stacks.Stack = stacks.DEFAULT

    @property
    def controller_host(self) -> str:
        return self.topology.hostname(self.topology.controller)

    def registered_before(self, group: Group) -> int:
        total = 0
        for g in self.topology.groups:
            if g.name == group.name:
                return total
            total += g.engines
        raise ValueError(group.name)

    def mpi_extra(self) -> list[str]:
        """mpiexec options every MPI launch of the topology needs (the name server)."""
        if not self.topology.name_server:
            return []
        return self.stack.name_server_args(NAME_SERVER_URI, self.controller_host)


class LaunchKind:
    name: ClassVar[str]
    starts_controller: ClassVar[bool] = False
    mpi_default: ClassVar[bool] = False  # what ``mpi:`` is when the group does not say
    takes_hosts: ClassVar[bool] = False  # whether ``hosts:`` (ranks on other nodes) means anything
    scheduler: ClassVar[Scheduler | None] = None  # the batch system it submits to (testbed.schedulers)

    def validate(self, group: Group, index: int, topology: Topology) -> str | None:
        """An error message for a group of this kind that cannot work, or None."""
        return None

    def one_world(self, group: Group) -> bool:
        return False

    def starts(self, group: Group, rows: list[Placement], ctx: LaunchContext) -> list[Start]:
        raise NotImplementedError


def ipcluster_engines(engines: int, *options: str) -> tuple[str, ...]:
    """``ipcluster engines`` in the background, its files under LOGS: the argv the kinds whose engines
    ipcluster starts elsewhere (through a scheduler, over ssh) share; ``options`` say how."""
    return ("ipcluster", "engines", "--daemonize", f"--work-dir={LOGS}", f"--n={engines}", *options)


def controller_start(topology: Topology) -> Start:
    """``ipcontroller`` alone, listening on the cluster network (when no group's kind starts it)."""
    host = topology.hostname(topology.controller)
    return Start(
        node=topology.controller,
        argv=("ipcontroller", "--ip=0.0.0.0", f"--location={host}"),
        log=LOGS / "controller.log",
        registered=0,
        says=f"{topology.controller}: ipcontroller --ip=0.0.0.0 --location={host}",
    )


def _import_kinds() -> None:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


_import_kinds()
