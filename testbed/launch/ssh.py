"""``launch: ssh``: ``ipcluster engines --engines=ssh`` on the controller node starts the
group's plain engines on its node with ipyparallel's ``SSHEngineSetLauncher``.

ipyparallel does the rest itself: over ssh it makes the remote profile, sends the engine
connection file (scp) and starts ``python3 -m ipyparallel.engine`` there. The testbed
copies nothing by hand: this is the step the lecture could not get to work. It only
made the SSH trust from the controller node at bring-up, as for a multi-node mpiexec.
"""

from __future__ import annotations

import json

from . import LOGS, LaunchKind, Start, ipcluster_engines, register


@register
class SSHEngines(LaunchKind):
    name = "ssh"

    def validate(self, group, index, topology):
        if group.mpi:
            return "ssh starts plain engines (drop mpi: true; an MPI world over nodes is launch: mpiexec with hosts)"
        if group.node == topology.controller:
            return f"ssh engines run on another node than the controller {topology.controller!r}"
        return None

    def starts(self, group, rows, ctx):
        host = ctx.topology.hostname(group.node)
        argv = ipcluster_engines(
            group.engines, "--engines=ssh", f"--SSHEngineSetLauncher.engines={json.dumps({host: group.engines})}"
        )
        ctl = ctx.topology.controller
        return [
            Start(
                node=ctl,
                argv=argv,
                log=LOGS / f"{group.name}.log",
                registered=ctx.registered_before(group) + group.engines,
                says=f"{ctl}: ipcluster engines --engines=ssh: {group.engines} engine(s) on {host}",
            )
        ]
