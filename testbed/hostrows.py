"""The host matrix (`testbed hosts-matrix`, `make hosts`): the project run as its users run it, on
the kinds of host they have, each made here (testbed.hosts). docs/hosts.md says what each row is.

A row is a host, a user and the README's commands (``make reproduce``, ``make test``), run from a
fresh clone of this checkout's HEAD on that host. Its result is what the commands said: their exit
status, the lecture's agreement line of ``make reproduce`` and pytest's summary line of ``make
test``, and their seconds. Results are merged into ``docs/hosts.json`` by row, and the table in
``docs/hosts.md`` is written from it (``render``), so the document says only what a run measured.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import docker_env, hosts, limits, records, stacks
from .errors import TestbedError

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "hosts.json"
DOC = ROOT / "docs" / "hosts.md"
STEPS = ("reproduce", "test")
STEP_TIMEOUT = 3600  # s: a make target on a host; the longest (make test, images built first) takes ~20 min
LOCAL_USER = "ipp-testbed-tester"  # the non-root user of row 3, made for the run when it is missing
AGREE_RE = re.compile(r"(\d+)/(\d+) (?:experiments )?agree", re.I)
PYTEST_RE = re.compile(r"=+ (.*(?:passed|failed|error).*) in ([\d.]+)s")
BLOCK = "hosts:rows"  # docs/hosts.md's marked block


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    host: str | None  # a kind of testbed.hosts; None: this machine's engine
    user: str  # "root" or a user who is not root
    registry: bool = False  # the base image is pulled from the host's registry (else it is there)
    remote: bool = False  # this checkout drives the host's engine over TCP (DOCKER_HOST)
    rootless: bool = False  # the row's user runs the engine (rootless Podman's API service of its own)

    @property
    def command(self) -> str:
        return f"make hosts ROWS={self.id}"


ROWS: dict[str, Row] = {
    r.id: r
    for r in (
        Row("1", "this machine's engine, as root (the baseline)", None, "root"),
        Row("2", "Docker 26 with overlay2, as root", "docker26", "root"),
        Row("3", "this machine's engine, as a user in the docker group", None, LOCAL_USER),
        Row(
            "4",
            "Docker 26 with overlay2, as a user in the docker group, base image from a registry",
            "docker26",
            hosts.USER,
            registry=True,
        ),
        Row("5a", "Podman 5.4 (its Docker API, rootful), as a user", "podman5", hosts.USER),
        Row("5b", "Podman 4.3 (its Docker API, rootful), as a user", "podman4", hosts.USER),
        Row(
            "5c",
            "Podman 5.4 rootless (the user's own API service), base image from a registry",
            "podman5",
            hosts.USER,
            registry=True,
            rootless=True,
        ),
        Row("6", "a remote engine (DOCKER_HOST=tcp://...), Docker 26", "docker26", "root", remote=True),
    )
}


def summary(step: str, output: str) -> str:
    """The one line that says how a step went: the lecture's agreement, pytest's counts."""
    if step == "reproduce":
        found = AGREE_RE.findall(output)
        return f"{found[-1][0]}/{found[-1][1]} agree" if found else ""
    found = PYTEST_RE.findall(output)
    return found[-1][0] if found else ""


def _head() -> str:
    r = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip()


def _facts_here() -> dict:
    c = docker_env.client()
    info, ver = c.info(), c.version()
    return {
        "engine": f"Docker {ver.get('Version', '?')}",
        "storage": info.get("Driver", "?"),
        "cgroup": str(info.get("CgroupVersion", "1")),
        "rootless": False,
    }


class Runner:
    def __init__(self, steps: tuple[str, ...] = STEPS, log: Callable[[str], None] = print, logs: Path | None = None):
        bad = [s for s in steps if s not in STEPS]
        if bad:
            raise TestbedError(f"--steps {','.join(bad)}: choose from {','.join(STEPS)}")
        self.steps = steps
        self.log = log
        self.logs = logs or Path(tempfile.mkdtemp(prefix="ipp-testbed-hosts-"))

    def run(self, row: Row) -> dict:
        self.log(f"[hosts] row {row.id}: {row.title}")
        out = {
            "row": row.id,
            "title": row.title,
            "user": row.user,
            "registry": row.registry,
            "date": dt.date.today().isoformat(),
            "command": row.command,
            "steps": [],
        }
        t0 = time.monotonic()
        try:
            if row.host is None:
                self._here(row, out)
            else:
                self._on_host(row, out)
        except TestbedError as e:
            out["error"] = str(e).splitlines()[0][:300]
        out["seconds"] = round(time.monotonic() - t0)
        ok = not out.get("error") and all(s["status"] == 0 for s in out["steps"])
        out["result"] = "passed" if ok else "failed"
        self.log(
            f"[hosts] row {row.id}: {out['result']} in {out['seconds']} s"
            + (f" ({out['error']})" if out.get("error") else "")
        )
        return out

    # -- this machine's engine ---------------------------------------------------------------------------
    def _here(self, row: Row, out: dict) -> None:
        out.update(_facts_here())
        made_user = False
        if row.user == "root":
            if os.geteuid() != 0:
                raise TestbedError("row 1 runs as root: run the matrix as root, or choose other rows")
            argv_prefix: list[str] = []
            home = Path(tempfile.mkdtemp(prefix="ipp-testbed-row-"))
        else:
            if os.geteuid() == 0:
                try:
                    pwd.getpwnam(row.user)
                except KeyError:
                    subprocess.run(["useradd", "-m", "-G", "docker", row.user], check=True)
                    made_user = True
                argv_prefix = ["runuser", "-u", row.user, "--"]
                home = Path(pwd.getpwnam(row.user).pw_dir)
            else:  # already not root: this user is the row's user
                out["user"] = pwd.getpwuid(os.geteuid()).pw_name
                argv_prefix = []
                home = Path(tempfile.mkdtemp(prefix="ipp-testbed-row-"))
        clone = home / "ipp-testbed"
        # from a bundle of HEAD (hosts.bundle), as the hosts' rows are cloned
        bundle = Path(tempfile.mkdtemp(prefix="ipp-testbed-bundle-")) / "project.bundle"
        bundle.parent.chmod(0o755)
        try:
            shutil.rmtree(clone, ignore_errors=True)
            bundle.write_bytes(hosts.bundle(ROOT))
            bundle.chmod(0o644)
            r = subprocess.run(
                [*argv_prefix, "git", "clone", "-q", str(bundle), str(clone)],
                capture_output=True,
                text=True,
                timeout=300,
            )
            if r.returncode:
                raise TestbedError(f"git clone: {r.stderr.strip()[-200:]}")
            for step in self.steps:
                log = self.logs / f"row{row.id}-{step}.log"
                t = time.monotonic()
                with open(log, "w") as f:
                    try:
                        argv = [*argv_prefix, "make", "-C", str(clone), step]
                        p = subprocess.run(
                            argv, stdout=f, stderr=subprocess.STDOUT, timeout=STEP_TIMEOUT, stdin=subprocess.DEVNULL
                        )
                        status = p.returncode
                    except subprocess.TimeoutExpired:
                        status = 124
                self._step(out, step, status, time.monotonic() - t, log)
        finally:
            shutil.rmtree(clone, ignore_errors=True)
            shutil.rmtree(bundle.parent, ignore_errors=True)
            if made_user:
                subprocess.run(["userdel", "-r", row.user], capture_output=True)

    def _step(self, out: dict, step: str, status: int, seconds: float, log: Path) -> None:
        text = log.read_text(errors="replace")
        line = summary(step, text)
        if status and not line:
            line = next((x.strip() for x in reversed(text.splitlines()) if "error" in x.lower()), "")[:200]
        out["steps"].append(
            {
                "step": f"make {step}",
                "status": status,
                "seconds": round(seconds),
                "summary": line,
                "date": dt.date.today().isoformat(),
                "commit": _head(),
            }
        )
        self.log(f"[hosts]   make {step}: exit {status} in {seconds:.0f} s: {line}  (log: {log})")

    # -- a test host ---------------------------------------------------------------------------------------
    def _on_host(self, row: Row, out: dict) -> None:
        host = hosts.TestHost(row.host, name=f"hosts-row{row.id}", registry=row.registry, log=self.log)
        base = "debian:bookworm-slim"
        try:
            copy = [stacks.DEFAULT.image] if row.remote else []
            host.up(copy=copy, base=base)
            out.update(host.facts())
            env = {}
            if row.rootless:
                env = host.rootless_service(row.user)
                out["rootless"] = True
            if row.remote:
                self._remote(host, out)
            else:
                path = host.clone(ROOT, user=row.user)
                for step in self.steps:
                    log = self.logs / f"row{row.id}-{step}.log"
                    log.write_text("")
                    d = host.run(["make", step], user=row.user, workdir=path, log_to=log, timeout=STEP_TIMEOUT, env=env)
                    self._step(out, step, d.status, d.seconds, log)
        finally:
            host.down()

    def _remote(self, host: hosts.TestHost, out: dict) -> None:
        """This checkout's CLI against the host's engine: a check, and --mount refused with its reason."""
        env = {**os.environ, "DOCKER_HOST": host.endpoint}
        cli = [str(Path(sys.executable).parent / "testbed")]
        for step, argv, want in (
            ("testbed check true-world", [*cli, "check", "true-world"], 0),
            ("testbed up single-world --mount .", [*cli, "up", "single-world", "--mount", str(ROOT)], 2),
        ):
            log = self.logs / f"row{out['row']}-{step.split()[1]}.log"
            t = time.monotonic()
            with open(log, "w") as f:
                p = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, env=env, timeout=900)
            lines = log.read_text(errors="replace").strip().splitlines()
            line = next((x for x in lines if x.startswith(("OK:", "FAIL"))), lines[-1] if lines else "")[:200]
            status = 0 if p.returncode == want else 1
            out["steps"].append(
                {"step": step, "status": status, "seconds": round(time.monotonic() - t), "summary": line}
            )
            self.log(f"[hosts]   {step}: exit {p.returncode} (wanted {want}): {line}")


# -- bring-up where the storage driver is overlay2 ------------------------------------------------------------
BENCH_ENGINES = (1, 5, 32, 128)
LATEST = ROOT / "benchmarks" / "results" / "latest.json"


def bench(
    kind: str = "docker26",
    engines: tuple[int, ...] = BENCH_ENGINES,
    log: Callable[[str], None] = print,
    logs: Path | None = None,
) -> dict:
    """``make bench BENCH=scale`` from a fresh clone on a test host, as its root (the bare-host side installs
    Debian's Open MPI there): the testbed's bring-up of N engines beside ``ipcluster`` on that same host."""
    logs = logs or Path(tempfile.mkdtemp(prefix="ipp-testbed-hosts-"))
    host = hosts.TestHost(kind, name=f"hosts-bench-{kind}", log=log)
    try:
        host.up(base="debian:bookworm-slim")
        facts = host.facts()
        path = host.clone(ROOT, user="root")
        log_file = logs / f"bench-{kind}.log"
        log_file.write_text("")
        args = f"--scale-engines {','.join(map(str, engines))} --scale-nodes 1"
        log(f"[hosts] make bench BENCH=scale on {host.name} ({facts['engine']}, {facts['storage']}); log: {log_file}")
        d = host.run(
            ["make", "bench", "BENCH=scale", "RUNS=1", f"BENCH_ARGS={args}"],
            user="root",
            workdir=path,
            log_to=log_file,
            timeout=STEP_TIMEOUT,
        )
        if d.status:
            raise TestbedError(f"make bench on {host.name}: exit {d.status}: {d.tail.strip().splitlines()[-1:]}")
        latest = json.loads(_read_file(host, f"{path}/benchmarks/results/latest.json"))
    finally:
        host.down()
    points = [p for p in latest.get("scale", []) if p.get("nodes") == 1 and p.get("engines") in engines]
    out = {
        "date": dt.date.today().isoformat(),
        "host": kind,
        **facts,
        "machine": latest.get("machine", {}),
        "command": f"testbed hosts-matrix --bench {kind}",
        "points": points,
        "ratio": {},
    }
    for p in points:
        n = p["engines"]
        out["ratio"][str(n)] = {
            key: round(p["bringup_s"] / p[other], 2) if p.get("bringup_s") and p.get(other) else None
            for key, other in (("vs_host_mpi", "host_mpi_bringup_s"), ("vs_host", "host_bringup_s"))
        }
    return out


def _read_file(host: hosts.TestHost, path: str) -> str:
    import io
    import tarfile

    stream, _ = host.container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.getmembers()[0]
        return tar.extractfile(member).read().decode()


def record_bench(result: dict, path: Path = LATEST) -> None:
    """The host's figures into latest.json, under hosts.<kind>-<storage driver>."""
    doc = limits.load_json(path, "bench results") if path.exists() else {}
    if not isinstance(doc, dict):
        raise TestbedError(f"{path}: not a JSON object")
    doc.setdefault("hosts", {})[f"{result['host']}-{result['storage']}"] = result
    path.write_text(json.dumps(doc, indent=2) + "\n")


# -- results and the document ------------------------------------------------------------------------------
def load(path: Path = RESULTS) -> dict:
    try:
        doc = limits.load_json(path, "host results")
    except TestbedError:
        return {"rows": {}}
    return doc if isinstance(doc, dict) and isinstance(doc.get("rows"), dict) else {"rows": {}}


def merge(results: list[dict], path: Path = RESULTS) -> dict:
    """Each row's result over the file's; a run of some steps (``--steps test``) keeps the row's other
    steps from before, each with its own date and commit."""
    doc = load(path)
    for r in results:
        old = doc["rows"].get(r["row"]) or {}
        ran = {s["step"] for s in r.get("steps", [])}
        kept = [s for s in old.get("steps", []) if s["step"] not in ran and not r.get("error")]
        if kept:
            order = {f"make {x}": i for i, x in enumerate(STEPS)}
            r = {**r, "steps": sorted(kept + r["steps"], key=lambda s: order.get(s["step"], len(order)))}
            r["result"] = "passed" if all(s["status"] == 0 for s in r["steps"]) else "failed"
        doc["rows"][r["row"]] = r
    doc["rows"] = {k: doc["rows"][k] for k in sorted(doc["rows"], key=_order)}
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return doc


def _order(row_id: str) -> tuple:
    return (list(ROWS).index(row_id) if row_id in ROWS else len(ROWS), row_id)


def table(doc: dict) -> str:
    lines = [
        "| row | host | engine | storage | cgroup | rootless | registry | user | result | steps | date |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rid, r in doc.get("rows", {}).items():
        steps = "; ".join(
            f"`{s['step']}` {('exit ' + str(s['status']) + ', ') if s['status'] else ''}"
            f"{s['seconds']} s{(': ' + s['summary']) if s.get('summary') else ''}"
            for s in r.get("steps", [])
        )
        if r.get("error"):
            steps = (steps + "; " if steps else "") + f"error: {r['error']}"
        cells = [
            rid,
            r.get("title", ""),
            r.get("engine", "?"),
            r.get("storage", "?"),
            f"v{r.get('cgroup', '?')}",
            "yes" if r.get("rootless") else "no",
            "yes" if r.get("registry") else "none",
            r.get("user", "?"),
            r.get("result", "?"),
            steps.replace("|", "\\|"),
            r.get("date", "?"),
        ]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def render(doc_path: Path = DOC, results: Path = RESULTS, write: bool = True) -> bool:
    """Rewrite the marked table of docs/hosts.md from docs/hosts.json; True when it was current."""
    return records.replace_block(doc_path, BLOCK, table(load(results)), write)


def chosen(spec: str | None) -> list[Row]:
    if not spec:
        return list(ROWS.values())
    ids = [x.strip() for x in spec.split(",") if x.strip()]
    bad = [x for x in ids if x not in ROWS]
    if bad:
        raise TestbedError(f"--rows {','.join(bad)}: choose from {','.join(ROWS)}")
    return [ROWS[x] for x in ids]
