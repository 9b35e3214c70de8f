"""The Docker engine's architecture, and the names the node image's files take from it.

The node image is built by the engine, for the engine's architecture: that is what counts,
not this Python's ``platform.machine()`` (the engine may be remote, ``DOCKER_HOST``). Two
names follow from it:

- Debian's multiarch triplet: the image's shared libraries are in ``/usr/lib/<triplet>``
  (``testbed.cluster`` puts that folder on a volume on a node of many engines);
- pip's manylinux machine tag: the wheels ``testbed.images`` downloads on the host for the
  image (``manylinux_2_36_<machine>`` and older).
"""

from __future__ import annotations

from typing import NamedTuple

from .errors import TestbedError


class ArchNames(NamedTuple):
    triplet: str  # Debian's multiarch triplet: /usr/lib/<triplet>
    wheel: str  # pip's manylinux machine tag: manylinux_2_36_<wheel>


# keyed by the kernel's name (`uname -m`), which `docker info` reports as Architecture
ARCHES = {
    "x86_64": ArchNames("x86_64-linux-gnu", "x86_64"),
    "aarch64": ArchNames("aarch64-linux-gnu", "aarch64"),
}
# Debian's and Go's names of the same (dpkg --print-architecture, GOARCH)
ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}


def canonical(arch: str) -> str:
    """``arch`` as the kernel names it (x86_64, aarch64); amd64 and arm64 are accepted."""
    name = str(arch).strip().lower()
    name = ALIASES.get(name, name)
    if name not in ARCHES:
        aka = {k: a for a, k in ALIASES.items()}
        supported = ", ".join(f"{k} ({aka[k]})" if k in aka else k for k in ARCHES)
        raise TestbedError(
            f"the Docker engine's architecture {str(arch)!r} is not supported: the node image is built for {supported}"
        )
    return name


def names(arch: str) -> ArchNames:
    """Debian's multiarch triplet and pip's manylinux machine tag of Docker's ``arch``."""
    return ARCHES[canonical(arch)]


def triplet(arch: str) -> str:
    """Debian's multiarch triplet of ``arch``: x86_64-linux-gnu, aarch64-linux-gnu."""
    return names(arch).triplet


def wheel_machine(arch: str) -> str:
    """pip's manylinux machine tag of ``arch``: x86_64, aarch64."""
    return names(arch).wheel


def engine_arch(client) -> str:
    """The architecture of the engine a docker-py ``client`` speaks to (x86_64, aarch64), asked
    each time (``docker info``'s Architecture); an unsupported one is a TestbedError."""
    return arch_of(client.info())


def arch_of(info: dict | None) -> str:
    """The architecture in ``docker info``'s answer ``info``; an unsupported one is a TestbedError."""
    arch = (info or {}).get("Architecture")
    if not arch:
        raise TestbedError("the Docker engine did not report its architecture (`docker info` has no Architecture)")
    return canonical(arch)
