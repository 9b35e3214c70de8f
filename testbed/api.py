"""The testbed from Python: a cluster for the length of a ``with`` block.

    import testbed

    with testbed.cluster("split-world", mpi="mpich", mount=".") as c:
        rc = c.client()                      # ipyparallel.Client on the host
        c.exec(["mpiexec", "-n", "4", "python3", "mine.py"])
        c.expected()                         # what the topology says each engine is

This module is the whole public API (``testbed.__all__``); the rest of the package is
the testbed's own. The CLI's ``exec``, ``hosts``, ``client`` and ``matrix`` and the
pytest plugin go through it too.
"""

from __future__ import annotations

import io
import operator
import os
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from . import expect, hostclient, limits, packages, placement, stacks, topology
from . import mount as mounts
from .cluster import Cluster, IfExists, attach, check_name, is_up
from .errors import TestbedError
from .launch import LOGS

if TYPE_CHECKING:  # pragma: no cover
    import ipyparallel

__all__ = ["ExecResult", "TestbedCluster", "TestbedError", "cluster"]

HOSTFILE = LOGS / "hostfile"  # on every node a command runs on: `testbed hosts` of its cluster
MAX_ARGV = limits.ARGV_ITEMS.hi  # arguments of one command
MAX_ARG = limits.ARG_CHARS.hi  # characters of one argument


@dataclass(frozen=True)
class ExecResult:
    """What a command on a node did: its exit status, and its output when it was captured."""

    code: int
    out: str = ""
    err: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 0


def prepare(
    stack: stacks.Stack,
    mount: str | os.PathLike | None = None,
    requirements: str | os.PathLike | None = None,
    pip: Sequence[str] = (),
    lab: bool = False,
    log: Callable[[str], None] = print,
    ipp: str | None = None,
) -> dict[str, Any]:
    """The Cluster keywords of a user's folder and packages: ``mount`` and, with packages, the
    derived node ``image`` (and ``lab_image`` for a lab), on the image of ipyparallel ``ipp``
    (None: the pinned one). Checked before anything starts."""
    kw: dict[str, Any] = {}
    if mount is not None:
        kw["mount"] = mounts.parse(mount)
    req = packages.request(requirements, pip)
    if req:
        kw["image"] = packages.derive(stack.image_for(ipp), req, log=log)
        if lab:  # the lab image is there (testbed notebook builds it first)
            from . import images

            kw["lab_image"] = packages.derive(images.lab_image(stack), req, log=log)
    return kw


def check_reuse(
    c: Cluster, mount: str | os.PathLike | None, requirements: str | os.PathLike | None, pip: Sequence[str]
) -> None:
    """A running cluster is used as it is: packages, or a folder it was not brought up with, are refused."""
    again = f"`testbed down --name {c.name}` first, or use another name"
    if requirements is not None or pip:
        raise TestbedError(f"cluster {c.name!r} is up already: extra packages are added at bring-up; {again}")
    if mount is None:
        return
    want = mounts.parse(mount)
    have = TestbedCluster(c).mount_source
    if (c.mount_path, have) != (want.path, want.host):
        now = f"with {have} at {c.mount_path}" if c.mount_path else "without a mounted folder"
        raise TestbedError(f"cluster {c.name!r} is up {now}, not with {want.host} at {want.path}: {again}")


def node_of(c: Cluster, node: str | None) -> str:
    """The service of ``node`` (a node's name or hostname; None: the controller's)."""
    if node is None:
        return c.topology.controller
    for svc, n in c.topology.nodes.items():
        if node in (svc, n.hostname):
            return svc
    raise TestbedError(f"cluster {c.name!r} has no node {node!r}; its nodes: {', '.join(c.topology.nodes)}")


def hostfile(c: Cluster) -> str:
    """The cluster's nodes and engine slots as a hostfile of its MPI stack (a node without
    engines gets one slot, so that every node can take a rank)."""
    per = Counter(r.node for r in placement.derive(c.topology))
    slots = {c.topology.hostname(svc): max(1, per.get(svc, 0)) for svc in c.topology.nodes}
    return c.stack.hostfile(slots)


def engine_counts(engines: Any) -> tuple[int, ...]:
    """``engines=`` of ``cluster``: a short sequence of whole numbers (their range: ``Topology.with_counts``)."""
    sized = hasattr(engines, "__len__") and hasattr(engines, "__iter__")  # a list, a tuple, a numpy array
    if isinstance(engines, str | bytes | dict) or not sized or len(engines) > limits.GROUPS.hi:
        raise TestbedError(f"engines {limits.show(engines)}: a list of engine counts, one per group, e.g. [3, 2]")
    counts = []
    for n in engines:  # ints, and what stands for one (numpy's)
        try:
            counts.append(operator.index(n) if not isinstance(n, bool) else None)
        except TypeError:
            counts.append(None)
        if counts[-1] is None:
            raise TestbedError(f"engines {limits.show(list(engines))}: whole numbers, got {limits.show(n)}")
    return tuple(counts)


def check_argv(argv: Sequence[str]) -> list[str]:
    if isinstance(argv, (str, bytes)) or not argv:
        raise TestbedError("exec needs a command as a list of arguments, e.g. ['python3', 'mine.py']")
    out = [str(a) for a in argv]
    if len(out) > MAX_ARGV or any(len(a) > MAX_ARG or "\0" in a for a in out):
        raise TestbedError(f"exec: at most {MAX_ARGV} arguments of at most {MAX_ARG} characters, without NUL")
    return out


def run_exec(
    c: Cluster, argv: Sequence[str], node: str | None = None, out=None, err=None, workdir: str | None = None
) -> ExecResult:
    """Run ``argv`` on a node of ``c`` as user mpi, in the mounted folder (else the nodes'
    scratch folder), with the cluster's ipyparallel connection and the stack's MPI settings.

    With ``out``/``err`` (binary streams) the output is written there as it comes and the
    result holds only the status; without, it is captured into the result.
    """
    argv = check_argv(argv)
    svc = node_of(c, node)
    n = c.node(svc)
    where = workdir or str(c.workdir)
    if n.exec(["test", "-d", where]).code != 0:
        raise TestbedError(f"folder {where} is not on node {svc}")
    found = n.exec(["sh", "-c", 'cd "$1" && command -v "$0"', argv[0], where])
    if found.code != 0:
        raise TestbedError(f"command not found on node {svc}: {argv[0]!r} (in {where}, user mpi's PATH)")
    if svc != c.topology.controller and n.exec(["test", "-e", str(hostclient.CLIENT_FILE)]).code != 0:
        try:  # the client's connection file, for ipp.Client() there
            c.copy_from_controller(svc, hostclient.CLIENT_FILE)
        except TestbedError:
            pass  # no controller (a cluster of nodes only): nothing to connect to
    n.put_file(HOSTFILE, hostfile(c).encode(), 0o644)
    env = {
        "TESTBED_CLUSTER": c.name,
        "TESTBED_TOPOLOGY": c.topology.name,
        "TESTBED_MPI": c.stack.name,
        "TESTBED_NODE": svc,
        "TESTBED_HOSTFILE": str(HOSTFILE),
    }
    for key in env:  # each name is a plain variable name (limits.ENV_NAME), never shell text
        limits.env_name(key)
    if out is not None:
        code = n.stream(argv, out, err if err is not None else out, workdir=where, env=env)
        return ExecResult(code)
    o, e = io.BytesIO(), io.BytesIO()
    code = n.stream(argv, o, e, workdir=where, env=env)
    return ExecResult(code, o.getvalue().decode(errors="replace"), e.getvalue().decode(errors="replace"))


class TestbedCluster:
    """A running cluster, as a user's code sees it."""

    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, cluster: Cluster):
        self._cluster = cluster

    @property
    def name(self) -> str:
        return self._cluster.name

    @property
    def topology(self) -> str:
        return self._cluster.topology.name

    @property
    def mpi(self) -> str:
        return self._cluster.stack.name

    @property
    def nodes(self) -> list[str]:
        """The nodes' hostnames, the controller's first."""
        t = self._cluster.topology
        return [t.hostname(t.controller), *(n.hostname for s, n in t.nodes.items() if s != t.controller)]

    @property
    def engines(self) -> int:
        return self._cluster.topology.engine_count

    @property
    def mount(self) -> PurePosixPath | None:
        """The mounted folder's path on the nodes, if the cluster has one."""
        return self._cluster.mount_path

    @property
    def mount_source(self) -> Path | None:
        """The host folder that is mounted, if the cluster has one."""
        c = self._cluster
        if c.mount:
            return c.mount.host
        path = c.mount_path
        for m in c.controller.container.attrs.get("Mounts") or []:
            if path is not None and m.get("Destination") == str(path):
                return Path(m["Source"])
        return None

    def expected(self) -> dict:
        """What the topology says, derived without asking the cluster: its groups, and for each
        engine its id, host, MPI world rank and size (``expect.facts``)."""
        return expect.facts(self._cluster.topology, self.mpi)

    def hosts(self) -> str:
        """The nodes and engine slots as a hostfile of the cluster's MPI stack."""
        return hostfile(self._cluster)

    def connection_file(self, path: str | os.PathLike | None = None) -> Path:
        """Write a connection file for a client on this host; its path."""
        if path:
            limits.path_text(path, "connection file")
        return hostclient.write(self._cluster, Path(path) if path else None)

    def client(self, timeout: float = 60.0, **kw) -> ipyparallel.Client:
        """An ``ipyparallel.Client`` on this host, once every engine of the topology is there."""
        limits.CLIENT_TIMEOUT.check(timeout, "timeout", real=True)
        try:
            import ipyparallel as ipp
        except ImportError:
            raise TestbedError(
                "a host-side client needs ipyparallel on this host: `pip install 'ipyparallel>=8'`"
            ) from None
        hostclient.check_version(ipp.__version__)
        if note := hostclient.python_note():
            warnings.warn(note, RuntimeWarning, stacklevel=2)
        rc = ipp.Client(str(self.connection_file()), **kw)  # positional: 9.x ignores url_file=
        try:
            rc.wait_for_engines(self.engines, timeout=timeout)
        except BaseException as e:
            rc.close()
            if isinstance(e, (TimeoutError, ipp.error.TimeoutError)):
                raise TestbedError(
                    f"{len(rc.ids)} of {self.engines} engines answer the host's client after {timeout:g} s: "
                    f"`testbed status` shows them"
                ) from None
            raise
        return rc

    def exec(
        self, argv: Sequence[str], node: str | None = None, *, stream: bool = False, check: bool = False
    ) -> ExecResult:
        """Run ``argv`` on a node (default: the controller's) as user mpi, in the mounted folder.

        ``stream``: the output goes to this process's stdout and stderr as it comes.
        ``check``: raise TestbedError when the command fails.
        """
        if stream:
            res = run_exec(self._cluster, argv, node, out=sys.stdout.buffer, err=sys.stderr.buffer)
        else:
            res = run_exec(self._cluster, argv, node)
        if check and not res.ok:
            lines = [ln for ln in (res.err or res.out).splitlines() if ln.strip()]
            last = lines[-1].strip()[-300:] if lines else "no output"
            cmd = " ".join(check_argv(argv))[:100]
            raise TestbedError(f"{cmd} on {node or 'the controller'} exited {res.code}: {last}")
        return res

    def down(self) -> None:
        """Remove the cluster now (the ``with`` block does it at its end)."""
        self._cluster.down()


@contextmanager
def cluster(
    topology_name: str,
    *,
    name: str | None = None,
    mpi: str | None = None,
    mount: str | os.PathLike | None = None,
    requirements: str | os.PathLike | None = None,
    pip: Sequence[str] = (),
    engines: Sequence[int] | None = None,
    reuse: bool = True,
    log: Callable[[str], None] | None = None,
) -> Iterator[TestbedCluster]:
    """A cluster of ``topology_name`` for the length of the block, torn down at its end (Ctrl-C too).

    ``mpi``: openmpi4 (default), openmpi5 or mpich. ``mount``: a host folder, ``DIR`` or
    ``DIR:PATH``, on every node at PATH (default /project), the working folder there.
    ``requirements``/``pip``: extra packages on every node (a derived image, built once).
    ``engines``: engines per group. ``reuse``: a cluster of that name already up is used as
    it is and left up (it must be of that topology, and of ``mpi`` when given).
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    topo = topology.load(topology_name)
    if engines:
        topo = topo.with_counts(engine_counts(engines))
    cluster_name = check_name(name or topo.name)
    stack = stacks.get(mpi) if mpi else None
    if reuse and is_up(cluster_name):
        c = attach(topo, name=cluster_name, stack=stack, log=log)
        check_reuse(c, mount, requirements, pip)
        log(f"[{cluster_name}] using the running cluster")
        yield TestbedCluster(c)
        return
    stack = stack or stacks.DEFAULT
    kw = prepare(stack, mount, requirements, pip, log=log)
    c = Cluster(topo, name=cluster_name, stack=stack, log=log, **kw)
    c.up(if_exists=IfExists.REFUSE)
    try:
        yield TestbedCluster(c)
    finally:
        c.down()
