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
          launch: ipcluster     # a launch kind (testbed/launch/): ipcluster | ipengine | mpiexec
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

import yaml

from . import launch
from .errors import TestbedError

ORDERS = ("ascending", "descending")
# the largest group checked to work on this machine (2 cores, 24 GiB): 128 engines, one MPI
# world, on one node and over 4 (not over 8); a 128-engine node holds about 9 GB (docs/scale.md)
MAX_ENGINES_PER_GROUP = 128


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
    """

    name: str
    node: str
    launch: str
    engines: int
    mpi: bool = False
    order: str = "ascending"
    hosts: tuple[str, ...] = ()

    @property
    def rank_hosts(self) -> tuple[str, ...]:
        """The nodes the group's ranks run on, in round-robin order."""
        return self.hosts or (self.node,)

    @property
    def one_world(self) -> bool:
        """True when the group's engines share one MPI_COMM_WORLD (the launch kind says)."""
        return launch.kind(self.launch).one_world(self)


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
        return replace(self, groups=tuple(groups))


def _check_count(topology: str, group: str, n: Any) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_ENGINES_PER_GROUP:
        raise TestbedError(
            f"{topology}: group {group!r} needs an engine count from 1 to "
            f"{MAX_ENGINES_PER_GROUP} (the largest group checked to work; see docs/scale.md), got {n!r}"
        )


def parse_counts(text: str) -> tuple[int, ...]:
    """Parse ``--engines 4,3`` into (4, 3)."""
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise TestbedError(
            f"--engines takes comma-separated whole numbers, one per engine group (e.g. 3,2); "
            f"got {text!r}"
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


MAX_FILE_BYTES = 1 << 20  # a topology file is a few hundred bytes; refuse what is clearly not one
MAX_ALIASES = 100  # YAML anchors are fine; an "alias bomb" (billion laughs) is not


def _read_yaml(path: Path) -> Any:
    """Parse a compose file, refusing what would hang or explode instead of failing clearly."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TestbedError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB, not a topology file")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise TestbedError(f"{path}: not UTF-8 text (byte {e.start}); a topology is a YAML compose file") from None
    except OSError as e:
        raise TestbedError(f"{path}: cannot read it: {e.strerror}") from None
    try:
        aliases = sum(isinstance(ev, yaml.AliasEvent) for ev in yaml.parse(text, Loader=yaml.SafeLoader))
        if aliases > MAX_ALIASES:
            raise TestbedError(f"{path}: {aliases} YAML aliases (more than {MAX_ALIASES}): refused as an alias bomb")
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise TestbedError(f"{path}: not valid YAML: {' '.join(str(e).split())[:300]}") from None
    except RecursionError:
        raise TestbedError(f"{path}: nested too deeply to be a topology file") from None


def load(name: Any, directory: Path | None = None) -> Topology:
    """Load topology ``name`` (a compose file stem, or a path to a compose file)."""
    directory = directory or compose_dir()
    if not isinstance(name, str) or not name or "\0" in name:
        raise TestbedError(f"a topology is named by a string, got {name!r:.80}")
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        path = candidate.resolve()
    else:
        path = directory / f"{name}.yaml"
        if "/" in name or not path.is_file():
            known = ", ".join(known_topologies(directory)) or "(none)"
            raise TestbedError(f"unknown topology {name!r}; known topologies: {known}")
    return from_compose(_read_yaml(path), path)


def _is_name(v: Any) -> bool:
    return isinstance(v, str) and bool(v) and len(v) <= 63 and v.isprintable()


def from_compose(doc: Any, path: Path) -> Topology:
    """Build a Topology from a parsed compose document, validating every group through its launch kind."""
    name = path.stem

    def bad(msg: str) -> TestbedError:
        return TestbedError(f"{path.name}: {msg}")

    def show(v: Any) -> str:
        return repr(v)[:80]

    if not isinstance(doc, dict):
        raise bad("not a compose mapping")
    services = doc.get("services")
    if not isinstance(services, dict) or not services:
        raise bad("no services (nodes) defined")
    spec = doc.get("x-testbed")
    if not isinstance(spec, dict):
        raise bad("no x-testbed: block describing the engine groups")

    nodes = {}
    for svc, body in services.items():
        if not _is_name(svc):
            raise bad(f"a service name must be a plain name, got {show(svc)}")
        if body is not None and not isinstance(body, dict):
            raise bad(f"service {svc}: must be a mapping, got {show(body)}")
        hostname = (body or {}).get("hostname", svc)
        if not _is_name(hostname) or "${" in hostname:
            raise bad(f"service {svc}: hostname must be a plain name, not {show(hostname)}")
        twin = next((n.service for n in nodes.values() if n.hostname.lower() == hostname.lower()), None)
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
    groups: list[Group] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_groups):
        if not isinstance(raw, dict):
            raise bad(f"x-testbed.groups[{i}] must be a mapping")
        gname = raw.get("name", f"group{i}")
        if not _is_name(gname):
            raise bad(f"x-testbed.groups[{i}].name must be a plain name, got {show(gname)}")
        if gname in seen:
            raise bad(f"two engine groups are named {gname!r}")
        seen.add(gname)
        node = raw.get("node")
        if not isinstance(node, str) or node not in nodes:
            raise bad(f"group {gname!r}: node must name a service ({services_list}), got {show(node)}")
        kind_name = raw.get("launch")
        if not isinstance(kind_name, str) or kind_name not in launch.REGISTRY:
            raise bad(f"group {gname!r}: launch must be one of {', '.join(launch.names())}, got {show(kind_name)}")
        kind = launch.kind(kind_name)
        order = raw.get("order", "ascending")
        if order not in ORDERS:
            raise bad(f"group {gname!r}: order must be one of {', '.join(ORDERS)}, got {show(order)}")
        engines = raw.get("engines")
        _check_count(name, gname, engines)
        mpi = raw.get("mpi", kind.mpi_default)
        if not isinstance(mpi, bool):
            raise bad(f"group {gname!r}: mpi must be true or false, got {show(mpi)}")
        hosts = raw.get("hosts", [])
        if not isinstance(hosts, list) or any(not isinstance(h, str) or h not in nodes for h in hosts):
            raise bad(f"group {gname!r}: hosts must list services ({services_list}), got {show(hosts)}")
        group = Group(
            name=gname, node=node, launch=kind_name, engines=engines, mpi=mpi, order=order, hosts=tuple(hosts)
        )
        if hosts and not kind.takes_hosts:
            takers = ", ".join(n for n in launch.names() if launch.kind(n).takes_hosts)
            raise bad(f"group {gname!r}: hosts applies to {takers} groups only")
        if order != "ascending" and not group.one_world:
            raise bad(f"group {gname!r}: order applies to groups that are one MPI world only")
        problem = kind.validate(group, i, _Draft(controller, nodes))
        if problem:
            raise bad(f"group {gname!r}: {problem}")
        groups.append(group)

    shared = spec.get("shared", "")
    if not isinstance(shared, str) or (shared and not shared.startswith("/")):
        raise bad(f"x-testbed.shared must be an absolute path, got {show(shared)}")
    scatter = spec.get("scatter", 32)
    if not isinstance(scatter, int) or isinstance(scatter, bool) or scatter < 0:
        raise bad(f"x-testbed.scatter must be a whole number >= 0, got {show(scatter)}")
    text = {}
    for key in ("lecture", "summary"):
        value = spec.get(key, "")
        if not isinstance(value, str | int | float):
            raise bad(f"x-testbed.{key} must be text, got {show(value)}")
        text[key] = str(value)
    flags = {}
    for key in ("name_server", "merge"):
        value = spec.get(key, False)
        if not isinstance(value, bool):
            raise bad(f"x-testbed.{key} must be true or false, got {show(value)}")
        flags[key] = value
    return Topology(
        name=name, path=path, controller=controller, groups=tuple(groups), nodes=nodes, scatter=scatter,
        shared=shared, **text, **flags,
    )  # fmt: skip


@dataclass(frozen=True)
class _Draft:
    """What a launch kind may look at while the topology is still being read."""

    controller: str
    nodes: dict[str, Node]
