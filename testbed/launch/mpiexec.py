"""``launch: mpiexec``: one ``mpiexec`` of ``ipengine --mpi`` ranks, started after the groups
before it registered: a ``MPI_COMM_WORLD`` of its own (the lecture's late group, L10/L11).

Every rank is an app context of its own (``-n 1 [--host H] ipengine ... --IPEngine.id=I``,
joined by ``:``), so the placement's rows decide each rank's engine id and host; mpiexec
numbers the ranks in context order. With ``hosts:`` the ranks run on those nodes (the
launching node reaches them over SSH); a hostfile gives each node its slots."""

from __future__ import annotations

from .. import stacks
from . import ENGINE_FILE, LOGS, LaunchKind, Start, register


@register
class MPIExec(LaunchKind):
    name = "mpiexec"
    mpi_default = True
    takes_hosts = True

    def validate(self, group, index, topology):
        if not group.mpi:
            return "an mpiexec group is always MPI (drop mpi: false)"
        if set(group.hosts) - {group.node} and group.node != topology.controller:
            return f"an mpiexec with hosts runs on the controller node {topology.controller!r} (ssh goes from there)"
        return None

    def one_world(self, group):
        return True

    def starts(self, group, rows, ctx):
        remote = bool(group.hosts)
        contexts = [
            stacks.Context(
                argv=("ipengine", "--mpi", f"--file={ENGINE_FILE}", f"--IPEngine.id={r.id}"),
                host=r.hostname if remote else None,
            )
            for r in rows  # in rank order: context i is rank i
        ]
        hostfile = LOGS / f"hostfile-{group.name}"
        argv, text = ctx.stack.placed(contexts, hostfile, extra=ctx.mpi_extra())
        files = ((group.node, hostfile, text),) if text is not None else ()
        ids = [r.id for r in rows]
        where = f", on {', '.join(group.hosts)}" if remote else ""
        return [
            Start(
                node=group.node,
                argv=tuple(argv),
                log=LOGS / f"{group.name}.log",
                registered=ctx.registered_before(group) + group.engines,
                says=f"{group.node}: mpiexec -n {group.engines} ipengine --mpi (ids by rank {ids}{where})",
                engine_file_on=tuple(dict.fromkeys([group.node, *(r.node for r in rows)])),
                files=files,
            )
        ]
