"""Slurm inside a cluster: its configuration, its munge key and its daemons, from the topology.

A topology with a ``launch: slurm`` group is a Slurm cluster: ``slurmctld`` runs on the
controller node (the head, where ``sbatch`` is called), ``slurmd`` on every node a
Slurm group lists under ``hosts:`` (the compute nodes, in order of first mention). The
daemons come from Debian bookworm's packages in the node image (one image, the role
chosen by the command: ``slurm-role slurmctld|slurmd``).

Made to run in a container: no accounting database, no systemd, process tracking by
``linuxproc`` and no cgroup task plugin. Each compute node offers ``SLOTS`` CPUs,
whatever the host has (``config_overrides``): engines mostly wait, as in the rest of
the testbed, where more ranks than cores is normal.

The munge key is made per cluster at bring-up (``os.urandom``) and copied to every
Slurm node, owner munge, mode 0400; no key is in the image.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .topology import Topology

SLURM_CONF = PurePosixPath("/etc/slurm/slurm.conf")
MUNGE_KEY = PurePosixPath("/etc/munge/munge.key")
PARTITION = "compute"
SLOTS = 64  # CPUs each compute node offers to Slurm (slots, not cores)
READY_TIMEOUT = 60.0  # s: slurmctld up and every compute node idle
# a job pending for one of these reasons will not start by itself: say so instead of waiting
HOPELESS = ("ReqNodeNotAvail", "NodeDown", "PartitionDown", "PartitionNodeLimit", "BadConstraints", "PartitionInactive")


def compute_nodes(topology: Topology) -> tuple[str, ...]:
    """The services that run slurmd: every Slurm group's hosts, in order of first mention."""
    out: dict[str, None] = {}
    for g in topology.groups:
        if g.launch == "slurm":
            out.update(dict.fromkeys(g.rank_hosts))
    return tuple(out)


def is_slurm(topology: Topology) -> bool:
    return bool(compute_nodes(topology))


def job_name(group_name: str) -> str:
    """The Slurm job name of a group's batch job (what squeue and scancel find it by)."""
    return f"ipengine-{group_name}"


def make_key() -> bytes:
    """A new munge key for one cluster (1024 random bytes, as ``mungekey`` makes)."""
    return os.urandom(1024)


def conf(topology: Topology) -> str:
    """slurm.conf of the topology's Slurm cluster."""
    head = topology.hostname(topology.controller)
    nodes = [topology.hostname(s) for s in compute_nodes(topology)]
    lines = [
        "# slurm.conf of an ipp-testbed cluster, made from its topology file (testbed/slurm.py)",
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


# -- what the head's commands say -------------------------------------------------------------
def squeue_argv(name: str | None = None) -> list[str]:
    """squeue of every job (finished ones too, while Slurm keeps them), one line each."""
    argv = ["squeue", "--noheader", "--states=all", "--format=%i|%j|%T|%r|%D|%N"]
    return argv + ([f"--name={name}"] if name else [])


def parse_squeue(out: str) -> list[dict]:
    jobs = []
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) != 6:
            continue
        job_id, name, state, reason, nodes, nodelist = parts
        jobs.append(dict(id=job_id, name=name, state=state, reason=reason, nodes=nodes, nodelist=nodelist))
    return jobs


SINFO_ARGV = ["sinfo", "--noheader", "--Node", "--format=%N|%T|%E"]


def parse_sinfo(out: str) -> dict[str, dict]:
    """Each node's state (idle, allocated, drained, down*, ...) and the reason Slurm gives."""
    nodes = {}
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 3:
            nodes[parts[0]] = {"state": parts[1], "reason": "" if parts[2] == "none" else parts[2]}
    return nodes


def hopeless(reason: str) -> bool:
    return any(reason.startswith(r) for r in HOPELESS)
