"""``launch: slurm``: ``ipcluster engines --engines=slurm`` on the head submits one batch job
(``sbatch``) through ipyparallel's ``SlurmEngineSetLauncher``; the controller is already up.

The batch script is ipyparallel's batch template, written by the testbed from the
placement rows (``SlurmEngineSetLauncher.batch_template_file``); ipyparallel fills in
``{program_and_args}``, its engine command. The job asks for the group's ``hosts:``
(the compute nodes) and one task per engine.

- ``mpi: true`` (the default): one ``mpiexec`` inside the allocation, one app context
  per rank (``-n 1 --host H {program_and_args} --mpi --IPEngine.id=I``): one
  ``MPI_COMM_WORLD`` over the compute nodes. The MPI library reaches the other nodes
  through Slurm (``srun``), not ssh.
- ``mpi: false``: ``srun`` starts one plain engine per task, task i on the placement's
  i-th host (``--distribution=arbitrary``), each asking for its id
  (``engine-of-task``: first id + ``SLURM_PROCID``). Its MPI is a singleton, as every
  plain engine's: Open MPI 4 would take the task for a direct launch by srun and, with
  no Slurm PMI, abort in ``MPI_Init`` (ipyparallel#344), so the step's id is unset.

Every engine needs the engine connection file on its node; nodes share no
filesystem, so it is copied to each compute node first, as for any remote engine.
"""

from __future__ import annotations

import shlex

from .. import schedulers, stacks
from . import LOGS, LaunchKind, Start, ipcluster_engines, register

SCHEDULER = schedulers.get("slurm")

PROGRAM = "@PROGRAM_AND_ARGS@"  # stands for ipyparallel's {program_and_args} until the end


def _template(lines: list[str]) -> str:
    """The script as an ipyparallel batch template: its own braces doubled (the template is
    formatted), then ipyparallel's engine command put in."""
    text = "\n".join(lines) + "\n"
    return text.replace("{", "{{").replace("}", "}}").replace(PROGRAM, "{program_and_args}")


def batch_script(group, rows, ctx) -> str:
    hosts = [ctx.topology.hostname(s) for s in group.rank_hosts]
    hostfile = LOGS / f"hostfile-{group.name}"
    sched = SCHEDULER
    header = sched.header(
        job_name=sched.job_name(group.name), tasks=group.engines, hosts=hosts, output=sched.output(LOGS, group.name)
    )
    lines = [
        "#!/bin/sh",
        *header,
        f"# ipp-testbed: group {group.name!r} of topology {ctx.topology.name!r}, from its placement",
    ]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in ctx.stack.in_allocation_env.items()]
    if group.mpi:
        contexts = [stacks.Context(argv=(PROGRAM, "--mpi", f"--IPEngine.id={r.id}"), host=r.hostname) for r in rows]
        argv, text = ctx.stack.placed(contexts, hostfile, extra=ctx.mpi_extra())
        if text is not None:
            lines += [f"cat > {hostfile} <<'EOF'", text.rstrip("\n"), "EOF"]
        lines.append("exec " + shlex.join(argv).replace(shlex.quote(PROGRAM), PROGRAM))
    else:
        # task i runs on line i of SLURM_HOSTFILE: the placement's host of the i-th engine
        lines += [f"cat > {hostfile} <<'EOF'", *(r.hostname for r in rows), "EOF"]
        # a plain engine is no rank of the step: its MPI starts as a singleton (see the stack)
        unset = "".join(f" -u {v}" for v in ctx.stack.srun_singleton_unset)
        env = f" env{unset}" if unset else ""
        lines += [
            f"export SLURM_HOSTFILE={hostfile}",
            f"exec srun --distribution=arbitrary --ntasks={group.engines} engine-of-task {rows[0].id}{env} {PROGRAM}",
        ]
    return _template(lines)


@register
class SlurmJob(LaunchKind):
    name = "slurm"
    scheduler = SCHEDULER  # its daemons, queue and rules (testbed/schedulers/slurm.py)
    mpi_default = True
    takes_hosts = True

    def validate(self, group, index, topology):
        if group.node != topology.controller:
            ctl = topology.controller
            return f"a slurm group is submitted from the controller node {ctl!r} (give node: {ctl})"
        if not group.hosts:
            return "a slurm group needs hosts: the compute nodes its job runs on"
        if topology.controller in group.hosts:
            return (
                f"the controller node {topology.controller!r} runs slurmctld, not a compute node: leave it out of hosts"
            )
        return None

    def one_world(self, group):
        return group.mpi

    def starts(self, group, rows, ctx):
        template = LOGS / f"{group.name}.sbatch"
        sched = self.scheduler
        argv = ipcluster_engines(
            group.engines, f"--engines={sched.ipp_engines}", f"--{sched.ipp_launcher}.batch_template_file={template}"
        )
        what = "one MPI world" if group.mpi else "plain engines"
        return [
            Start(
                node=group.node,
                argv=argv,
                log=LOGS / f"{group.name}.log",
                registered=ctx.registered_before(group) + group.engines,
                says=(
                    f"{group.node}: ipcluster engines --engines=slurm: sbatch of {group.engines} engine(s), "
                    f"{what} over {', '.join(group.hosts)}"
                ),
                engine_file_on=tuple(dict.fromkeys(r.node for r in rows)),
                files=((group.node, template, batch_script(group, rows, ctx)),),
                watch=("--scheduler", sched.name, "--job", sched.job_name(group.name)),
            )
        ]
