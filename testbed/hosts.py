"""Test hosts: the Linux machines the project's users have, each made here in a container.

A test host is a container of ``ipp-testbed/host:<suite>`` (docker/host/Dockerfile: Debian's
Docker Engine, Podman and registry, git, make, Python, and a user ``tester`` who is not root).
What it runs is its kind, one small class in ``KINDS``:

- ``docker26``: Debian trixie's Docker Engine 26.1, overlay2 on a volume of its own;
- ``docker20``: Debian bookworm's Docker Engine 20.10, overlay2 (this machine's engine, without
  fuse-overlayfs);
- ``podman5``: trixie's Podman 5.4 behind its Docker-compatible API (``podman system service``);
- ``podman4``: bookworm's Podman 4.3, the same way.

Its engine answers on ``tcp://ADDRESS:2375`` from this machine (no TLS: the address is reachable
from this machine only), so ``DOCKER_HOST=`` that endpoint drives it as a remote engine. Inside,
its users reach it as a user of such a host does: Docker's unix socket (group ``docker``), or
Podman's API on ``tcp://127.0.0.1:2375``. With ``registry=True`` it also runs Debian's
``docker-registry`` on 127.0.0.1:5000 holding the base image, and a Docker host uses that as its
registry mirror, so that ``make images`` there pulls the base image as on any host with a registry.

A host needs what a Docker-in-Docker host needs (testbed.dind): every capability this machine
grants, no seccomp or AppArmor profile, every device, the cgroup hierarchy writable. Everything
carries the cluster label of its name, so ``testbed clean`` removes it too.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import docker_env, images, labels
from .dind import ENGINE_IN_CONTAINER, copy_image
from .errors import TestbedError
from .node import Node, exit_status
from .waiting import NotYet, poll

PORT = 2375
REGISTRY = "127.0.0.1:5000"
USER = "tester"
HOME = f"/home/{USER}"
READY_TIMEOUT = 90.0  # s for a host's engine to answer
LOAD_TIMEOUT = 900  # s for one image to be copied into one host
ROLE = "test-host"
# Podman's pulls of docker.io images go to the host's registry first, as Docker's do with its mirror
PODMAN_MIRROR = f"""[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "{REGISTRY}"
insecure = true

[[registry]]
location = "{REGISTRY}"
insecure = true
"""
LOCAL_CAS = "/usr/local/share/ca-certificates"  # Debian's folder of a machine's own CAs
MAX_CAS = 50


@dataclass(frozen=True)
class Kind:
    """One kind of host: the Debian suite it is made of and the engine it runs."""

    name: str
    suite: str
    about: str

    engine = "docker"
    storage = "/var/lib/docker"

    def command(self, prefix: str, mirror: bool) -> list[str]:
        raise NotImplementedError

    def user_env(self) -> dict[str, str]:
        """What a user of the host sets to reach its engine (nothing: the default socket)."""
        return {}

    def engine_env(self) -> dict[str, str]:
        """The engine's own environment."""
        return {}

    def push_argvs(self, image: str, dest: str) -> list[list[str]]:
        """The commands, on the host as root, that put ``image`` into the registry as ``dest`` and then
        remove it from the engine."""
        return [["docker", "tag", image, dest], ["docker", "push", "-q", dest], ["docker", "rmi", dest, image]]


@dataclass(frozen=True)
class DockerKind(Kind):
    def command(self, prefix: str, mirror: bool) -> list[str]:
        return [
            "dockerd",
            "--host=unix:///var/run/docker.sock",
            f"--host=tcp://0.0.0.0:{PORT}",
            "--tls=false",
            "--storage-driver=overlay2",
            f"--cgroup-parent={prefix}",
            *([f"--registry-mirror=http://{REGISTRY}"] if mirror else []),
        ]

    def engine_env(self) -> dict[str, str]:
        # Docker 26 fails every container start where the kernel lets it not disable IPv6 on an
        # interface (here, inside a container): "failed to disable IPv6 on container's interface eth0,
        # set env var DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1 to ignore this error"
        return {"DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE": "1"}


@dataclass(frozen=True)
class PodmanKind(Kind):
    engine = "podman"
    storage = "/var/lib/containers"

    def command(self, prefix: str, mirror: bool) -> list[str]:
        # rootful, as Podman's API service of a system is; its users reach it on loopback
        return ["podman", "system", "service", "--time=0", f"tcp://0.0.0.0:{PORT}"]

    def user_env(self) -> dict[str, str]:
        return {"DOCKER_HOST": f"tcp://127.0.0.1:{PORT}"}

    def push_argvs(self, image: str, dest: str) -> list[list[str]]:
        # the CLI: Podman's Docker API answers a push to a plain-HTTP registry with a bare 500
        return [["podman", "push", "-q", "--tls-verify=false", image, dest], ["podman", "rmi", image]]


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        DockerKind("docker26", "trixie", "Docker Engine 26.1 (Debian trixie), overlay2"),
        DockerKind("docker20", "bookworm", "Docker Engine 20.10 (Debian bookworm), overlay2"),
        PodmanKind("podman5", "trixie", "Podman 5.4 (Debian trixie), its Docker API, rootful"),
        PodmanKind("podman4", "bookworm", "Podman 4.3 (Debian bookworm), its Docker API, rootful"),
    )
}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise TestbedError(f"host kind {name!r:.80}: one of {', '.join(KINDS)}") from None


def engine_client(endpoint: str, timeout: int = 120):
    import docker

    return docker.DockerClient(base_url=endpoint, timeout=timeout)


@dataclass
class Done:
    """What a command on a host did: its exit status, its seconds, the end of its output."""

    status: int
    seconds: float
    tail: str


class TestHost:
    """One test host of kind ``kind_name``, named ``host-<kind>`` unless told otherwise."""

    __test__ = False  # not a pytest class

    def __init__(
        self, kind_name: str, name: str | None = None, registry: bool = False, log: Callable[[str], None] = print
    ):
        from .cluster import check_name

        self.kind = kind(kind_name)
        self.name = check_name(name or f"host-{self.kind.name}")
        self.registry = registry
        self.log = log
        self.prefix = f"ipp-testbed-{self.name}"
        self.address: str | None = None
        self._docker = None  # the engine the host runs on, kept: DOCKER_HOST may later point into the host

    def docker(self):
        if self._docker is None:
            self._docker = docker_env.client()
        return self._docker

    @property
    def endpoint(self) -> str:
        if not self.address:
            raise TestbedError(f"test host {self.name} is not up")
        return f"tcp://{self.address}:{PORT}"

    def _labels(self) -> dict:
        return {labels.CLUSTER: self.name, labels.ROLE: ROLE, labels.NODE: self.kind.name}

    @property
    def container(self):
        return self.docker().containers.get(self.prefix)

    # -- up and down ---------------------------------------------------------------------------------
    def up(self, copy: Sequence[str] = (), base: str | None = None) -> str:
        """Start the host, copy the images ``copy`` into it; with a registry, put ``base`` in it.
        On failure everything of the host is removed. Returns its endpoint."""
        c = self.docker()
        if any(docker_env.leftovers(c, self.name).values()):
            raise TestbedError(
                f"test host {self.name!r} is already there: `testbed host down {self.kind.name}` removes it"
            )
        for image in [*copy, *([base] if base else [])]:
            docker_env.require_image(c, image)
        built = images.build_host(self.kind.suite, log=self.log)
        t0 = time.monotonic()
        try:
            self._start(c, built["image"])
            self._trust()
            self._copy_images([*copy, *([base] if base and not self.registry else [])])
            if self.registry and base:
                self._seed_registry(base)
        except BaseException:
            self.log(f"[{self.name}] failed: removing the host")
            docker_env.clean(c, self.name)
            raise
        self.log(f"[{self.name}] {self.kind.about} answers at {self.endpoint} ({time.monotonic() - t0:.0f}s)")
        return self.endpoint

    def _start(self, c, image: str) -> None:
        net = c.networks.create(f"{self.prefix}_net", driver="bridge", labels=self._labels())
        storage = c.volumes.create(f"{self.prefix}-storage", labels=self._labels())
        home = c.volumes.create(f"{self.prefix}-home", labels=self._labels())  # not on this machine's fuse
        api = c.api
        host_config = api.create_host_config(
            network_mode=net.name,
            **ENGINE_IN_CONTAINER,
            binds={
                storage.name: {"bind": self.kind.storage, "mode": "rw"},
                home.name: {"bind": "/home", "mode": "rw"},
                "/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
            },
            # /tmp as a machine has it: Docker's tmpfs default is noexec and 64 MB (a test that runs a
            # script from its tmp_path failed there)
            tmpfs={"/run": "", "/tmp": "rw,exec,nosuid,nodev,mode=1777,size=4g"},
            cgroupns="host",
        )
        # /proc/sys writable (the CLI's --security-opt systempaths=unconfined, which docker-py lacks): netavark
        # sets its network's sysctls, net.* of the host's own network namespace ("Sysctl error: Read-only
        # file system" otherwise)
        host_config["MaskedPaths"], host_config["ReadonlyPaths"] = [], []
        created = api.create_container(
            image,
            self.kind.command(self.prefix, self.registry),
            name=self.prefix,
            hostname=self.name,
            labels=self._labels(),
            environment=self.kind.engine_env(),
            host_config=host_config,
        )
        api.start(created["Id"])
        ctr = c.containers.get(self.prefix)
        # the TUN device a rootless user's network needs (pasta, slirp4netns): allowed by the device rule,
        # but Docker makes no node for it
        self.run(
            ["sh", "-c", "mkdir -p /dev/net && [ -e /dev/net/tun ] || mknod -m 666 /dev/net/tun c 10 200"], user="root"
        )
        self.address = ctr.attrs["NetworkSettings"]["Networks"][net.name]["IPAddress"]

        def answers() -> bool:
            ctr.reload()
            if ctr.status != "running":
                logs = ctr.logs(tail=5).decode(errors="replace").strip().splitlines()
                raise TestbedError(f"the engine of {self.name} stopped: {(logs or ['no output'])[-1][:300]}")
            try:
                return bool(engine_client(self.endpoint, timeout=10).ping())
            except Exception as e:  # noqa: BLE001 - not up yet, whatever the client says
                raise NotYet(str(e)[-120:]) from None

        poll(answers, timeout=READY_TIMEOUT, what=f"the {self.kind.engine} engine of {self.name} ({self.endpoint})")
        if self.registry:
            self.run(["docker-registry", "serve", "/etc/ipp-testbed/registry.yml"], user="root", detach=True)

            def registry_answers() -> bool:
                done = self.run(["curl", "-fsS", f"http://{REGISTRY}/v2/"], user="root")
                if done.status:
                    raise NotYet(done.tail[-120:])
                return True

            poll(registry_answers, timeout=30, what=f"the registry of {self.name} on {REGISTRY}")
            if self.kind.engine == "podman":  # Docker's --registry-mirror, as Podman says it
                self._put_file("/etc/containers/registries.conf.d/50-mirror.conf", PODMAN_MIRROR)

    @property
    def node(self) -> Node:
        """The host's container as a node handle: its file copies (as root here)."""
        return Node(self.container, self.name)

    def _put_file(self, path: str, text: str) -> None:
        self.run(["mkdir", "-p", str(PurePosixPath(path).parent)], user="root")
        self.node.put_file(PurePosixPath(path), text.encode(), 0o644, user="root")

    def _trust(self) -> None:
        """The certificate authorities this machine adds to Debian's (a proxy's, a company's), trusted on
        the host too: its pip and git reach PyPI as this machine's do."""
        extra = sorted(Path(LOCAL_CAS).glob("*.crt")) if Path(LOCAL_CAS).is_dir() else []
        if not extra:
            return
        for p in extra[:MAX_CAS]:
            self.node.put_file(PurePosixPath(LOCAL_CAS) / p.name, p.read_bytes(), 0o644, user="root")
        done = self.run(["update-ca-certificates"], user="root")
        if done.status:
            raise TestbedError(f"update-ca-certificates on {self.name}: {done.tail.strip()[-200:]}")
        self.log(f"[{self.name}] trusts this machine's {len(extra[:MAX_CAS])} extra CAs ({LOCAL_CAS})")

    def _copy_images(self, copy: Sequence[str]) -> None:
        """``docker save IMAGE | docker -H HOST load``: the host has no registry to pull them from."""
        for image in copy:
            t = time.monotonic()
            if (why := copy_image(image, self.endpoint, LOAD_TIMEOUT)) is not None:
                raise TestbedError(f"copying {image} into {self.name} failed: {why}")
            if self.kind.engine == "podman":  # podman load keeps the name it was saved under; make sure
                engine_client(self.endpoint).images.get(image)
            self.log(f"[{self.name}] {image} copied in ({time.monotonic() - t:.0f}s)")

    def _seed_registry(self, base: str) -> None:
        """Put ``base`` into the host's registry and nowhere else on it: its engine must pull it."""
        self._copy_images([base])
        repo, tag = base.split(":")
        mirrored = f"{REGISTRY}/library/{repo}:{tag}"
        for argv in self.kind.push_argvs(base, mirrored):
            done = self.run(argv, user="root", timeout=300)
            if done.status:
                raise TestbedError(f"{' '.join(argv[:2])} on {self.name}: {done.tail.strip()[-200:]}")
        self.log(f"[{self.name}] {base} is in its registry ({REGISTRY}) and not on its engine: it will be pulled")

    def down(self) -> dict:
        return docker_env.clean(self.docker(), self.name)

    def attach(self) -> TestHost:
        """This host as it runs (its address), or a TestbedError when it is not up."""
        from docker.errors import NotFound

        try:
            ctr = self.container
        except NotFound:
            raise TestbedError(f"test host {self.name} is not up: `testbed host up {self.kind.name}`") from None
        self.address = next(iter(ctr.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]
        self.registry = any("--registry-mirror" in a for a in ctr.attrs["Args"])
        return self

    # -- commands on the host ---------------------------------------------------------------------------
    def run(
        self,
        argv: Sequence[str],
        user: str = USER,
        env: dict | None = None,
        workdir: str | None = None,
        detach: bool = False,
        log_to: Path | None = None,
        timeout: float | None = None,
    ) -> Done:
        """``argv`` on the host as ``user`` (an argv list: nothing reaches a shell), its output to
        ``log_to`` as it comes; ended after ``timeout`` s (exit status 124)."""
        ctr = self.container
        env = {**({} if user == "root" else self.kind.user_env()), **(env or {})}
        if user != "root":
            env.setdefault("HOME", HOME)
        t0 = time.monotonic()
        if detach:
            ctr.exec_run(list(argv), user=user, environment=env, workdir=workdir, detach=True)
            return Done(0, 0.0, "")
        api = ctr.client.api
        if timeout:  # coreutils' timeout ends it (exit status 124), its children with it
            argv = ["timeout", "--kill-after=10", str(int(timeout)), *argv]
        ex = api.exec_create(ctr.id, list(argv), user=user, environment=env, workdir=workdir)
        tail = bytearray()
        out = open(log_to, "ab") if log_to else None  # noqa: SIM115 - closed below
        try:
            for chunk in api.exec_start(ex["Id"], stream=True, demux=False):
                tail.extend(chunk)
                del tail[:-4000]
                if out:
                    out.write(chunk)
                    out.flush()
        finally:
            if out:
                out.close()
        code = exit_status(api, ex["Id"], f"{argv[0]} on {self.name}", timeout=30)
        return Done(code, time.monotonic() - t0, tail.decode(errors="replace"))

    def clone(self, source: Path, user: str = USER, folder: str = "ipp-testbed") -> str:
        """A fresh clone of ``source``'s HEAD on the host, in ``user``'s home: what a user of that host
        has after ``git clone``. Returns its path."""
        home = HOME if user != "root" else "/root"
        # to /home, a volume: Docker cannot copy into a tmpfs
        self.node.put_file(PurePosixPath("/home/project.bundle"), bundle(source), 0o644, user="root")
        path = f"{home}/{folder}"
        self.run(["rm", "-rf", path], user="root")
        done = self.run(["git", "clone", "-q", "/home/project.bundle", path], user=user)
        if done.status:
            raise TestbedError(f"git clone on {self.name}: {done.tail.strip()[-200:]}")
        return path

    def rootless_service(self, user: str = USER) -> dict[str, str]:
        """Podman's API service run by ``user`` (rootless: its own user namespace, storage and network);
        returns the environment that points that user's tools at it."""
        if self.kind.engine != "podman":
            raise TestbedError(f"a rootless engine is Podman's: {self.kind.name} is {self.kind.engine}")
        sock = f"{HOME}/podman.sock"
        quiet = {"PODMAN_IGNORE_CGROUPSV1_WARNING": "1"}
        self.run(
            ["podman", "system", "service", "--time=0", f"unix://{sock}"],
            user=user,
            env={**quiet, "DOCKER_HOST": ""},
            detach=True,
        )
        env = {**quiet, "DOCKER_HOST": f"unix://{sock}"}

        def answers() -> bool:
            done = self.run(["docker", "version", "--format", "{{.Server.Version}}"], user=user, env=env)
            if done.status:
                raise NotYet(done.tail.strip()[-120:])
            return True

        poll(answers, timeout=READY_TIMEOUT, what=f"{user}'s rootless Podman service on {self.name}")
        info = self.run(["podman", "info", "--format", "{{.Host.Security.Rootless}}"], user=user, env=quiet)
        if info.tail.strip().splitlines()[-1:] != ["true"]:
            raise TestbedError(f"{user}'s Podman on {self.name} is not rootless: {info.tail.strip()[-200:]}")
        self.log(f"[{self.name}] {user} runs a rootless Podman service: DOCKER_HOST=unix://{sock}")
        return env

    def facts(self) -> dict:
        """The host's engine as its own API says: version, storage driver, cgroup version, rootless."""
        e = engine_client(self.endpoint)
        info = e.info()
        ver = e.version()
        return {
            "engine": f"{'Podman' if docker_env.is_podman(ver) else 'Docker'} {ver.get('Version', '?')}",
            "storage": info.get("Driver", "?"),
            "cgroup": str(info.get("CgroupVersion", "1")),
            "rootless": any("rootless" in str(o) for o in info.get("SecurityOptions") or []),
        }


def bundle(source: Path) -> bytes:
    """A git bundle of ``source``'s HEAD: what ``git clone`` makes a fresh clone from, whoever owns
    ``source`` (git refuses another user's repository, "dubious ownership", but not a bundle)."""
    proc = subprocess.run(["git", "-C", str(source), "bundle", "create", "-", "HEAD"], capture_output=True, timeout=120)
    if proc.returncode:
        raise TestbedError(f"git bundle of {source}: {proc.stderr.decode(errors='replace').strip()[-200:]}")
    return proc.stdout


def running(c=None) -> list[TestHost]:
    """The test hosts up on this machine's engine."""
    c = c or docker_env.client()
    out = []
    for ctr in c.containers.list(filters={"label": f"{labels.ROLE}={ROLE}"}):
        k = ctr.labels.get(labels.NODE, "")
        if k in KINDS:
            out.append(TestHost(k, name=ctr.labels.get(labels.CLUSTER), log=lambda m: None).attach())
    return out
