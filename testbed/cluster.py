"""The lifecycle of one cluster: nodes up, SSH trust, controller, name server, engine groups
in order, and teardown.

It composes the pieces: the compose backend (nodes), ``ssh.setup_trust``, the launch
kinds (``testbed.launch``: what each group runs, built from the placement rows) and
the node handles that run it. Each group is started and then awaited on the
controller node until the controller has registered every engine so far: an event
reported by ``Client.wait_for_engines``, not a sleep. On any failure of a bring-up,
Ctrl-C included, everything started is removed.

A cluster of the same name that already exists is met by one policy, chosen by the
caller (``IfExists``): refuse it, reuse it, or replace it.
"""

from __future__ import annotations

import enum
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import PurePosixPath

from . import (
    backends,
    checks,
    docker_env,
    expect,
    hostclient,
    images,
    labels,
    launch,
    notebook,
    placement,
    progress,
    ssh,
    stacks,
)
from . import mount as mounts
from .arch import arch_of, triplet
from .backends import project_name
from .errors import TestbedError
from .launch import ENGINE_FILE, LOGS, NAME_SERVER_URI, LaunchContext, Start
from .names import CLUSTER, IPP_VERSION
from .node import NODE_PY, WORKLOADS, Exec, Node, last_json
from .schedulers import Scheduler
from .topology import Group, Topology
from .waiting import poll

__all__ = ["LOGS", "WORKLOADS", "Cluster", "IfExists", "attach", "check_name", "is_up", "project_name", "session"]

REGISTER_TIMEOUT = 120.0
# s a group's engines may take to register, each: on 2 cores every engine's start is CPU-bound,
# so a big group needs longer than the 120 s that suits the lecture's sizes. And it slows more than
# in proportion when anything else takes CPU: ranks already in MPI_Init poll every 100 us while the
# rest still import. 128 engines registered in 132-167 s alone, but only after about 445 s beside
# two busy processes, past the 384 s of 3 s an engine (docs/scale.md); 6 s an engine is 768 s.
REGISTER_S_PER_ENGINE = 6.0
NAME_SERVER_TIMEOUT = 10.0
PROGRAM_TIMEOUT = 120  # s: the lecture's programs take a second or two; a hung mpiexec is ended
# s a check of a running cluster waits for engines that are not registered (they were up
# once; an engine that vanished is named, not waited for as at bring-up)
ATTACHED_WAIT = 15.0
# Every file a process maps (its shared libraries, Python's extension modules, Open MPI's
# plugins) is a file descriptor held by the storage driver when that is fuse-overlayfs: one
# process per container, with the daemon's open-files limit (20000 here). An engine maps
# about 110 such files, so 128 engines on one node ran it out ("Too many open files" in
# every process of the node). On a node of more than ENGINES_ON_OVERLAY engines the
# libraries are on volumes of the node's own (a copy of the image's, made by Docker when
# the node is created: about 4 s), which the driver does not serve (docs/scale.md).
ENGINES_ON_OVERLAY = 64
FUSE_DRIVER = "fuse-overlayfs"
FACTS = LOGS / "facts.json"  # on the controller node: expect.facts of the topology
REPORT_WORK_S = 90  # s the report's workloads may take once the engines are there (they take 1-3 s)


def lib_volumes(arch: str) -> tuple[tuple[str, str], ...]:
    """(volume name, folder) of the image's libraries put on volumes, for an image of Docker's ``arch``
    (x86_64, aarch64): Debian keeps the shared libraries in /usr/lib/<multiarch triplet>."""
    return (
        ("usr-lib", f"/usr/lib/{triplet(arch)}"),
        ("python-lib", "/usr/lib/python3.11"),
        ("python-dist", "/usr/lib/python3"),
        ("venv", "/opt/venv"),
    )


class IfExists(enum.Enum):
    """What to do when a cluster of the same name is already there."""

    REFUSE = "refuse"  # `testbed up`: say so, with the command that removes it
    REUSE = "reuse"  # `testbed check/run`: use it as it is (with its own group sizes)
    REPLACE = "replace"  # reproduce, tests, benchmarks: remove it, then bring up anew


def check_name(name: str) -> str:
    """``name`` when it is a cluster name (``testbed.names.CLUSTER``); else one line naming it and the pattern."""
    return CLUSTER.check(name)


class Cluster:
    """One running (or about to run) instance of a topology."""

    def __init__(
        self,
        topology: Topology,
        name: str | None = None,
        image: str | None = None,
        log: Callable[[str], None] = print,
        register_timeout: float | None = None,
        stack: stacks.Stack = stacks.DEFAULT,
        lab_port: int | None = None,
        backend: str = "compose",
        place: dict[str, str] | None = None,
        mount: mounts.Mount | None = None,
        lab_image: str | None = None,
        ipp: str | None = None,
    ):
        self.topology = topology
        self.name = check_name(name or topology.name)
        self.stack = stack
        # ipp: another ipyparallel than the pinned one, the image <stack>-ipp<version> (testbed.images)
        self.ipp = stacks.ipp_version(ipp)
        self.image = image or stack.image_for(self.ipp)
        self.log = log
        self.register_timeout = register_timeout or self.register_timeout_for(topology.engine_count)
        # lab_port: the controller node runs the lab image, its JupyterLab published on this host port
        self.lab_port = lab_port
        self.lab_image = lab_image or images.lab_image(stack)
        self.lab: notebook.Lab | None = None
        # mount: a host folder on every node, their working folder (testbed.mount)
        self.mount = mount
        # backend: where the nodes run (testbed.backends: a compose project on this host, a swarm
        # stack's services, place: node -> swarm node label)
        kind = backends.get(backend)
        self.on_this_host = kind.on_this_host
        if lab_port and not kind.on_this_host:
            raise TestbedError(
                f"the lab publishes a port on this host: on a {backend} backend, bring the cluster up without one"
            )
        if mount and not kind.on_this_host:
            raise TestbedError(
                f"--mount binds a folder of this host: a {backend} backend's nodes may run on other hosts, where "
                "it is not; copy your files in with `testbed exec` or an image of your own"
            )
        args = (topology, self.name, self.image, stack.name)
        self.backend = kind(*args, overrides=self._overrides(), place=place)
        self.timings: dict[str, float] = {}
        self.id_history: list[list[int]] = []  # registered ids after each wait, in bring-up order
        self.attached = False  # True: found running (attach), not brought up by this object
        self._has_engine_file: set[str] = {topology.controller}

    def _overrides(self) -> dict:
        """Compose keys on top of the topology file: the lab's image and port on the controller
        node, and the libraries on volumes of their own on a node of many engines."""
        out: dict = {}
        if self.lab_port:
            merge_overrides(out, notebook.overrides(self.topology.controller, self.lab_image, self.lab_port))
        if self.on_this_host:  # the controller's client ports on 127.0.0.1 (testbed.hostclient)
            merge_overrides(out, hostclient.overrides(self.topology.controller))
        if self.mount:
            merge_overrides(out, self.mount.overrides(self.topology.nodes))
        per_node = Counter(r.node for r in placement.derive(self.topology))
        crowded = [svc for svc, n in sorted(per_node.items()) if n > ENGINES_ON_OVERLAY]
        # only where fuse-overlayfs serves the files: overlay2 (a kernel filesystem) holds no descriptor per
        # mapped file, and the volumes' copy would be time the testbed adds for nothing (docs/hosts.md)
        info = docker_env.client().info() if crowded else {}
        if info.get("Driver") == FUSE_DRIVER:
            volumes = lib_volumes(arch_of(info))  # the image is the engine's architecture, not this Python's
            for svc in crowded:
                merge_overrides(out, {svc: {"volumes": [f"{svc}-{name}:{path}" for name, path in volumes]}})
        return out

    @property
    def mount_path(self) -> PurePosixPath | None:
        """The mounted folder's path on the nodes (this object's, or a running cluster's labels)."""
        if self.mount:
            return self.mount.path
        return mounts.mounted(self.controller.container.labels)

    @property
    def workdir(self) -> PurePosixPath:
        """Where a user's command runs: the mounted folder, else the nodes' scratch folder."""
        return self.mount_path or LOGS / "run"

    @staticmethod
    def register_timeout_for(engines: int) -> float:
        """The wait for ``engines`` to register: 120 s, or longer for many engines."""
        return max(REGISTER_TIMEOUT, REGISTER_S_PER_ENGINE * engines)

    # -- nodes ------------------------------------------------------------------
    def node(self, service: str) -> Node:
        return self.backend.node(service)

    @property
    def controller(self) -> Node:
        return self.node(self.topology.controller)

    def exec(self, service: str, argv: Sequence[str]) -> Exec:
        return self.node(service).exec(argv)

    def sh(self, service: str, script: str) -> Exec:
        """A shell script on a node (for tests and one-off diagnostics; the testbed itself runs argv)."""
        return self.node(service).exec(["sh", "-c", script])

    def node_json(self, cmd: list[str], on_err_line: Callable[[str], bool] | None = None) -> dict:
        """Run testbed_node.py (the in-cluster client) on the controller node and parse its JSON answer
        (``on_err_line``: its stderr, streamed line by line, as ``Node.run_json``)."""
        return self.controller.run_json(
            ["python3", str(NODE_PY), *cmd], what=f"testbed_node.py {cmd[0]}", on_err_line=on_err_line
        )

    def client_json(self, script: str, *args: str) -> dict:
        """Run workload ``script`` as a client on the controller node (where the lecture's
        session ran) and return its JSON answer."""
        return self.controller.workload(script, *args)

    def put_files(self, folder: PurePosixPath, files) -> list[str]:
        """Copy host files into ``folder`` on the controller node (owned by mpi); their paths there."""
        return self.controller.put_files(folder, files)

    # -- lifecycle --------------------------------------------------------------
    def preflight(self, if_exists: IfExists = IfExists.REFUSE) -> None:
        docker_env.require_compose()
        c = self.backend.docker
        remedy = "make images" + ("" if self.stack is stacks.DEFAULT else f" MPI={self.stack.name}")
        remedy += "" if self.ipp is None else f" IPP={self.ipp}"
        self.backend.require_image(remedy)
        if self.lab_port:
            docker_env.require_image(c, images.lab_image(self.stack), "testbed notebook (it builds the lab image)")
        # any labelled remainder counts, not only containers: a bring-up killed early may leave
        # only its network behind
        left = docker_env.leftovers(c, self.name)
        if not any(left.values()):
            return
        if if_exists is IfExists.REPLACE:
            self.log(f"[{self.name}] removing the cluster of that name that is already there")
            docker_env.clean(c, self.name)
            return
        existing = docker_env.cluster_containers(c, self.name)
        what = ", ".join(f"{n} {k}" for k, n in left.items())
        raise TestbedError(
            f"a cluster named {self.name!r} is already there ({what}; running: "
            f"{sum(ct.status == 'running' for ct in existing)}): `testbed down --name {self.name}` removes it, "
            "or choose another name"
        )

    def up(self, engines: bool = True, if_exists: IfExists = IfExists.REFUSE) -> Cluster:
        """Start nodes and (unless ``engines`` is false) every engine group.

        On any failure, Ctrl-C included, everything started is torn down.
        """
        if if_exists is IfExists.REUSE:
            raise ValueError("up() starts a cluster; reuse one with session() or attach()")
        self.preflight(if_exists)
        t0 = time.monotonic()
        try:
            self._start_nodes()
            if engines:
                self._start_engines()
            if self.lab_port:
                self.lab = notebook.Lab.start(self, self.lab_port)
                self.log(f"[{self.name}] JupyterLab answers on {notebook.HOST}:{self.lab_port}")
        except BaseException:
            self.log(f"[{self.name}] bring-up failed: tearing down")
            self.down(quiet=True)
            raise
        self.timings["up"] = time.monotonic() - t0
        return self

    def _start_nodes(self) -> None:
        topo = self.topology
        self.log(
            f"[{self.name}] starting node(s) {', '.join(topo.nodes)} ({self.stack.title}; "
            f"{self.backend.what} {project_name(self.name)})"
        )
        t = time.monotonic()
        if self.mount and (note := self.mount.write_note()):
            self.log(f"[{self.name}] note: {note}")
        self.backend.start()
        if self.mount:  # node-entry gives user mpi the host user's ids first (testbed.mount)
            for svc in topo.nodes:
                node = self.node(svc)
                poll(
                    lambda n=node: n.exec(["test", "-e", "/run/node-ready"], user="root").code == 0,
                    timeout=60,
                    what=f"node {svc} ready (user mpi with the host user's ids)",
                )
        # the testbed's logs, hostfiles and scratch folder (LOGS, LOGS/run) are in the image;
        # what a client may know of the topology goes there too (the notebooks read it)
        doc = expect.facts(topo, self.stack.name)
        self.controller.put_file(FACTS, json.dumps(doc, indent=1).encode(), 0o644)
        if topo.shared:  # one volume on every node
            self.exec(topo.controller, ["mkdir", "-p", str(PurePosixPath(topo.shared) / "run")])
        self.timings["nodes"] = time.monotonic() - t
        if len(topo.nodes) > 1:
            t = time.monotonic()
            handles = {svc: self.node(svc) for svc in topo.nodes}
            ssh.setup_trust(handles, {svc: n.hostname for svc, n in topo.nodes.items()}, topo.controller)
            self.timings["ssh"] = time.monotonic() - t
            self.log(f"[{self.name}] ssh ready between {', '.join(topo.nodes)} ({self.timings['ssh']:.1f}s)")
        for sched, groups in self.schedulers():
            self._start_scheduler(sched, groups)

    def schedulers(self) -> list[tuple[Scheduler, list[Group]]]:
        """The batch systems the topology's launch kinds submit to, each with the groups it runs."""
        out: dict[str, tuple[Scheduler, list[Group]]] = {}
        for g in self.topology.groups:
            if (sched := launch.kind(g.launch).scheduler) is not None:
                out.setdefault(sched.name, (sched, []))[1].append(g)
        return list(out.values())

    def _start_scheduler(self, sched: Scheduler, groups: list[Group]) -> None:
        """A scheduler's configuration files and daemons (testbed.schedulers); ready when its node
        query, asked on the controller node, shows every compute node ready."""
        topo = self.topology
        t = time.monotonic()
        for f in sched.files(topo, groups):
            self.node(f.node).put_file(f.path, f.data, f.mode, user=f.user)
        daemons = sched.daemons(topo, groups)
        self.log(f"[{self.name}] {sched.name}: " + ", ".join(f"{' '.join(d.argv)} on {d.node}" for d in daemons))
        for d in daemons:
            self.node(d.node).start(list(d.argv), d.log, user=d.user)
        want = {topo.hostname(s) for s in sched.compute_nodes(groups)}
        seen: dict[str, dict] = {}

        def ready() -> bool:
            res = self.exec(topo.controller, sched.nodes_argv())
            if res.code:
                return False
            seen.clear()
            seen.update(sched.parse_nodes(res.out))
            return sched.ready(seen, want)

        try:
            poll(ready, timeout=sched.ready_timeout, what=f"{sched.title} (every compute node ready)")
        except TestbedError as e:
            states = ", ".join(f"{h}: {v['state']}" for h, v in sorted(seen.items())) or "no node answers"
            tails = "\n".join(
                f"--- {d.log.name} ({d.node}) ---\n{self.node(d.node).tail(d.log.name, 6)}"
                for d in dict((d.node, d) for d in daemons).values()
            )
            raise TestbedError(f"{e} ({states})\n{tails}") from None
        self.timings[sched.name] = time.monotonic() - t
        self.log(f"[{self.name}] {sched.name} ready: {len(want)} compute node(s) ({self.timings[sched.name]:.1f}s)")

    def _start_engines(self) -> None:
        topo = self.topology
        ctx = LaunchContext(topo, self.stack)
        if not launch.kind(topo.groups[0].launch).starts_controller:
            self._run_start(launch.controller_start(topo), what="the controller")
        if topo.name_server:
            self._start_name_server()
        rows = placement.by_group(topo)
        for group in topo.groups:
            t = time.monotonic()
            for start in launch.kind(group.launch).starts(group, rows[group.name], ctx):
                self._run_start(start, what=f"group {group.name!r} on {start.node}")
            self.timings[f"group:{group.name}"] = time.monotonic() - t
            total = ctx.registered_before(group) + group.engines
            self.log(f"[{self.name}] {total} engine(s) registered ({time.monotonic() - t:.1f}s)")

    def _start_name_server(self) -> None:
        """The MPI library's name server, for Publish_name/Lookup_name between separate mpiexec jobs."""
        ctl = self.controller
        argv = self.stack.name_server_argv(NAME_SERVER_URI)
        self.log(f"[{self.name}] {self.topology.controller}: {' '.join(argv)}")
        ctl.exec(["rm", "-f", str(NAME_SERVER_URI)])
        ctl.start(argv, LOGS / "name-server.log")
        ready = self.stack.name_server_ready_argv(NAME_SERVER_URI)
        try:
            poll(lambda: ctl.exec(ready).code == 0, timeout=NAME_SERVER_TIMEOUT, what=f"the name server ({argv[0]})")
        except TestbedError as e:
            raise TestbedError(f"{e}\n{ctl.tail('name-server.log', 10)}") from None

    def _run_start(self, start: Start, what: str) -> None:
        """Write the files a start needs, run it, and wait until ``start.registered`` engines are there.

        On the controller node one ``docker exec`` starts the command and waits (the
        waiting client's imports overlap the start, and a command that dies is reported
        at once); on another node it is started detached, then awaited.
        """
        self.log(f"[{self.name}] {start.says}")
        for node in start.engine_file_on:
            self._copy_engine_file(node)
        for node, path, text in start.files:
            self.node(node).put_file(path, text.encode(), 0o644)
        cmd = ["wait", str(start.registered), "--timeout", str(self.register_timeout), *start.watch]
        if start.node == self.topology.controller:
            cmd += ["--log", str(start.log), "--", *start.argv]
        else:
            self.node(start.node).start(start.argv, start.log)
        try:  # on a terminal, "k of N engines registered" as the wait prints them (testbed.progress)
            with progress.track(f"[{self.name}] {what}", start.registered or None, "engines registered") as bar:
                doc = self.node_json(cmd, on_err_line=bar.registered_line)
        except TestbedError as e:
            node = self.node(start.node)
            tail = node.tail(start.log.name)
            fatal = node.engine_fatal_lines()  # e.g. an engine that gave up on its registration
            state = node.stuck_state()  # processes by state, /dev/shm, the launcher's own output
            raise TestbedError(
                f"{what}: {e}"
                + (f"\n--- {start.log} ({start.node}) ---\n{tail}" if tail else "")
                + (f"\n--- engines' CRITICAL lines ({start.node}) ---\n{fatal}" if fatal else "")
                + (f"\n--- processes, shared memory, launcher output ({start.node}) ---\n{state}" if state else "")
            ) from None
        if start.registered:
            self.id_history.append(doc["ids"])

    def _copy_engine_file(self, service: str) -> None:
        """The engine connection file, copied to a node that is not the controller's.

        Nodes share no filesystem with the controller; the file reaches them the way
        the lecture did it, copied.
        """
        if service in self._has_engine_file:
            return
        self.copy_from_controller(service, ENGINE_FILE)
        self._has_engine_file.add(service)

    def copy_from_controller(self, service: str, path: PurePosixPath) -> None:
        """A private file of the controller node (a connection file) copied to the same path on
        node ``service``, its folder made private first."""
        content = self.controller.read(path)
        node = self.node(service)
        node.exec(["mkdir", "-p", "-m", "700", str(path.parent)])
        node.put_file(path, content.encode())

    def down(self, quiet: bool = False) -> None:
        """Remove the compose project, then anything still labelled for this cluster."""
        if not quiet:
            self.log(f"[{self.name}] tearing down")
        self.backend.stop()

    # -- plain MPI programs -------------------------------------------------------
    def mpiexec_argv(self, ranks: int, argv: Sequence[str], across: bool = True) -> list[str]:
        """``mpiexec`` of ``ranks`` copies of ``argv`` from the controller node; with ``across``
        and several nodes, rank r on node r % len(nodes) (by node), as the placement spreads."""
        nodes = tuple(self.topology.nodes)
        if not across or len(nodes) == 1:
            return self.stack.mpiexec([stacks.Context(tuple(argv), ranks=ranks)])
        hosts = [self.topology.hostname(s) for s in placement.round_robin(nodes, ranks)]
        hostfile = LOGS / "hostfile-all"
        cmd, text = self.stack.placed([stacks.Context(tuple(argv), host=h) for h in hosts], hostfile)
        if text is not None:
            self.controller.put_file(hostfile, text.encode(), 0o644)
        return cmd

    def program_where(self, shared_file: bool) -> tuple[bool, PurePosixPath]:
        """Where a plain MPI program runs: (over every node?, working folder).

        A program whose ranks share one file (MPI-IO) spans the nodes only when the
        topology mounts one shared folder on all of them; elsewhere it stays on the
        controller node, since each node's scratch folder is its own.
        """
        several = len(self.topology.nodes) > 1
        if shared_file:
            if self.topology.shared:
                return several, PurePosixPath(self.topology.shared) / "run"
            return False, LOGS / "run"
        return several, LOGS / "run"

    def run_program(
        self,
        script: str,
        ranks: int,
        args: tuple[str, ...] = (),
        across: bool = True,
        workdir: PurePosixPath = LOGS / "run",
    ) -> Exec:
        """``mpiexec -n ranks python3 <script>`` from the controller node, in ``workdir``.

        Over all the topology's nodes when it has several (``across``); the scratch
        folder exists on every node. A file the program's arguments name is removed
        first (MPI-IO does not truncate what an earlier run wrote).
        """
        ctl = self.controller
        if args:
            ctl.exec(["rm", "-f", *(str(workdir / a) for a in args)])
        argv = self.mpiexec_argv(ranks, ["python3", str(WORKLOADS / script), *args], across)
        res = ctl.exec(["timeout", "-k", "10", str(PROGRAM_TIMEOUT), *argv], workdir=str(workdir))
        if res.code in (124, 137):  # timeout's TERM, then KILL
            return Exec(res.code, res.out, res.err + f"\nmpiexec did not finish within {PROGRAM_TIMEOUT} s: ended")
        return res

    # -- queries ----------------------------------------------------------------
    def report(
        self, scatter: int, timeout: float | None = None, partial: bool = False, engines: int | None = None
    ) -> dict:
        """What every engine sees of the lecture's workloads (testbed_node.py report).

        ``partial``: when fewer engines than the topology's are registered after ``timeout``,
        report on those there are (a check then names the missing ones) instead of failing.
        ``engines``: how many to wait for (default: the topology's; after a fault, those left, so
        that the report does not wait out ``timeout`` for engines known to be gone).
        """
        timeout = self.register_timeout if timeout is None else timeout
        want = self.topology.engine_count if engines is None else engines
        cmd = ["report", "--scatter", str(scatter), "--engines", str(want)]
        cmd += ["--timeout", str(timeout)] + (["--partial"] if partial else [])
        if self.topology.merge:
            if self.topology.name_server:
                argv0 = self.stack.name_server_argv(NAME_SERVER_URI)[0]
                if self.exec(self.topology.controller, self.stack.name_server_alive_argv(NAME_SERVER_URI)).code:
                    raise TestbedError(
                        f"the name server ({argv0}) is not running on {self.topology.controller}: "
                        "the worlds cannot find each other; bring the cluster up again"
                    )
            cmd += ["--merge"]
        # bounded: an engine stuck in an MPI collective whose world lost a rank never answers
        bound = int(timeout + REPORT_WORK_S)
        code, out, err = self.controller.exec(["timeout", "-k", "5", str(bound), "python3", str(NODE_PY), *cmd])
        if code in (124, 137):
            raise TestbedError(
                f"the engines did not finish the lecture's workloads within {bound} s: an engine is stuck "
                "(in an MPI call whose world lost a rank?); `testbed status` shows which are registered"
            )
        return last_json(out, err, f"testbed_node.py report on {self.topology.controller} (exit {code})")

    def check(
        self,
        scatter: int | None = None,
        *,
        alive: set[int] | None = None,
        timeout: float | None = None,
        partial: bool = False,
    ) -> tuple[dict, checks.CheckResult]:
        """Report, then compare with the derivation: the report and its check.

        ``alive``: the engines left after a fault (the derivation over them alone); ``partial``:
        report on the engines registered after ``timeout`` rather than fail (the check names the rest).
        """
        scatter = self.topology.scatter if scatter is None else scatter
        report = self.report(scatter, timeout=timeout, partial=partial)
        result = checks.against(self.topology, report["engines"], cluster=self.name, scatter=scatter, alive=alive)
        result.problems += checks.probe_problems(report)  # registered, but left out of the report
        return report, result

    def scheduler_jobs(self, sched: Scheduler | None = None) -> list[dict]:
        """The jobs of ``sched`` (default: of every scheduler the cluster runs), from its queue asked on
        the controller node, finished ones too while it keeps them; each job names its ``scheduler``."""
        out = []
        for s in [sched] if sched else [s for s, _ in self.schedulers()]:
            res = self.exec(self.topology.controller, s.queue_argv())
            out += [{**j, "scheduler": s.name} for j in s.parse_queue(res.out)] if res.code == 0 else []
        return out

    def scheduler_nodes(self, sched: Scheduler | None = None) -> dict[str, dict]:
        """Each compute node's state and reason, as ``sched`` (default: every scheduler) says."""
        out: dict[str, dict] = {}
        for s in [sched] if sched else [s for s, _ in self.schedulers()]:
            res = self.exec(self.topology.controller, s.nodes_argv())
            out.update(s.parse_nodes(res.out) if res.code == 0 else {})
        return out

    def missing_note(self, ids: Sequence[int]) -> str:
        """Which engines are not registered, by group, and (under a scheduler) what became of their jobs."""
        rows = [r for r in placement.derive(self.topology) if r.id in set(ids)]
        groups: dict[str, list[int]] = {}
        for r in rows:
            groups.setdefault(r.group, []).append(r.id)
        parts = [f"{', '.join(map(str, v))} (group {g!r})" for g, v in groups.items()]
        note = f"engine(s) {'; '.join(parts)} not registered at the controller"
        jobs = []
        for sched, of in self.schedulers():
            if names := {sched.job_name(g.name) for g in of if g.name in groups}:
                jobs += [
                    f"{sched.title} job {j['id']} ({j['name']}) {j['state']}"
                    + (f" ({j['reason']})" if j["reason"] not in ("None", "") else "")
                    for j in self.scheduler_jobs(sched)
                    if j["name"] in names
                ]
        if jobs:
            note += "; " + ", ".join(jobs)
        return note


def merge_overrides(out: dict, more: dict) -> dict:
    """Add compose keys ``more`` ({service: keys}) to ``out``: lists are extended, maps updated."""
    for svc, body in more.items():
        have = out.setdefault(svc, {})
        for key, value in body.items():
            if isinstance(value, list):
                have[key] = [*have.get(key, []), *value]
            elif isinstance(value, dict):
                have[key] = {**have.get(key, {}), **value}
            else:
                have[key] = value
    return out


def _running(name: str) -> dict | None:
    """The labels of running cluster ``name``, or None."""
    return docker_env.cluster_labels(docker_env.client(), check_name(name))


def is_up(name: str) -> bool:
    return _running(name) is not None


def attach(topology: Topology, name: str | None = None, **kw) -> Cluster:
    """A Cluster object for a cluster that is already up, with the counts it was started with."""
    cluster_name = check_name(name or topology.name)
    found = _running(cluster_name)
    if found is None:
        raise TestbedError(
            f"no cluster named {cluster_name!r} is up: `testbed up {topology.name} --name {cluster_name}`"
        )
    if found.get(labels.TOPOLOGY, topology.name) != topology.name:
        raise TestbedError(f"cluster {cluster_name!r} runs topology {found[labels.TOPOLOGY]!r}, not {topology.name!r}")
    counts = found.get(labels.COUNTS)
    if counts:
        topology = topology.with_counts(tuple(int(x) for x in counts.split(",")))
    stack = stacks.get(found.get(labels.MPI, stacks.DEFAULT.name))
    wanted = kw.pop("stack", None)
    if wanted is not None and wanted.name != stack.name:
        raise TestbedError(
            f"cluster {cluster_name!r} runs MPI stack {stack.name}, not {wanted.name}: "
            f"`testbed down --name {cluster_name}` first, or leave out --mpi"
        )
    kind = backends.kind_of(found)
    wanted_kind = kw.pop("backend", None)
    if wanted_kind not in (None, "compose", kind):  # compose: the default, when none was asked for
        raise TestbedError(
            f"cluster {cluster_name!r} is a {backends.get(kind).what} here, not a {backends.get(wanted_kind).what}: "
            f"`testbed down --name {cluster_name}` first, or leave out --{wanted_kind}"
        )
    kw.pop("place", None)  # its nodes are where they were placed
    ipp = _running_ipp(cluster_name, found, kw.pop("ipp", None))
    cluster = Cluster(topology, name=cluster_name, stack=stack, backend=kind, ipp=ipp, **kw)
    cluster.attached = True
    return cluster


def _running_ipp(name: str, found: dict, wanted: str | None) -> str | None:
    """The ipyparallel of running cluster ``name``: its image's label (on each container), else the one
    asked for; one asked for that is not the one running is refused in one line."""
    running = found.get(labels.IPYPARALLEL)
    running = running if IPP_VERSION.ok(running) else None
    if wanted is not None and running is not None and stacks.ipp_version(wanted) != stacks.ipp_version(running):
        raise TestbedError(
            f"cluster {name!r} runs ipyparallel {running}, not {wanted}: `testbed down --name {name}` first, "
            "or leave out --ipp"
        )
    return running if running is not None else wanted


@contextmanager
def session(
    topology: Topology,
    name: str | None = None,
    if_exists: IfExists = IfExists.REUSE,
    engines: bool = True,
    **kw,
) -> Iterator[Cluster]:
    """A cluster for the length of a ``with`` block.

    With ``REUSE``, a running cluster of that name is used as it is and left up (it
    keeps the group sizes it was started with). Otherwise one is brought up now (after
    ``if_exists`` dealt with a namesake) and removed after the block.
    """
    cluster_name = check_name(name or topology.name)
    stack = kw.pop("stack", None)  # None: the running cluster's, or the default
    if if_exists is IfExists.REUSE and is_up(cluster_name):
        log = kw.get("log", print)
        log(f"[{cluster_name}] using the running cluster")
        yield attach(topology, name=cluster_name, stack=stack, **kw)
        return
    cluster = Cluster(topology, name=cluster_name, stack=stack or stacks.DEFAULT, **kw)
    cluster.up(engines=engines, if_exists=IfExists.REFUSE if if_exists is IfExists.REUSE else if_exists)
    try:
        yield cluster
    finally:
        cluster.down()
