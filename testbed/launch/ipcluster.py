"""``launch: ipcluster``: ``ipcluster start`` on the controller node starts the controller and
this group (the first group only). With ``mpi: true`` the engines come from ipcluster's
MPI engine launcher (``mpiexec -n N ipengine --mpi``): one world, engine id = rank."""

from __future__ import annotations

from . import LOGS, LaunchKind, Start, register


@register
class IPCluster(LaunchKind):
    name = "ipcluster"
    starts_controller = True

    def validate(self, group, index, topology):
        if index != 0:
            return "only the first group can be launched by ipcluster"
        if group.node != topology.controller:
            return f"ipcluster runs on the controller node {topology.controller!r}"
        return None

    def one_world(self, group):
        return group.mpi

    def starts(self, group, rows, ctx):
        # ipcluster's MPI launcher gives no per-rank options: ipengine --mpi asks for its
        # rank as its id, which is what the placement says for the first group (ids 0..N-1)
        argv = [
            "ipcluster",
            "start",
            "--daemonize",
            f"--n={group.engines}",
            f"--engines={'mpi' if group.mpi else 'local'}",
            "--ip=0.0.0.0",
            f"--location={ctx.controller_host}",
        ]
        if group.mpi:  # what every mpiexec of the topology needs reaches ipcluster's as mpi_args
            argv += [f"--MPIEngineSetLauncher.mpi_args={a}" for a in ctx.mpi_extra()]
        kind = f"{group.engines} {'MPI' if group.mpi else 'plain'} engine(s)"
        return [
            Start(
                node=group.node,
                argv=tuple(argv),
                log=LOGS / f"{group.name}.log",
                registered=ctx.registered_before(group) + group.engines,
                says=f"{group.node}: ipcluster start: controller + {kind}",
            )
        ]
