"""The MPI stack of the node image: what differs between MPI libraries, in one object.

Launch kinds and the lifecycle ask the stack how to spell ``mpiexec`` and its
options; they never test which library it is. Today's image has one stack, Debian
bookworm's Open MPI 4.1 (``openmpi4``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Context:
    """One ``mpiexec`` app context: ``ranks`` copies of ``argv`` on ``host`` (None: the launching node)."""

    argv: tuple[str, ...]
    host: str | None = None
    ranks: int = 1


@dataclass(frozen=True)
class OpenMPI4:
    name: str = "openmpi4"
    mpiexec_cmd: str = "mpiexec"

    def hostfile(self, slots: dict[str, int]) -> str:
        """A hostfile giving each hostname its number of slots."""
        return "".join(f"{host} slots={n}\n" for host, n in slots.items())

    def name_server_argv(self, uri: PurePosixPath) -> list[str]:
        """The name server that lets separate mpiexec jobs find each other (Publish/Lookup_name)."""
        return ["ompi-server", "--no-daemonize", "-r", str(uri)]

    def name_server_args(self, uri: PurePosixPath) -> list[str]:
        """mpiexec options that point a job at the name server."""
        return ["--ompi-server", f"file:{uri}"]

    def mpiexec(
        self,
        contexts: Sequence[Context],
        hostfile: PurePosixPath | None = None,
        extra: Sequence[str] = (),
    ) -> list[str]:
        """``mpiexec`` running ``contexts`` in order: ranks are numbered context by context.

        With a hostfile the ranks may run on other nodes: only the launching node
        ssh's to them (no tree spawn), and PATH reaches the remote ranks (an ssh
        session does not get the container's environment).
        """
        argv = [self.mpiexec_cmd]
        if hostfile is not None:
            argv += ["--hostfile", str(hostfile), "--mca", "plm_rsh_no_tree_spawn", "1",
                     "-x", "PATH", "-x", "PYTHONDONTWRITEBYTECODE"]  # fmt: skip
        argv += list(extra)
        for i, ctx in enumerate(contexts):
            if i:
                argv.append(":")
            argv += ["-n", str(ctx.ranks)]
            if ctx.host is not None:
                argv += ["--host", ctx.host]
            argv += list(ctx.argv)
        return argv


DEFAULT = OpenMPI4()
