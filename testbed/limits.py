"""Every bound on what the testbed takes in, in one place, and the readers that apply them.

Each bound is a ``Bound``: the input it limits, its lowest and highest value, and why. The
modules that read input (topology, cli, api, packages, mount, matrix, report, dind) take their
numbers from here; docs/bad-input.md's "Bounds" table is checked against ``BOUNDS`` by a unit
test, so the two cannot disagree. A value out of bounds is a ``TestbedError`` of one line
that names the input, the value (repr, cut to 80 characters) and the bound.

Files are read by ``read_file``: it opens without blocking (a FIFO does not hang it), refuses
what is not a regular file (a FIFO, ``/dev/zero``, a folder) and a file over its bound before
reading, and never reads more than the bound. YAML (``load_yaml``) is scanned as events first,
bounding aliases, depth and the nodes the aliases expand to; JSON (``load_json``) is bounded
in size and in depth before it is parsed.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import TestbedError

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


_SIZE = re.compile(r"(\d{1,20})\s*([bkmg]?)b?", re.I)  # compose's sizes: 1024, 256m, 1g, 64kb
_SHIFT = {"": 0, "b": 0, "k": 10, "m": 20, "g": 30}


def size_bytes(value: Any) -> int | None:
    """A compose size (``shm_size: 256m``) in bytes, or None when it is not one; its bound is the caller's."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    m = _SIZE.fullmatch(str(value).strip())
    return int(m[1]) << _SHIFT[m[2].lower()] if m else None


def show(value: Any, width: int = 80) -> str:
    """``repr(value)``, cut to ``width`` characters (a hostile value never floods the line)."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass(frozen=True)
class Bound:
    """The range of one input: ``lo`` to ``hi`` (inclusive), in ``unit``, and why."""

    what: str
    lo: int | float
    hi: int | float
    unit: str
    why: str

    def problem(self, value: Any, what: str | None = None) -> str:
        return f"{what or self.what} {show(value)}: must be {self.range()}"

    def range(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.unit == "bytes" and self.hi >= KiB:  # and in KiB, MiB or GiB
            size, name = next((self.hi / n, u) for n, u in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")) if self.hi >= n)
            unit += f" ({size:g} {name})"
        lo = f"{self.lo:,}" if self.lo is not None else ""
        return f"from {lo} to {self.hi:,}{unit}" if self.lo is not None else f"at most {self.hi:,}{unit}"

    def check(self, value: Any, what: str | None = None, real: bool = False) -> Any:
        """``value`` when it is a whole number (or with ``real``, any number) in range; else one line."""
        kinds = (int, float) if real else (int,)
        if not isinstance(value, kinds) or isinstance(value, bool) or value != value:
            raise TestbedError(self.problem(value, what))
        if (self.lo is not None and value < self.lo) or value > self.hi:
            raise TestbedError(self.problem(value, what))
        return value

    def check_len(self, value: Any, what: str | None = None) -> Any:
        """``value`` when its length (a string's characters, a list's items) is at most ``hi``."""
        if len(value) > self.hi:
            n = len(value)
            raise TestbedError(f"{what or self.what} {show(value)}: {n:,} long, at most {self.hi:,}{self._u()}")
        return value

    def _u(self) -> str:
        return f" {self.unit}" if self.unit else ""


BOUNDS: list[Bound] = []


def _b(what: str, lo: int | float | None, hi: int | float, unit: str, why: str) -> Bound:
    b = Bound(what, lo, hi, unit, why)
    BOUNDS.append(b)
    return b


# ---- topology files (compose YAML with an x-testbed: block) ----
TOPOLOGY_BYTES = _b("topology file", None, 64 * KiB, "bytes", "the largest topology is 1.3 KB; read before parsing")
YAML_ALIASES = _b("YAML aliases", None, 100, "aliases", "anchors are fine; an alias bomb (billion laughs) is not")
YAML_DEPTH = _b("YAML nesting", None, 32, "levels", "a compose file nests about 6 deep; deep nesting stalls the parser")
YAML_NODES = _b("YAML nodes, aliases expanded", None, 100_000, "nodes", "a topology has a few hundred; huge anchors")
ENGINES_PER_GROUP = _b("engines in a group", 1, 128, "engines", "the largest group checked to work (docs/scale.md)")
ENGINES_TOTAL = _b("engines in a topology", 1, 256, "engines", "two of the largest groups; about 9 GB each")
GROUPS = _b("engine groups", 1, 32, "groups", "the topologies have 1 to 3")
NODES = _b("nodes (services)", 1, 64, "nodes", "the widest topology has 9; each is a container")
GROUP_HOSTS = _b("hosts of a group", None, 64, "nodes", "one entry per node at most")
SCATTER = _b("scatter length", 0, 1_000_000, "elements", "np.arange scattered to the engines: 8 MB")
TEXT = _b("topology text (summary, lecture, shared)", None, 500, "characters", "one line of a listing")
SHM_BYTES = _b("shm_size", None, 64 * GiB, "bytes", "a node's /dev/shm (node.yml: 256m); as k8s's MAX_SHM")
ULIMIT = _b("ulimit value", -1, 1 << 20, "", "the kernel's nofile maximum is 2^20; -1 is unlimited")

# ---- command-line options and API arguments ----
ENGINES_TEXT = _b("--engines", None, 200, "characters", "one count per group")
RANKS = _b("-n (ranks)", 1, 256, "ranks", "as many ranks as the largest cluster has engines")
PORT = _b("--port", 1, 65535, "", "a TCP port")
DIGIT_FILES = _b("--digit-files", 1, 1000, "files", "L3: the lecture's 5")
DIGITS_PER_FILE = _b("--digits-per-file", 1000, 50_000_000, "digits", "L3: the lecture's 10 million")
DIGITS_TOTAL = _b("--digit-files x --digits-per-file", None, 50_000_000, "digits", "the lecture's 5 x 10 million")
LB_SCALE = _b("--lb-scale", 0.001, 1000.0, "ms", "L1: ms per work unit (the lecture's 20; 1000 lasts minutes)")
DIND_HOSTS = _b("--hosts", 1, 4, "hosts", "Docker hosts checked to work on one machine (docs/swarm.md)")
LIST_ITEMS = _b("a comma-separated list (--only, --rows, --topologies, --mpi, --steps)", None, 64, "items", "")
LIST_TEXT = _b("a comma-separated list's text", None, 2000, "characters", "64 names of about 30 characters")
PLACE_ITEMS = _b("--place", None, 64, "options", "one per node")
PATH_TEXT = _b("a path (--out, --junit, --execute, --ssh-key, a file)", None, 4096, "characters", "PATH_MAX")
MATRIX_ROWS = _b("matrix rows", 1, 60, "rows", "a cluster each; 60 take hours")
ARGV_ITEMS = _b("exec arguments", 1, 1000, "arguments", "a command line")
ARG_CHARS = _b("an exec argument", None, 100_000, "characters", "below the kernel's 128 KiB per argument")
CLIENT_TIMEOUT = _b("timeout (API client)", 0.001, 3600.0, "s", "engines register in seconds; an hour is a hang")
BENCH_RUNS = _b("--runs (benchmarks)", 1, 100, "runs", "timed runs per figure after a warm-up; the default is 5")
MOUNT_TEXT = _b("--mount", None, 4096, "characters", "DIR[:PATH], two paths")

# ---- other files ----
REQUIREMENTS_BYTES = _b("requirements file", None, 64 * KiB, "bytes", "100 lines of 300 characters fit")
REQUIREMENTS = _b("requirements (--requirements and --pip)", None, 100, "requirements", "one derived image")
REQUIREMENT_CHARS = _b("a requirement", None, 300, "characters", "a name, extras and versions")
JSON_BYTES = _b("a results JSON file", None, 16 * MiB, "bytes", "results/*.json are a few KB to a few MB")
JSON_DEPTH = _b("JSON nesting", None, 64, "levels", "results nest about 5 deep; Python's json recurses")
NOTEBOOK_BYTES = _b("an executed notebook", None, 64 * MiB, "bytes", "the notebooks with their plots: about 1 MB")

# what a --place value (a swarm node label's value) may be: no space, quote, '=' or shell syntax
PLACE_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
# an environment variable's name passed to a command on a node
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# an item of a comma-separated list of names (fault, experiment id, row, stack, topology, step)
LIST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def items(text: Any, what: str) -> list[str]:
    """``a,b`` -> ["a", "b"]: bounded in length and count, each item a plain name; one line otherwise."""
    if not isinstance(text, str):
        raise TestbedError(f"{what} {show(text)}: give comma-separated names")
    LIST_TEXT.check_len(text, what)
    out = [x.strip() for x in text.split(",") if x.strip()]
    LIST_ITEMS.check_len(out, what)
    for x in out:
        if not LIST_NAME.fullmatch(x):
            raise TestbedError(f"{what}: {show(x)} is not a name (must match {LIST_NAME.pattern})")
    return out


def path_text(text: Any, what: str) -> str:
    """A path given on a command line: text of at most PATH_TEXT characters, without NUL or line breaks."""
    if not isinstance(text, str | os.PathLike):
        raise TestbedError(f"{what} {show(text)}: give a path")
    s = os.fspath(text)
    if not isinstance(s, str) or not s or any(ch in s for ch in "\0\n\r"):
        raise TestbedError(f"{what} {show(s)}: give a path, without NUL or line breaks")
    PATH_TEXT.check_len(s, what)
    return s


def env_name(name: Any) -> str:
    """An environment variable's name, for a command run on a node; one line otherwise."""
    if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
        raise TestbedError(f"environment variable name {show(name)}: must match {ENV_NAME.pattern}")
    return name


def place_value(item: Any) -> None:
    """``--place NODE=VALUE``: VALUE a plain label value (the node is checked against the topology)."""
    text = str(item)
    node, sep, value = text.partition("=")
    if sep and not PLACE_VALUE.fullmatch(value):
        raise TestbedError(f"--place {show(text)}: VALUE must match {PLACE_VALUE.pattern}")


def read_file(path: str | os.PathLike, bound: Bound, what: str) -> bytes:
    """The bytes of ``path``: a regular file of at most ``bound.hi`` bytes, checked before it is read.

    Opened with O_NONBLOCK, so a FIFO without a writer does not hang the open; a FIFO,
    a device (``/dev/zero``), a socket or a folder is refused by fstat before any read."""
    p = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(p, flags)
    except OSError as e:
        raise TestbedError(f"{what} {show(p)}: cannot read it: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise TestbedError(f"{what} {show(p)}: not a regular file (a FIFO, a device or a folder); give a file")
        if st.st_size > bound.hi:
            raise TestbedError(f"{what} {show(p)}: {st.st_size:,} bytes, larger than {bound.hi:,} bytes")
        chunks, size = [], 0
        while True:  # never more than the bound, should the file grow while it is read
            chunk = os.read(fd, min(1 << 16, bound.hi + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > bound.hi:
                raise TestbedError(f"{what} {show(p)}: larger than {bound.hi:,} bytes")
        return b"".join(chunks)
    except OSError as e:
        raise TestbedError(f"{what} {show(p)}: cannot read it: {e.strerror}") from None
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike, bound: Bound, what: str) -> str:
    """``read_file`` decoded as UTF-8; one line when it is not."""
    data = read_file(path, bound, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TestbedError(f"{what} {show(os.fspath(path))}: not UTF-8 text (byte {e.start})") from None


_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def load_yaml(text: str, where: str) -> Any:
    """``yaml.safe_load(text)``, after an event scan that refuses, as soon as it sees them, more than
    YAML_ALIASES aliases, nesting deeper than YAML_DEPTH, or more than YAML_NODES nodes once the
    aliases are expanded (a huge anchor used many times)."""
    anchors: dict[str, int] = {}
    frames: list[list] = []  # [anchor, nodes] of each open collection
    aliases = total = 0
    try:
        for ev in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(ev, _OPEN):
                frames.append([ev.anchor, 1])
                if len(frames) > YAML_DEPTH.hi:
                    raise TestbedError(f"{where}: nested more than {YAML_DEPTH.hi} levels deep, not a topology file")
                continue
            if isinstance(ev, _CLOSE):
                anchor, n = frames.pop()
            elif isinstance(ev, yaml.ScalarEvent):
                anchor, n = ev.anchor, 1
            elif isinstance(ev, yaml.AliasEvent):
                aliases += 1
                if aliases > YAML_ALIASES.hi:
                    raise TestbedError(
                        f"{where}: {aliases} YAML aliases (more than {YAML_ALIASES.hi}): refused as an alias bomb"
                    )
                anchor, n = None, anchors.get(ev.anchor, 1)
            else:
                continue
            if anchor is not None:
                anchors[anchor] = n
            if frames:
                frames[-1][1] += n
            total += n if not frames else 0
            if n > YAML_NODES.hi or (frames and frames[-1][1] > YAML_NODES.hi) or total > YAML_NODES.hi:
                raise TestbedError(
                    f"{where}: more than {YAML_NODES.hi:,} YAML nodes with its aliases expanded: an alias bomb"
                )
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise TestbedError(f"{where}: not valid YAML: {' '.join(str(e).split())[:300]}") from None
    except RecursionError:
        raise TestbedError(f"{where}: nested too deeply to be a topology file") from None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON ``text`` (brackets in strings not counted)."""
    depth = deepest = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if m[0] in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def loads_json(text: str | bytes, where: str, bound: Bound | None = None) -> Any:
    """``json.loads`` bounded in size and depth: one line for what is too big, too deep or not JSON."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise TestbedError(f"{where}: not UTF-8 text (byte {e.start})") from None
    hi = (bound or JSON_BYTES).hi
    if len(text) > hi:
        raise TestbedError(f"{where}: {len(text):,} characters, larger than {hi:,}")
    if json_depth(text) > JSON_DEPTH.hi:
        raise TestbedError(f"{where}: JSON nested more than {JSON_DEPTH.hi} levels deep")
    try:
        return json.loads(text)
    except RecursionError:
        raise TestbedError(f"{where}: JSON nested too deeply") from None
    except ValueError as e:
        raise TestbedError(f"{where}: not valid JSON: {' '.join(str(e).split())[:200]}") from None


def load_json(path: str | os.PathLike, what: str = "results file", bound: Bound = JSON_BYTES) -> Any:
    """A JSON file: ``read_file`` (a regular file within ``bound``), then ``loads_json``."""
    return loads_json(read_file(path, bound, what), f"{what} {show(os.fspath(path))}", bound)


def is_regular(path: Path) -> bool:
    """True when ``path`` is a regular file (not a FIFO, device or folder), without opening it."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def name(text: Any, what: str) -> str:
    """One plain name (a host kind, an experiment id): matches LIST_NAME; one line otherwise."""
    if not isinstance(text, str) or not LIST_NAME.fullmatch(text):
        raise TestbedError(f"{what} {show(text)}: not a name (must match {LIST_NAME.pattern})")
    return text


# the command line's options (argparse's dest) and their bounds: checked by ``check_options``
# before a command runs, so that every command refuses the same value in the same line
OPTION_NUMBERS: dict[str, tuple[str, Bound, bool]] = {  # dest -> (option, bound, a real number)
    "scatter": ("--scatter", SCATTER, False),
    "n": ("-n", RANKS, False),
    "port": ("--port", PORT, False),
    "digit_files": ("--digit-files", DIGIT_FILES, False),
    "digits_per_file": ("--digits-per-file", DIGITS_PER_FILE, False),
    "lb_scale": ("--lb-scale", LB_SCALE, True),
}
OPTION_PATHS = {
    "out": "--out",
    "junit": "--junit",
    "execute": "--execute",
    "ssh_key": "--ssh-key",
    "digit_cache": "--digit-cache",
    "requirements": "--requirements",
}
OPTION_LISTS = {"only": "--only", "rows": "--rows", "steps": "--steps"}
OPTION_NAMES = {"kind": "KIND"}


def check_options(args: Any) -> None:
    """Every bounded option of a parsed command line (argparse's namespace), in one line each."""
    got = vars(args)
    for dest, (option, bound, real) in OPTION_NUMBERS.items():
        if got.get(dest) is not None:
            bound.check(got[dest], option, real=real)
    if got.get("cmd") == "dind" and got.get("hosts") is not None:
        DIND_HOSTS.check(got["hosts"], "--hosts")
    for dest, option in OPTION_PATHS.items():
        if got.get(dest) is not None:
            path_text(got[dest], option)
    for dest, option in OPTION_LISTS.items():
        if got.get(dest) is not None:
            items(got[dest], option)
    for dest, option in OPTION_NAMES.items():
        if got.get(dest) is not None:
            name(got[dest], option)
    place = got.get("place") or []
    PLACE_ITEMS.check_len(place, "--place")
    for item in place:
        place_value(item)
    if got.get("digit_files") is not None and got.get("digits_per_file") is not None:
        total = got["digit_files"] * got["digits_per_file"]
        if total > DIGITS_TOTAL.hi:
            raise TestbedError(
                f"--digit-files x --digits-per-file is {total:,} digits: at most {DIGITS_TOTAL.hi:,} "
                f"(the lecture's 5 x 10 million, what was checked to work)"
            )
