"""The ``testbed`` command.

    testbed --version                       testbed <version>
    testbed topologies [--json]             list the topologies
    testbed images [--force] [--ipp V]      build base + node image (only what changed)
    testbed up TOPOLOGY [--name N] [--engines 3,2] [--ipp V] [--swarm [--place NODE=VALUE ...]]
    testbed check TOPOLOGY [--engines ..] [--scatter N] [--json] [--name N] [--ipp V]
    testbed run TOPOLOGY PROGRAM [-n N] [--mpi M] [--name N] [--json] [--swarm ...]
                                            one of the lecture's plain MPI programs under mpiexec
    testbed exec TOPOLOGY [--node N] -- CMD...
                                            run CMD on a node as user mpi, in the mounted folder
    testbed hosts TOPOLOGY                  the nodes and engine slots as a hostfile of the stack
    testbed client TOPOLOGY [--out FILE]    a connection file for ipp.Client on this host; its path
    testbed matrix --topologies a,b --mpi all [--junit F] [--json] -- CMD...
                                            CMD on each (topology, stack), a cluster at a time
    testbed shell TOPOLOGY [--name N]       IPython on the controller node, with rc and dview
    testbed notebook TOPOLOGY [--port P]    JupyterLab on the controller node (brings it up if need be)
    testbed status [--json]                 running clusters and their engines
    testbed down TOPOLOGY | --name N        remove one cluster (with neither: names the clusters up,
                                            exit 2; none up: says so, exit 0)
    testbed clean                           remove every labelled container, network, volume
    testbed render k8s TOPOLOGY [--name N] [--mpi M] [-o DIR] [--ssh-key FILE]
                                            Kubernetes manifests of a cluster, written, not run (docs/k8s.md)
    testbed dind up|down [--hosts 3]        a swarm of Docker hosts in containers on this machine
    testbed reproduce [--only L1,L3] [--out results]
                                            every lecture experiment beside the lecture's figures
    testbed scenario --list [--json] | --render | NAME [--json] [--mpi M] [--out DIR] [--report]
                                            a known ipyparallel failure, replayed; its verdict

--ipp V (images, up, check): another ipyparallel than the pinned one, an image of its own
(ipp-testbed/node:<stack>-ipp<V>; docs/scenarios-versions.md).

up, check, run and notebook take --mount DIR[:PATH] (a host folder on every node, at /project
by default) and --requirements FILE / --pip PKG (extra packages: a derived image, built once).

Every command takes its topology first, positionally. With --json a command prints one
JSON document on stdout and its notes and progress on stderr. On a terminal the long
waits (engines registering, image builds, reproduce) show their progress on stderr
(testbed.progress); the log lines on stdout are the same either way.

Errors a user can cause end with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from . import (
    api,
    dind,
    docker_env,
    hostclient,
    images,
    labels,
    limits,
    notebook,
    placement,
    programs,
    progress,
    stacks,
    topology,
)
from . import matrix as matrices
from . import mount as mounts
from .backends import swarm
from .checks import format_table
from .cluster import ATTACHED_WAIT, WORKLOADS, Cluster, IfExists, attach, check_name, is_up, project_name, session
from .errors import TestbedError

MAX_DIGITS = limits.DIGITS_TOTAL.hi  # reproduce: the digits of pi a run may ask for (54 s to compute here)
MAX_LB_SCALE = limits.LB_SCALE.hi  # reproduce: ms per L1 work unit (the lecture's 20; 1000 makes L1 last minutes)


def _err(msg: str) -> None:
    print(f"testbed: error: {msg}", file=sys.stderr)


def _log_to(stream):
    def log(msg: str) -> None:
        progress.echo(msg, stream)  # print, kept clear of a progress display on the same terminal

    return log


def version() -> str:
    """The installed distribution's version, or else pyproject.toml's."""
    from importlib import metadata

    try:
        return metadata.version("ipp-testbed")
    except metadata.PackageNotFoundError:
        pass
    try:
        text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    except OSError:
        return "unknown"
    project = text.split("[project]", 1)[-1].split("\n[", 1)[0]
    m = re.search(r'(?m)^version\s*=\s*"([^"]+)"', project)
    return m[1] if m else "unknown"


def _topology(args) -> topology.Topology:
    topo = topology.load(args.topology)
    if getattr(args, "engines", None):
        topo = topo.with_counts(topology.parse_counts(args.engines))
    return topo


def topology_json(t: topology.Topology) -> dict:
    return {
        "name": t.name,
        "lecture": t.lecture,
        "summary": t.summary,
        "controller": t.controller,
        "engines": t.engine_count,
        "groups": [{"name": g.name, "engines": g.engines, "launch": g.launch, "node": g.node} for g in t.groups],
    }


def cmd_topologies(args) -> int:
    loaded = [topology.load(name) for name in topology.known_topologies()]
    if args.json:
        print(json.dumps({"topologies": [topology_json(t) for t in loaded]}, indent=2))
        return 0
    for t in loaded:
        groups = ", ".join(f"{g.name}={g.engines} ({g.launch} on {g.node})" for g in t.groups)
        print(f"{t.name:22} {t.lecture:4} {t.summary}\n{'':27} groups: {groups}")
    return 0


def cmd_images(args) -> int:
    chosen = list(stacks.STACKS.values()) if args.mpi == "all" else [stacks.get(args.mpi)]
    ipp = stacks.ipp_version(args.ipp)
    if args.lab and ipp is not None:
        raise TestbedError(f"--lab builds on the image of ipyparallel {stacks.DEFAULT_IPP} only: leave out --ipp")
    for stack in chosen:
        if args.lab:
            images.build_lab(stack, force=args.force, log=_log_to(sys.stdout))
        else:
            images.build(stack, force=args.force, log=_log_to(sys.stdout), ipp=ipp)
    return 0


def _print_engines(cluster: Cluster, report: dict) -> None:
    engines = sorted(report["engines"], key=lambda e: e["id"])
    jobs = any(e.get("slurm_job_id") for e in engines)
    print(f"[{cluster.name}] engines:")
    print("  id  host          rank/size  pid" + ("      slurm job" if jobs else ""))
    for e in engines:
        job = f"  {e.get('slurm_job_id') or '-'}" if jobs else ""
        print(f"  {e['id']:>2}  {e['hostname']:12}  {e['world_rank']}/{e['world_size']:<8} {e['pid']:<8}{job}")


def _print_scheduler(cluster: Cluster) -> None:
    """Each scheduler's queue and its compute nodes' states, as the controller node sees them."""
    for sched, _ in cluster.schedulers():
        q, n = sched.queue_argv()[0], sched.nodes_argv()[0]
        jobs, nodes = cluster.scheduler_jobs(sched), cluster.scheduler_nodes(sched)
        print(f"  {sched.name} queue ({q}):" + ("" if jobs else " empty"))
        for j in jobs:
            reason = "" if j["reason"] in ("None", "") else f"  reason {j['reason']}"
            print(f"    job {j['id']:>4}  {j['name']:24} {j['state']:10} {j['nodes']} node(s) {j['nodelist']}{reason}")
        print(f"  {sched.name} nodes ({n}): " + (sched.describe_nodes(dict(sorted(nodes.items()))) or "no answer"))


def _hints(topo: topology.Topology, name: str, stack: stacks.Stack = stacks.DEFAULT) -> str:
    """The make commands for this cluster: NAME= whenever the cluster is not named after its topology."""
    named = f" NAME={name}" if name != topo.name else ""
    mpi = f" MPI={stack.name}" if stack is not stacks.DEFAULT else ""  # down needs no stack
    return (
        f"  make shell TOPOLOGY={topo.name}{named}{mpi}      (IPython on {topo.controller} with rc and dview)\n"
        f"  make check TOPOLOGY={topo.name}{named}{mpi}      (run the lecture's checks on it)\n"
        f"  make cluster-down TOPOLOGY={topo.name}{named}"
    )


def _swarm_kw(args, topo: topology.Topology) -> dict:
    """--swarm and --place, for a Cluster or a session."""
    place = swarm.parse_place(args.place, list(topo.nodes))
    if place and not args.swarm:
        raise TestbedError("--place puts nodes on swarm nodes: give --swarm as well")
    return {"backend": "swarm" if args.swarm else "compose", "place": place}


def _no_swarm_extras(args) -> None:
    """A folder and extra packages are this host's: refused on a swarm before anything is built."""
    if not getattr(args, "swarm", False):
        return
    if getattr(args, "mount", None) is not None:
        raise TestbedError(
            "--mount binds a folder of this host: a swarm's nodes may run on other hosts, where it is "
            "not; on a swarm, copy your files in with `testbed exec`"
        )
    if getattr(args, "requirements", None) or getattr(args, "pip", None):
        raise TestbedError(
            "--requirements/--pip build an image on this host only: on a swarm, build it, then "
            "`docker save` it and `docker load` it on every host"
        )


def _session_kw(args, topo: topology.Topology, name: str, stack: stacks.Stack | None, log) -> dict:
    """The keywords of ``session`` for check and run: the swarm's, and a user's folder and packages
    for a cluster brought up now (a running one is checked against them instead)."""
    kw = _swarm_kw(args, topo)
    _no_swarm_extras(args)
    ipp = getattr(args, "ipp", None)
    if ipp is not None:  # checked here, before a running cluster is looked for
        stacks.ipp_version(ipp)
        kw["ipp"] = ipp
    if is_up(name):
        _same_mount(name, topo, args)
    else:
        kw.update(_user_kw(args, stack or stacks.DEFAULT, log))
    return kw


def _user_kw(args, stack: stacks.Stack, log, lab: bool = False) -> dict:
    """--mount, --requirements and --pip, for a Cluster: checked before anything starts."""
    return api.prepare(
        stack,
        getattr(args, "mount", None),
        getattr(args, "requirements", None),
        getattr(args, "pip", None) or (),
        lab=lab,
        log=log,
        ipp=getattr(args, "ipp", None),
    )


def _same_mount(name: str, topo: topology.Topology, args) -> None:
    """A running cluster is used as it is: a --mount (or packages) it was not brought up with is refused."""
    requirements, pip = getattr(args, "requirements", None), getattr(args, "pip", None) or ()
    if requirements is None and not pip and getattr(args, "mount", None) is None:
        return  # nothing to check, and no need to look the cluster up
    api.check_reuse(attach(topo, name=name), getattr(args, "mount", None), requirements, pip)


def cmd_up(args) -> int:
    topo = _topology(args)
    kw = _swarm_kw(args, topo)
    stack = stacks.get(args.mpi)
    ipp = stacks.ipp_version(args.ipp)
    _no_swarm_extras(args)
    kw.update(_user_kw(args, stack, _log_to(sys.stdout)))
    cluster = Cluster(topo, name=args.name, log=_log_to(sys.stdout), stack=stack, ipp=ipp, **kw)
    cluster.up(if_exists=IfExists.REFUSE)
    try:
        report = cluster.report(topo.scatter)
    except KeyboardInterrupt:  # Ctrl-C before `up` said it is up: nothing is left behind
        cluster.down(quiet=True)
        raise
    _print_engines(cluster, report)
    hints = _hints(topo, cluster.name, cluster.stack)
    if cluster.mount:
        m = cluster.mount
        print(f"[{cluster.name}] {m.host} is {m.path} on every node (the engines' working folder)")
    print(f"[{cluster.name}] up in {cluster.timings['up']:.1f}s ({_library(report)}). Attach with:\n{hints}")
    return 0


def cmd_notebook(args) -> int:
    topo = _topology(args)
    name = check_name(args.name or topo.name)
    log = _log_to(sys.stdout)
    if args.execute:
        return _execute_notebook(args, topo, name)
    if is_up(name):
        _same_mount(name, topo, args)
        lab = _running_lab(topo, name, log, stacks.get(args.mpi) if args.mpi else None)
        if args.port is not None and args.port != lab.port:
            log(f"[{name}] the lab of this cluster is on port {lab.port}, not {args.port} (it is already up)")
        log(f"[{name}] using the running cluster")
    else:
        stack = stacks.get(args.mpi)
        port = notebook.choose_port(args.port)
        images.build_lab(stack, log=log)
        kw = _user_kw(args, stack, log, lab=True)
        cluster = Cluster(topo, name=name, log=log, stack=stack, lab_port=port, **kw)
        cluster.up(if_exists=IfExists.REFUSE)
        lab = cluster.lab
    folder = lab.cluster.mount_path or notebook.NOTEBOOKS
    print(
        f"[{name}] JupyterLab on {topo.controller} ({topo.engine_count} engines; notebooks in {folder}).\n"
        f"Open:\n  {lab.url}\n"
        f"It is served on {notebook.HOST} only, with a token made for this cluster. "
        f"Stop it with `testbed down {topo.name}{_name_arg(name, topo.name)}`.",
        flush=True,
    )
    return 0


def _name_arg(name: str, topo_name: str) -> str:
    """`` --name NAME`` for a command line, when the cluster is not named after its topology."""
    return "" if name == topo_name else f" --name {name}"


def _running_lab(topo: topology.Topology, name: str, log, stack: stacks.Stack | None = None) -> notebook.Lab:
    """The lab of running cluster ``name``; one line when it was brought up without one."""
    lab = notebook.Lab.find(attach(topo, name=name, log=log, stack=stack))
    if lab is None:
        raise TestbedError(
            f"cluster {name!r} is up without a lab (`testbed up` started it): `testbed down --name {name}`, "
            f"then `testbed notebook {topo.name}`; or give another --name"
        )
    return lab


def _execute_notebook(args, topo: topology.Topology, name: str) -> int:
    """Run one of the repository's notebooks headless on the running lab cluster ``name``."""
    known = notebook.known()
    nb = notebook.resolve(args.execute, known)
    if not is_up(name):
        raise TestbedError(
            f"no cluster named {name!r} is up to run {nb} on: `testbed notebook {topo.name}"
            f"{_name_arg(name, topo.name)}` brings it up with a lab"
        )
    lab = _running_lab(topo, name, _log_to(sys.stderr))
    t = time.monotonic()
    try:
        executed = lab.execute(nb)
        failed = None
    except notebook.NotebookFailed as e:
        executed, failed = e.executed, str(e)
    if args.out:
        Path(args.out).write_text(json.dumps(executed, indent=1))
    print(notebook.outputs_text(executed))
    if failed:
        raise TestbedError(f"notebook {failed}")
    copy = f"; executed copy: {args.out}" if args.out else ""
    print(f"[{name}] {nb}: every cell ran ({time.monotonic() - t:.1f}s){copy}")
    return 0


def cmd_check(args) -> int:
    topo = _topology(args)
    name = check_name(args.name or topo.name)
    scatter = topo.scatter if args.scatter is None else args.scatter
    if scatter < 0:
        raise TestbedError("--scatter takes a length >= 0")
    log = _log_to(sys.stderr if args.json else sys.stdout)
    stack = stacks.get(args.mpi) if args.mpi else None
    kw = _session_kw(args, topo, name, stack, log)
    with session(topo, name, log=log, stack=stack, **kw) as cluster:  # a running cluster keeps its own sizes
        if args.engines and cluster.topology.counts != topo.counts:
            raise TestbedError(
                f"cluster {name!r} is up with engines {','.join(map(str, cluster.topology.counts))}, "
                f"not {args.engines}: `testbed down --name {name}` first"
            )
        topo = cluster.topology  # a running cluster's own group sizes
        attached = cluster.attached
        report, result = cluster.check(scatter, timeout=ATTACHED_WAIT if attached else None, partial=attached)
        missing = [e["id"] for e in result.engines if "missing" in e.get("mismatches", ())]
        if missing:
            result.problems.append(cluster.missing_note(missing))
    mpi = {"stack": cluster.stack.name, "library_version": _library(report)}
    if args.json:
        print(json.dumps({**result.as_json(), "mpi": mpi}, indent=2))
    else:
        print(format_table(result))
        print(f"MPI: {cluster.stack.title}; engines report {mpi['library_version']}")
    return 0 if result.ok else 1


def _library(report: dict) -> str:
    """The MPI library the engines report (first line of MPI.Get_library_version(), one engine's)."""
    versions = sorted({str(e.get("mpi_library", "?")) for e in report.get("engines", [])})
    return " | ".join(versions) if versions else "no engine"


RUN_USAGE = "testbed run TOPOLOGY PROGRAM"


def _run_form(args) -> None:
    """``run TOPOLOGY PROGRAM``: the old form (``run PROGRAM --topology T``), a program where the
    topology goes, or a missing program, each in one line that gives the command to type."""
    topo, prog = args.topology, args.program
    is_program, is_topology = set(programs.PROGRAMS), set(topology.known_topologies())
    if args.old_topology is not None:
        what = f"{args.old_topology} {topo}" if prog is None else f"{args.old_topology} {topo} {prog}"
        raise TestbedError(
            f"run takes the topology first, as every command does: `testbed run {what}` "
            f"({RUN_USAGE}; --topology is gone)"
        )
    if topo is None:
        raise TestbedError(f"run needs a topology and a program: {RUN_USAGE} (e.g. `testbed run single-world hello`)")
    if topo in is_program and topo not in is_topology:
        if prog is None:
            raise TestbedError(
                f"{topo!r} is a program: {RUN_USAGE}, e.g. `testbed run single-world {topo}` "
                "(`testbed topologies` lists them)"
            )
        if prog in is_topology:
            raise TestbedError(f"the topology comes first: `testbed run {prog} {topo}` ({RUN_USAGE})")
    if prog is None:
        raise TestbedError(
            f"run needs a program after the topology: `testbed run {topo} PROGRAM`, "
            f"PROGRAM one of {', '.join(programs.PROGRAMS)}"
        )


def cmd_run(args) -> int:
    _run_form(args)
    program = programs.get(args.program)
    ranks = program.ranks if args.n is None else args.n
    if ranks < program.min_ranks:
        raise TestbedError(f"{program.name} needs at least {program.min_ranks} ranks, got -n {ranks}")
    topo = topology.load(args.topology)
    name = check_name(args.name or topo.name)
    log = _log_to(sys.stderr if args.json else sys.stdout)
    # plain MPI programs need the nodes, not the engines
    stack = stacks.get(args.mpi) if args.mpi else None
    kw = _session_kw(args, topo, name, stack, log)
    with session(topo, name, engines=False, log=log, stack=stack, **kw) as cluster:
        across, workdir = cluster.program_where(program.shared_file)
        where = ", ".join(n.hostname for n in topo.nodes.values()) if across else topo.controller
        log(f"[{name}] mpiexec -n {ranks} python3 {program.script} on {where} (in {workdir})")
        code, out, err = cluster.run_program(program.script, ranks, program.args, across=across, workdir=workdir)
    result = programs.compare_output(program, ranks, out)
    if code != 0:
        result.ok = False
    if args.json:
        print(json.dumps({**result.as_json(), "exit_code": code, "stderr": err[-2000:]}, indent=2))
    else:
        print("\n".join(result.output))
        for line in result.missing:
            print(f"missing:    {line}")
        for line in result.unexpected:
            print(f"unexpected: {line}")
        if code != 0:
            print(f"mpiexec exited {code}: {err.strip()[-1500:]}")
        verdict = "OK" if result.ok else "FAILED"
        print(
            f"{verdict}: {program.name} ({program.lecture}) with {ranks} ranks on {name}: "
            f"{len(result.output) - len(result.unexpected)}/{len(program.expected(ranks))} expected lines"
        )
    return 0 if result.ok else 1


def cmd_shell(args) -> int:
    topo = topology.load(args.topology)
    cluster = attach(topo, name=args.name, stack=stacks.get(args.mpi) if args.mpi else None)
    _same_mount(cluster.name, topo, args)
    host = cluster.backend.endpoint_of(topo.controller)  # a swarm node on another host: its engine
    argv = shell_argv(cluster.controller.container.id, args.command, sys.stdin.isatty(), host, cluster.mount_path)
    os.execvp(shutil.which("docker") or "docker", argv)
    return 0  # not reached


def shell_argv(container_id: str, command: str | None, tty: bool, host: str | None = None, workdir=None) -> list[str]:
    """``docker exec`` into the controller node: IPython with rc and dview, or ``command`` run by python3."""
    setup = (
        "import ipyparallel as ipp, numpy as np; "
        "rc = ipp.Client(); dview = rc[:]; dview.block = True; "
        "print(f'connected: rc.ids = {rc.ids}; dview = rc[:]; workloads in the cwd, "
        'e.g. dview.run("psum.py")\')'
    )
    engine = ["-H", host] if host else []
    where = str(workdir or WORKLOADS)  # the mounted folder, else the lecture's workloads
    cmd = ["docker", *engine, "exec", "-u", "mpi", "-w", where, "-it" if tty else "-i", container_id]
    if command:
        return cmd + ["python3", "-c", setup + "\n" + command]
    return cmd + ["ipython", "--no-banner", "-i", "-c", setup]


def _command(args) -> list[str]:
    cmd = list(args.command or [])
    if not cmd:
        raise TestbedError(f"{args.cmd} needs a command after --, e.g. `testbed {args.cmd} ... -- python3 mine.py`")
    return cmd


def _attached(args) -> Cluster:
    topo = topology.load(args.topology)
    return attach(topo, name=args.name, stack=stacks.get(args.mpi) if getattr(args, "mpi", None) else None)


def cmd_exec(args) -> int:
    cmd = _command(args)
    cluster = _attached(args)
    sys.stdout.flush()
    return api.run_exec(cluster, cmd, args.node, out=sys.stdout.buffer, err=sys.stderr.buffer).code


def cmd_hosts(args) -> int:
    topo = topology.load(args.topology)
    name = check_name(args.name or topo.name)
    if is_up(name):
        cluster = attach(topo, name=name, stack=stacks.get(args.mpi) if args.mpi else None)
    else:  # a hostfile needs only the topology and the stack
        cluster = Cluster(topo, name=name, stack=stacks.get(args.mpi))
    sys.stdout.write(api.hostfile(cluster))
    return 0


def cmd_client(args) -> int:
    cluster = _attached(args)
    path = hostclient.write(cluster, Path(args.out) if args.out else None)
    print(path)
    return 0


def cmd_matrix(args) -> int:
    cmd = _command(args)
    topos, mpis = matrices.parse_axes(args.topologies, args.mpi)
    if args.mount is not None:
        mounts.parse(args.mount)  # a missing folder is said before any cluster starts
    api.check_argv(cmd)
    packages_req = api.packages.request(args.requirements, args.pip or ())  # bad requirements, likewise
    log = _log_to(sys.stderr if args.json else sys.stdout)
    sink = sys.stderr.buffer if args.json else sys.stdout.buffer

    def run_row(topo_name: str, mpi: str) -> tuple[int, str]:
        tee = _Tee(sink)
        name = check_name(f"matrix-{topo_name}-{mpi}"[:41])
        pips = list(packages_req.lines)
        with api.cluster(topo_name, name=name, mpi=mpi, mount=args.mount, pip=pips, reuse=False, log=log) as c:
            res = api.run_exec(c._cluster, cmd, None, out=tee, err=tee)
        return res.code, tee.text()

    rows = matrices.run(topos, mpis, cmd, run_row, log=log)
    path = matrices.junit(rows, cmd, Path(args.junit))
    if args.json:
        print(json.dumps({"rows": [r.as_json() for r in rows], "junit": str(path)}))
    else:
        print(matrices.table(rows))
        print(f"JUnit XML: {path}")
    return 0 if rows and all(r.ok for r in rows) else 1


class _Tee:
    """A binary stream that writes through to ``sink`` and keeps the last of what it wrote."""

    def __init__(self, sink, keep: int = matrices.OUTPUT_TAIL * 4):
        self.sink, self.keep, self.buf = sink, keep, bytearray()

    def write(self, data: bytes) -> int:
        self.sink.write(data)
        self.buf += data
        del self.buf[: max(0, len(self.buf) - self.keep)]
        return len(data)

    def flush(self) -> None:
        self.sink.flush()

    def text(self) -> str:
        return self.buf.decode(errors="replace")


def _clusters(c) -> tuple[dict[str, tuple[dict, list[dict]]], dict[str, list[dind.Host]]]:
    """name -> (labels, {"name", "state"[, "host"]} of each node) of every cluster up: compose
    projects on this host, and swarm stacks when this engine is a swarm manager (their nodes may
    be on other hosts, named); and name -> hosts of every `testbed dind` swarm on this host."""
    out: dict[str, tuple[dict, list[dict]]] = {}
    dinds: dict[str, list[dind.Host]] = {}
    for name, ctrs in docker_env.running_clusters(c).items():
        hosts = dind.hosts_of(ctrs)
        if hosts:  # the Docker hosts of `testbed dind`, not a cluster of nodes
            dinds[name] = hosts
            continue
        if ctrs[0].labels.get(labels.BACKEND) != "swarm":  # the lab's port is on the controller node's only
            merged = {k: v for ct in reversed(ctrs) for k, v in ct.labels.items()}
            out[name] = (merged, [{"name": labels.node_of(ct.labels, ct.name), "state": ct.status} for ct in ctrs])
    for svc in docker_env.swarm_services(c):
        found = docker_env.service_labels(svc)
        name = found.get(labels.CLUSTER, "?")
        if name not in out:
            nodes = [{"name": n, "state": state, "host": host} for n, state, host in swarm.stack_nodes(c, name)]
            out[name] = (found, nodes)
    return out, dinds


def _node_text(n: dict) -> str:
    return f"{n['name']} ({n['state']}" + (f" on {n['host']})" if n.get("host") else ")")


def _counts(text: str | None) -> list[int] | None:
    try:
        return [int(x) for x in text.split(",")] if text else None
    except ValueError:
        return None


def _read_engines(name: str, topo_name: str) -> tuple[Cluster, dict, list[int], list[int]]:
    """A running cluster's engines, as ``status`` shows them: (cluster, report, registered ids,
    ids the topology places that are not registered). A controller that does not answer is a
    TestbedError."""
    with progress.track(f"[{name}] reading its engines"):
        cluster = attach(topology.load(topo_name), name=name, log=lambda m: None)
        report = cluster.report(0, timeout=10, partial=True)
    ids = sorted(int(e["id"]) for e in report["engines"])
    missing = [r.id for r in placement.derive(cluster.topology) if r.id not in ids]
    return cluster, report, ids, missing


def _status_json(args, c, clusters: dict, dinds: dict) -> int:
    """``status --json``: one document on stdout; what takes time is said on stderr."""
    doc: dict = {"clusters": [], "dind": []}
    if args.swarm:
        doc["swarm_nodes"] = swarm.swarm_nodes(c)
    for name, hosts in sorted(dinds.items()):
        doc["dind"].append({"name": name, "hosts": [{"name": h.name, "endpoint": h.endpoint} for h in hosts]})
    for name, (found, nodes) in sorted(clusters.items()):
        topo_name = found.get(labels.TOPOLOGY, "?")
        counts = _counts(found.get(labels.COUNTS))
        entry: dict = {
            "name": name,
            "topology": topo_name,
            "mpi": found.get(labels.MPI, stacks.DEFAULT.name),
            "backend": found.get(labels.BACKEND) or "compose",
            "counts": counts,
            "nodes": nodes,
            "engines": {"registered": None, "expected": sum(counts) if counts else None},
        }
        port = found.get(labels.LAB_PORT)
        if port:
            entry["lab_port"] = int(port) if port.isdigit() else port
        try:
            cluster, _report, ids, missing = _read_engines(name, topo_name)
            entry["engines"].update(
                expected=cluster.topology.engine_count, registered=len(ids), ids=ids, missing=missing
            )
        except TestbedError as e:
            entry["engines"]["error"] = str(e)
        doc["clusters"].append(entry)
    print(json.dumps(doc, indent=2))
    return 0


def cmd_status(args) -> int:
    c = docker_env.client()
    if args.swarm:
        swarm.require_manager(c)
    clusters, dinds = _clusters(c)
    if args.swarm:
        clusters = {n: v for n, v in clusters.items() if v[0].get(labels.BACKEND) == "swarm"}
    if args.json:
        return _status_json(args, c, clusters, dinds)
    if args.swarm:
        print("swarm nodes:")
        for line in swarm.swarm_nodes(c):
            print(f"  {line}")
    for name, hosts in sorted(dinds.items()):
        print(
            f"{name}: a swarm of {len(hosts)} Docker host(s) in containers (`testbed dind`): "
            + ", ".join(f"{h.name} {h.endpoint}" for h in hosts)
        )
    if not clusters:
        print("no ipp-testbed cluster is up" + (" on the swarm" if args.swarm else ""))
        return 0
    for name, (found, nodes) in sorted(clusters.items()):
        topo_name = found.get(labels.TOPOLOGY, "?")
        mpi = found.get(labels.MPI, stacks.DEFAULT.name)
        where = f" (swarm stack {project_name(name)})" if found.get(labels.BACKEND) == "swarm" else ""
        print(
            f"{name}{where}: topology {topo_name}, MPI {mpi}, engines {found.get(labels.COUNTS, '?')}; "
            f"nodes: {', '.join(map(_node_text, nodes))}"
        )
        lab_port = found.get(labels.LAB_PORT)
        if lab_port:
            named = _name_arg(name, topo_name)
            print(f"  JupyterLab on {notebook.HOST}:{lab_port} (`testbed notebook {topo_name}{named}` prints its URL)")
        try:
            cluster, report, ids, missing = _read_engines(name, topo_name)
            _print_engines(cluster, report)
            if missing:
                count = cluster.topology.engine_count
                print(f"  {len(ids)} of {count} engines registered: {cluster.missing_note(missing)}")
            _print_scheduler(cluster)
        except TestbedError as e:
            print(f"  (engines not readable: {e})")
    return 0


def cmd_down(args) -> int:
    c = docker_env.client()
    if not (args.name or args.topology):  # no default: which cluster goes is said, never guessed
        up = sorted(_clusters(c)[0])
        if not up:
            print("no ipp-testbed cluster is up")
            return 0
        raise TestbedError(f"down needs a cluster: give its topology or --name; up now: {', '.join(up)}")
    name = check_name(args.name or args.topology)
    if args.swarm:
        swarm.require_manager(c)
    ctrs = docker_env.cluster_containers(c, name)
    found = ctrs[0].labels if ctrs else docker_env.cluster_labels(c, name)
    if found is None:
        print(f"no cluster named {name!r} is up")
        # still sweep networks/volumes a crash may have left
        docker_env.clean(c, name)
        return 0
    if args.swarm and found.get(labels.BACKEND) != "swarm":
        raise TestbedError(f"cluster {name!r} is a compose project on this host, not a swarm stack: leave out --swarm")
    topo_name = found.get(labels.TOPOLOGY) or args.topology or name
    try:
        topo = topology.load(topo_name)
        Cluster(topo, name=name, log=_log_to(sys.stdout)).down()
    except TestbedError:
        docker_env.clean(c, name)
    print(f"[{name}] removed")
    return 0


def cmd_clean(args) -> int:
    c = docker_env.client()
    removed = docker_env.clean(c)
    services = f"{removed['services']} swarm service(s), " if removed.get("services") else ""
    print(
        f"removed {services}{removed['containers']} container(s), {removed['networks']} network(s), "
        f"{removed['volumes']} volume(s) labelled {labels.CLUSTER}"
    )
    return 0


def cmd_host(args) -> int:
    from . import hosts

    log = _log_to(sys.stdout)
    if args.action == "list":
        for h in hosts.running():
            print(f"{h.kind.name:9} {h.name:18} {h.endpoint}{'  registry ' + hosts.REGISTRY if h.registry else ''}")
        return 0
    if not args.kind:
        raise TestbedError(f"testbed host {args.action} KIND: one of {', '.join(hosts.KINDS)}")
    host = hosts.TestHost(args.kind, name=args.name, registry=args.registry, log=log)
    if args.action == "down":
        removed = host.down()
        print(f"[{host.name}] removed {removed['containers']} container(s), {removed['volumes']} volume(s)")
        return 0
    chosen = (
        [] if args.mpi == "none" else (list(stacks.STACKS.values()) if args.mpi == "all" else [stacks.get(args.mpi)])
    )
    endpoint = host.up(copy=[s.image for s in chosen], base=images.BASE_IMAGE)
    user_env = " ".join(f"{k}={v}" for k, v in host.kind.user_env().items())
    print(
        f"[{host.name}] up: {host.kind.about}.\n"
        f"  From here, as a remote engine:  export DOCKER_HOST={endpoint}\n"
        f"  On it, as its user:             docker exec -it -u {hosts.USER} -w {hosts.HOME} {host.prefix} "
        f"{'env ' + user_env + ' ' if user_env else ''}bash\n"
        f"Remove it with `testbed host down {host.kind.name}`."
    )
    return 0


def cmd_hosts_matrix(args) -> int:
    from . import hostrows

    if args.bench:
        result = hostrows.bench(args.bench, log=_log_to(sys.stdout))
        hostrows.record_bench(result)
        for n, r in result["ratio"].items():
            print(f"{n:>4} engines: testbed / host MPI world {r['vs_host_mpi']}x, / host ipcluster -n {r['vs_host']}x")
        where = f"hosts.{result['host']}-{result['storage']}"
        print(f"recorded in {hostrows.LATEST.relative_to(hostrows.ROOT)} under {where}")
        return 0
    if args.render:
        hostrows.render()
        print(f"rewrote the table of {hostrows.DOC.relative_to(hostrows.ROOT)} from {hostrows.RESULTS.name}")
        return 0
    rows = hostrows.chosen(args.rows)
    steps = tuple(x.strip() for x in args.steps.split(",") if x.strip())
    runner = hostrows.Runner(steps=steps, log=_log_to(sys.stdout))
    results = []
    for row in rows:
        results.append(runner.run(row))
        hostrows.merge(results[-1:])  # each row's result is kept as soon as it is known
    hostrows.render()
    print(hostrows.table({"rows": {r["row"]: r for r in results}}))
    print(f"logs: {runner.logs}; results merged into {hostrows.RESULTS.relative_to(hostrows.ROOT)}")
    return 0 if all(r["result"] == "passed" for r in results) else 1


def cmd_dind(args) -> int:
    log = _log_to(sys.stdout)
    if args.action == "down":
        removed = dind.DindSwarm(args.name, log=log).down()
        print(f"[{args.name}] removed {removed['containers']} Docker host(s), their network and storage")
        return 0
    chosen = list(stacks.STACKS.values()) if args.mpi == "all" else [stacks.get(args.mpi)]
    swarm_hosts = dind.DindSwarm(args.name, hosts=args.hosts, log=log).up([s.image for s in chosen])
    first = swarm_hosts[0]
    places = " ".join(f"--place node{i}={h.name}" for i, h in enumerate(swarm_hosts, 1))
    print(
        f"[{args.name}] up. Point the testbed (and docker) at its manager, then deploy with --swarm:\n"
        f"  export DOCKER_HOST={first.endpoint}\n"
        f"  testbed check wide-world --swarm {places}\n"
        f"  testbed status --swarm\n"
        f"Remove it with `testbed dind down{_name_arg(args.name, dind.DEFAULT_NAME)}` (with DOCKER_HOST unset)."
    )
    return 0


def cmd_faults(args) -> int:
    from . import faults

    topo = topology.load(args.topology)
    names = [x.strip() for x in args.only.split(",")] if args.only else list(faults.FAULTS)
    bad = [x for x in names if x not in faults.FAULTS]
    if bad:
        unknown = ", ".join(map(repr, bad))  # repr: a name with a line break stays on one line
        raise TestbedError(f"--only: unknown fault(s) {unknown}; the catalogue: {', '.join(faults.FAULTS)}")
    stack = stacks.get(args.mpi)
    remedy = "make images" + (f" MPI={stack.name}" if args.mpi else "")
    docker_env.require_image(docker_env.client(), stack.image, remedy)
    log = _log_to(sys.stderr if args.json else sys.stdout)
    backend = "swarm" if args.swarm else "compose"
    results = faults.Drills(topo, stack, log=log, backend=backend).run(names)
    path = faults.save(results, Path(args.out))
    if args.json:
        print(json.dumps({"faults": [r.as_json() for r in results]}, indent=2))
    else:
        print(faults.table(results))
        print(f"results: {path}")
    return 0 if all(r.ok or r.skipped for r in results) else 1


def cmd_scenario(args) -> int:
    """`testbed scenario --list | --render | NAME`: known ipyparallel failures, replayed (docs/scenarios.md)."""
    from . import scenarios

    if args.list:
        rows = scenarios.listing()
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            print("\n".join(f"{r['name']:24} {r['issue']:18} {r['topology']}" for r in rows))
        return 0
    if args.render:
        current = scenarios.render()
        print(f"{scenarios.base.DOC.name}: {'already current' if current else 'table rewritten'}")
        return 0
    if not args.name:
        raise TestbedError(f"give a scenario, --list or --render; the scenarios: {', '.join(scenarios.SCENARIOS)}")
    sc = scenarios.get(args.name)
    stack = stacks.get(args.mpi or sc.stack or stacks.DEFAULT.name)
    ipp = stacks.ipp_version(args.ipp)
    remedy = "make images" + (f" MPI={stack.name}" if args.mpi else "") + (f" IPP={ipp}" if ipp else "")
    docker_env.require_image(docker_env.client(), stack.image_for(ipp), remedy)
    res = sc.run(stack, log=_log_to(sys.stderr if args.json else sys.stdout), ipp=ipp)
    out = Path(args.out)
    path = scenarios.save([res], out)
    if args.report:
        folder = out / "scenarios"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{sc.name}.md").write_text(scenarios.report(res, sc))
    if args.json:
        keys = ("name", "issue", "ipyparallel", "verdict", "measured")
        print(json.dumps({k: res.as_json()[k] for k in keys}, indent=2))
    else:
        print(scenarios.table([res]))
        print(f"results: {path}" + (f", report: {out / 'scenarios' / (sc.name + '.md')}" if args.report else ""))
    return 0


def cmd_reproduce(args) -> int:
    from . import experiments, reproduce

    chosen = experiments.get([i.strip() for i in args.only.split(",") if i.strip()] if args.only else None)
    params = experiments.Params(
        lb_scale_ms=args.lb_scale,
        digit_files=args.digit_files,
        digits_per_file=args.digits_per_file,
        digit_cache=Path(args.digit_cache) if args.digit_cache else None,
    )
    if params.digit_files < 1 or params.digits_per_file < 1000 or not 0 < params.lb_scale_ms <= MAX_LB_SCALE:
        raise TestbedError(
            f"--digit-files >= 1, --digits-per-file >= 1000 and 0 < --lb-scale <= {MAX_LB_SCALE:g}, please"
        )
    if params.digit_files * params.digits_per_file > MAX_DIGITS:
        raise TestbedError(
            f"--digit-files x --digits-per-file is {params.digit_files * params.digits_per_file:,} digits: at most "
            f"{MAX_DIGITS:,} (the lecture's 5 x 10 million, what was checked to work)"
        )
    out = Path(args.out)
    log = _log_to(sys.stdout)
    if args.mpi == "all":  # each stack into its own folder, then one page with a column per stack
        by_stack = {}
        for stack in stacks.STACKS.values():
            log(f"==== {stack.name}: reproducing {', '.join(e.id for e in chosen)} into {out / stack.name}/")
            by_stack[stack.name] = reproduce.run(chosen, out / stack.name, params, log=log, stack=stack)
        paths = reproduce.write_stacks(out, chosen, {s: o for s, (o, _p) in by_stack.items()})
        print(Path(paths["md"]).read_text())
        ok = all(
            len(o) == sum(s in e.stacks for e in chosen) and all(x.ok for _e, x in o) for s, (o, _p) in by_stack.items()
        )
        return 0 if ok else 1
    stack = stacks.get(args.mpi)
    log(f"reproducing {', '.join(e.id for e in chosen)} on {stack.name} into {out}/")
    outcomes, paths = reproduce.run(chosen, out, params, log=log, stack=stack)
    print()
    print(f"{'id':4} {'experiment':70} result")
    for exp, o in outcomes:
        print(f"{exp.id:4} {exp.title[:70]:70} {'agrees' if o.ok else 'DISAGREES'}")
    good = sum(o.ok for _e, o in outcomes)
    print(
        f"{good}/{len(outcomes)} experiments agree with the lecture on {stack.name}. Report: {paths.get('md')}, "
        f"{paths.get('html')} (open in a browser), {paths.get('json')}"
    )
    return 0 if good == len(outcomes) == sum(stack.name in e.stacks for e in chosen) else 1


def cmd_render(args) -> int:
    """`testbed render k8s TOPOLOGY`: the cluster's Kubernetes manifests in one YAML file (docs/k8s.md)."""
    from .backends import k8s

    topo = topology.load(args.topology)
    name = check_name(args.name or topo.name)
    keys = k8s.read_keys(args.ssh_key) if args.ssh_key else None
    docs = k8s.render(topo, name, stacks.get(args.mpi), keys=keys)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.yaml"
    # its Secret may hold the cluster's private key: for this user only
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(k8s.dump(docs))
    print(f"{path}: {len(docs)} Kubernetes objects of cluster {name} (namespace {docs[0]['metadata']['name']})")
    if keys is None:
        print("its ssh Secret holds placeholders: render with --ssh-key FILE, or replace the Secret, before applying")
    print(f"not run by the testbed: `kubectl apply -f {path}` on a cluster that can pull the node image (docs/k8s.md)")
    return 0


def ipp_arg(s) -> None:
    s.add_argument(
        "--ipp",
        metavar="VERSION",
        help=f"another ipyparallel than the pinned {stacks.DEFAULT_IPP}, e.g. 8.8.0: the image "
        "<stack>-ipp<VERSION> (`testbed images --ipp VERSION` builds it; docs/scenarios-versions.md)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="testbed", description="ipp-testbed: multi-node ipyparallel + MPI in containers")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    p.add_argument("--version", action="version", version=f"testbed {version()}")

    s = sub.add_parser("topologies", help="list the topologies")
    s.add_argument("--json", action="store_true", help='print one JSON object {"topologies": [...]}')
    s.set_defaults(func=cmd_topologies)

    s = sub.add_parser("images", help="build the base and node images (only what changed)")
    s.add_argument("--force", action="store_true", help="rebuild the node image even if current")
    s.add_argument("--lab", action="store_true", help="the lab image (JupyterLab on the node image) instead")
    s.add_argument(
        "--mpi",
        default=stacks.DEFAULT.name,
        choices=[*stacks.STACKS, "all"],
        help=f"the MPI stack whose image to build, or all (default {stacks.DEFAULT.name})",
    )
    ipp_arg(s)
    s.set_defaults(func=cmd_images)

    def topo_args(s, engines=True):
        s.add_argument("topology", help="topology name (see `testbed topologies`)")
        s.add_argument("--name", help="cluster name (default: the topology's name)")
        if engines:
            s.add_argument("--engines", help="engines per group, in the topology's order, e.g. 3,2")
        s.add_argument(
            "--mpi",
            choices=list(stacks.STACKS),
            help=f"MPI stack: {', '.join(stacks.STACKS)} (default {stacks.DEFAULT.name}, or the running cluster's)",
        )

    def swarm_args(s, place=True):
        s.add_argument(
            "--swarm",
            action="store_true",
            help="on the swarm this Docker engine manages: the nodes are a stack's services (docs/swarm.md)",
        )
        if place:
            s.add_argument(
                "--place",
                action="append",
                metavar="NODE=VALUE",
                help="with --swarm: run NODE on the swarm nodes labelled ipp-testbed.host=VALUE "
                "(repeat for more nodes)",
            )

    def user_args(s, packages=True):
        s.add_argument(
            "--mount",
            metavar="DIR[:PATH]",
            help="a host folder on every node at PATH (default /project), the engines' working folder",
        )
        if packages:
            s.add_argument(
                "--requirements",
                metavar="FILE",
                help="extra packages on every node (a requirements file; a derived image, built once)",
            )
            s.add_argument("--pip", action="append", metavar="PKG", help="an extra package (repeat for more)")

    s = sub.add_parser("up", help="bring a topology up and wait for all its engines")
    topo_args(s)
    ipp_arg(s)
    swarm_args(s)
    user_args(s)
    s.set_defaults(func=cmd_up)

    s = sub.add_parser("check", help="run the lecture's workloads and compare with the derived values")
    topo_args(s)
    ipp_arg(s)
    swarm_args(s)
    s.add_argument("--scatter", type=int, help="length of the scattered np.arange (default: the topology's)")
    s.add_argument("--json", action="store_true", help="print one JSON object for scripts")
    user_args(s)
    s.set_defaults(func=cmd_check)

    s = sub.add_parser(
        "run",
        help="run one of the lecture's plain MPI programs under mpiexec and check it",
        usage=f"{RUN_USAGE} [-n N] [--mpi M] [--name NAME] [--json] [--swarm [--place NODE=VALUE ...]]",
    )
    # both optional to argparse, so that a wrong form gets one line naming the right one (_run_form)
    s.add_argument("topology", nargs="?", metavar="TOPOLOGY", help="topology whose nodes run it (`testbed topologies`)")
    s.add_argument("program", nargs="?", metavar="PROGRAM", help=f"one of: {', '.join(programs.PROGRAMS)}")
    s.add_argument("--topology", dest="old_topology", help=argparse.SUPPRESS)  # the old form: refused, in one line
    s.add_argument("-n", type=int, help="number of ranks (default: the lecture's)")
    s.add_argument("--mpi", choices=list(stacks.STACKS), help=f"MPI stack (default {stacks.DEFAULT.name})")
    s.add_argument("--name", help="cluster name (default: the topology's name)")
    s.add_argument("--json", action="store_true", help="print one JSON object for scripts")
    swarm_args(s)
    user_args(s)
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("shell", help="IPython on the controller node with rc and dview")
    topo_args(s, engines=False)
    s.add_argument("-c", "--command", help="run this Python (with rc, dview) instead of IPython")
    user_args(s, packages=False)
    s.set_defaults(func=cmd_shell)

    s = sub.add_parser(
        "exec",
        help="run a command on a node of a running cluster, in its mounted folder",
        usage="testbed exec TOPOLOGY [--name NAME] [--node NODE] -- CMD [ARG ...]",
    )
    topo_args(s, engines=False)
    s.add_argument("--node", help="the node (name or hostname; default: the controller's)")
    s.add_argument("command", nargs="*", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_exec)

    s = sub.add_parser("hosts", help="the nodes and engine slots of a cluster as a hostfile of its MPI stack")
    topo_args(s, engines=False)
    s.set_defaults(func=cmd_hosts)

    s = sub.add_parser("client", help="write a connection file for ipp.Client on this host; print its path")
    topo_args(s, engines=False)
    s.add_argument("--out", help=f"where (default {hostclient.default_path('NAME')})")
    s.set_defaults(func=cmd_client)

    s = sub.add_parser(
        "matrix",
        help="a command on each (topology, MPI stack), one cluster at a time: table, JUnit",
        usage="testbed matrix --topologies A,B [--mpi all|M,..] [--mount DIR] [--junit FILE] [--json] -- CMD [ARG ...]",
    )
    s.add_argument("--topologies", required=True, help="comma-separated topologies")
    s.add_argument("--mpi", default="all", help=f"all, or comma-separated stacks of {', '.join(stacks.STACKS)}")
    user_args(s)
    s.add_argument("--junit", default="results/matrix.xml", help="JUnit XML report (default results/matrix.xml)")
    s.add_argument(
        "--json",
        action="store_true",
        help='the last line on stdout is {"rows": [...]}; the command\'s output goes to stderr',
    )
    s.add_argument("command", nargs="*", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_matrix)

    s = sub.add_parser("notebook", help="JupyterLab on the controller node, on 127.0.0.1 (brings the cluster up)")
    topo_args(s)
    s.add_argument("--port", type=int, help="host port (default: the first free from 8888)")
    s.add_argument(
        "--execute",
        metavar="NOTEBOOK",
        help="run this notebook (of notebooks/) headless on the running cluster and print its output",
    )
    s.add_argument("--out", help="with --execute: write the executed notebook here")
    user_args(s)
    s.set_defaults(func=cmd_notebook)

    s = sub.add_parser("status", help="running clusters and their engines")
    swarm_args(s, place=False)
    s.add_argument("--json", action="store_true", help='print one JSON object {"clusters": [...], "dind": [...]}')
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("down", help="remove a cluster (give its topology or --name)")
    s.add_argument("topology", nargs="?", help="topology (cluster) name; none: the clusters up are named")
    s.add_argument("--name", help="cluster name (default: the topology's name)")
    swarm_args(s, place=False)
    s.set_defaults(func=cmd_down)

    s = sub.add_parser("faults", help="inject the fault catalogue into fresh clusters of a topology, check what holds")
    s.add_argument("topology", help="topology name (see `testbed topologies`)")
    s.add_argument(
        "--only",
        help="comma-separated faults (default: the whole catalogue: "
        "engine-killed, rank-killed, node-lost, partition, controller-restart, slow-network, up-killed)",
    )
    s.add_argument("--swarm", action="store_true", help="each fault's cluster as a swarm stack (docs/swarm.md)")
    s.add_argument("--mpi", choices=list(stacks.STACKS), help=f"MPI stack (default {stacks.DEFAULT.name})")
    s.add_argument("--json", action="store_true", help='print one JSON object {"faults": [...]}')
    s.add_argument("--out", default="results", help="where faults.json goes (default: results)")
    s.set_defaults(func=cmd_faults)

    s = sub.add_parser("scenario", help="replay a known ipyparallel failure on a fresh cluster (docs/scenarios.md)")
    s.add_argument("name", nargs="?", help="the scenario (see --list)")
    s.add_argument("--list", action="store_true", help="the scenarios: name, issue, topology")
    s.add_argument("--render", action="store_true", help="rewrite docs/scenarios.md's table from docs/scenarios.json")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--mpi", choices=list(stacks.STACKS), help="MPI stack (default: the scenario's, else the default)")
    s.add_argument("--out", default="results", help="where scenarios.json goes (default: results)")
    ipp_arg(s)
    s.add_argument(
        "--report", action="store_true", help="write OUT/scenarios/NAME.md, a report for the upstream thread"
    )
    s.set_defaults(func=cmd_scenario)

    s = sub.add_parser("reproduce", help="run the lecture's experiments and write a report beside its figures")
    s.add_argument("--only", help="comma-separated experiment ids (L1..L11, B1, B2); default: all")
    s.add_argument("--out", default="results", help="output folder (default: results)")
    s.add_argument("--lb-scale", type=float, default=20.0, help="L1: ms per work unit (the lecture's 20)")
    s.add_argument("--digit-files", type=int, default=5, help="L3: number of digit files (the lecture's 5)")
    s.add_argument("--digits-per-file", type=int, default=10_000_000, help="L3: digits a file (the lecture's 10M)")
    s.add_argument("--digit-cache", help="L3: where the digits are cached (default ~/.cache/ipp-testbed/digits)")
    s.add_argument(
        "--mpi",
        default=stacks.DEFAULT.name,
        choices=[*stacks.STACKS, "all"],
        help="MPI stack, or all: each into OUT/<stack>/ and one summary with a column per stack",
    )
    s.set_defaults(func=cmd_reproduce)

    s = sub.add_parser("dind", help="a swarm of Docker hosts in containers on this machine (Docker-in-Docker)")
    s.add_argument("action", choices=["up", "down"])
    s.add_argument("--hosts", type=int, default=3, help=f"how many Docker hosts (1 to {dind.MAX_HOSTS}; default 3)")
    s.add_argument("--name", default=dind.DEFAULT_NAME, help=f"its name (default {dind.DEFAULT_NAME})")
    s.add_argument(
        "--mpi",
        default=stacks.DEFAULT.name,
        choices=[*stacks.STACKS, "all"],
        help=f"the node image(s) copied into every host (default {stacks.DEFAULT.name})",
    )
    s.set_defaults(func=cmd_dind)

    s = sub.add_parser("host", help="a test host in a container: Docker 26 or 20.10, Podman 5 or 4 (docs/hosts.md)")
    s.add_argument("action", choices=["up", "down", "list"])
    s.add_argument("kind", nargs="?", help="docker26, docker20, podman5 or podman4")
    s.add_argument("--name", help="its name (default host-KIND)")
    s.add_argument(
        "--registry",
        action="store_true",
        help="a registry on its loopback holding the base image, the engine's mirror (Docker kinds)",
    )
    s.add_argument(
        "--mpi",
        default=stacks.DEFAULT.name,
        choices=[*stacks.STACKS, "all", "none"],
        help=f"the node image(s) copied in (default {stacks.DEFAULT.name})",
    )
    s.set_defaults(func=cmd_host)

    s = sub.add_parser("hosts-matrix", help="the README's commands, fresh clone, each kind of host (docs/hosts.md)")
    s.add_argument("--rows", help="comma-separated rows (1,2,3,4,5a,5b,5c,6; default all)")
    s.add_argument("--steps", default="reproduce,test", help="make targets of each row (default reproduce,test)")
    s.add_argument("--render", action="store_true", help="only rewrite docs/hosts.md's table from docs/hosts.json")
    s.add_argument(
        "--bench",
        metavar="KIND",
        choices=["docker26", "docker20", "podman5", "podman4"],
        help="instead: make bench's bring-up of 1-128 engines on a host of KIND, beside its ipcluster",
    )
    s.set_defaults(func=cmd_hosts_matrix)

    s = sub.add_parser(
        "render",
        help="write a cluster's manifests for another platform, not run here (docs/k8s.md)",
        usage="testbed render k8s TOPOLOGY [--name NAME] [--mpi STACK] [-o DIR] [--ssh-key FILE]",
    )
    s.add_argument("backend", choices=["k8s"], help="k8s: Kubernetes Pods, a headless Service, the ssh Secret")
    s.add_argument("topology", help="topology name (see `testbed topologies`)")
    s.add_argument("--name", help="cluster name (default: the topology's name)")
    s.add_argument("--mpi", choices=list(stacks.STACKS), help=f"MPI stack (default {stacks.DEFAULT.name})")
    s.add_argument("-o", "--out", default="results/k8s", help="folder of the YAML file NAME.yaml (default results/k8s)")
    s.add_argument(
        "--ssh-key",
        metavar="FILE",
        help="the cluster's private key (FILE.pub beside it); default: placeholders to replace",
    )
    s.set_defaults(func=cmd_render)

    s = sub.add_parser("clean", help="remove every container, network and volume of any testbed cluster")
    s.set_defaults(func=cmd_clean)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] | None = None
    if "--" in argv:  # exec and matrix: what follows -- is the command, never the testbed's options
        i = argv.index("--")
        argv, command = argv[:i], argv[i + 1 :]
    args = build_parser().parse_args(argv)
    if command is not None:
        if args.func not in (cmd_exec, cmd_matrix):
            _err(f"{args.cmd} takes no command after --")
            return 2
        args.command = command
    t0 = time.monotonic()
    if threading.current_thread() is threading.main_thread():
        # `kill` or `timeout` (SIGTERM) tears down what was started, as Ctrl-C does; and Ctrl-C
        # does so even when this process was started with SIGINT ignored (as a non-interactive
        # shell starts a command in the background), where Python would leave it ignored
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        limits.check_options(args)  # every bounded option, before anything runs (testbed/limits.py)
        return args.func(args)
    except TestbedError as e:
        _err(str(e))
        return 2
    except KeyboardInterrupt:
        _err(f"interrupted after {time.monotonic() - t0:.0f}s (anything started was torn down)")
        return 130
    except OSError as e:  # a full disk, a folder that may not be written, ...: one line
        where = f": {e.filename}" if e.filename else ""
        _err(f"{e.strerror or type(e).__name__}{where}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
