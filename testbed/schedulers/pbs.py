"""PBS (OpenPBS / PBS Professional 19 or later): a scheduler the testbed does not run itself.

No daemons and nothing in the image: it is the shape a batch system takes here when the
cluster brings its own (``files`` and ``daemons`` are empty). The queue and the nodes are
read as JSON (``qstat -f -x -F json``, ``pbsnodes -a -F json``); a queued job whose comment
says ``Can Never Run`` (the PBS scheduler's word for a request no node can meet) is hopeless.

No launch kind submits to it yet; one would set ``scheduler = schedulers.get("pbs")`` and
start ``ipcluster engines --engines=pbs`` (ipyparallel's ``PBSEngineSetLauncher``).
Standard library only, as every member of this package.
"""

from __future__ import annotations

import json

from . import JOB_KEYS, MAX_QUEUE_LINES, Scheduler, register

MAX_ANSWER = 16 * 1024 * 1024  # characters of a qstat or pbsnodes answer read at most
ENDED = ("F", "E", "X")  # finished, exiting, expired (qstat -x keeps them)
HOPELESS = ("Can Never Run",)


def _json(out: str) -> dict:
    if len(out) > MAX_ANSWER:
        return {}
    try:
        doc = json.loads(out)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


@register
class PBS(Scheduler):
    name = "pbs"
    title = "PBS"
    job_id_env = "PBS_JOBID"
    ipp_engines = "pbs"
    ipp_launcher = "PBSEngineSetLauncher"

    def ready(self, nodes, want):
        return want <= set(nodes) and all(nodes[h]["state"] == "free" for h in want)

    def header(self, *, job_name, tasks, hosts, output):
        # tasks round-robin over the hosts, as the placement puts them
        per = [len(range(i, tasks, len(hosts))) for i in range(len(hosts))]
        chunks = "+".join(f"1:host={h}:ncpus={n}:mpiprocs={n}" for h, n in zip(hosts, per) if n)
        return [f"#PBS -N {job_name}", f"#PBS -l select={chunks}", f"#PBS -o {output}", "#PBS -j oe", "#PBS -V"]

    def output(self, folder, group_name):
        return f"{folder}/{group_name}-pbs.out"

    def output_of(self, job, folder):
        return f"{folder}/*-pbs.out"

    def submit_argv(self, script):
        return ["qsub", str(script)]

    def cancel_argv(self, job_name):
        # qdel takes ids; qselect finds them by name: two argv lists would need a pipe, so the
        # job id is what a caller cancels by when it has one
        return ["qdel", job_name]

    def queue_argv(self, name=None):
        return ["qstat", "-f", "-x", "-F", "json"]  # every job; the caller picks by name

    def parse_queue(self, out):
        jobs = []
        found = _json(out).get("Jobs")
        for job_id, j in list(found.items())[:MAX_QUEUE_LINES] if isinstance(found, dict) else []:
            if not isinstance(j, dict):
                continue
            res = j.get("Resource_List") if isinstance(j.get("Resource_List"), dict) else {}
            hosts = str(j.get("exec_host", ""))
            nodelist = ",".join(dict.fromkeys(h.split("/")[0] for h in hosts.split("+") if h))
            values = (
                job_id,
                j.get("Job_Name", ""),
                j.get("job_state", ""),
                j.get("comment", ""),
                res.get("nodect", ""),
                nodelist,
            )
            jobs.append(dict(zip(JOB_KEYS, (str(v) for v in values))))
        return jobs

    def nodes_argv(self):
        return ["pbsnodes", "-a", "-F", "json"]

    def parse_nodes(self, out):
        found = _json(out).get("nodes")
        nodes = {}
        for name, n in list(found.items())[:MAX_QUEUE_LINES] if isinstance(found, dict) else []:
            if isinstance(n, dict):
                nodes[str(name)] = {"state": str(n.get("state", "")), "reason": str(n.get("comment", ""))}
        return nodes

    def ended(self, job):
        return job["state"] in ENDED

    def hopeless(self, job):
        return job["state"] == "Q" and any(job["reason"].startswith(r) for r in HOPELESS)
