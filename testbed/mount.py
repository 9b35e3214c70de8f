"""``--mount DIR[:PATH]``: a folder of the host on every node of a cluster, at one path.

The folder is bind-mounted at ``PATH`` (default ``/project``) on each node, and it is
the working directory of everything the testbed starts there: ``docker exec`` (the
container's ``working_dir``), and what is started over ssh or by Slurm (the engines'
profile reads ``TESTBED_WORKDIR``, which sshd hands every session: ``node-entry``).

Files written on the nodes belong to the host user who ran the command: user ``mpi``
takes that user's uid and gid when the node starts (``TESTBED_UID``/``TESTBED_GID``,
read by ``node-entry``). A host user who is root is the exception, since MPI refuses to
run as root: ``mpi`` then takes the ids of the folder's owner, and keeps its own 1000
when root owns the folder too (the nodes can then write there only if others may).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import docker_env, labels, limits
from .errors import TestbedError

DEFAULT_PATH = PurePosixPath("/project")
MAX_SPEC = limits.MOUNT_TEXT.hi  # characters of DIR[:PATH]
NODE_PATH_RE = re.compile(r"^(/[A-Za-z0-9._-]+)+$")
MPI_UID = 1000  # user mpi's uid in the image
# folders of the node image a mount would hide or that the node needs as they are
RESERVED = tuple(
    PurePosixPath(p)
    for p in (
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/lib",
        "/lib64",
        "/opt",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/sys",
        "/usr",
        "/var",
        "/shared",
        "/tmp/testbed",
        "/home/mpi",
    )
)
# /home/mpi and what is under it: user mpi's home, re-owned when mpi takes the host user's ids
NOT_ITSELF = tuple(PurePosixPath(p) for p in ("/", "/home", "/tmp"))


@dataclass(frozen=True)
class Mount:
    """A host folder (absolute, resolved) and its path on every node."""

    host: Path
    path: PurePosixPath = DEFAULT_PATH

    @property
    def ids(self) -> tuple[int, int]:
        """(uid, gid) of user mpi on the nodes: see ``host_ids``."""
        return host_ids(self.host)

    def write_note(self) -> str | None:
        """Why the nodes cannot write in the folder, when they cannot (said at bring-up)."""
        uid, gid = self.ids
        st = self.host.stat()
        if st.st_mode & 0o002 or (st.st_uid == uid and st.st_mode & 0o200) or (st.st_gid == gid and st.st_mode & 0o020):
            return None
        return (
            f"the nodes run as uid {uid} and cannot write in {self.host} (owner uid {st.st_uid}, mode "
            f"{st.st_mode & 0o777:o}); MPI refuses root, so as root give the folder to a user (chown), "
            "or let others write in it"
        )

    def overrides(self, services) -> dict:
        """Compose keys for each node: the bind mount, the working folder, the ids, the labels."""
        uid, gid = self.ids
        env = {"TESTBED_WORKDIR": str(self.path)}
        node_labels = {labels.MOUNT: str(self.path)}
        if (uid, gid) != (MPI_UID, MPI_UID):
            env.update(TESTBED_UID=str(uid), TESTBED_GID=str(gid))
            node_labels[labels.UID] = f"{uid}:{gid}"
        body = {
            "volumes": [{"type": "bind", "source": str(self.host), "target": str(self.path)}],
            "working_dir": str(self.path),
            "environment": env,
            "labels": node_labels,
        }
        return {svc: body for svc in services}


def host_ids(folder: Path | None = None) -> tuple[int, int]:
    """(uid, gid) user mpi takes on the nodes: the caller's. MPI refuses to run as root, so
    for root they are the mounted folder's owner's, or else the image's own 1000."""
    uid, gid = os.getuid(), os.getgid()
    if uid != 0 and gid != 0:
        return uid, gid
    if folder is not None:
        st = folder.stat()
        if st.st_uid != 0 and st.st_gid != 0:
            return st.st_uid, st.st_gid
    return MPI_UID, MPI_UID


def parse(spec: str | os.PathLike, cwd: Path | None = None) -> Mount:
    """``DIR`` or ``DIR:PATH`` -> a Mount; one line naming what is wrong otherwise."""
    text = os.fspath(spec)
    if not text or len(text) > MAX_SPEC or any(ch in text for ch in "\0\n\r"):
        raise TestbedError(f"--mount {text[:80]!r}: give a folder, DIR or DIR:PATH (at most {MAX_SPEC} characters)")
    host_part, node_part = text, None
    if ":" in text:
        head, tail = text.rsplit(":", 1)
        if tail.startswith("/") or tail == "":
            host_part, node_part = head, tail
    path = DEFAULT_PATH if node_part is None else node_path(node_part)
    host = Path(host_part).expanduser()
    if not host.is_absolute():
        host = (cwd or Path.cwd()) / host
    if not host.exists():
        raise TestbedError(f"--mount: no folder {host_part!r} on this host")
    if not host.is_dir():
        raise TestbedError(f"--mount: {host_part!r} is a file, not a folder")
    # a bind mount names a folder of the engine's machine: elsewhere it is not this one (docs/hosts.md)
    docker_env.require_local("--mount binds a folder of this machine")
    return Mount(host.resolve(), path)


def node_path(text: str) -> PurePosixPath:
    """The folder's path on the nodes: absolute, plain characters, not one the node needs."""
    if text == "/":
        raise TestbedError("--mount ...:/: the nodes need that folder as it is; choose another path, e.g. /project")
    if not NODE_PATH_RE.match(text) or len(text) > 200 or "/../" in f"{text}/" or "/./" in f"{text}/":
        raise TestbedError(
            f"--mount ...:{text[:80]!r}: the path on the nodes must be absolute, of letters, digits and . _ - "
            "(e.g. /project)"
        )
    p = PurePosixPath(text)
    bad = p in NOT_ITSELF or any(p == r or r in p.parents for r in RESERVED)
    if bad:
        raise TestbedError(f"--mount ...:{p}: the nodes need that folder as it is; choose another path, e.g. /project")
    return p


def mounted(container_labels: dict) -> PurePosixPath | None:
    """The mounted folder's path on a running node, from its labels; None when it has none."""
    value = (container_labels or {}).get(labels.MOUNT)
    return PurePosixPath(value) if value else None
