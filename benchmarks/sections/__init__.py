"""Benchmark sections: one small class per section, in a registry keyed by its name.

A section says:

- ``name``: what ``--only`` calls it (and its key in the results' ``sections``);
- ``measures``: one line on what it measures (the CLI's help lists it);
- ``order``: where ``make bench`` runs it (ascending); ``default``: whether a run without
  ``--only`` runs it;
- ``add_options(parser)`` / ``check_options(options)``: its own command-line options, if any,
  and the one-line error for bad values;
- ``run(ctx)``: measure, return what goes under ``sections[name]`` in the results;
- ``headline(value)``, ``rows(value)``, ``notes(value)``: its flat figures in latest.json, its
  rows of the results table, its lines after the table;
- ``merge(old, new, ...)``: its value in latest.json when this run measured it, over the previous
  latest's (default: this run's); ``latest_keys(value)``: keys of its own at the top of latest.json.

A new section is one module in this package that defines a subclass decorated with
``@register``; every module here is imported when the package is, so nothing else changes.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from ..context import Context


class Section:
    name: ClassVar[str]
    measures: ClassVar[str]
    order: ClassVar[int]
    default: ClassVar[bool] = True

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        """Add the section's own options to the command line (none by default)."""

    def check_options(self, options: argparse.Namespace) -> str | None:
        """A one-line error for bad values of the section's options, or None."""
        return None

    def run(self, ctx: Context) -> Any:
        raise NotImplementedError

    def headline(self, value: Any) -> dict:
        return {}

    def rows(self, value: Any) -> list[str]:
        return []

    def notes(self, value: Any) -> list[str]:
        return []

    def merge(self, old: Any, new: Any, *, sources: dict, old_sources: dict, stamp: str, results: Path) -> Any:
        """Its value in latest.json, measured by this run (``new``) over the previous latest's (``old``,
        or None); ``sources`` (this run's, to change) says which run measured what."""
        return new

    def latest_keys(self, value: Any) -> dict:
        """Keys of its own at the top of latest.json (beside the headline), if any."""
        return {}


REGISTRY: dict[str, Section] = {}


def register(cls: type[Section]) -> type[Section]:
    """Class decorator: add a section to the registry under its ``name``."""
    if cls.name in REGISTRY:
        raise ValueError(f"benchmark section {cls.name!r} is registered twice")
    REGISTRY[cls.name] = cls()
    return cls


def ordered() -> list[Section]:
    """Every section, in the order ``make bench`` runs them."""
    return sorted(REGISTRY.values(), key=lambda s: s.order)


def names() -> tuple[str, ...]:
    return tuple(s.name for s in ordered())


def default_names() -> tuple[str, ...]:
    return tuple(s.name for s in ordered() if s.default)


def _import_sections() -> None:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


_import_sections()
