"""What the catalogues share: their members found by module, their results files merged by key, and
the tables rendered from those files into marked blocks of the documents.

- ``import_members``: every module of a package, imported once, so each registers its member
  (faults, scenarios, launch kinds: one module each, no list to edit);
- ``load_rows`` / ``save_rows``: ``{KEY: [row, ...]}`` files (results/faults.json,
  results/scenarios.json) read through the bounded JSON reader, merged by each row's identity and
  written atomically; a file that cannot be read counts as empty;
- ``replace_block``: the text between ``<!-- name -->`` and ``<!-- /name -->`` of a document.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path

from . import limits
from .errors import TestbedError


def import_members(package: str, path: Iterable[str], shared: Iterable[str] = ()) -> None:
    """Import every module of ``package`` (its ``__path__``) but the ``shared`` ones."""
    skip = set(shared)
    for mod in pkgutil.iter_modules(path):
        if mod.name not in skip:
            importlib.import_module(f"{package}.{mod.name}")


def load_rows(path: Path, key: str) -> list[dict]:
    """The rows under ``key`` of a results file; none when it is missing, too big or broken."""
    try:
        doc = limits.load_json(path, f"{path.name}")
    except TestbedError:
        return []
    rows = doc.get(key, []) if isinstance(doc, dict) else []
    return [r for r in rows if isinstance(r, dict) and "name" in r]


def save_rows(path: Path, key: str, rows: Iterable[dict], identity: Callable[[dict], Hashable]) -> Path:
    """``rows`` merged into the file's by ``identity`` (a new row replaces its namesake), written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keep = {identity(r): r for r in load_rows(path, key)}
    for r in rows:
        keep[identity(r)] = r
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({key: list(keep.values())}, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def replace_block(doc: Path, name: str, body: str, write: bool = True) -> bool:
    """Put ``body`` between ``<!-- name -->`` and ``<!-- /name -->`` of ``doc``; True when it was there already."""
    opening, closing = f"<!-- {name} -->", f"<!-- /{name} -->"
    text = doc.read_text()
    if opening not in text or closing not in text:
        raise TestbedError(f"{doc}: no {opening} ... {closing} block")
    head, rest = text.split(opening, 1)
    _, tail = rest.split(closing, 1)
    new = f"{head}{opening}\n{body}\n{closing}{tail}"
    if new != text and write:
        doc.write_text(new)
    return new == text
