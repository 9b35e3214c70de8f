"""The launch kinds' registry: a kind's name (a group's ``launch:``) -> the kind.

``testbed.launch`` fills it (each of its modules registers a ``LaunchKind`` subclass with
``@register``; the package ``testbed`` imports ``testbed.launch`` first thing, so the
registry is full before any topology is read). The topology parser reads it: whether a
kind exists, its ``mpi_default``, ``takes_hosts``, ``validate`` and ``one_world``.

It imports nothing of the testbed, so the topology (below the launch kinds: they build
commands from its groups) and the launch package (above it) both use it and neither
imports the other the wrong way round.
"""

from __future__ import annotations

from typing import Any

REGISTRY: dict[str, Any] = {}  # name -> an instance of a testbed.launch.LaunchKind subclass


def register(cls: type) -> type:
    """Class decorator: add a launch kind to the registry under its ``name``."""
    if cls.name in REGISTRY:
        raise ValueError(f"launch kind {cls.name!r} is registered twice")
    REGISTRY[cls.name] = cls()
    return cls


def kind(name: str) -> Any:
    return REGISTRY[name]


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)
