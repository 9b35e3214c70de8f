"""``--requirements FILE`` and ``--pip PKG``: a node image with a user's extra packages.

The request is checked on the host (named requirements only, with bounds), its wheels are
downloaded on the host for the node's Python (as the node image's own are: the build needs
no access to PyPI), and a derived image is built ``FROM`` the stack's image: the stack's
image plus those packages, installed with the image's own versions as constraints. It is
tagged by a hash of the request and of the image it derives from, so it is built once.

A request that would replace ipyparallel, mpi4py or numpy with another version is refused
in one line: the testbed's launches and checks are made for the image's versions.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from . import docker_env, images, labels, limits
from .errors import TestbedError

PROTECTED = ("ipyparallel", "mpi4py", "numpy")
MAX_FILE_BYTES = limits.REQUIREMENTS_BYTES.hi
MAX_REQUIREMENTS = limits.REQUIREMENTS.hi
MAX_LINE = limits.REQUIREMENT_CHARS.hi
DOCKERFILE = """\
# A node image with a user's extra packages (testbed/packages.py): the wheels were
# downloaded on the host; pip runs from its own wheel (the node image has no pip).
ARG FROM_IMAGE
FROM ${FROM_IMAGE}
USER root
COPY . /wheels/
RUN /opt/venv/bin/python "$(ls /wheels/pip-*.whl)/pip" install --no-cache-dir --no-index \\
        --disable-pip-version-check --find-links /wheels \\
        --constraint /wheels/constraints.txt --requirement /wheels/requirements.txt \\
 && rm -rf /wheels
"""
# the versions of every distribution the image holds (its venv and Debian's): the constraints
VERSIONS_PY = (
    "import importlib.metadata as m, json; "
    "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions() if d.metadata['Name']}))"
)


@dataclass(frozen=True)
class Request:
    """The extra packages of one cluster: requirement lines, normalised (one per line)."""

    lines: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.lines)

    def digest(self, image_id: str) -> str:
        return hashlib.sha256((image_id + "\n" + "\n".join(self.lines)).encode()).hexdigest()[:12]


def request(requirements: str | Path | None = None, pip: Sequence[str] = ()) -> Request:
    """Read ``--requirements FILE`` and ``--pip PKG`` into a Request; one line for bad input."""
    lines: list[tuple[str, str]] = []  # (where, text)
    if requirements is not None:
        path = Path(limits.path_text(requirements, "--requirements"))
        if not path.exists():
            raise TestbedError(f"--requirements: no file {limits.show(str(requirements))}")
        # a regular file within the bound (a FIFO or /dev/zero is refused before any read)
        data = limits.read_file(path, limits.REQUIREMENTS_BYTES, "--requirements")
        try:
            text = data.decode()
        except UnicodeDecodeError:
            raise TestbedError(f"--requirements {path}: not a text file") from None
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                lines.append((f"{path.name}:{n}", line))
    lines += [(f"--pip {limits.show(p)}", str(p).strip()) for p in pip]
    if len(lines) > MAX_REQUIREMENTS:
        raise TestbedError(f"--requirements/--pip: {len(lines)} requirements, at most {MAX_REQUIREMENTS}")
    out = []
    for where, line in lines:
        out.append(str(check_line(line, where)))
    return Request(tuple(sorted(set(out))))


def check_line(line: str, where: str) -> Requirement:
    """One requirement: a name with optional extras, versions and markers; no options, URLs or paths."""
    if len(line) > MAX_LINE or any(ch in line for ch in "\0\n\r"):
        raise TestbedError(f"{where}: a requirement of at most {MAX_LINE} characters on one line, please")
    if line.startswith("-"):
        raise TestbedError(f"{where}: {line[:60]!r}: pip options are not taken; name packages only (e.g. scipy>=1.10)")
    try:
        req = Requirement(line)
    except InvalidRequirement as e:
        raise TestbedError(f"{where}: {line[:80]!r} is not a requirement ({str(e).splitlines()[0][:100]})") from None
    if req.url:
        raise TestbedError(f"{where}: {req.name} @ URL: only packages from PyPI by name are taken")
    return req


def protected_conflicts(req: Request, versions: dict[str, str]) -> list[str]:
    """The requirements that would replace ipyparallel, mpi4py or numpy with another version."""
    have = {canonicalize_name(k): v for k, v in versions.items()}
    bad = []
    for line in req.lines:
        r = Requirement(line)
        name = canonicalize_name(r.name)
        if name in PROTECTED and name in have:
            try:
                ok = r.specifier.contains(Version(have[name]), prereleases=True)
            except InvalidVersion:
                ok = False
            if not ok:
                bad.append(f"{line} (the image has {name} {have[name]})")
    return bad


def constraints(versions: dict[str, str]) -> list[str]:
    """``name==version`` of every distribution of the image whose version pip can read."""
    out = []
    for name, v in sorted(versions.items(), key=lambda kv: kv[0].lower()):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name or ""):
            continue
        try:
            Version(v)
        except InvalidVersion:
            continue
        out.append(f"{name}=={v}")
    return out


def image_versions(image: str) -> dict[str, str]:
    """What the image holds: {distribution: version} (a one-off container, about 2 s)."""
    c = docker_env.client()
    out = docker_env.run_once(c, image, ["python3", "-c", VERSIONS_PY], labels={labels.CLUSTER: "pkg-probe"})
    return json.loads(out.decode().strip().splitlines()[-1])


def derived_tag(image: str, digest: str) -> str:
    repo, _, tag = image.rpartition(":")
    return f"{repo}:{tag}-pkgs-{digest}"


def derive(image: str, req: Request, log: Callable[[str], None] = print) -> str:
    """The tag of ``image`` plus the packages of ``req``, built when it is not there yet."""
    from docker.errors import ImageNotFound

    if not req:
        return image
    c = docker_env.client()
    try:
        base = c.images.get(image)
    except ImageNotFound:
        raise TestbedError(f"image {image} is not built: `make images` (or `testbed images --mpi ...`)") from None
    tag = derived_tag(image, req.digest(base.id))
    try:
        c.images.get(tag)
        log(f"[packages] {tag} is there ({', '.join(req.lines)})")
        return tag
    except ImageNotFound:
        pass
    t0 = time.monotonic()
    versions = image_versions(image)
    bad = protected_conflicts(req, versions)
    if bad:
        raise TestbedError(
            f"--requirements/--pip would replace {'; '.join(bad)}: the testbed runs the image's versions "
            "of ipyparallel, mpi4py and numpy; leave those out or pin the image's"
        )
    with tempfile.TemporaryDirectory(prefix="ipp-testbed-pkgs-") as tmp:
        folder = Path(tmp)
        (folder / "requirements.txt").write_text("".join(f"{x}\n" for x in req.lines))
        (folder / "constraints.txt").write_text("".join(f"{x}\n" for x in constraints(versions)))
        (folder / "Dockerfile").write_text(DOCKERFILE)
        log(
            f"[packages] downloading wheels for {', '.join(req.lines)} (Python {images.NODE_PYTHON}, "
            "the image's versions as constraints)"
        )
        images.download_or_explain(
            folder,
            ["--requirement", str(folder / "requirements.txt"), "--constraint", str(folder / "constraints.txt"), "pip"],
        )
        log(f"[packages] building {tag}: {image} plus those packages")
        images.docker_build(
            c,
            tag,
            root=folder,
            dockerfile="Dockerfile",
            args={"FROM_IMAGE": image},
            labels={labels.IMAGE_ROLE: "derived", labels.PACKAGES: " ".join(req.lines)[:1000]},
            log=log,
        )
    log(f"[packages] built {tag} in {time.monotonic() - t0:.0f}s")
    return tag
