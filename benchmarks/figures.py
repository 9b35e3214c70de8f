"""Measured figures: one results file, rendered into README.md and docs/*.md, so that two places cannot disagree.

    python -m benchmarks.figures render      rewrite every marked block from the figures
    python -m benchmarks.figures check       exit 1, one line per stale block; nothing written
    python -m benchmarks.figures record KEY VALUE --unit U --command CMD [--note N] [--date YYYY-MM-DD]

A figure is ``{"value": number or text, "unit": "s", "date": "YYYY-MM-DD", "command": "...", "note": "..."}``.
Figures come from two files, never both for one key:

- ``benchmarks/results/figures.json`` (``{"figures": {KEY: figure}}``), written by ``record``;
- ``benchmarks/results/latest.json``, what ``make bench`` writes: every key under ``bench.`` is read
  from it here (dated by the run each section came from), so a new benchmark run shows up in the
  documents after a ``render`` without copying anything.

Marked blocks, in README.md and docs/*.md (not inside fenced code):

- inline, within a sentence or a table cell: an HTML comment ``fig:KEY`` before the figure and
  ``/fig`` after it, rendered as ``98 s (2025-11-25, `make reproduce`)``;
- a table: a line holding only the comment ``figtable:PREFIX`` and, lines later, one holding only
  ``/figtable``; between them, every figure whose key starts with PREFIX, in the files' order, as
  ``| figure | value | date | command |``.

Stdlib only, no network; figures.json over 1 MiB is refused, and a malformed file is one line on
stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = Path("benchmarks/results/figures.json")
LATEST = Path("benchmarks/results/latest.json")
MAX_BYTES = 1 << 20  # figures.json
MAX_LATEST_BYTES = 16 << 20  # latest.json carries every run's values; about 40 KB today
DERIVED = "bench."  # keys read from latest.json
KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,119}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIELDS = {"value", "unit", "date", "command", "note"}
NO_SPACE_UNITS = {"x", "%", "/s"}

INLINE_RE = re.compile(r"<!-- fig:(?P<key>[^ >]*) -->(?P<body>[^\n]*?)<!-- /fig -->")
TABLE_RE = re.compile(
    r"^<!-- figtable:(?P<prefix>[^ >]*) -->[ \t]*\n(?P<body>(?:.*\n)*?)<!-- /figtable -->[ \t]*$", re.M
)
OPEN_RE = re.compile(r"<!-- fig(?:table)?:")
FENCE_RE = re.compile(r"^ {0,3}(```|~~~)")


class FiguresError(Exception):
    """A results file that cannot be used: one line, exit status 2."""


@dataclass(frozen=True)
class Figure:
    key: str
    value: int | float | str
    unit: str
    date: str
    command: str
    note: str = ""


# ---------------------------------------------------------------- reading and checking figures


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _valid_date(text: object) -> bool:
    if not isinstance(text, str) or not DATE_RE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def make_figure(key: object, raw: object, where: str = "") -> Figure:
    """A figure from its JSON object, or FiguresError naming what is wrong."""
    at = f"{where}: " if where else ""
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise FiguresError(f"{at}key {key!r}: letters, digits, '.', '_' and '-' only (at most 120)")
    if not isinstance(raw, dict):
        raise FiguresError(f"{at}{key}: a figure is an object with value, unit, date and command")
    extra = set(raw) - FIELDS
    if extra:
        raise FiguresError(f"{at}{key}: unknown field(s) {', '.join(sorted(map(str, extra)))}")
    value = raw.get("value")
    if not (_finite(value) or (isinstance(value, str) and value.strip() and "\n" not in value)):
        raise FiguresError(f"{at}{key}: value must be a finite number or a one-line text, got {value!r}")
    unit = raw.get("unit", "")
    if not isinstance(unit, str) or len(unit) > 20 or "\n" in unit or "|" in unit:
        raise FiguresError(f"{at}{key}: unit must be a short text (s, MB, min, ...), got {unit!r}")
    date = raw.get("date")
    if not _valid_date(date):
        raise FiguresError(f"{at}{key}: date must be YYYY-MM-DD, got {date!r}")
    command = raw.get("command")
    if not isinstance(command, str) or not command.strip() or "\n" in command or "`" in command:
        raise FiguresError(f"{at}{key}: command must be the one-line command that made it (no backticks)")
    note = raw.get("note", "")
    if not isinstance(note, str) or "\n" in note:
        raise FiguresError(f"{at}{key}: note must be a one-line text")
    return Figure(key, value, unit, date, command.strip(), note.strip())


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _read_json(path: Path, limit: int) -> object:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise FiguresError(f"{path}: cannot read it ({e.strerror or e})") from None
    if size > limit:
        raise FiguresError(f"{path}: {size} bytes, over the {limit} this reads")
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
        return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except OSError as e:
        raise FiguresError(f"{path}: cannot read it ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise FiguresError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except RecursionError:
        raise FiguresError(f"{path}: nested too deeply") from None
    except ValueError as e:
        raise FiguresError(f"{path}: not valid JSON ({str(e).splitlines()[0]})") from None


def load(path: Path) -> dict[str, Figure]:
    """figures.json's figures by key, in the file's order; a missing file has none."""
    if not path.exists():
        return {}
    doc = _read_json(path, MAX_BYTES)
    if not isinstance(doc, dict) or not isinstance(doc.get("figures"), dict) or set(doc) != {"figures"}:
        raise FiguresError(f'{path}: expected {{"figures": {{KEY: {{value, unit, date, command, note}}}}}}')
    figures = {}
    for key, raw in doc["figures"].items():
        fig = make_figure(key, raw, str(path))
        if key.startswith(DERIVED):
            raise FiguresError(f"{path}: {key}: keys under '{DERIVED}' are read from {LATEST}, not written here")
        figures[key] = fig
    return figures


# ---------------------------------------------------------------- figures read from latest.json


def _date_of(source: object, fallback: str) -> str:
    text = str(source or "")[:10]
    return text if _valid_date(text) else fallback


def _scale_dates(source: object, fallback: str) -> tuple[str, dict[str, str]]:
    """latest.json's scale source: 'RUN.json; RUN2.json for 128x1, 64x4; ...' -> default date, {point: date}."""
    parts = [p.strip() for p in str(source or "").split(";") if p.strip()]
    default = _date_of(parts[0], fallback) if parts else fallback
    later: dict[str, str] = {}
    for part in parts[1:]:
        run, _, points = part.partition(" for ")
        for point in points.split(","):
            if point.strip():
                later[point.strip()] = _date_of(run, default)
    return default, later


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _median(d: object) -> float | None:
    if isinstance(d, dict) and _finite(d.get("median")):
        return float(d["median"])
    return None


def _runs(d: object) -> int:
    return d.get("runs", 0) if isinstance(d, dict) and isinstance(d.get("runs"), int) else 0


def from_latest(path: Path) -> dict[str, Figure]:
    """The figures of the newest `make bench` run of each section, under keys beginning 'bench.'."""
    if not path.exists():
        return {}
    doc = _read_json(path, MAX_LATEST_BYTES)
    if not isinstance(doc, dict):
        raise FiguresError(f"{path}: expected the object `make bench` writes")
    try:
        return _derive(doc)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        raise FiguresError(f"{path}: not what `make bench` writes ({type(e).__name__}: {e})") from None


def _derive(doc: dict) -> dict[str, Figure]:
    out: dict[str, Figure] = {}
    sections = doc.get("sections") or {}
    sources = doc.get("sources") or {}
    updated = _date_of(doc.get("updated"), "1970-01-01")

    def put(
        key: str, value: object, unit: str, section: str, note: str, command: str | None = None, date: str | None = None
    ) -> None:
        if value is None or (not _finite(value) and not isinstance(value, str)):
            return
        command = command or f"make bench BENCH={section}"
        out[DERIVED + key] = make_figure(
            DERIVED + key,
            {
                "value": value,
                "unit": unit,
                "date": date or _date_of(sources.get(section), updated),
                "command": command,
                "note": note,
            },
        )

    def med(d: object, digits: int) -> float | None:
        m = _median(d)
        return None if m is None else round(m, digits)

    m = doc.get("machine") or {}
    if m:
        driver = (sections.get("fs") or {}).get("storage_driver") or doc.get("storage_driver")
        put(
            "machine",
            f"{m.get('cores')} cores, {m.get('memory_gib')} GiB, Docker {m.get('docker')}"
            + (f", storage driver {driver}" if driver else ""),
            "",
            "bringup",
            "the machine of the newest `make bench` run",
            command="make bench",
            date=updated,
        )

    b = sections.get("bringup") or {}
    for n in (1, 5, 10):
        s = b.get(f"n{n}") or {}
        runs = _runs(s.get("containers_s"))
        put(
            f"bringup.n{n}.host",
            med(s.get("host_s"), 1),
            "s",
            "bringup",
            f"bare host, `ipcluster start -n {n}` with the image's profile, median of {runs}",
        )
        put(
            f"bringup.n{n}.containers",
            med(s.get("containers_s"), 1),
            "s",
            "bringup",
            f"`plain` with {plural(n, 'engine')}, until all registered, median of {runs}",
        )
        put(
            f"bringup.n{n}.ratio",
            med(s.get("ratio"), 2),
            "x",
            "bringup",
            f"{plural(n, 'engine')}: containers / host, run by run (goal <= 1.1)",
        )
        put(
            f"bringup.n{n}.host_defaults",
            med(s.get("host_defaults_s"), 1),
            "s",
            "bringup",
            f"bare host with ipyparallel's default 3 s heartbeat, {plural(n, 'engine')}",
        )
        put(
            f"bringup.n{n}.ratio_defaults",
            med(s.get("ratio_vs_host_defaults"), 2),
            "x",
            "bringup",
            f"{plural(n, 'engine')}: containers / host with ipyparallel's defaults",
        )
    steps = [st.get("nodes") for st in (b.get("n1") or {}).get("container_steps") or [] if _finite(st.get("nodes"))]
    if steps:
        put(
            "bringup.nodes",
            round(statistics.median(steps), 2),
            "s",
            "bringup",
            "starting the nodes (network, container, compose) before any engine, median",
        )

    for topo, s in (sections.get("launchers") or {}).items():
        put(
            f"launchers.{topo}",
            med(s.get("up_s"), 1),
            "s",
            "launchers",
            f"`{topo}` up, {s.get('engines')} engines, median of {_runs(s.get('up_s'))}",
        )

    fs = sections.get("fs") or {}
    driver = fs.get("storage_driver", "the storage driver")
    for who, label in (
        ("host", "host"),
        ("container_mpi", f"node as user mpi ({driver})"),
        ("container_root", f"node as root ({driver})"),
    ):
        s = fs.get(who) or {}
        put(f"fs.stat_abs.{who}", med(s.get("stat_abs_us"), 1), "us", "fs", f"stat() of an absolute path: {label}")
        put(f"fs.stat_rel.{who}", med(s.get("stat_rel_us"), 1), "us", "fs", f"stat() of a relative path: {label}")
        put(
            f"fs.import.{who}",
            med(s.get("import_ipyparallel_s"), 2),
            "s",
            "fs",
            f"a new process's `import ipyparallel`: {label}",
        )
    put(
        "fs.import_ratio",
        med(fs.get("import_ratio_container_mpi"), 2),
        "x",
        "fs",
        "`import ipyparallel`, node as mpi / host",
    )

    t = sections.get("tasks") or {}
    for view, label in (("lb", "load-balanced"), ("direct", "direct")):
        s = t.get(view) or {}
        runs = _runs(s.get("ratio"))
        put(
            f"tasks.{view}.host",
            med(s.get("host_tasks_per_s"), 0),
            "/s",
            "tasks",
            f"{t.get('tasks')} no-op tasks, {label} view, {t.get('engines')} engines: host, median of {runs}",
        )
        put(
            f"tasks.{view}.containers",
            med(s.get("containers_tasks_per_s"), 0),
            "/s",
            "tasks",
            f"{t.get('tasks')} no-op tasks, {label} view: containers, median of {runs}",
        )
        put(
            f"tasks.{view}.ratio",
            med(s.get("ratio"), 2),
            "x",
            "tasks",
            f"task throughput, {label}: containers / host (goal >= 0.95)",
        )
    rounds = [
        v for view in ("lb", "direct") for v in ((t.get(view) or {}).get("ratio") or {}).get("values", []) if _finite(v)
    ]
    if rounds:
        put(
            "tasks.round_range",
            f"{min(rounds):.2f}-{max(rounds):.2f}",
            "x",
            "tasks",
            "task throughput of single rounds, containers / host, both views",
        )

    mpi = sections.get("mpi") or {}
    setups = {
        "one_container_shm": "shared memory in one container",
        "two_containers_tcp": "TCP between two containers",
        "host_tcp_loopback": "host, TCP loopback",
        "host_shm": "host, shared memory",
    }
    for setup, label in setups.items():
        s = mpi.get(setup) or {}
        put(f"mpi.{setup}.latency", med(s.get("latency_8B_us"), 1), "us", "mpi", f"Allreduce of 8 B: {label}")
        put(f"mpi.{setup}.bw_1MiB", med(s.get("bandwidth_1MiB_MBps"), 0), "MB/s", "mpi", f"Allreduce of 1 MiB: {label}")
        put(
            f"mpi.{setup}.bw_64MiB",
            med(s.get("bandwidth_64MiB_MBps"), 0),
            "MB/s",
            "mpi",
            f"Allreduce of 64 MiB: {label}",
        )
    for name, ratios in mpi.items():
        if name.startswith("ratio_") and isinstance(ratios, dict):
            for field, v in ratios.items():
                if _finite(v):
                    put(
                        f"mpi.{name}.{field}",
                        round(v, 2),
                        "x",
                        "mpi",
                        f"{field}: {name[6:].replace('_vs_', ' / ').replace('_', ' ')}",
                    )

    img = sections.get("images") or {}
    put("images.warm", med(img.get("warm_rebuild_s"), 2), "s", "images", "warm `make images`, nothing changed")
    put("images.cached", med(img.get("cached_build_s"), 2), "s", "images", "a docker build with every step cached")
    put(
        "images.workload_change",
        med(img.get("workload_change_rebuild_s"), 0),
        "s",
        "images",
        "rebuild after changing one workload file (no package reinstalled)",
    )
    cold = img.get("cold") or {}
    if _finite(cold.get("total_s")):
        put(
            "cold_build",
            round(cold["total_s"]),
            "s",
            "images",
            f"cold build from nothing, openmpi4, median of {cold.get('runs')}",
            command="make bench BENCH=images BENCH_ARGS=--cold-runs=5",
            date=_date_of(sources.get("images cold build") or sources.get("images"), updated),
        )

    dg = sections.get("digits") or {}
    lc, npy = _median(dg.get("lecture_code_digits_per_s")), _median(dg.get("numpy_digits_per_s"))
    limit = dg.get("memory_limit_digits_per_s")
    if lc:
        put(
            "digits.lecture_code",
            round(lc / 1e6, 2),
            "M digits/s",
            "digits",
            "2-digit counts, the lecture's generator code, one engine",
        )
    if npy:
        put("digits.numpy", round(npy / 1e6, 1), "M digits/s", "digits", "2-digit counts, numpy, one engine")
    put("digits.memory_read", med(dg.get("memory_read_MBps"), 0), "MB/s", "digits", "memory read speed, one engine")
    if _finite(limit):
        put("digits.memory_limit", round(limit / 1e9, 1), "G digits/s", "digits", "the limit memory reads set")
    if _finite(dg.get("lecture_code_vs_lecture")):
        put(
            "digits.lecture_code_vs_lecture",
            round(dg["lecture_code_vs_lecture"], 1),
            "x",
            "digits",
            "the lecture's code here / on the lecture's machine",
        )
    if lc and npy:
        put("digits.numpy_vs_lecture_code", round(npy / lc), "x", "digits", "numpy / the lecture's code")
    if _finite(dg.get("numpy_vs_memory_limit")):
        put(
            "digits.numpy_vs_memory_limit",
            round(100 * dg["numpy_vs_memory_limit"], 1),
            "%",
            "digits",
            "numpy's count / the memory-read limit",
        )

    scale = sections.get("scale") or doc.get("scale") or []
    default, later = _scale_dates(sources.get("scale"), updated)
    per_engine = []

    for p in scale:
        n, k = p["engines"], p["nodes"]
        point = f"{n}x{k}"
        date = later.get(point, default)
        command = "make bench BENCH=scale" + (
            f' BENCH_ARGS="--scale-engines {n} --scale-nodes {k}"' if point in later else ""
        )
        host = p.get("host_bringup_s")
        host_text = f"{host:.1f} s" if _finite(host) else "failed"
        if "host_mpi_bringup_s" in p or "host_mpi_error" in p:
            host_mpi = p.get("host_mpi_bringup_s")
            host_text += f"; host MPI world {f'{host_mpi:.1f} s' if _finite(host_mpi) else 'failed'}"
        if p.get("ok"):
            mem = [v for v in (p.get("mem_mb_per_node") or {}).values() if _finite(v)]
            if _finite(p.get("mem_mb_per_engine")):
                per_engine.append(p["mem_mb_per_engine"])
            fullest = round(max(mem)) if mem else "-"
            note = (
                f"{plural(n, 'engine')}, one MPI world over {plural(k, 'node')}: {p.get('checked')}/{n} checked; "
                f"{p.get('mem_mb_per_engine')} MB per engine; {fullest} MB on the fullest node; "
                f"teardown {p.get('teardown_s')} s (host `ipcluster stop` {p.get('host_teardown_s', '-')} s); "
                f"host `ipcluster start -n {n}` {host_text}"
            )
            put(f"scale.point.{point}", round(p["bringup_s"], 1), "s", "scale", note, command, date)
            if mem:
                put(
                    f"scale.node_mb.{point}",
                    round(max(mem)),
                    "MB",
                    "scale",
                    f"memory of the fullest node, {plural(n, 'engine')} over {plural(k, 'node')}",
                    command,
                    date,
                )
            if _finite(host):
                put(
                    f"scale.host.{point}",
                    round(host, 1),
                    "s",
                    "scale",
                    f"bare host `ipcluster start -n {n}` (plain engines), beside {n}x{k}",
                    command,
                    date,
                )
        else:
            error = str(p.get("error", ""))
            why = re.search(r"exited with status \d+|not registered[^:;]*|within [^:;]*", error)
            put(
                f"scale.point.{point}",
                "failed",
                "",
                "scale",
                f"{plural(n, 'engine')} over {plural(k, 'node')}: {why.group(0) if why else error[:80]}",
                command,
                date,
            )
    if per_engine:
        put(
            "scale.mem_per_engine",
            round(statistics.median(per_engine)),
            "MB",
            "scale",
            "memory of an engine with its nanny (RSS), median over the points",
            date=default,
        )
    for name, h in (doc.get("hosts") or {}).items():  # testbed hosts-matrix --bench KIND (docs/hosts.md)
        about = f"{h.get('engine', '?')}, {h.get('storage', '?')}"
        for p in h.get("points") or []:
            n = p.get("engines")
            r = (h.get("ratio") or {}).get(str(n)) or {}
            put(
                f"hosts.{name}.n{n}.bringup",
                p.get("bringup_s"),
                "s",
                "hosts",
                f"testbed bring-up of {plural(n, 'engine')} on one node, {about}",
                h.get("command"),
                h.get("date"),
            )
            put(
                f"hosts.{name}.n{n}.host_mpi",
                p.get("host_mpi_bringup_s"),
                "s",
                "hosts",
                f"that host's own `ipcluster --engines=MPI -n {n}`",
                h.get("command"),
                h.get("date"),
            )
            put(
                f"hosts.{name}.n{n}.ratio",
                r.get("vs_host_mpi"),
                "x",
                "hosts",
                "testbed / the host's MPI world, like for like",
                h.get("command"),
                h.get("date"),
            )
            put(
                f"hosts.{name}.n{n}.host",
                p.get("host_bringup_s"),
                "s",
                "hosts",
                f"that host's own `ipcluster start -n {n}` (plain engines)",
                h.get("command"),
                h.get("date"),
            )
            put(
                f"hosts.{name}.n{n}.ratio_plain",
                r.get("vs_host"),
                "x",
                "hosts",
                "testbed (one MPI world) / the host's plain engines",
                h.get("command"),
                h.get("date"),
            )
    return out


def all_figures(root: Path) -> dict[str, Figure]:
    recorded = load(root / FIGURES)
    derived = from_latest(root / LATEST)
    return {**recorded, **derived}


# ---------------------------------------------------------------- rendering


def number(v: int | float) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        v = int(v)
    return f"{v:,}"


def value_text(fig: Figure) -> str:
    v, unit = fig.value, fig.unit
    if isinstance(v, str):
        return f"{v}{'' if unit in NO_SPACE_UNITS else ' '}{unit}" if unit and re.search(r"\d", v) else v
    if unit == "s" and v >= 60:
        minutes, seconds = divmod(round(v), 60)
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    if not unit:
        return number(v)
    return f"{number(v)}{'' if unit in NO_SPACE_UNITS else ' '}{unit}"


def inline(fig: Figure, in_table: bool = False) -> str:
    text = f"{value_text(fig)} ({fig.date}, `{fig.command}`)"
    return text.replace("|", "\\|") if in_table else text


def table(figs: list[Figure]) -> str:
    rows = ["| figure | value | date | command |", "|---|---|---|---|"]
    for f in figs:
        cells = [f.note or f"`{f.key}`", value_text(f), f.date, f"`{f.command}`"]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def _segments(text: str) -> list[tuple[bool, int, str]]:
    """(in fenced code, first line number, text) pieces of a markdown text."""
    out: list[tuple[bool, int, str]] = []
    fence = None
    buf: list[str] = []
    start = 1
    for i, line in enumerate(text.splitlines(keepends=True), 1):
        m = FENCE_RE.match(line)
        if fence is None and m:
            if buf:
                out.append((False, start, "".join(buf)))
            buf, start, fence = [line], i, m.group(1)
        elif fence is not None and m and m.group(1) == fence:
            buf.append(line)
            out.append((True, start, "".join(buf)))
            buf, start, fence = [], i + 1, None
        else:
            buf.append(line)
    if buf:
        out.append((fence is not None, start, "".join(buf)))
    return out


@dataclass
class Block:
    line: int
    kind: str  # "fig" or "figtable"
    key: str
    stale: bool


def render_text(text: str, figures: dict[str, Figure]) -> tuple[str, list[Block], list[str]]:
    """The text with every block rendered, the blocks found, and problems as 'LINE: message'."""
    blocks: list[Block] = []
    problems: list[str] = []
    pieces = []
    for code, first, seg in _segments(text):
        if code:
            pieces.append(seg)
            continue

        def inline_block(m: re.Match, seg=seg, first=first) -> str:
            key = m.group("key")
            line = first + seg.count("\n", 0, m.start())
            fig = figures.get(key)
            if fig is None:
                problems.append(f"{line}: fig:{key}: no such figure (figures.json, or latest.json for bench.*)")
                return m.group(0)
            line_start = seg.rfind("\n", 0, m.start()) + 1
            body = inline(fig, seg[line_start:].lstrip().startswith("|"))
            blocks.append(Block(line, "fig", key, body != m.group("body")))
            return f"<!-- fig:{key} -->{body}<!-- /fig -->"

        seg = INLINE_RE.sub(inline_block, seg)  # one line each: line numbers stay those of the file

        def table_block(m: re.Match, seg=seg, first=first) -> str:
            prefix = m.group("prefix")
            line = first + seg.count("\n", 0, m.start())
            figs = [f for k, f in figures.items() if k.startswith(prefix)] if prefix else []
            if not figs:
                problems.append(f"{line}: figtable:{prefix}: no figure's key starts with it")
                return m.group(0)
            body = table(figs)
            blocks.append(Block(line, "figtable", prefix, body != m.group("body")))
            return f"<!-- figtable:{prefix} -->\n{body}<!-- /figtable -->"

        seg = TABLE_RE.sub(table_block, seg)
        # a marker no pattern took: not closed on its line (fig) or by a /figtable line (figtable)
        taken = [(mm.start(), mm.end()) for mm in INLINE_RE.finditer(seg)] + [
            (mm.start(), mm.end()) for mm in TABLE_RE.finditer(seg)
        ]
        for mm in OPEN_RE.finditer(seg):
            if not any(a <= mm.start() < b for a, b in taken):
                line = first + seg.count("\n", 0, mm.start())
                problems.append(
                    f"{line}: a marked block that is not closed (fig: on its line, figtable: by a "
                    f"line holding only the /figtable comment)"
                )
        pieces.append(seg)
    blocks.sort(key=lambda b: b.line)
    return "".join(pieces), blocks, sorted(problems, key=lambda p: int(p.split(":")[0]))


def documents(root: Path) -> list[Path]:
    docs = sorted((root / "docs").glob("*.md")) if (root / "docs").is_dir() else []
    return [p for p in [root / "README.md", *docs] if p.is_file()]


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def run(root: Path, write: bool) -> tuple[list[str], int, int]:
    """Render (write=True) or check every document: (problem lines, blocks, files changed)."""
    figures = all_figures(root)
    lines: list[str] = []
    count = changed = 0
    for path in documents(root):
        text = path.read_text(encoding="utf-8")
        new, blocks, problems = render_text(text, figures)
        name = _rel(path, root)
        count += len(blocks)
        lines += [f"{name}:{p}" for p in problems]
        if write:
            if new != text:
                _write(path, new)
                changed += 1
        else:
            lines += [
                f"{name}:{b.line}: {b.kind}:{b.key} is stale: run `python -m benchmarks.figures render`"
                for b in blocks
                if b.stale
            ]
    return lines, count, changed


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- record


def parse_value(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            v = kind(text)
        except ValueError:
            continue
        if _finite(v):
            return v
    return text


def record(
    root: Path, key: str, value: str, unit: str, command: str, note: str | None = None, date: str | None = None
) -> Figure:
    """Add or replace one figure in figures.json (keeping its place), and return it."""
    if key.startswith(DERIVED):
        raise FiguresError(f"{key}: keys under '{DERIVED}' are read from {LATEST}: run `make bench`")
    path = root / FIGURES
    figures = load(path)
    raw = {"value": parse_value(value), "unit": unit, "date": date or dt.date.today().isoformat(), "command": command}
    if note:
        raw["note"] = note
    fig = make_figure(key, raw)
    figures[key] = fig
    doc = {"figures": {k: _raw(f) for k, f in figures.items()}}
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if len(text.encode()) > MAX_BYTES:
        raise FiguresError(f"{path}: would grow over {MAX_BYTES} bytes")
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, text)
    return fig


def _raw(f: Figure) -> dict:
    raw = {"value": f.value, "unit": f.unit, "date": f.date, "command": f.command}
    if f.note:
        raw["note"] = f.note
    return raw


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.figures", description=__doc__.split("\n\n")[0])
    p.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    sub.add_parser("render", help="rewrite every marked block in README.md and docs/*.md")
    sub.add_parser("check", help="exit 1 with one line per stale block; nothing written")
    r = sub.add_parser("record", help="add or replace one figure in figures.json")
    r.add_argument("key")
    r.add_argument("value", help="a number, or a text such as 'not yet measured'")
    r.add_argument("--unit", required=True, help="s, min, MB, ... ('' for none)")
    r.add_argument("--command", required=True, help="the command that made the figure")
    r.add_argument("--note", help="short context, shown in tables")
    r.add_argument("--date", help="YYYY-MM-DD (default today)")
    args = p.parse_args(argv)
    try:
        if args.cmd == "record":
            fig = record(args.root, args.key, args.value, args.unit, args.command, args.note, args.date)
            print(f"{fig.key} = {inline(fig)}: run `python -m benchmarks.figures render`")
            return 0
        lines, count, changed = run(args.root, write=args.cmd == "render")
    except FiguresError as e:
        print(f"figures: {e}", file=sys.stderr)
        return 2
    for line in lines:
        print(line, file=sys.stderr if args.cmd == "render" else sys.stdout)
    if args.cmd == "render":
        print(f"{count} marked blocks; {changed} file(s) rewritten")
    elif not lines:
        print(f"{count} marked blocks, all current")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
