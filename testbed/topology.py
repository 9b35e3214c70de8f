"""Topologies: what runs where, read from a compose file's ``x-testbed:`` block.

A topology is one compose file in ``compose/``. Its services are the nodes; its
``x-testbed:`` extension lists the engine groups in the order they are started::

    x-testbed:
      summary: one mpiexec world of 5 engines on the head node
      lecture: L5
      controller: head          # the node that runs ipcontroller (and the client)
      scatter: 32               # default length of the scattered np.arange
      groups:
        - name: world
          node: head
          launch: ipcluster     # a launch kind (testbed/launch/): ipcluster | ipengine | mpiexec | ...
          mpi: true             # ipcluster: MPI engine launcher; ipengine: --mpi
          engines: 5

What is launched (``testbed.launch``) and what is expected (``testbed.expect``) both
come from one placement derivation of this description (``testbed.placement``), so
a copied compose file with a changed number is a new topology whose checks still hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import kinds, limits
from .errors import TestbedError
from .names import GROUP, HOSTNAME, NODE, TOPOLOGY

ORDERS = ("ascending", "descending")
# the largest group checked to work on this machine (2 cores, 24 GiB): 128 engines, one MPI
# world, on one node and over 4 (not over 8); a 128-engine node holds about 9 GB (docs/scale.md)
MAX_ENGINES_PER_GROUP = limits.ENGINES_PER_GROUP.hi


def compose_dir() -> Path:
    """The folder that holds the topology compose files."""
    return Path(__file__).resolve().parent.parent / "compose"


@dataclass(frozen=True)
class Group:
    """One engine group: started together, in one way (its launch kind, ``testbed/launch/``).

    launch: the kind's name (``ipcluster``, ``ipengine``, ``mpiexec``, ...).
    node: the node its launch command runs on.
    mpi: whether its engines use MPI (the kind's default when not given).
    order: for a one-world group, the order in which its ranks take the group's engine
      ids (``ascending``: rank 0 gets the lowest id).
    hosts: the nodes its ranks run on, round-robin by node (``mpiexec`` reaches them
      over SSH); by default the group's own node.
    one_world: whether its engines share one MPI_COMM_WORLD: its launch kind says so once,
      when the file is read (``from_compose``), and the group keeps the answer.
    """

    name: str
    node: str
    launch: str
    engines: int
    mpi: bool = False
    order: str = "ascending"
    hosts: tuple[str, ...] = ()
    one_world: bool = False

    @property
    def rank_hosts(self) -> tuple[str, ...]:
        """The nodes the group's ranks run on, in round-robin order."""
        return self.hosts or (self.node,)


@dataclass(frozen=True)
class Node:
    service: str
    hostname: str


@dataclass(frozen=True)
class Topology:
    name: str
    path: Path
    controller: str
    groups: tuple[Group, ...]
    nodes: dict[str, Node] = field(default_factory=dict)
    scatter: int = 32
    lecture: str = ""
    summary: str = ""
    name_server: bool = False
    merge: bool = False
    shared: str = ""  # a folder every node mounts from one volume (MPI-IO across nodes)

    @property
    def engine_count(self) -> int:
        return sum(g.engines for g in self.groups)

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(g.engines for g in self.groups)

    def hostname(self, service: str) -> str:
        return self.nodes[service].hostname

    def with_counts(self, counts: tuple[int, ...] | list[int] | None) -> Topology:
        """The same topology with other group sizes (in the topology's group order)."""
        if counts is None:
            return self
        counts = tuple(counts)
        if len(counts) != len(self.groups):
            names = ", ".join(g.name for g in self.groups)
            raise TestbedError(
                f"--engines for {self.name} takes {len(self.groups)} count(s), one per "
                f"engine group ({names}); got {len(counts)}"
            )
        groups = []
        for g, n in zip(self.groups, counts):
            _check_count(self.name, g.name, n)
            groups.append(replace(g, engines=n))
        _check_total(self.name, groups)
        return replace(self, groups=tuple(groups))


def _check_count(topology: str, group: str, n: Any) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_ENGINES_PER_GROUP:
        raise TestbedError(
            f"{topology}: group {group!r} needs an engine count from 1 to "
            f"{MAX_ENGINES_PER_GROUP} (the largest group checked to work; see docs/scale.md), got {limits.show(n)}"
        )


def _check_total(topology: str, groups) -> None:
    total = sum(g.engines for g in groups)
    if total > limits.ENGINES_TOTAL.hi:
        raise TestbedError(
            f"{topology}: {total} engines in all: at most {limits.ENGINES_TOTAL.hi} ({limits.ENGINES_TOTAL.why})"
        )


def parse_counts(text: str) -> tuple[int, ...]:
    """Parse ``--engines 4,3`` into (4, 3)."""
    if not isinstance(text, str) or len(text) > limits.ENGINES_TEXT.hi:
        raise TestbedError(f"--engines {limits.show(text)}: at most {limits.ENGINES_TEXT.hi} characters, e.g. 3,2")
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise TestbedError(
            f"--engines takes comma-separated whole numbers, one per engine group (e.g. 3,2); got {limits.show(text)}"
        ) from None
    return counts


def known_topologies(directory: Path | None = None) -> list[str]:
    directory = directory or compose_dir()
    return sorted(p.stem for p in directory.glob("*.yaml"))


def write(folder: Path, name: str, x_testbed: str, services: list[str]) -> Topology:
    """A topology file made by a program (tests, the scale benchmark): ``folder/name.yaml``
    with the ``x-testbed:`` block given (YAML, indented by two) and one node per service,
    beside copies of node.yml and the stacks' settings that it extends; returned loaded."""
    import shutil

    folder = Path(folder)
    shutil.copy(compose_dir() / "node.yml", folder / "node.yml")
    shutil.copytree(compose_dir() / "mpi", folder / "mpi", dirs_exist_ok=True)
    svc = "".join(f"  {s}: {{extends: {{file: node.yml, service: node}}, hostname: {s}}}\n" for s in services)
    (folder / f"{name}.yaml").write_text(
        f"name: ${{TESTBED_PROJECT:-ipp-testbed-{name}}}\n"
        f"x-testbed:\n{x_testbed}"
        f"services:\n{svc}"
        "networks:\n"
        "  cluster: {labels: {ipp-testbed.cluster: '${TESTBED_CLUSTER:-default}'}}\n"
    )
    return load(str(folder / f"{name}.yaml"))


MAX_FILE_BYTES = limits.TOPOLOGY_BYTES.hi  # a topology file is a few hundred bytes; refuse what is clearly not one
MAX_ALIASES = limits.YAML_ALIASES.hi  # YAML anchors are fine; an "alias bomb" (billion laughs) is not


def _read_yaml(path: Path) -> Any:
    """Parse a compose file, refusing what would hang or explode instead of failing clearly: a regular
    file within its bound (``limits.read_file``), then bounded aliases, depth and nodes (``limits.load_yaml``)."""
    data = limits.read_file(path, limits.TOPOLOGY_BYTES, "topology file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TestbedError(f"{path}: not UTF-8 text (byte {e.start}); a topology is a YAML compose file") from None
    return limits.load_yaml(text, str(path))


def load(name: Any, directory: Path | None = None) -> Topology:
    """Load topology ``name`` (a compose file stem, or a path to a compose file)."""
    directory = directory or compose_dir()
    if not isinstance(name, str) or not name or "\0" in name:
        raise TestbedError(f"a topology is named by a string, got {limits.show(name)}")
    limits.path_text(name, "topology")
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and (candidate.is_file() or candidate.exists()):
        path = candidate.resolve()  # not a regular file (a FIFO, a device): read_file says so in one line
    else:
        path = directory / f"{name}.yaml"
        if "/" in name or not path.is_file():
            known = ", ".join(known_topologies(directory)) or "(none)"
            raise TestbedError(f"unknown topology {limits.show(name)}; known topologies: {known}")
    return from_compose(_read_yaml(path), path)


def from_compose(doc: Any, path: Path) -> Topology:
    """Build a Topology from a parsed compose document, validating every group through its launch kind
    (looked up in ``testbed.kinds``) and every name against its pattern (``testbed.names``)."""
    name = path.stem

    def bad(msg: str) -> TestbedError:
        return TestbedError(f"{path.name}: {msg}")

    def show(v: Any) -> str:
        return repr(v)[:80]

    if not TOPOLOGY.ok(name):
        raise bad(TOPOLOGY.problem(name))
    if not isinstance(doc, dict):
        raise bad("not a compose mapping")
    services = doc.get("services")
    if not isinstance(services, dict) or not services:
        raise bad("no services (nodes) defined")
    spec = doc.get("x-testbed")
    if not isinstance(spec, dict):
        raise bad("no x-testbed: block describing the engine groups")

    if len(services) > limits.NODES.hi:
        raise bad(f"{len(services)} services (nodes): at most {limits.NODES.hi} ({limits.NODES.why})")
    nodes = {}
    for svc, body in services.items():
        if not NODE.ok(svc):
            raise bad(NODE.problem(svc))
        if body is not None and not isinstance(body, dict):
            raise bad(f"service {svc}: must be a mapping, got {show(body)}")
        hostname = (body or {}).get("hostname", svc)
        if not HOSTNAME.ok(hostname):
            raise bad(f"service {svc}: {HOSTNAME.problem(hostname)}")
        problem = _service_sizes(body or {})
        if problem:
            raise bad(f"service {svc}: {problem}")
        twin = next((n.service for n in nodes.values() if n.hostname == hostname), None)
        if twin is not None:  # MPI's host lists and ssh would not tell the two apart
            raise bad(f"services {twin} and {svc} have one hostname, {hostname!r}: give each node its own")
        nodes[svc] = Node(service=svc, hostname=hostname)
    services_list = ", ".join(nodes)

    controller = spec.get("controller")
    if not isinstance(controller, str) or controller not in nodes:
        raise bad(f"x-testbed.controller must name a service ({services_list}), got {show(controller)}")

    raw_groups = spec.get("groups")
    if not isinstance(raw_groups, list) or not raw_groups:
        raise bad("x-testbed.groups must be a non-empty list")
    if len(raw_groups) > limits.GROUPS.hi:
        raise bad(f"x-testbed.groups has {len(raw_groups)} groups: at most {limits.GROUPS.hi}")
    groups: list[Group] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_groups):
        if not isinstance(raw, dict):
            raise bad(f"x-testbed.groups[{i}] must be a mapping")
        gname = raw.get("name", f"group{i}")
        if not GROUP.ok(gname):
            raise bad(f"x-testbed.groups[{i}]: {GROUP.problem(gname)}")
        if gname in seen:
            raise bad(f"two engine groups are named {gname!r}")
        seen.add(gname)
        node = raw.get("node")
        if not isinstance(node, str) or node not in nodes:
            raise bad(f"group {gname!r}: node must name a service ({services_list}), got {show(node)}")
        kind_name = raw.get("launch")
        if not isinstance(kind_name, str) or kind_name not in kinds.REGISTRY:
            raise bad(f"group {gname!r}: launch must be one of {', '.join(kinds.names())}, got {show(kind_name)}")
        kind = kinds.kind(kind_name)
        order = raw.get("order", "ascending")
        if order not in ORDERS:
            raise bad(f"group {gname!r}: order must be one of {', '.join(ORDERS)}, got {show(order)}")
        engines = raw.get("engines")
        _check_count(name, gname, engines)
        mpi = raw.get("mpi", kind.mpi_default)
        if not isinstance(mpi, bool):
            raise bad(f"group {gname!r}: mpi must be true or false, got {show(mpi)}")
        hosts = raw.get("hosts", [])
        if isinstance(hosts, list) and len(hosts) > limits.GROUP_HOSTS.hi:
            raise bad(f"group {gname!r}: hosts lists {len(hosts)} nodes: at most {limits.GROUP_HOSTS.hi}")
        if not isinstance(hosts, list) or any(not isinstance(h, str) or h not in nodes for h in hosts):
            raise bad(f"group {gname!r}: hosts must list services ({services_list}), got {show(hosts)}")
        group = Group(
            name=gname, node=node, launch=kind_name, engines=engines, mpi=mpi, order=order, hosts=tuple(hosts)
        )
        group = replace(group, one_world=bool(kind.one_world(group)))
        if hosts and not kind.takes_hosts:
            takers = ", ".join(n for n in kinds.names() if kinds.kind(n).takes_hosts)
            raise bad(f"group {gname!r}: hosts applies to {takers} groups only")
        if order != "ascending" and not group.one_world:
            raise bad(f"group {gname!r}: order applies to groups that are one MPI world only")
        problem = kind.validate(group, i, _Draft(controller, nodes))
        if problem:
            raise bad(f"group {gname!r}: {problem}")
        groups.append(group)
    _check_total(name, groups)

    shared = spec.get("shared", "")
    if not isinstance(shared, str) or (shared and not shared.startswith("/")) or len(shared) > limits.TEXT.hi:
        raise bad(f"x-testbed.shared must be an absolute path, got {show(shared)}")
    scatter = spec.get("scatter", 32)
    if not isinstance(scatter, int) or isinstance(scatter, bool) or not 0 <= scatter <= limits.SCATTER.hi:
        raise bad(f"x-testbed.scatter must be a whole number from 0 to {limits.SCATTER.hi:,}, got {show(scatter)}")
    text = {}
    for key in ("lecture", "summary"):
        value = spec.get(key, "")
        if not isinstance(value, str | int | float) or len(str(value)) > limits.TEXT.hi:
            raise bad(f"x-testbed.{key} must be text of at most {limits.TEXT.hi} characters, got {show(value)}")
        text[key] = str(value)
    flags = {}
    for key in ("name_server", "merge"):
        value = spec.get(key, False)
        if not isinstance(value, bool):
            raise bad(f"x-testbed.{key} must be true or false, got {show(value)}")
        flags[key] = value
    return Topology(
        name=name,
        path=path,
        controller=controller,
        groups=tuple(groups),
        nodes=nodes,
        scatter=scatter,
        shared=shared,
        **text,
        **flags,
    )


def _service_sizes(body: dict) -> str:
    """What is wrong with a service's shm_size or ulimits (the sizes a node takes from its compose
    body), or "" when they are within bounds (``limits.SHM_BYTES``, ``limits.ULIMIT``)."""
    shm = body.get("shm_size")
    if shm is not None:
        size = limits.size_bytes(shm)
        if size is None:
            return f"shm_size {limits.show(shm)} is not a size (e.g. 256m)"
        if size > limits.SHM_BYTES.hi:
            return f"shm_size {limits.show(shm)}: larger than {limits.SHM_BYTES.hi >> 30}g ({limits.SHM_BYTES.why})"
    ulimits = body.get("ulimits")
    if ulimits is not None:
        if not isinstance(ulimits, dict) or len(ulimits) > 32:
            return f"ulimits {limits.show(ulimits)}: a mapping of at most 32 limits"
        for key, value in ulimits.items():
            values = list(value.values()) if isinstance(value, dict) else [value]
            for v in values:
                if not isinstance(v, int) or isinstance(v, bool) or not limits.ULIMIT.lo <= v <= limits.ULIMIT.hi:
                    return f"ulimits.{limits.show(key, 40)} {limits.show(v)}: {limits.ULIMIT.range()}"
    return ""


@dataclass(frozen=True)
class _Draft:
    """What a launch kind may look at while the topology is still being read."""

    controller: str
    nodes: dict[str, Node]
