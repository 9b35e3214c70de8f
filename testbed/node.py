"""A handle on one node of a cluster: run a command in it, copy files in and out.

Every command is an argv list run as user ``mpi`` (Open MPI refuses root). A workload
prints its answer as one JSON object on a line of its own; ``run_json`` returns it,
or raises the ``error`` it reported, for the CLI, the experiments and the benchmarks
alike.
"""

from __future__ import annotations

import io
import json
import shlex
import tarfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import labels
from .errors import TestbedError
from .launch import HOME, LOGS
from .waiting import NotYet, poll

USER = "mpi"
PROFILE_LOGS = HOME / ".ipython/profile_default/log"  # ipyparallel's own logs
UID = GID = 1000
WORKLOADS = PurePosixPath("/opt/testbed/workloads")
NODE_PY = WORKLOADS / "testbed_node.py"

__all__ = ["HOME", "LOGS", "NODE_PY", "USER", "WORKLOADS", "Exec", "Node", "exit_status", "last_json", "one_off"]


@dataclass(frozen=True)
class Exec:
    code: int
    out: str
    err: str

    def __iter__(self):  # code, out, err = node.exec(...)
        return iter((self.code, self.out, self.err))


def last_json(out: str, err: str, what: str) -> dict:
    """The last JSON object a workload printed on a line of its own; its ``error``, if any, raised."""
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not lines:  # the first line says what ended it (a traceback's last line), the tail follows
        tail = [ln for ln in err.strip().splitlines() if ln.strip()]
        last = tail[-1].strip()[:300] if tail else "nothing on stderr"
        raise TestbedError(f"{what} printed no result: {last}" + "".join(f"\n{ln}" for ln in tail[-12:-1]))
    try:
        doc = json.loads(lines[-1])
    except json.JSONDecodeError:
        raise TestbedError(f"{what} printed a broken JSON line: {lines[-1][:200]}") from None
    if "error" in doc:
        raise TestbedError(f"{what}: {doc['error']}")
    return doc


def exit_status(api, eid: str, what: str, timeout: float = 60.0) -> int:
    """The exit status of exec ``eid`` once Docker says it is not running: its output stream
    ends when the pipes close, which may be before the process has exited (it redirected
    its output), and Docker's inspect may lag the stream's end."""

    def exited() -> tuple[int]:
        found = api.exec_inspect(eid)
        if found.get("Running") or found.get("ExitCode") is None:
            raise NotYet("Docker says it still runs")
        return (int(found["ExitCode"]),)  # a tuple: exit status 0 is an answer too

    return poll(exited, timeout=timeout, what=f"{what}: its output ended, but its exit", interval=0.1)[0]


class Node:
    """One running node container (a docker-py container object) and its service name."""

    def __init__(self, container, service: str):
        self.container = container
        self.service = service
        # user mpi's ids: the image's, or the host user's on a cluster with a mounted folder
        found = getattr(container, "labels", None)
        value = found.get(labels.UID) if isinstance(found, dict) else None
        ids = value.split(":") if isinstance(value, str) and value.replace(":", "").isdigit() else (UID, GID)
        self.uid, self.gid = int(ids[0]), int(ids[-1])

    def exec(self, argv: Sequence[str], workdir: str | None = None, user: str = USER) -> Exec:
        res = self.container.exec_run(list(argv), user=user, demux=True, workdir=workdir)
        out, err = res.output if res.output else (b"", b"")
        return Exec(res.exit_code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace"))

    def exec_lines(self, argv: Sequence[str], on_err_line: Callable[[str], bool], user: str = USER) -> Exec:
        """``exec``, with each line of the command's stderr handed to ``on_err_line`` as it comes
        (the output is streamed); the lines it takes (returns True for) are left out of ``err``."""
        api = self.container.client.api
        eid = api.exec_create(self.container.id, list(argv), user=user)["Id"]
        out: list[bytes] = []
        err: list[str] = []
        part = b""

        def feed(line: bytes) -> None:
            text = line.decode(errors="replace")
            if not on_err_line(text.rstrip("\n")):
                err.append(text)

        for o, e in api.exec_start(eid, stream=True, demux=True):
            if o:
                out.append(o)
            if e:
                *lines, part = (part + e).split(b"\n")
                for ln in lines:
                    feed(ln + b"\n")
        if part:
            feed(part)
        return Exec(self._exit_code(eid, argv), b"".join(out).decode(errors="replace"), "".join(err))

    def _exit_code(self, eid: str, argv: Sequence[str]) -> int:
        return exit_status(self.container.client.api, eid, f"{argv[0]} on {self.service}")

    def stream(
        self,
        argv: Sequence[str],
        out,
        err,
        workdir: str | None = None,
        env: dict[str, str] | None = None,
        user: str = USER,
    ) -> int:
        """Run ``argv`` with its output written to the binary streams ``out`` and ``err`` as it
        comes; its exit status. Ctrl-C ends the command in the node too (TERM to it and its
        children), then goes on as KeyboardInterrupt."""
        api = self.container.client.api
        tag = f"testbed-exec-{id(self):x}-{time.monotonic_ns():x}"
        pidfile = f"{LOGS}/{tag}.pid"
        # the command's pid, for Ctrl-C: exec keeps it (argv as arguments, never as shell text)
        wrapped = ["sh", "-c", 'echo $$ >"$0"; exec "$@"', pidfile, *argv]
        eid = api.exec_create(self.container.id, wrapped, user=user, workdir=workdir, environment=env or {})["Id"]
        try:
            for o, e in api.exec_start(eid, stream=True, demux=True):
                if o:
                    out.write(o)
                    out.flush()
                if e:
                    err.write(e)
                    err.flush()
        except KeyboardInterrupt:
            self.exec(["sh", "-c", 'p=$(cat "$0") && pkill -TERM -P "$p"; kill -TERM "$p"', pidfile])
            raise
        finally:
            self.exec(["rm", "-f", pidfile])
        return self._exit_code(eid, argv)

    def start(self, argv: Sequence[str], log: PurePosixPath, user: str = USER) -> None:
        """Start ``argv`` detached, its output into ``log`` (argv passed as arguments, never as text)."""
        self.container.exec_run(["sh", "-c", 'exec "$@" >"$0" 2>&1', str(log), *argv], user=user, detach=True)

    def tail(self, name: str, lines: int = 15) -> str:
        """The last ``lines`` lines of the log ``name`` (a file in LOGS), or '' when there is none.
        argv only: the name is an argument of tail, never shell text."""
        if not name or PurePosixPath(name).name != name or name in (".", ".."):
            raise ValueError(f"a log is named by a file name in {LOGS}, got {name!r:.80}")
        return self.exec(["tail", "-n", str(_bounded(lines)), "--", str(LOGS / name)]).out.rstrip()

    def engine_fatal_lines(self, lines: int = 8) -> str:
        """The last CRITICAL lines of the engines' logs on this node (ipyparallel's own logs of
        the profile, and the testbed's launch logs): why an engine gave up, or ''."""
        # a fixed script: the folders and the count are its arguments ("$0", "$1", "$2")
        script = 'grep -h CRITICAL "$0"/*.log "$1"/*.log 2>/dev/null | tail -n "$2"'
        return self.exec(["sh", "-c", script, str(PROFILE_LOGS), str(LOGS), str(_bounded(lines))]).out.rstrip()

    def stuck_state(self, lines: int = 12) -> str:
        """Where a node's start stands when its engines fall short: how many processes of each
        command are in each state (R running, S asleep, D in the kernel, Z exited and not reaped),
        how full /dev/shm and /tmp are, how many engines the controller's own log saw connect,
        and the tail of the newest engine launcher's log (mpiexec's output; ipyparallel's logs,
        which a daemonized ``ipcluster`` no longer copies to the start's log). A fixed script:
        the folder and the count are its arguments."""
        script = (
            "ps -eo stat=,comm= | awk '{print substr($1,1,1), $2}' | sort | uniq -c | sort -rn | head -n 8; "
            "df -h /dev/shm /tmp | tail -n +2; "
            'n=$(cat "$0"/ipcontroller-*.log 2>/dev/null | grep -c "Engine Connected"); '
            'echo "controller log: $n engines connected"; '
            'f=$(ls -t "$0"/ipengine-*.log 2>/dev/null | head -n 1); '
            'if [ -n "$f" ]; then echo "--- $f"; tail -n "$1" "$f"; fi'
        )
        return self.exec(["sh", "-c", script, str(PROFILE_LOGS), str(_bounded(lines))]).out.rstrip()

    def run_json(
        self,
        argv: Sequence[str],
        what: str | None = None,
        user: str = USER,
        on_err_line: Callable[[str], bool] | None = None,
    ) -> dict:
        """``on_err_line``: stderr streamed to it line by line (``exec_lines``), e.g. for progress."""
        if on_err_line is None:
            code, out, err = self.exec(argv, user=user)
        else:
            code, out, err = self.exec_lines(argv, on_err_line, user=user)
        return last_json(out, err, f"{what or shlex.join(argv[:3])} on {self.service} (exit {code})")

    def workload(self, script: str, *args: str, user: str = USER) -> dict:
        """Run workload ``script`` (in the image's workloads folder) and return its JSON answer."""
        return self.run_json(["python3", str(WORKLOADS / script), *args], what=script, user=user)

    def read(self, path: PurePosixPath) -> str:
        code, out, err = self.exec(["cat", str(path)])
        if code != 0:
            raise TestbedError(f"cannot read {path} on {self.service}: {err.strip()}")
        return out

    def put_file(self, path: PurePosixPath, data: bytes, mode: int = 0o600, user: str = USER) -> None:
        """Write one file owned by mpi, or by root with ``user="root"`` (its folder must exist)."""
        uid, gid = (0, 0) if user == "root" else (self.uid, self.gid)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(path.name)
            info.size, info.mode, info.uid, info.gid = len(data), mode, uid, gid
            tar.addfile(info, io.BytesIO(data))
        self.container.put_archive(str(path.parent), buf.getvalue())

    def put_files(self, folder: PurePosixPath, files: Sequence[Path]) -> list[str]:
        """Copy host files into ``folder`` (made, owned by mpi); their paths in the node."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(folder.name)
            info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, 0o755, self.uid, self.gid
            tar.addfile(info)
            for f in files:
                info = tar.gettarinfo(str(f), arcname=f"{folder.name}/{f.name}")
                info.uid, info.gid, info.uname, info.gname, info.mode = self.uid, self.gid, USER, USER, 0o644
                with open(f, "rb") as fh:
                    tar.addfile(info, fh)
        self.container.put_archive(str(folder.parent), buf.getvalue())
        return [str(folder / f.name) for f in files]


MAX_TAIL_LINES = 1000  # a tail goes into an error message: a screenful or two, never a whole log


def _bounded(lines: int) -> int:
    return max(1, min(int(lines), MAX_TAIL_LINES))


@contextmanager
def one_off(image: str, label: str, **run_kw) -> Iterator[Node]:
    """A lone node container (no cluster, no network peers) for the length of a ``with`` block.

    It carries the cluster label ``label``, so a crash leaves nothing that ``clean`` misses.
    """
    from . import docker_env

    ctr = docker_env.client().containers.run(image, detach=True, labels={labels.CLUSTER: label}, **run_kw)
    try:
        yield Node(ctr, label)
    finally:
        ctr.remove(force=True, v=True)
