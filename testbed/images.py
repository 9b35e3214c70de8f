"""Build the node image from nothing: base image, wheelhouse, node image.

1. ``debian:bookworm-slim``: used when present, pulled when a registry answers,
   otherwise made locally from Debian's packages (``docker/make-base.sh``).
2. The wheelhouse: the PyPI packages of ``docker/requirements-node.txt``,
   downloaded on the host (``pip download``) so the image build itself needs no
   HTTPS access to PyPI. Re-made only when the requirements change.
3. The node image of each MPI stack (``ipp-testbed/node:<stack>``), built with docker-py
   (the legacy builder) from one Dockerfile: the stack picks its Debian packages and
   its PyPI pins (``docker/stacks/<stack>.txt``). Its label
   ``ipp-testbed.inputs`` is a hash of everything it is built from, so a second
   ``make images`` with nothing changed returns at once; a changed workload
   re-runs only the last layers (packages are installed before workloads are copied).
   Another ipyparallel than the pinned one (``IPP=8.8.0 make images``, ``--ipp``) is an image
   of its own, ``ipp-testbed/node:<stack>-ipp<version>``, from a wheelhouse of its own
   (``docker/wheelhouse/<stack>-ipp<version>/``, with a derived requirements-node.txt).
4. On demand (``testbed notebook``, the notebook tests), the lab image of a stack
   (``ipp-testbed/lab:<stack>``, ``docker/Dockerfile.lab``): JupyterLab and the
   repository's notebooks on top of the node image, for a controller node only.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import docker_env, labels, progress, stacks
from .arch import canonical, engine_arch, wheel_machine
from .errors import TestbedError

ROOT = Path(__file__).resolve().parent.parent
DOCKER_DIR = ROOT / "docker"
WHEELHOUSE = DOCKER_DIR / "wheelhouse"
REQUIREMENTS = DOCKER_DIR / "requirements-node.txt"
STACK_REQUIREMENTS = DOCKER_DIR / "stacks"
LAB_REQUIREMENTS = DOCKER_DIR / "requirements-lab.txt"
LAB_WHEELHOUSE = WHEELHOUSE / "lab"
NOTEBOOKS = ROOT / "notebooks"
SCHEDULERS = ROOT / "testbed" / "schedulers"  # copied next to workloads/testbed_node.py (docker/Dockerfile)
BASE_IMAGE = "debian:bookworm-slim"
# the node image's Python: wheels are fetched for it, whatever the host runs
NODE_PYTHON = "3.11"
NODE_GLIBC = "2_36"  # bookworm
STEP_RE = re.compile(r"Step (\d+)/(\d+) : (.*)")  # the legacy builder's "Step 4/12 : RUN ..."


IPP_PIN = re.compile(r"(?m)^ipyparallel==[^\s#]+[ \t]*$")


def _requirement_files(stack: stacks.Stack) -> list[Path]:
    """What a stack's image takes from PyPI: the common pins and the stack's own."""
    return [REQUIREMENTS, STACK_REQUIREMENTS / f"{stack.name}.txt"]


def node_requirements(ipp: str | None = None) -> str:
    """docker/requirements-node.txt, its ipyparallel pin replaced by ``ipp`` (None: as it is)."""
    text = REQUIREMENTS.read_text()
    ipp = stacks.ipp_version(ipp)
    if ipp is None:
        return text
    new, n = IPP_PIN.subn(f"ipyparallel=={ipp}", text)
    if n != 1:
        raise TestbedError(f"{REQUIREMENTS.relative_to(ROOT)} must pin ipyparallel once (ipyparallel==X.Y.Z)")
    return new


def wheelhouse_of(stack: stacks.Stack, ipp: str | None = None, wheelhouse: Path | None = None) -> Path:
    """The folder of the wheels of ``stack``'s image with ipyparallel ``ipp``: docker/wheelhouse/<variant>/."""
    return (wheelhouse or WHEELHOUSE) / stack.variant(ipp)


def _build_inputs(stack: stacks.Stack) -> list[Path]:
    files = [DOCKER_DIR / "Dockerfile", ROOT / ".dockerignore", *_requirement_files(stack)]
    for folder in (DOCKER_DIR / "ipython", DOCKER_DIR / "rootfs", ROOT / "workloads", SCHEDULERS):
        files += sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def build_args(stack: stacks.Stack, ipp: str | None = None) -> dict[str, str]:
    """The Dockerfile's ARGs. WHEELS: the wheelhouse folder; NODE_REQUIREMENTS: the common pins,
    the repository's file or, for another ipyparallel, the derived one in that folder."""
    ipp = stacks.ipp_version(ipp)
    wheels = stack.variant(ipp)
    requirements = REQUIREMENTS if ipp is None else WHEELHOUSE / wheels / REQUIREMENTS.name
    return {
        "BASE_IMAGE": BASE_IMAGE,
        "MPI_STACK": stack.name,
        "MPI_APT": " ".join(stack.apt),
        "WHEELS": wheels,
        "NODE_REQUIREMENTS": requirements.relative_to(ROOT).as_posix(),  # in the build context
        "IPYPARALLEL": ipp or stacks.DEFAULT_IPP,
    }


def inputs_hash(base_id: str, stack: stacks.Stack = stacks.DEFAULT, ipp: str | None = None) -> str:
    """A hash of everything the image is built from: the derived requirements are the repository's
    file and the version, both in it (the version through the build arguments)."""
    h = hashlib.sha256(base_id.encode())
    h.update(repr(sorted(build_args(stack, ipp).items())).encode())
    for p in _build_inputs(stack):
        h.update(str(p.relative_to(ROOT)).encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def ensure_base(c, log: Callable[[str], None] = print, base: str = BASE_IMAGE) -> str:
    """Return the id of the base image ``base`` (a Debian slim tag), pulling or making it when missing."""
    from docker.errors import APIError, ImageNotFound

    try:
        return c.images.get(base).id
    except ImageNotFound:
        pass
    log(f"[images] {base} not present: trying to pull it")
    repo, tag = base.split(":")
    try:
        img = c.images.pull(repo, tag=tag)
        log(f"[images] pulled {base}")
        return img.id
    except APIError as e:
        log(f"[images] no registry answers ({str(e).splitlines()[0][:120]}): making it locally")
    if not _may_make_base():
        raise TestbedError(
            f"{base} could not be pulled and making it needs root (debootstrap): "
            f"run `sudo docker/make-base.sh {base}` once, or `docker load` it, then run this again"
        )
    t = time.monotonic()
    proc = subprocess.run(["bash", str(DOCKER_DIR / "make-base.sh"), base])
    if proc.returncode != 0:
        raise TestbedError(
            f"could not make {base} locally (docker/make-base.sh exit {proc.returncode}); see its messages above"
        )
    log(f"[images] made {base} in {time.monotonic() - t:.0f}s")
    return c.images.get(base).id


def _may_make_base() -> bool:
    return os.geteuid() == 0


def _platform_args(arch: str) -> list[str]:
    """pip's --platform for every manylinux tag the node's glibc accepts (pip won't infer them), for
    an image of Docker's ``arch`` (x86_64, aarch64: the engine's, testbed.arch)."""
    machine = wheel_machine(arch)
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(5, int(NODE_GLIBC.split("_")[1]) + 1)]
    tags += [f"manylinux2014_{machine}", f"manylinux2010_{machine}", f"manylinux1_{machine}"]
    return [arg for tag in tags for arg in ("--platform", tag)]


def _wheels_stamp(data: bytes, arch: str) -> str:
    """A wheelhouse's stamp: what it was downloaded from, and for which architecture (left out for
    x86_64, so that a wheelhouse made before the architecture counted is still current there)."""
    if (name := canonical(arch)) != "x86_64":
        data += b"\0arch=" + name.encode()
    return hashlib.sha256(data).hexdigest()


def _wheelhouse_requirements(stack: stacks.Stack, ipp: str | None, folder: Path) -> list[Path]:
    """The requirement files the wheels of ``folder`` are downloaded from: the repository's, or for
    another ipyparallel the derived common pins, written into ``folder`` (where the build reads them)."""
    files = _requirement_files(stack)
    if stacks.ipp_version(ipp) is None:
        return files
    derived = folder / REQUIREMENTS.name
    text = node_requirements(ipp)
    if not derived.is_file() or derived.read_text() != text:
        folder.mkdir(parents=True, exist_ok=True)
        derived.write_text(text)
    return [derived, *files[1:]]


def ensure_wheelhouse(
    stack: stacks.Stack = stacks.DEFAULT,
    log: Callable[[str], None] = print,
    arch: str | None = None,
    wheelhouse: Path | None = None,
    ipp: str | None = None,
) -> None:
    """The stack's wheels in docker/wheelhouse/<stack>/ (one folder a stack, so that a change
    of one stack's pins rebuilds that stack's image only), for Docker's ``arch`` (default: the
    engine's, which builds the image); ``wheelhouse``: another folder than docker/wheelhouse/
    (the benchmarks' cold build, in a copy of the build context); ``ipp``: another ipyparallel
    than the pinned one, in docker/wheelhouse/<stack>-ipp<version>/."""
    folder = wheelhouse_of(stack, ipp, wheelhouse)
    files = _wheelhouse_requirements(stack, ipp, folder)
    arch = arch or engine_arch(docker_env.client())
    stamp = folder / ".requirements.sha256"
    want = _wheels_stamp(b"".join(p.read_bytes() for p in files), arch)
    if stamp.is_file() and stamp.read_text().strip() == want:
        return
    log(f"[images] downloading the {stack.variant(ipp)} image's wheels (Python {NODE_PYTHON}) into {folder}")
    _fresh(folder)
    _download(folder, [a for p in files for a in ("--requirement", str(p))], "the node image's", arch)
    stamp.write_text(want + "\n")


PIP_DOWNLOAD = (sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check")


def _fresh(folder: Path) -> None:
    """``folder`` there, without the wheels of an earlier download."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.whl"):
        old.unlink()


def _download_argv(folder: Path, what: list[str], arch: str | None = None) -> list[str]:
    """``pip download`` of ``what`` into ``folder``: wheels for the node's Python and glibc, and for
    Docker's ``arch`` (default: the engine's, which builds and runs the image; not this host's)."""
    arch = arch or engine_arch(docker_env.client())
    return [
        *PIP_DOWNLOAD,
        "--dest",
        str(folder),
        *what,
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        NODE_PYTHON,
        *_platform_args(arch),
    ]


def _same_python() -> bool:
    return f"{sys.version_info.major}.{sys.version_info.minor}" == NODE_PYTHON


def _uv_compile_argv(folder: Path, what: list[str], arch: str) -> tuple[list[str], Path]:
    """uv's resolution of ``what`` (pip's arguments) for the node's Python, glibc and ``arch``: the argv
    and the file it writes. pip evaluates environment markers (``python_version < "3.12"``) with the
    Python it runs on, whatever ``--python-version`` says, so on a host of another Python it leaves out
    what the node's Python needs (JupyterLab's ``overrides`` on a Python 3.13 host); uv resolves for
    the target."""
    from uv import find_uv_bin

    srcs, constraints, loose = [], [], []
    args = iter(what)
    for a in args:
        if a == "--requirement":
            srcs.append(next(args))
        elif a == "--constraint":
            constraints += ["--constraint", next(args)]
        else:
            loose.append(a)
    if loose:
        extra = folder / "extra-requirements.in"
        extra.write_text("".join(f"{x}\n" for x in loose))
        srcs.append(str(extra))
    out = folder / "resolved.txt"
    glibc = NODE_GLIBC.split("_")[1]
    argv = [
        find_uv_bin(),
        "pip",
        "compile",
        "--quiet",
        "--native-tls",
        "--no-header",
        "--no-annotate",
        "--python-version",
        NODE_PYTHON,
        "--python-platform",
        f"{wheel_machine(arch)}-manylinux_2_{glibc}",
        "--only-binary",
        ":all:",
        *constraints,
        *srcs,
        "--output-file",
        str(out),
    ]
    return argv, out


def _for_node(folder: Path, what: list[str], arch: str) -> tuple[list[str], subprocess.CompletedProcess | None]:
    """``what`` as pip download should be given it: as it is on a host of the node's Python; elsewhere
    uv's resolution for the node, with --no-deps (and uv's run, whose failure the caller explains)."""
    if _same_python():
        return what, None
    argv, out = _uv_compile_argv(folder, what, arch)
    proc = subprocess.run(argv, capture_output=True, text=True)
    return ["--no-deps", "--requirement", str(out)], proc


def _download(folder: Path, what: list[str], whose: str, arch: str | None = None) -> None:
    arch = arch or engine_arch(docker_env.client())
    what, uv = _for_node(folder, what, arch)
    if uv is not None and uv.returncode != 0:
        raise TestbedError(f"resolving {whose} wheels for Python {NODE_PYTHON} failed: {_last_line(uv.stderr)}")
    if subprocess.run(_download_argv(folder, what, arch)).returncode != 0:
        raise TestbedError(f"pip download of {whose} wheels failed (see above): is PyPI reachable?")


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "no output")[:300]


def download_or_explain(folder: Path, what: list[str]) -> None:
    """``pip download`` of a user's request (testbed.packages) into ``folder``, for the node's Python;
    when pip fails, its reason in one line (no wheel of that name, a conflict with the constraints)."""
    arch = engine_arch(docker_env.client())
    what, uv = _for_node(folder, what, arch)
    if uv is not None and uv.returncode != 0:
        raise TestbedError(
            f"the extra packages cannot be had as wheels for Python {NODE_PYTHON} with the "
            f"image's versions: {_last_line(uv.stderr)}"
        )
    proc = subprocess.run(_download_argv(folder, what, arch), capture_output=True, text=True)
    if proc.returncode == 0:
        return
    errors = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip().startswith("ERROR")]
    conflict = [ln.strip() for ln in proc.stderr.splitlines() if "conflict is caused by" in ln or " depends on " in ln]
    why = errors[0] if errors else proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no output"
    if conflict:
        why += " (" + "; ".join(conflict[1:4] or conflict[:1]) + ")"
    raise TestbedError(
        f"the extra packages cannot be had as wheels for Python {NODE_PYTHON} with the image's versions: {why[:400]}"
    )


def _up_to_date(c, image: str, want: str, t0: float, log: Callable[[str], None]) -> dict | None:
    """The figures of ``image`` when it was built from ``want``'s inputs already; None otherwise."""
    if not node_image_current(c, image, want):
        return None
    size = c.images.get(image).attrs["Size"]
    log(f"[images] {image} is up to date ({size / 1e6:.0f} MB, inputs {want})")
    return {"built": False, "seconds": time.monotonic() - t0, "size_mb": size / 1e6}


def node_image_current(c, image: str, want: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        img = c.images.get(image)
    except ImageNotFound:
        return False
    return (img.labels or {}).get(labels.IMAGE_INPUTS) == want


def docker_build(
    c,
    image: str,
    root: Path = ROOT,
    dockerfile: str = "docker/Dockerfile",
    args: dict[str, str] | None = None,
    labels: dict | None = None,
    nocache: bool = False,
    log: Callable[[str], None] = print,
) -> dict:
    """docker build of ``dockerfile`` in ``root`` (legacy builder, as docker-py speaks it).

    Returns the seconds, the size, and each step with whether the cache served it.
    """
    t = time.monotonic()
    last_error = None
    steps: list[dict] = []
    # on a terminal, the step and the elapsed time on stderr (testbed.progress)
    with progress.track(f"[images] building {image}", unit="steps") as bar:
        stream = c.api.build(
            path=str(root),
            dockerfile=dockerfile,
            tag=image,
            rm=True,
            forcerm=True,
            decode=True,
            nocache=nocache,
            labels=labels or {},
            buildargs=args or build_args(stacks.DEFAULT),
        )
        for chunk in stream:
            if "error" in chunk:
                last_error = chunk["error"].strip()
            for line in chunk.get("stream", "").splitlines():
                if line.startswith("Step "):
                    steps.append({"step": line.strip()[:110], "cached": False})
                    log(f"[images]   {line.strip()[:110]}  (+{time.monotonic() - t:.0f}s)")
                    if m := STEP_RE.match(line):
                        bar.update(int(m[1]), int(m[2]), note=m[3].strip())
                elif "Using cache" in line and steps:
                    steps[-1]["cached"] = True
    if last_error:
        raise TestbedError(f"building {image} failed: {last_error}")
    size = c.images.get(image).attrs["Size"]
    return {"seconds": time.monotonic() - t, "size_mb": size / 1e6, "steps": steps}


def build(
    stack: stacks.Stack = stacks.DEFAULT,
    force: bool = False,
    log: Callable[[str], None] = print,
    ipp: str | None = None,
) -> dict:
    """Make sure the node image of ``stack`` (with ipyparallel ``ipp``; None: the pinned one) is
    built from the current inputs; returns figures."""
    ipp = stacks.ipp_version(ipp)  # checked before anything starts
    c = docker_env.client()
    image = stack.image_for(ipp)
    t0 = time.monotonic()
    base_id = ensure_base(c, log)
    want = inputs_hash(base_id, stack, ipp)  # of the requirement files, not of the wheels they fetch
    if not force and (done := _up_to_date(c, image, want, t0, log)):
        return done  # a fresh clone whose images are current downloads nothing
    ensure_wheelhouse(stack, log, engine_arch(c), ipp=ipp)

    with_ipp = "" if ipp is None else f", ipyparallel {ipp}"
    log(f"[images] building {image}, {stack.title}{with_ipp} (docker/Dockerfile; a first build takes a few minutes)")
    res = docker_build(
        c, image, args=build_args(stack, ipp), labels={labels.IMAGE_INPUTS: want, labels.IMAGE_ROLE: "node"}, log=log
    )
    size = res["size_mb"] * 1e6
    log(f"[images] built {image} in {res['seconds']:.0f}s: {size / 1e6:.0f} MB")
    # dangling layers of the previous build are of no use
    try:
        c.images.prune(filters={"dangling": True, "label": f"{labels.IMAGE_ROLE}=node"})
    except Exception:  # noqa: BLE001 - best effort
        pass
    return {"built": True, "seconds": time.monotonic() - t0, "size_mb": size / 1e6}


# -- the lab image ---------------------------------------------------------------------------------
def lab_image(stack: stacks.Stack = stacks.DEFAULT) -> str:
    return f"ipp-testbed/lab:{stack.name}"


def _node_pins(stack: stacks.Stack) -> list[str]:
    """``name==version`` of every wheel in the stack's wheelhouse: what the node image runs."""
    pins = []
    for whl in sorted((WHEELHOUSE / stack.name).glob("*.whl")):
        name, version = whl.name.split("-")[:2]
        pins.append(f"{name}=={version}")
    return pins


def ensure_lab_wheelhouse(
    stack: stacks.Stack = stacks.DEFAULT, log: Callable[[str], None] = print, arch: str | None = None
) -> None:
    """JupyterLab's wheels (and pip's own) in docker/wheelhouse/lab/, with the node image's
    versions as constraints, for Docker's ``arch`` (default: the engine's); re-made only when the
    requirements, those versions or the architecture change."""
    arch = arch or engine_arch(docker_env.client())
    folder = LAB_WHEELHOUSE
    pins = _node_pins(stack)
    want = _wheels_stamp(LAB_REQUIREMENTS.read_bytes() + "\n".join(pins).encode(), arch)
    stamp = folder / ".requirements.sha256"
    if stamp.is_file() and stamp.read_text().strip() == want:
        return
    log(f"[images] downloading JupyterLab's wheels (Python {NODE_PYTHON}) into {folder}")
    _fresh(folder)
    constraints = folder / "constraints.txt"
    constraints.write_text("".join(f"{p}\n" for p in pins))
    (folder / "requirements-lab.txt").write_bytes(LAB_REQUIREMENTS.read_bytes())
    _download(
        folder, ["--requirement", str(LAB_REQUIREMENTS), "--constraint", str(constraints), "pip"], "JupyterLab's", arch
    )
    stamp.write_text(want + "\n")


def lab_inputs_hash(node_id: str) -> str:
    h = hashlib.sha256(node_id.encode())
    files = [DOCKER_DIR / "Dockerfile.lab", ROOT / ".dockerignore", LAB_REQUIREMENTS]
    files += sorted(p for p in (DOCKER_DIR / "lab").rglob("*") if p.is_file())
    files += sorted(p for p in NOTEBOOKS.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts)
    for p in files:
        h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build_lab(stack: stacks.Stack = stacks.DEFAULT, force: bool = False, log: Callable[[str], None] = print) -> dict:
    """The lab image of ``stack``, built on its node image (built first when needed)."""
    build(stack, log=log)
    c = docker_env.client()
    image, t0 = lab_image(stack), time.monotonic()
    want = lab_inputs_hash(c.images.get(stack.image).id)
    if not force and (done := _up_to_date(c, image, want, t0, log)):
        return done
    arch = engine_arch(c)
    ensure_wheelhouse(stack, log, arch)  # the node image's versions are the lab's constraints
    ensure_lab_wheelhouse(stack, log, arch)
    log(f"[images] building {image}: JupyterLab on {stack.image} (docker/Dockerfile.lab; about a minute)")
    res = docker_build(
        c,
        image,
        dockerfile="docker/Dockerfile.lab",
        args={"NODE_IMAGE": stack.image},
        labels={labels.IMAGE_INPUTS: want, labels.IMAGE_ROLE: "lab"},
        log=log,
    )
    log(f"[images] built {image} in {res['seconds']:.0f}s: {res['size_mb']:.0f} MB")
    try:
        c.images.prune(filters={"dangling": True, "label": f"{labels.IMAGE_ROLE}=lab"})
    except Exception:  # noqa: BLE001 - best effort
        pass
    return {"built": True, "seconds": time.monotonic() - t0, "size_mb": res["size_mb"]}


# -- the Docker-in-Docker host image (testbed.dind) ------------------------------------------------
DIND_IMAGE = "ipp-testbed/dind:bookworm"
DIND_DIR = DOCKER_DIR / "dind"


HOST_IMAGE = "ipp-testbed/host:{suite}"
HOST_DIR = DOCKER_DIR / "host"
HOST_SUITES = ("trixie", "bookworm")


def build_host(suite: str = "trixie", force: bool = False, log: Callable[[str], None] = print) -> dict:
    """The image of a test host (docker/host/Dockerfile) on ``debian:<suite>-slim``."""
    if suite not in HOST_SUITES:
        raise TestbedError(f"host suite {suite!r}: one of {', '.join(HOST_SUITES)}")
    c = docker_env.client()
    t0 = time.monotonic()
    base = f"debian:{suite}-slim"
    image = HOST_IMAGE.format(suite=suite)
    base_id = ensure_base(c, log, base)
    h = hashlib.sha256(base_id.encode() + suite.encode())
    for p in sorted(HOST_DIR.iterdir()):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    want = h.hexdigest()[:16]
    if not force and (done := _up_to_date(c, image, want, t0, log)):
        return {**done, "image": image}
    log(f"[images] building {image}: Debian {suite}'s Docker Engine, Podman and registry (docker/host/; a minute)")
    res = docker_build(
        c,
        image,
        root=HOST_DIR,
        dockerfile="Dockerfile",
        args={"BASE_IMAGE": base, "SUITE": suite},
        labels={labels.IMAGE_INPUTS: want, labels.IMAGE_ROLE: "test-host"},
        log=log,
    )
    log(f"[images] built {image} in {res['seconds']:.0f}s: {res['size_mb']:.0f} MB")
    return {"built": True, "seconds": time.monotonic() - t0, "size_mb": res["size_mb"], "image": image}


def build_dind(force: bool = False, log: Callable[[str], None] = print) -> dict:
    """The image of a Docker host in a container (Debian's docker.io on the base image)."""
    c = docker_env.client()
    t0 = time.monotonic()
    base_id = ensure_base(c, log)
    h = hashlib.sha256(base_id.encode())
    h.update((DIND_DIR / "Dockerfile").read_bytes())
    want = h.hexdigest()[:16]
    if not force and (done := _up_to_date(c, DIND_IMAGE, want, t0, log)):
        return done
    log(f"[images] building {DIND_IMAGE}: Debian's docker.io (docker/dind/Dockerfile; about a minute)")
    res = docker_build(
        c,
        DIND_IMAGE,
        root=DIND_DIR,
        dockerfile="Dockerfile",
        args={"BASE_IMAGE": BASE_IMAGE},
        labels={labels.IMAGE_INPUTS: want, labels.IMAGE_ROLE: "dind"},
        log=log,
    )
    log(f"[images] built {DIND_IMAGE} in {res['seconds']:.0f}s: {res['size_mb']:.0f} MB")
    return {"built": True, "seconds": time.monotonic() - t0, "size_mb": res["size_mb"]}
