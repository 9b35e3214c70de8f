"""Bring a topology up in containers, start its engine groups in order, tear down.

Nodes come up through testcontainers' ``DockerCompose`` (Compose v2) from the
topology's compose file; then each engine group is launched with ``docker exec``
on its node, and the next starts only when the controller has registered every
engine so far (an event reported by ``Client.wait_for_engines``, not a sleep).
Every resource carries the label ``ipp-testbed.cluster=<name>``; ``down()``
removes the compose project and then anything else with that label.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from . import docker_env
from .errors import TestbedError
from .topology import Group, Topology

USER = "mpi"
HOME = PurePosixPath("/home/mpi")
SECURITY = HOME / ".ipython/profile_default/security"
ENGINE_FILE = SECURITY / "ipcontroller-engine.json"
WORKLOADS = PurePosixPath("/opt/testbed/workloads")
NODE_PY = WORKLOADS / "testbed_node.py"
LOGS = PurePosixPath("/tmp/testbed")
NAME_SERVER_URI = LOGS / "ompi-server.uri"

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
REGISTER_TIMEOUT = 120.0


def last_json(out: str, err: str, what: str) -> dict:
    """The last JSON object a workload printed on a line of its own; its ``error``, if any, raised."""
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not lines:
        raise TestbedError(f"{what} printed no result: {err.strip()[-800:]}")
    doc = json.loads(lines[-1])
    if "error" in doc:
        raise TestbedError(f"{what}: {doc['error']}")
    return doc


def project_name(cluster: str) -> str:
    return f"ipp-testbed-{cluster}"


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise TestbedError(
            f"cluster name {name!r}: use lower-case letters, digits, '-' and '_' "
            "(at most 41 characters, starting with a letter or digit)"
        )
    return name


class Cluster:
    """One running (or about to run) instance of a topology."""

    def __init__(
        self,
        topology: Topology,
        name: str | None = None,
        image: str = docker_env.DEFAULT_IMAGE,
        log: Callable[[str], None] = print,
        register_timeout: float = REGISTER_TIMEOUT,
    ):
        self.topology = topology
        self.name = check_name(name or topology.name)
        self.image = image
        self.log = log
        self.register_timeout = register_timeout
        self._docker = None
        self._tmp = tempfile.TemporaryDirectory(prefix="ipp-testbed-")
        self._compose = None
        self._engine_file_copied: set[str] = set()
        self.timings: dict[str, float] = {}
        self.id_history: list[list[int]] = []  # registered ids after each wait, in bring-up order

    # -- plumbing ---------------------------------------------------------------
    @property
    def docker(self):
        if self._docker is None:
            self._docker = docker_env.client()
        return self._docker

    def _env_file(self) -> str:
        path = Path(self._tmp.name) / "compose.env"
        counts = ",".join(str(n) for n in self.topology.counts)
        path.write_text(
            f"TESTBED_CLUSTER={self.name}\n"
            f"TESTBED_PROJECT={project_name(self.name)}\n"
            f"TESTBED_IMAGE={self.image}\n"
            f"TESTBED_COUNTS={counts}\n"
            f"TESTBED_TOPOLOGY={self.topology.name}\n"
        )
        return str(path)

    def compose(self):
        """testcontainers' DockerCompose for this cluster's project."""
        if self._compose is None:
            from testcontainers.compose import DockerCompose

            self._compose = DockerCompose(
                context=str(self.topology.path.parent),
                compose_file_name=self.topology.path.name,
                env_file=self._env_file(),
                wait=True,
            )
        return self._compose

    def container(self, service: str):
        found = self.docker.containers.list(
            filters={
                "label": [
                    f"{docker_env.LABEL}={self.name}",
                    f"com.docker.compose.service={service}",
                ]
            }
        )
        if not found:
            raise TestbedError(f"cluster {self.name}: node {service!r} is not running")
        return found[0]

    def exec(self, service: str, cmd: list[str], detach: bool = False) -> tuple[int, str, str]:
        ctr = self.container(service)
        if detach:
            ctr.exec_run(cmd, user=USER, detach=True)
            return 0, "", ""
        res = ctr.exec_run(cmd, user=USER, demux=True)
        out, err = res.output if res.output else (b"", b"")
        return res.exit_code, (out or b"").decode(errors="replace"), (err or b"").decode(
            errors="replace"
        )

    def sh(self, service: str, script: str, detach: bool = False) -> tuple[int, str, str]:
        return self.exec(service, ["sh", "-c", script], detach=detach)

    def client_json(self, script: str, *args: str) -> dict:
        """Run workload ``script`` as a client on the controller node (where the lecture's
        session ran) and return its JSON answer."""
        ctr = self.topology.controller
        code, out, err = self.exec(ctr, ["python3", str(WORKLOADS / script), *args])
        return last_json(out, err, f"{script} on {ctr} (exit {code})")

    def put_files(self, folder: PurePosixPath, files: list[Path]) -> list[str]:
        """Copy host files into ``folder`` on the controller node (owned by mpi); their paths there."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(folder.name)
            info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, 1000, 1000
            tar.addfile(info)
            for f in files:
                info = tar.gettarinfo(str(f), arcname=f"{folder.name}/{f.name}")
                info.uid, info.gid, info.uname, info.gname, info.mode = 1000, 1000, "mpi", "mpi", 0o644
                with open(f, "rb") as fh:
                    tar.addfile(info, fh)
        self.container(self.topology.controller).put_archive(str(folder.parent), buf.getvalue())
        return [str(folder / f.name) for f in files]

    def node_json(self, cmd: list[str]) -> dict:
        """Run testbed_node.py on the controller node and parse its JSON answer."""
        ctr = self.topology.controller
        code, out, err = self.exec(ctr, ["python3", str(NODE_PY), *cmd])
        return last_json(out, err, f"testbed_node.py {cmd[0]} on {ctr} (exit {code})")

    # -- lifecycle --------------------------------------------------------------
    def preflight(self) -> None:
        docker_env.require_compose()
        docker_env.require_image(self.docker, self.image)
        existing = docker_env.cluster_containers(self.docker, self.name)
        if existing:
            raise TestbedError(
                f"a cluster named {self.name!r} is already up ({len(existing)} container(s)): "
                f"`make cluster-down TOPOLOGY={self.name}` first, or choose another NAME="
            )

    def up(self, engines: bool = True) -> Cluster:
        """Start nodes and (unless ``engines`` is false) every engine group.

        On any failure, Ctrl-C included, everything started is torn down.
        """
        self.preflight()
        t0 = time.monotonic()
        try:
            self._start_nodes()
            if len(self.topology.nodes) > 1:
                self._setup_ssh()
            if engines and self.topology.groups[0].launch != "ipcluster":
                self._start_controller()
            if engines and self.topology.name_server:
                self._start_name_server()
            for group in self.topology.groups if engines else ():
                self._start_group(group)
        except BaseException:
            self.log(f"[{self.name}] bring-up failed: tearing down")
            self.down(quiet=True)
            raise
        self.timings["up"] = time.monotonic() - t0
        return self

    def _start_nodes(self) -> None:
        nodes = ", ".join(self.topology.nodes)
        self.log(f"[{self.name}] starting node(s) {nodes} (compose project {project_name(self.name)})")
        t = time.monotonic()
        try:
            self.compose().start()
        except subprocess.CalledProcessError as e:
            err = (e.stderr or b"").decode(errors="replace").strip().splitlines()
            raise TestbedError(
                f"docker compose up failed for {self.topology.path.name}: "
                f"{err[-1] if err else 'exit ' + str(e.returncode)}"
            ) from None
        # the testbed's logs, hostfiles and `testbed run`'s scratch folder (LOGS, LOGS/run)
        # are in the image, owned by mpi: no exec per node here
        if self.topology.shared:  # one volume on every node
            self.exec(self.topology.controller, ["mkdir", "-p", str(PurePosixPath(self.topology.shared) / "run")])
        self.timings["nodes"] = time.monotonic() - t

    def _put_file(self, service: str, path: PurePosixPath, data: bytes, mode: int = 0o600) -> None:
        """Write a file owned by mpi into a node (no filesystem is shared between nodes)."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(path.name)
            info.size, info.mode, info.uid, info.gid = len(data), mode, 1000, 1000
            tar.addfile(info, io.BytesIO(data))
        self.container(service).put_archive(str(path.parent), buf.getvalue())

    def _setup_ssh(self) -> None:
        """Let the controller node ssh to every node as mpi, for mpiexec across nodes.

        The key pair is made now, on the controller node, for this cluster only; each
        node's public host key (made when that node started) goes into known_hosts,
        so host keys are checked, not waved through. Ready when every node answers.
        """
        t = time.monotonic()
        ctl = self.topology.controller
        code, _, err = self.sh(
            ctl, "test -f ~/.ssh/id_ed25519 || ssh-keygen -q -t ed25519 -N '' -C testbed -f ~/.ssh/id_ed25519"
        )
        if code != 0:
            raise TestbedError(f"ssh-keygen on {ctl} failed: {err.strip()}")
        _, pub, _ = self.exec(ctl, ["cat", str(HOME / ".ssh/id_ed25519.pub")])
        known = []
        for svc, node in self.topology.nodes.items():
            self._put_file(svc, HOME / ".ssh/authorized_keys", pub.encode())
            hostkey = ""
            deadline = time.monotonic() + 30
            while not hostkey and time.monotonic() < deadline:
                _, hostkey, _ = self.exec(svc, ["cat", "/etc/ssh/ssh_host_ed25519_key.pub"])
                hostkey = hostkey.strip()
                if not hostkey:
                    time.sleep(0.2)
            if not hostkey:
                raise TestbedError(f"node {svc} has no ssh host key after 30 s (did sshd start?)")
            keytype, key = hostkey.split()[:2]
            known.append(f"{node.hostname} {keytype} {key}")
        self._put_file(ctl, HOME / ".ssh/known_hosts", ("\n".join(known) + "\n").encode(), 0o644)
        for node in self.topology.nodes.values():
            deadline = time.monotonic() + 30
            while True:
                code, _, err = self.exec(ctl, ["ssh", node.hostname, "true"])
                if code == 0:
                    break
                if time.monotonic() > deadline:
                    raise TestbedError(f"ssh from {ctl} to {node.hostname} does not answer: {err.strip()}")
                time.sleep(0.2)
        self.timings["ssh"] = time.monotonic() - t
        self.log(f"[{self.name}] ssh ready between {', '.join(self.topology.nodes)} ({self.timings['ssh']:.1f}s)")

    def _registered_before(self, group: Group) -> int:
        total = 0
        for g in self.topology.groups:
            if g is group:
                return total
            total += g.engines
        raise ValueError(group)

    def _start_controller(self) -> None:
        """The controller alone (when no ipcluster group starts it), listening on the network."""
        ctl = self.topology.controller
        host = self.topology.hostname(ctl)
        self.log(f"[{self.name}] {ctl}: ipcontroller --ip=0.0.0.0 --location={host}")
        try:
            self._wait(0, start=(ctl, f"exec ipcontroller --ip=0.0.0.0 --location={host}", LOGS / "controller.log"))
        except TestbedError as e:
            _, tail, _ = self.sh(ctl, f"tail -n 15 {LOGS}/controller.log")
            raise TestbedError(f"the controller on {ctl} did not come up: {e}\n{tail.rstrip()}") from None

    def _start_name_server(self) -> None:
        """Open MPI's name server, for Publish_name/Lookup_name between separate mpiexec jobs."""
        ctl = self.topology.controller
        self.log(f"[{self.name}] {ctl}: ompi-server -r {NAME_SERVER_URI}")
        self.sh(ctl, f"rm -f {NAME_SERVER_URI}")
        self.sh(ctl, f"exec ompi-server --no-daemonize -r {NAME_SERVER_URI} >{LOGS}/ompi-server.log 2>&1", detach=True)
        code, _, _ = self.sh(
            ctl, f"for i in $(seq 100); do test -s {NAME_SERVER_URI} && exit 0; sleep 0.1; done; exit 1"
        )
        if code != 0:
            _, tail, _ = self.sh(ctl, f"tail -n 10 {LOGS}/ompi-server.log")
            raise TestbedError(f"ompi-server on {ctl} wrote no URI within 10 s: {tail.strip()}")

    def _spread(self, launcher: str, hosts: tuple[str, ...], ranks: int) -> str:
        """mpiexec options placing ``ranks`` round-robin (by node) on ``hosts``.

        The hostfile lists those nodes (each answered ssh at bring-up). Only
        ``launcher`` ssh's to them (no tree spawn), and PATH reaches the remote ranks
        (an ssh session does not get the container's environment).
        """
        hostfile = LOGS / ("hostfile-" + "-".join(hosts))
        lines = "".join(f"{self.topology.hostname(h)} slots={ranks}\n" for h in hosts)
        self._put_file(launcher, hostfile, lines.encode(), 0o644)
        return (
            f"--hostfile {hostfile} --map-by node --mca plm_rsh_no_tree_spawn 1 "
            "-x PATH -x PYTHONDONTWRITEBYTECODE"
        )

    def _mpi_extra(self) -> str:
        """mpiexec options every launch of this topology needs (the name server)."""
        return f"--ompi-server file:{NAME_SERVER_URI}" if self.topology.name_server else ""

    def _start_group(self, group: Group) -> None:
        t = time.monotonic()
        base = self._registered_before(group)
        target = base + group.engines
        node = group.node
        kind = f"{group.engines} {'MPI' if group.mpi else 'plain'} engine(s)"
        log = LOGS / f"{group.name}.log"
        if group.launch == "ipcluster":
            host = self.topology.hostname(self.topology.controller)
            engines = "mpi" if group.mpi else "local"
            self.log(f"[{self.name}] {node}: ipcluster start: controller + {kind}")
            mpi_args = ""
            if group.mpi and self.topology.name_server:
                mpi_args = (
                    "--MPIEngineSetLauncher.mpi_args=--ompi-server "
                    f"--MPIEngineSetLauncher.mpi_args=file:{NAME_SERVER_URI} "
                )
            self._wait_engines(target, group, start=(
                node,
                f"exec ipcluster start --daemonize --n={group.engines} --engines={engines} {mpi_args}"
                f"--ip=0.0.0.0 --location={host}",
                log,
            ))  # fmt: skip
        else:
            engine_file = self._engine_file_on(node)
            for host in group.rank_hosts:  # no shared filesystem: each rank's node gets a copy
                self._engine_file_on(host)
            if group.launch == "ipengine":
                flag = "--mpi " if group.mpi else ""
                for i in range(group.engines):
                    self.log(f"[{self.name}] {node}: ipengine {flag}(engine {base + i + 1} of {target})")
                    self._wait_engines(base + i + 1, group, start=(
                        node, f"exec ipengine {flag}--file={engine_file}", LOGS / f"{group.name}-{i}.log"
                    ))  # fmt: skip
            elif group.launch == "mpiexec":
                # each rank asks for engine id base + its rank (or the reverse, for
                # order: descending), read from Open MPI's rank variable at start
                rank_expr = (
                    f"{target - 1} - OMPI_COMM_WORLD_RANK"
                    if group.order == "descending"
                    else f"{base} + OMPI_COMM_WORLD_RANK"
                )
                engine = (
                    f"sh -c 'exec ipengine --mpi --file={engine_file} "
                    f"--IPEngine.id=$(({rank_expr}))'"
                )
                where = self._spread(node, group.hosts, group.engines) + " " if group.hosts else ""
                self.log(
                    f"[{self.name}] {node}: mpiexec -n {group.engines} ipengine --mpi "
                    f"(ids {base}..{target - 1}, {group.order} by rank"
                    + (f", on {', '.join(group.hosts)})" if group.hosts else ")")
                )
                self._wait_engines(target, group, start=(
                    node, f"exec mpiexec -n {group.engines} {where}{self._mpi_extra()} {engine}", log
                ))  # fmt: skip
            else:  # pragma: no cover - topology validates launch
                raise TestbedError(f"unknown launch {group.launch!r}")
        self.timings[f"group:{group.name}"] = time.monotonic() - t
        self.log(f"[{self.name}] {target} engine(s) registered ({time.monotonic() - t:.1f}s)")

    def _wait(self, n: int, start: tuple[str, str, PurePosixPath] | None = None) -> dict:
        """Wait on the controller node until ``n`` engines are registered.

        ``start`` = (node, shell command, log): that command is started first. On the
        controller node one ``docker exec`` starts it and waits (the waiting client's
        imports overlap the start); on another node it is started detached, then awaited.
        """
        cmd = ["wait", str(n), "--timeout", str(self.register_timeout)]
        if start:
            node, script, log = start
            if node == self.topology.controller:
                cmd += ["--start", script, "--log", str(log)]
            else:
                self.sh(node, f"{script} >{log} 2>&1", detach=True)
        return self.node_json(cmd)

    def _wait_engines(self, n: int, group: Group, start: tuple[str, str, PurePosixPath] | None = None) -> None:
        try:
            doc = self._wait(n, start)
            self.id_history.append(doc["ids"])
        except TestbedError as e:
            _, tail, _ = self.sh(group.node, f"tail -n 15 {LOGS}/{group.name}*.log 2>/dev/null")
            raise TestbedError(
                f"waiting for group {group.name!r} on {group.node}: {e}"
                + (f"\n--- engine log ({group.node}) ---\n{tail.rstrip()}" if tail.strip() else "")
            ) from None

    def _engine_file_on(self, node: str) -> PurePosixPath:
        """The engine connection file as a node sees it: copied when not the controller node.

        Remote nodes share no filesystem with the controller; the file reaches them
        the way the lecture did it, copied.
        """
        if node == self.topology.controller or node in self._engine_file_copied:
            return ENGINE_FILE
        code, content, err = self.exec(self.topology.controller, ["cat", str(ENGINE_FILE)])
        if code != 0:
            raise TestbedError(f"no engine connection file on the controller: {err.strip()}")
        self.exec(node, ["mkdir", "-p", "-m", "700", str(ENGINE_FILE.parent)])
        self._put_file(node, ENGINE_FILE, content.encode())
        self._engine_file_copied.add(node)
        return ENGINE_FILE

    def down(self, quiet: bool = False) -> None:
        """Remove the compose project, then anything still labelled for this cluster."""
        if not quiet:
            self.log(f"[{self.name}] tearing down")
        try:
            self.compose().stop(down=True)
        except Exception:  # noqa: BLE001 - fall through to the label sweep
            pass
        docker_env.clean(self.docker, self.name)

    def __enter__(self) -> Cluster:
        return self.up()

    def __exit__(self, *exc) -> None:
        self.down()

    # -- queries ----------------------------------------------------------------
    def mpiexec_prefix(self, ranks: int, across: bool = True) -> str:
        """``mpiexec -n ranks``, spread over every node (by node) when there are several."""
        if across and len(self.topology.nodes) > 1:
            return f"mpiexec -n {ranks} {self._spread(self.topology.controller, tuple(self.topology.nodes), ranks)}"
        return f"mpiexec -n {ranks}"

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
    ) -> tuple[int, str, str]:
        """``mpiexec -n ranks python3 <script>`` from the controller node, in ``workdir``.

        Over all the topology's nodes when it has several (``across``); the scratch
        folder exists on every node (made at bring-up).
        """
        argv = " ".join([str(WORKLOADS / script), *args])
        return self.sh(
            self.topology.controller,
            f"cd {workdir} && rm -f mpi_IO && exec {self.mpiexec_prefix(ranks, across)} python3 {argv}",
        )

    def report(self, scatter: int) -> dict:
        cmd = ["report", "--scatter", str(scatter), "--engines", str(self.topology.engine_count)]
        cmd += ["--timeout", str(self.register_timeout)]
        if self.topology.merge:
            if self.topology.name_server:
                code, _, _ = self.exec(self.topology.controller, ["pgrep", "-x", "ompi-server"])
                if code != 0:
                    raise TestbedError(
                        f"the name server (ompi-server) is not running on {self.topology.controller}: "
                        "the worlds cannot find each other; bring the cluster up again"
                    )
            cmd += ["--merge"]
        return self.node_json(cmd)


def attach(topology: Topology, name: str | None = None, **kw) -> Cluster:
    """A Cluster object for a cluster that is already up, with the counts it was started with."""
    cluster_name = check_name(name or topology.name)
    c = docker_env.client()
    ctrs = docker_env.cluster_containers(c, cluster_name, all=False)
    if not ctrs:
        raise TestbedError(
            f"no cluster named {cluster_name!r} is up: `make cluster-up TOPOLOGY={topology.name}`"
        )
    labels = ctrs[0].labels
    if labels.get("ipp-testbed.topology", topology.name) != topology.name:
        raise TestbedError(
            f"cluster {cluster_name!r} runs topology {labels['ipp-testbed.topology']!r}, "
            f"not {topology.name!r}"
        )
    counts = labels.get("ipp-testbed.counts")
    if counts:
        topology = topology.with_counts(tuple(int(x) for x in counts.split(",")))
    return Cluster(topology, name=cluster_name, **kw)


def is_up(name: str) -> bool:
    return bool(docker_env.cluster_containers(docker_env.client(), check_name(name), all=False))
