"""Schedulers: one module per batch system, a small class each, in a registry keyed by name.

The shape is dask-jobqueue's ``Job`` (one class per scheduler: its configuration, the
header of its batch script, the commands that submit and cancel a job) with what the
testbed adds: the daemons a cluster runs for it, and how to read its queue. A scheduler
says:

- ``compute_nodes(groups)``: the services that run its jobs, from the groups it runs;
- ``files(topology, groups)``: the configuration written before its daemons start
  (``SchedFile``: node, path, bytes, mode, owner);
- ``daemons(topology, groups)``: what to start on which node (``Daemon``: node, argv, log);
- ``ready(nodes, want)``: whether ``parse_nodes``'s answer shows every compute node ready;
- ``header(...)``: the batch script's header lines; ``submit_argv(script)``,
  ``cancel_argv(job_name)``;
- ``queue_argv(name)``/``parse_queue(out)`` and ``nodes_argv()``/``parse_nodes(out)``:
  its queue and its nodes, read field by field;
- ``ended(job)`` and ``hopeless(job)``: a job that is over, or pending for a reason it
  cannot get past by itself (the wait then stops at once, with what the queue says).

This package and its members import nothing but the standard library: the image copies
the folder next to ``workloads/testbed_node.py`` (docker/Dockerfile), whose watch of a
job uses these very parsers and rules inside the nodes. A launch kind names its scheduler
(``LaunchKind.scheduler``); the cluster asks that, never a scheduler by name. A new
scheduler is one module here that defines a subclass decorated with ``@register``.
See docs/schedulers.md.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from ..topology import Group, Topology

# every job dict parse_queue returns has these keys (strings; '' when the scheduler has none)
JOB_KEYS = ("id", "name", "state", "reason", "nodes", "nodelist")
MAX_QUEUE_LINES = 10_000  # a queue answer is read up to this many lines


@dataclass(frozen=True)
class Daemon:
    """One daemon of a scheduler: started detached on ``node``, output into ``log``."""

    node: str  # the service it runs on
    argv: tuple[str, ...]
    log: PurePosixPath
    user: str = "root"


@dataclass(frozen=True)
class SchedFile:
    """One configuration file written on ``node`` before the daemons start."""

    node: str
    path: PurePosixPath
    data: bytes
    mode: int = 0o644
    user: str = "root"


class Scheduler:
    name: ClassVar[str]  # the registry's key
    title: ClassVar[str]  # how messages name it ("Slurm job 3 ...")
    ready_timeout: ClassVar[float] = 60.0  # s: its daemons up and every compute node ready
    hopeless_grace: ClassVar[float] = 3.0  # s a hopeless reason must last before the wait gives up
    job_id_env: ClassVar[str] = ""  # the environment variable a job's tasks find their job id in
    # ipyparallel's launcher for it: ``ipcluster engines --engines=<engines>``, configured as <launcher>
    ipp_engines: ClassVar[str] = ""
    ipp_launcher: ClassVar[str] = ""

    # -- configuration and daemons ----------------------------------------------------------
    def compute_nodes(self, groups: list[Group]) -> tuple[str, ...]:
        """The services that run its jobs: every group's hosts, in order of first mention."""
        out: dict[str, None] = {}
        for g in groups:
            out.update(dict.fromkeys(g.rank_hosts))
        return tuple(out)

    def files(self, topology: Topology, groups: list[Group]) -> list[SchedFile]:
        return []

    def daemons(self, topology: Topology, groups: list[Group]) -> list[Daemon]:
        return []

    def ready(self, nodes: dict[str, dict], want: set[str]) -> bool:
        """Whether ``nodes`` (``parse_nodes``) shows every hostname of ``want`` ready for jobs."""
        return want <= set(nodes)

    # -- submitting ---------------------------------------------------------------------------
    def job_name(self, group_name: str) -> str:
        """The job name of a group's batch job (what the queue and a cancel find it by)."""
        return f"ipengine-{group_name}"

    def header(self, *, job_name: str, tasks: int, hosts: list[str], output: str) -> list[str]:
        """The batch script's header lines (after ``#!``): name, size, nodes, output file."""
        raise NotImplementedError

    def output(self, folder: str | PurePosixPath, group_name: str) -> str:
        """The batch output file's pattern, as the header gives it."""
        raise NotImplementedError

    def output_of(self, job: dict, folder: str | PurePosixPath) -> str:
        """Where a job's output went (a glob), for a message."""
        raise NotImplementedError

    def submit_argv(self, script: str | PurePosixPath) -> list[str]:
        raise NotImplementedError

    def cancel_argv(self, job_name: str) -> list[str]:
        raise NotImplementedError

    # -- reading its queue ----------------------------------------------------------------------
    def queue_argv(self, name: str | None = None) -> list[str]:
        """Every job (finished ones too, while the scheduler keeps them), or those named ``name``."""
        raise NotImplementedError

    def parse_queue(self, out: str) -> list[dict[str, str]]:
        """``queue_argv``'s answer: one dict per job, keys ``JOB_KEYS``, in the order listed."""
        raise NotImplementedError

    def nodes_argv(self) -> list[str]:
        raise NotImplementedError

    def parse_nodes(self, out: str) -> dict[str, dict[str, str]]:
        """``nodes_argv``'s answer: {hostname: {"state": ..., "reason": ...}}."""
        raise NotImplementedError

    def ended(self, job: dict) -> bool:
        raise NotImplementedError

    def hopeless(self, job: dict) -> bool:
        """A pending job that will not start by itself (a drained or down node, say)."""
        raise NotImplementedError

    def describe(self, job: dict) -> str:
        """One line: ``Slurm job 3 (ipengine-job) is PENDING, reason '...' on node1``."""
        reason = "" if job.get("reason") in ("None", "", None) else f", reason {job['reason']!r}"
        where = f" on {job['nodelist']}" if job.get("nodelist") else ""
        return f"{self.title} job {job['id']} ({job['name']}) is {job['state']}{reason}{where}"

    def describe_nodes(self, nodes: dict[str, dict[str, str]]) -> str:
        return ", ".join(f"{n} {v['state']}" + (f" ({v['reason']})" if v["reason"] else "") for n, v in nodes.items())


REGISTRY: dict[str, Scheduler] = {}


def register(cls: type[Any]) -> type[Any]:
    """Class decorator: add a scheduler to the registry under its ``name``."""
    if cls.name in REGISTRY:
        raise ValueError(f"scheduler {cls.name!r} is registered twice")
    REGISTRY[cls.name] = cls()
    return cls


def get(name: str) -> Scheduler:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown scheduler {name!r} (known: {', '.join(REGISTRY)})") from None


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def _import_members() -> None:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


_import_members()
