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
          launch: ipcluster     # ipcluster | ipengine | mpiexec (ipcluster: first group only;
                                # without it the controller is started alone)
          mpi: true             # ipcluster: MPI engine launcher; ipengine: --mpi
          engines: 5

Both the bring-up (``testbed.cluster``) and the expected values
(``testbed.expect``) are derived from this one description, so a copied compose
file with a changed number is a new topology whose checks still hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .errors import TestbedError

LAUNCHES = ("ipcluster", "ipengine", "mpiexec")
ORDERS = ("ascending", "descending")
MAX_ENGINES_PER_GROUP = 64


def compose_dir() -> Path:
    """The folder that holds the topology compose files."""
    return Path(__file__).resolve().parent.parent / "compose"


@dataclass(frozen=True)
class Group:
    """One engine group: started together, on one node, in one way.

    launch:
      ``ipcluster``  ``ipcluster start`` on the controller node: starts the
                     controller and this group (first group only). With
                     ``mpi: true`` the engines come from ipcluster's MPI engine
                     launcher (``mpiexec -n N ipengine --mpi``): one world.
      ``ipengine``   N engines started by hand, one at a time, each after the
                     one before has registered. Plain engines unless ``mpi``.
      ``mpiexec``    ``mpiexec -n N ipengine --mpi``, started after the groups
                     before it registered: a world of its own.
    order: for a late ``mpiexec`` group, the order in which its ranks take the
      next free engine ids (``ascending``: rank 0 gets the lowest id).
    hosts: for an ``mpiexec`` group, the nodes its ranks run on (``mpiexec`` on
      ``node`` reaches them over SSH, ranks placed round-robin by node); by
      default the group's own node.
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
        """True when the group's engines share one MPI_COMM_WORLD."""
        return self.launch == "mpiexec" or (self.launch == "ipcluster" and self.mpi)


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
            f"{MAX_ENGINES_PER_GROUP}, got {n!r}"
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


def load(name: str, directory: Path | None = None) -> Topology:
    """Load topology ``name`` (a compose file stem, or a path to a compose file)."""
    directory = directory or compose_dir()
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        path = candidate.resolve()
    else:
        path = directory / f"{name}.yaml"
        if not path.is_file():
            known = ", ".join(known_topologies(directory)) or "(none)"
            raise TestbedError(f"unknown topology {name!r}; known topologies: {known}")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise TestbedError(f"{path}: not valid YAML: {e}") from None
    return from_compose(doc, path)


def from_compose(doc: Any, path: Path) -> Topology:
    """Build a Topology from a parsed compose document."""
    name = path.stem

    def bad(msg: str) -> TestbedError:
        return TestbedError(f"{path.name}: {msg}")

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
        body = body or {}
        hostname = body.get("hostname", svc)
        if "${" in str(hostname):
            raise bad(f"service {svc}: hostname must be a plain name, not {hostname!r}")
        nodes[svc] = Node(service=svc, hostname=str(hostname))

    controller = spec.get("controller")
    if controller not in nodes:
        raise bad(f"x-testbed.controller must name a service ({', '.join(nodes)}), got {controller!r}")

    raw_groups = spec.get("groups")
    if not isinstance(raw_groups, list) or not raw_groups:
        raise bad("x-testbed.groups must be a non-empty list")
    groups: list[Group] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_groups):
        if not isinstance(raw, dict):
            raise bad(f"x-testbed.groups[{i}] must be a mapping")
        gname = str(raw.get("name", f"group{i}"))
        if gname in seen:
            raise bad(f"two engine groups are named {gname!r}")
        seen.add(gname)
        node = raw.get("node")
        if node not in nodes:
            raise bad(f"group {gname!r}: node must name a service ({', '.join(nodes)}), got {node!r}")
        launch = raw.get("launch")
        if launch not in LAUNCHES:
            raise bad(f"group {gname!r}: launch must be one of {', '.join(LAUNCHES)}, got {launch!r}")
        order = raw.get("order", "ascending")
        if order not in ORDERS:
            raise bad(f"group {gname!r}: order must be one of {', '.join(ORDERS)}, got {order!r}")
        engines = raw.get("engines")
        _check_count(name, gname, engines)
        mpi = bool(raw.get("mpi", launch == "mpiexec"))
        if launch == "mpiexec" and not mpi:
            raise bad(f"group {gname!r}: an mpiexec group is always MPI (drop mpi: false)")
        if launch == "ipcluster":
            if i != 0:
                raise bad(f"group {gname!r}: only the first group can be launched by ipcluster")
            if node != controller:
                raise bad(f"group {gname!r}: ipcluster runs on the controller node {controller!r}")
        if order != "ascending" and launch != "mpiexec":
            raise bad(f"group {gname!r}: order applies to late mpiexec groups only")
        hosts = raw.get("hosts", [])
        if not isinstance(hosts, list) or any(h not in nodes for h in hosts):
            raise bad(f"group {gname!r}: hosts must list services ({', '.join(nodes)}), got {hosts!r}")
        if hosts and launch != "mpiexec":
            raise bad(f"group {gname!r}: hosts applies to mpiexec groups only")
        groups.append(
            Group(
                name=gname, node=node, launch=launch, engines=engines, mpi=mpi, order=order,
                hosts=tuple(hosts),
            )
        )  # fmt: skip

    shared = str(spec.get("shared", ""))
    if shared and not shared.startswith("/"):
        raise bad(f"x-testbed.shared must be an absolute path, got {shared!r}")
    scatter = spec.get("scatter", 32)
    if not isinstance(scatter, int) or scatter < 0:
        raise bad(f"x-testbed.scatter must be a whole number >= 0, got {scatter!r}")
    return Topology(
        name=name,
        path=path,
        controller=controller,
        groups=tuple(groups),
        nodes=nodes,
        scatter=scatter,
        lecture=str(spec.get("lecture", "")),
        summary=str(spec.get("summary", "")),
        name_server=bool(spec.get("name_server", False)),
        merge=bool(spec.get("merge", False)),
        shared=shared,
    )
