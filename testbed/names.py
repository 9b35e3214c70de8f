"""Names safe by construction: the one pattern of each kind of name the testbed takes in.

A name read from a topology file or a command line (a topology, an engine group, a node,
a node's hostname, a cluster) is checked against its pattern here before it is used
anywhere: in a file name under /tmp/testbed, a Docker, Compose or Slurm name, an MPI host
list, a batch script. No pattern admits a space, a quote, ``$``, ``;``, ``/``, ``..`` or a
leading ``-``, so no name can be read as shell syntax, a path or an option. Hostnames
follow RFC 1123. docs/names.md lists the patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import TestbedError

# one DNS label (RFC 1123): letters, digits and '-', not at either end, at most 63 characters
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"


@dataclass(frozen=True)
class Pattern:
    """One kind of name: what it is called in an error, its pattern, and the pattern in words."""

    what: str
    regex: re.Pattern[str]
    says: str

    def ok(self, value: Any) -> bool:
        return isinstance(value, str) and self.regex.fullmatch(value) is not None

    def problem(self, value: Any) -> str:
        """One line naming the bad value and the pattern."""
        return f"{self.what} {value!r:.80} must match {self.regex.pattern} ({self.says})"

    def check(self, value: Any) -> str:
        """``value`` when it matches; else a TestbedError of one line."""
        if not self.ok(value):
            raise TestbedError(self.problem(value))
        return value


CLUSTER = Pattern(
    "cluster name",
    re.compile(r"[a-z0-9][a-z0-9_-]{0,40}"),
    "lower-case letters, digits, '-' and '_', at most 41 characters, starting with a letter or digit",
)
TOPOLOGY = Pattern(
    "topology name",
    re.compile(r"[a-z0-9][a-z0-9_-]{0,62}"),
    "the compose file's name without .yaml: lower-case letters, digits, '-' and '_', at most 63 characters, "
    "starting with a letter or digit",
)
GROUP = Pattern(
    "group name",
    re.compile(r"[a-z0-9][a-z0-9_-]{0,62}"),
    "lower-case letters, digits, '-' and '_', at most 63 characters, starting with a letter or digit",
)
NODE = Pattern(
    "node (service) name",
    re.compile(LABEL),
    "one RFC 1123 label: lower-case letters, digits and '-', at most 63 characters, no '-' at either end",
)
HOSTNAME = Pattern(
    "hostname",
    re.compile(rf"(?=.{{1,253}}\Z){LABEL}(?:\.{LABEL})*"),
    "RFC 1123: labels of lower-case letters, digits and '-' (no '-' at either end, at most 63 characters) "
    "joined by '.', at most 253 characters",
)

# not a name, but taken in the same way: it reaches pip (a requirement line) and a Docker tag
IPP_VERSION = Pattern(
    "ipyparallel version",
    re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"),
    "three numbers joined by '.', e.g. 8.8.0 (a release, no pre-release or local part)",
)

ALL = (CLUSTER, TOPOLOGY, GROUP, NODE, HOSTNAME, IPP_VERSION)
