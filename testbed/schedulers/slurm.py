"""Slurm: its configuration, its munge key and its daemons from the topology, its batch header,
and what its commands (squeue, sinfo) say.

A topology with a group whose launch kind runs on Slurm (``launch: slurm``) is a Slurm
cluster: ``slurmctld`` runs on the controller node (the head, where ``sbatch`` is called),
``slurmd`` on every node such a group lists under ``hosts:`` (the compute nodes, in order
of first mention). The daemons come from Debian bookworm's packages in the node image
(one image, the role chosen by the command: ``slurm-role slurmctld|slurmd``).

Made to run in a container: no accounting database, no systemd, process tracking by
``linuxproc`` and no cgroup task plugin. Each compute node offers ``SLOTS`` CPUs,
whatever the host has (``config_overrides``): engines mostly wait, as in the rest of
the testbed, where more ranks than cores is normal.

The munge key is made per cluster at bring-up (``os.urandom``) and copied to every
Slurm node, owner munge, mode 0400; no key is in the image.

Standard library only: this file also runs inside the nodes (``testbed_node.py wait``
watches a job with ``parse_queue`` and ``hopeless``).
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from . import JOB_KEYS, MAX_QUEUE_LINES, Daemon, SchedFile, Scheduler, register

if TYPE_CHECKING:  # pragma: no cover
    from ..topology import Group, Topology

SLURM_CONF = PurePosixPath("/etc/slurm/slurm.conf")
MUNGE_KEY = PurePosixPath("/etc/munge/munge.key")
ROLE_LOG = PurePosixPath("/tmp/testbed/slurm-role.log")
PARTITION = "compute"
SLOTS = 64  # CPUs each compute node offers to Slurm (slots, not cores)
READY_TIMEOUT = 60.0  # s: slurmctld up and every compute node idle
# a job pending for one of these reasons will not start by itself: say so instead of waiting
HOPELESS = ("ReqNodeNotAvail", "NodeDown", "PartitionDown", "PartitionNodeLimit", "BadConstraints", "PartitionInactive")
ENDED = (
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "COMPLETED",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
)
SQUEUE_FORMAT = "%i|%j|%T|%r|%D|%N"  # JOB_KEYS, in order
SINFO_ARGV = ["sinfo", "--noheader", "--Node", "--format=%N|%T|%E"]


def make_key() -> bytes:
    """A new munge key for one cluster (1024 random bytes, as ``mungekey`` makes)."""
    return os.urandom(1024)


def conf(topology: Topology, computes: tuple[str, ...]) -> str:
    """slurm.conf of the topology's Slurm cluster, whose compute nodes are the services ``computes``."""
    head = topology.hostname(topology.controller)
    nodes = [topology.hostname(s) for s in computes]
    lines = [
        "# slurm.conf of an ipp-testbed cluster, made from its topology file (testbed/schedulers/slurm.py)",
        f"ClusterName={_cluster_name(topology.name)}",
        f"SlurmctldHost={head}",
        "SlurmUser=slurm",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        "MpiDefault=none",
        # in a container: no cgroups, no systemd
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none",
        "SwitchType=switch/none",
        "SchedulerType=sched/backfill",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        # the node's CPUs are what this file says, not what slurmd counts
        "SlurmdParameters=config_overrides",
        "ReturnToService=2",
        "SlurmctldPort=6817",
        "SlurmdPort=6818",
        "StateSaveLocation=/var/lib/slurm/slurmctld",
        "SlurmdSpoolDir=/var/lib/slurm/slurmd",
        "SlurmctldPidFile=/run/slurmctld.pid",
        "SlurmdPidFile=/run/slurmd.pid",
        "SlurmctldLogFile=/tmp/testbed/slurmctld.log",
        "SlurmdLogFile=/tmp/testbed/slurmd.log",
        # quick reactions: a lost node or a cancelled job is seen within seconds
        "SlurmctldTimeout=30",
        "SlurmdTimeout=30",
        "InactiveLimit=0",
        "KillWait=5",
        "MinJobAge=300",
        "Waittime=0",
        f"NodeName={','.join(nodes)} CPUs={SLOTS} State=UNKNOWN",
        f"PartitionName={PARTITION} Nodes={','.join(nodes)} Default=YES MaxTime=INFINITE State=UP",
    ]
    return "\n".join(lines) + "\n"


def _cluster_name(name: str) -> str:
    # Slurm cluster names: lower case, no '-' trouble; at most 40 characters
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower())[:40] or "testbed"


@register
class Slurm(Scheduler):
    name = "slurm"
    title = "Slurm"
    ready_timeout = READY_TIMEOUT
    job_id_env = "SLURM_JOB_ID"
    ipp_engines = "slurm"
    ipp_launcher = "SlurmEngineSetLauncher"

    # -- configuration and daemons ----------------------------------------------------------
    def files(self, topology: Topology, groups: list[Group]) -> list[SchedFile]:
        """One new munge key and slurm.conf, on the head and every compute node (root's)."""
        computes = self.compute_nodes(groups)
        key, text = make_key(), conf(topology, computes).encode()
        out = []
        for svc in (topology.controller, *computes):
            out += [SchedFile(svc, MUNGE_KEY, key, 0o400), SchedFile(svc, SLURM_CONF, text, 0o644)]
        return out

    def daemons(self, topology: Topology, groups: list[Group]) -> list[Daemon]:
        """munge and slurmctld on the controller node, munge and slurmd on each compute node."""
        head = Daemon(topology.controller, ("slurm-role", "slurmctld"), ROLE_LOG)
        return [head, *(Daemon(svc, ("slurm-role", "slurmd"), ROLE_LOG) for svc in self.compute_nodes(groups))]

    def ready(self, nodes, want):
        return want <= set(nodes) and all(nodes[h]["state"] == "idle" for h in want)

    # -- submitting ---------------------------------------------------------------------------
    def header(self, *, job_name, tasks, hosts, output):
        return [
            f"#SBATCH --job-name={job_name}",
            f"#SBATCH --ntasks={tasks}",
            f"#SBATCH --nodes={len(hosts)}",
            f"#SBATCH --nodelist={','.join(hosts)}",
            f"#SBATCH --output={output}",
            "#SBATCH --export=ALL",
        ]

    def output(self, folder, group_name):
        return f"{folder}/{group_name}-slurm-%j.out"

    def output_of(self, job, folder):
        return f"{folder}/*-slurm-{job['id']}.out"

    def submit_argv(self, script):
        return ["sbatch", str(script)]

    def cancel_argv(self, job_name):
        return ["scancel", f"--name={job_name}"]

    # -- reading its queue ----------------------------------------------------------------------
    def queue_argv(self, name=None):
        argv = ["squeue", "--noheader", "--states=all", f"--format={SQUEUE_FORMAT}"]
        return argv + ([f"--name={name}"] if name else [])

    def parse_queue(self, out):
        jobs = []
        for line in out.splitlines()[:MAX_QUEUE_LINES]:
            parts = line.strip().split("|")
            if len(parts) == len(JOB_KEYS):
                jobs.append(dict(zip(JOB_KEYS, parts)))
        return jobs

    def nodes_argv(self):
        return list(SINFO_ARGV)

    def parse_nodes(self, out):
        """Each node's state (idle, allocated, drained, down*, ...) and the reason Slurm gives."""
        nodes = {}
        for line in out.splitlines()[:MAX_QUEUE_LINES]:
            parts = line.strip().split("|")
            if len(parts) == 3 and parts[0]:
                nodes[parts[0]] = {"state": parts[1], "reason": "" if parts[2] == "none" else parts[2]}
        return nodes

    def ended(self, job):
        return job["state"] in ENDED

    def hopeless(self, job):
        return job["state"] == "PENDING" and any(job["reason"].startswith(r) for r in HOPELESS)


def job_name(group_name: str) -> str:
    """The Slurm job name of a group's batch job (what squeue and scancel find it by)."""
    return Slurm().job_name(group_name)
