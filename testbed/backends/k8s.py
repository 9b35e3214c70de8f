"""The Kubernetes backend: a topology's nodes as Kubernetes manifests, rendered, never run here.

``render`` reads the topology's compose file as Compose would (``extends``, ``env_file``,
the cluster's ``${TESTBED_*}`` variables) and writes, for one cluster:

- a Namespace ``ipp-testbed-<cluster>`` (the compose project's name): one per cluster, so
  that the nodes keep their bare names and ``kubectl delete namespace`` is ``testbed down``;
- a Secret ``<cluster>-ssh`` of type ``kubernetes.io/ssh-auth`` (keys ``ssh-privatekey``,
  ``ssh-publickey``, as mpi-operator's MPIJob has it), its files where the compose backend
  puts the key (``~mpi/.ssh/id_ed25519``, ``.pub``, ``authorized_keys``);
- a ConfigMap ``<cluster>-config``: the stack's hostfile of every node and its engine slots
  (mounted at ``/etc/mpi/hostfile``, mpi-operator's place) and the nodes' ssh client config;
- a headless Service ``<cluster>-nodes`` (every pod's ``subdomain``), and a DNS search
  domain on each pod, so that a node's bare hostname resolves as it does under compose;
- a PersistentVolumeClaim (ReadWriteMany) per named volume of the compose file;
- a Pod per node: the stack's node image and its own command (node-entry: sshd, then
  idle), hostname, the stack's MPI environment (``compose/mpi/<stack>.env``), /dev/shm as
  a memory volume of the compose ``shm_size``, ``cap_add``, the compose labels; never
  restarted (a node that dies is a fault to see, as on a swarm).

What Kubernetes cannot carry is said in one line: a bind mount of this host, ``ulimits``,
published ports, any compose key not handled. See docs/k8s.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import labels, limits, placement, topology
from ..errors import TestbedError
from ..launch import HOME
from ..names import CLUSTER
from ..stacks import Stack
from ..topology import Topology
from .base import Backend, project_name, register

BACKEND = "k8s"
DOMAIN = "cluster.local"  # the Kubernetes cluster's DNS domain (kubelet's --cluster-domain)
NODE_GID = 1000  # user mpi's group in the node image: the Secret's files are readable by it
SSH_DIR = HOME / ".ssh"
KEY_FILE = "id_ed25519"  # as testbed.ssh.KEY: where the compose backend makes the key
HOSTFILE_DIR = "/etc/mpi"  # mpi-operator's place for the hostfile
VOLUME_SIZE = "1Gi"  # the storage each named volume's claim asks for
MAX_SHM = limits.SHM_BYTES.hi  # bytes: a larger shm_size is refused (the topology's own bound)
MAX_EXTENDS = 5  # how deep `extends` may chain
MAX_ENV_BYTES = 64 << 10  # an env file is a few hundred bytes
# the capabilities Pod Security's baseline level lets a container add
BASELINE_CAPS = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
READY = "/run/node-ready"  # node-entry touches it once sshd runs (what the testbed waits for)
# the compose keys a node may have; anything else is refused by name
_HANDLED = {
    "image",
    "hostname",
    "labels",
    "env_file",
    "environment",
    "command",
    "entrypoint",
    "cap_add",
    "shm_size",
    "volumes",
    "networks",
    "extends",
}
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # RFC 1123 label
_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")

PLACEHOLDER_PRIVATE = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "placeholder: put the cluster's own key here (testbed render k8s --ssh-key FILE; docs/k8s.md)\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
PLACEHOLDER_PUBLIC = "ssh-ed25519 placeholder testbed\n"


@dataclass(frozen=True)
class SshKeys:
    """The cluster's SSH key pair, as OpenSSH writes it (``ssh-keygen -t ed25519``)."""

    private: str
    public: str


PLACEHOLDER_KEYS = SshKeys(PLACEHOLDER_PRIVATE, PLACEHOLDER_PUBLIC)
MAX_KEY_BYTES = 16 << 10


def read_keys(private: str | Path) -> SshKeys:
    """The key pair at ``private`` and ``private``.pub, checked to look like an OpenSSH pair."""
    path = Path(private)
    texts = []
    for p in (path, path.with_name(path.name + ".pub")):
        try:
            if p.stat().st_size > MAX_KEY_BYTES:
                raise TestbedError(f"--ssh-key: {p} is larger than {MAX_KEY_BYTES >> 10} KiB, not an ssh key")
            texts.append(p.read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError) as e:
            why = getattr(e, "strerror", None) or "not ASCII text"
            raise TestbedError(f"--ssh-key: cannot read {p}: {why} (the private key, FILE.pub beside it)") from None
    priv, pub = texts
    if not priv.lstrip().startswith("-----BEGIN ") or "PRIVATE KEY-----" not in priv:
        raise TestbedError(f"--ssh-key: {path} is not a private key in PEM/OpenSSH form")
    if not re.match(r"^(ssh-|ecdsa-)[a-z0-9-]+ [A-Za-z0-9+/=]+( [^\n]*)?\n?$", pub):
        raise TestbedError(f"--ssh-key: {path}.pub is not one OpenSSH public key line")
    return SshKeys(priv, pub if pub.endswith("\n") else pub + "\n")


def _check(kind: str, value: str, pattern: re.Pattern = _LABEL) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        what = (
            "an RFC 1123 label: lower-case letters, digits and '-', at most 63"
            if pattern is _LABEL
            else ("a Kubernetes label value: letters, digits, '-', '_', '.', at most 63")
        )
        raise TestbedError(f"{kind} {value!r:.80} is not a valid Kubernetes name ({what})")
    return value


# -- reading the compose file as Compose does -------------------------------------------------------


def _substitute(value: Any, env: Mapping[str, str]) -> Any:
    """``${VAR}``, ``${VAR:-default}``, ``${VAR-default}`` and ``$$`` in every string of ``value``."""
    if isinstance(value, str):

        def one(m: re.Match) -> str:
            if m.group(0) == "$$":
                return "$"
            name, op, default = m.group(1), m.group(2), m.group(3) or ""
            if name in env and (env[name] != "" or op != ":-"):
                return env[name]
            return default if op else ""

        return _VAR.sub(one, value)
    if isinstance(value, dict):
        return {k: _substitute(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, env) for v in value]
    return value


def _merge(base: dict, over: dict) -> dict:
    """Compose's merge of an extended service: mappings merged, sequences appended, the rest replaced."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = {**out[k], **v}
        elif isinstance(v, list) and isinstance(out.get(k), list):
            out[k] = out[k] + [x for x in v if x not in out[k]]
        else:
            out[k] = v
    return out


def _env_files(body: dict, folder: Path) -> dict:
    """``env_file`` entries made absolute, relative to the compose file that names them."""
    files = body.get("env_file")
    if files is None:
        return body
    files = [files] if isinstance(files, str) else files
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise TestbedError(f"env_file must be a path or a list of paths, got {files!r:.80}")
    return {**body, "env_file": [str((folder / f).resolve()) for f in files]}


def _service(path: Path, svc: str, env: Mapping[str, str], depth: int = 0) -> dict:
    """Service ``svc`` of compose file ``path``, its ``extends`` resolved and variables substituted."""
    if depth > MAX_EXTENDS:
        raise TestbedError(f"{path.name}: service {svc}: `extends` chains more than {MAX_EXTENDS} deep")
    doc = topology._read_yaml(path)
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict) or svc not in services:
        raise TestbedError(f"{path.name}: no service {svc!r} (to extend)")
    body = services[svc] or {}
    if not isinstance(body, dict):
        raise TestbedError(f"{path.name}: service {svc} is not a mapping")
    body = _env_files(_substitute(body, env), path.parent)
    ext = body.pop("extends", None)
    if ext is None:
        return body
    if isinstance(ext, str):
        ext = {"service": ext}
    if not isinstance(ext, dict) or not isinstance(ext.get("service"), str):
        raise TestbedError(f"{path.name}: service {svc}: extends needs a service, got {ext!r:.80}")
    target = (path.parent / ext["file"]).resolve() if isinstance(ext.get("file"), str) else path
    return _merge(_service(target, ext["service"], env, depth + 1), body)


def _read_env_file(path: str) -> dict[str, str]:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_ENV_BYTES:
            raise TestbedError(f"env file {p.name} is larger than {MAX_ENV_BYTES >> 10} KiB")
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise TestbedError(f"env file {p.name}: cannot read it ({getattr(e, 'strerror', None) or e})") from None
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key.strip()):
            raise TestbedError(f"env file {p.name}: not KEY=VALUE: {line[:80]!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def _environment(body: dict) -> dict[str, str]:
    env: dict[str, str] = {}
    for f in body.get("env_file") or []:
        env.update(_read_env_file(f))
    more = body.get("environment") or {}
    if isinstance(more, list):
        more = dict(str(x).partition("=")[::2] for x in more)
    if not isinstance(more, dict):
        raise TestbedError(f"environment must be a mapping or a list, got {more!r:.80}")
    env.update({str(k): "" if v is None else str(v) for k, v in more.items()})
    return env


def _bytes(size: Any, svc: str) -> int:
    n = limits.size_bytes(size)
    if n is None:
        raise TestbedError(f"node {svc}: shm_size {size!r:.40} is not a size (e.g. 256m)")
    if not 0 < n <= MAX_SHM:
        raise TestbedError(f"node {svc}: shm_size {size!r:.40} is not from 1 byte to {MAX_SHM >> 30} GiB")
    return n


def _quantity(n: int) -> str:
    for unit, shift in (("Gi", 30), ("Mi", 20), ("Ki", 10)):
        if n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return str(n)


def _named_volumes(body: dict, svc: str) -> list[tuple[str, str, bool]]:
    """(volume, path in the node, read-only) of each named volume; a bind mount is refused."""
    out = []
    for v in body.get("volumes") or []:
        if isinstance(v, str):
            parts = v.split(":")
            source, target = parts[0], parts[1] if len(parts) > 1 else ""
            ro = len(parts) > 2 and "ro" in parts[2].split(",")
        elif isinstance(v, dict) and v.get("type", "volume") == "volume":
            source, target, ro = v.get("source", ""), v.get("target", ""), bool(v.get("read_only"))
        else:
            source, target, ro = "", "", False
        if not source or not target or source.startswith(("/", ".", "~")):
            raise TestbedError(
                f"node {svc}: volume {v!r:.80} is not a named volume: a folder of this host cannot be mounted in a pod"
            )
        out.append((_check("volume", source), target, ro))
    return out


# -- the manifests --------------------------------------------------------------------------------


def _meta(name: str, namespace: str | None, lbls: dict, annotations: dict | None = None) -> dict:
    meta: dict = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = dict(lbls)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def render(
    topo: Topology,
    cluster_name: str,
    stack: Stack,
    *,
    image: str | None = None,
    keys: SshKeys | None = None,
    domain: str = DOMAIN,
) -> list[dict]:
    """The Kubernetes manifests of cluster ``cluster_name`` of ``topo`` on MPI ``stack``, in the
    order ``kubectl apply`` creates them. ``keys``: the cluster's SSH key pair (None: placeholders
    to replace before applying); ``image``: the node image (default: the stack's)."""
    name = CLUSTER.check(cluster_name)
    if "_" in name:
        raise TestbedError(f"cluster name {name!r}: Kubernetes names take no '_': use '-' instead")
    namespace = _check("namespace", project_name(name))
    _check("cluster DNS domain", domain, _SUBDOMAIN)
    image = image or stack.image
    if not image or any(c.isspace() for c in image) or len(image) > 255:
        raise TestbedError(f"node image {image!r:.80} is not an image reference")
    keys = keys or PLACEHOLDER_KEYS
    counts = ",".join(str(n) for n in topo.counts)
    cluster_labels = {
        labels.CLUSTER: name,
        labels.TOPOLOGY: _check("topology name", topo.name, _LABEL_VALUE),
        labels.MPI: _check("MPI stack", stack.name, _LABEL_VALUE),
        labels.BACKEND: BACKEND,
    }
    # a label value takes no ',': the engine counts ("3,2") are an annotation
    notes = {labels.COUNTS: counts}
    env = {
        "TESTBED_CLUSTER": name,
        "TESTBED_PROJECT": namespace,
        "TESTBED_IMAGE": image,
        "TESTBED_COUNTS": counts,
        "TESTBED_TOPOLOGY": topo.name,
        "TESTBED_MPI": stack.name,
    }
    service = _check("service", f"{name}-nodes")
    secret, config = f"{name}-ssh", f"{name}-config"
    search = f"{service}.{namespace}.svc.{domain}"
    _check("DNS search domain", search, _SUBDOMAIN)

    per = Counter(r.node for r in placement.derive(topo))
    hostnames = [_check(f"node {svc}'s hostname", n.hostname) for svc, n in topo.nodes.items()]
    hostfile = stack.hostfile({topo.hostname(svc): max(1, per.get(svc, 0)) for svc in topo.nodes})
    ssh_config = (
        "# written by testbed render k8s: each node makes its host key when its pod starts, so a\n"
        "# node's key is learnt at the first connection to it (compose: known_hosts at bring-up)\n"
        f"Host {' '.join(hostnames)}\n    StrictHostKeyChecking accept-new\n"
    )

    docs: list[dict] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            # baseline: the node's sshd runs as root with the runtime's default capabilities
            "metadata": _meta(
                namespace, None, {**cluster_labels, "pod-security.kubernetes.io/enforce": "baseline"}, notes
            ),
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/ssh-auth",
            "metadata": _meta(secret, namespace, cluster_labels),
            "stringData": {"ssh-privatekey": keys.private, "ssh-publickey": keys.public},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(config, namespace, cluster_labels),
            "data": {"hostfile": hostfile, "ssh_config": ssh_config},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(service, namespace, cluster_labels),
            "spec": {
                "clusterIP": "None",
                "selector": {labels.CLUSTER: name},
                # a node's name resolves before it is ready: sshd and MPI may look it up early
                "publishNotReadyAddresses": True,
            },
        },
    ]

    pods, claims = [], {}
    for svc, node in topo.nodes.items():
        body = _service(topo.path, svc, env)
        unknown = sorted(set(body) - _HANDLED)
        if unknown:
            raise TestbedError(f"node {svc}: {', '.join(map(str, unknown))} cannot be rendered for Kubernetes")
        pod_name = _check("node (pod) name", svc)
        container: dict = {"name": "node", "image": image, "imagePullPolicy": "IfNotPresent"}
        # compose's entrypoint/command are the image's ENTRYPOINT/CMD: Kubernetes' command/args
        for key, field in (("entrypoint", "command"), ("command", "args")):
            if body.get(key) is not None:
                value = body[key]
                container[field] = value.split() if isinstance(value, str) else [str(a) for a in value]
        container["env"] = [{"name": k, "value": v} for k, v in _environment(body).items()]
        if body.get("cap_add"):
            container["securityContext"] = {"capabilities": {"add": [str(c) for c in body["cap_add"]]}}
        container["readinessProbe"] = {"exec": {"command": ["test", "-f", READY]}, "periodSeconds": 2}
        mounts = [
            {"name": "ssh", "mountPath": str(SSH_DIR / KEY_FILE), "subPath": KEY_FILE, "readOnly": True},
            {
                "name": "ssh",
                "mountPath": str(SSH_DIR / f"{KEY_FILE}.pub"),
                "subPath": f"{KEY_FILE}.pub",
                "readOnly": True,
            },
            {
                "name": "ssh",
                "mountPath": str(SSH_DIR / "authorized_keys"),
                "subPath": "authorized_keys",
                "readOnly": True,
            },
            {"name": "config", "mountPath": str(SSH_DIR / "config"), "subPath": "ssh_config", "readOnly": True},
            {"name": "config", "mountPath": f"{HOSTFILE_DIR}/hostfile", "subPath": "hostfile", "readOnly": True},
        ]
        volumes: list[dict] = [
            {
                "name": "ssh",
                "secret": {
                    "secretName": secret,
                    "defaultMode": 0o440,
                    "items": [
                        {"key": "ssh-privatekey", "path": KEY_FILE},
                        {"key": "ssh-publickey", "path": f"{KEY_FILE}.pub"},
                        {"key": "ssh-publickey", "path": "authorized_keys"},
                    ],
                },
            },
            {"name": "config", "configMap": {"name": config, "defaultMode": 0o444}},
        ]
        if body.get("shm_size"):  # a pod's /dev/shm is 64 MB: a memory volume of the compose size
            size = _quantity(_bytes(body["shm_size"], svc))
            volumes.append({"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": size}})
            mounts.append({"name": "shm", "mountPath": "/dev/shm"})
        for vol, target, ro in _named_volumes(body, svc):
            claims[vol] = None
            volumes.append({"name": f"vol-{vol}"[:63], "persistentVolumeClaim": {"claimName": vol}})
            mounts.append({"name": f"vol-{vol}"[:63], "mountPath": target, **({"readOnly": True} if ro else {})})
        container["volumeMounts"] = mounts
        compose_labels = {str(k): str(v) for k, v in (body.get("labels") or {}).items()}
        compose_labels.pop(labels.COUNTS, None)
        pod_labels = {**compose_labels, **cluster_labels, labels.NODE: pod_name}
        for k, v in pod_labels.items():
            _check(f"node {svc}: label {k}", v, _LABEL_VALUE)
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": _meta(pod_name, namespace, pod_labels, notes),
                "spec": {
                    "hostname": node.hostname,
                    "subdomain": service,
                    "dnsConfig": {"searches": [search]},  # the bare hostnames of the hostfile resolve
                    "restartPolicy": "Never",  # a node that dies is a fault to see, not to hide
                    "automountServiceAccountToken": False,  # a node never talks to the API server
                    "securityContext": {"fsGroup": NODE_GID},
                    "containers": [container],
                    "volumes": volumes,
                },
            }
        )
    added = {
        c
        for p in pods
        for c in p["spec"]["containers"][0].get("securityContext", {}).get("capabilities", {}).get("add", [])
    }
    if added - BASELINE_CAPS:  # Pod Security's baseline level refuses them: the namespace must allow them
        docs[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "privileged"
    for vol in claims:
        spec = {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": VOLUME_SIZE}}}
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": _meta(vol, namespace, cluster_labels),
                "spec": spec,
            }
        )
    return docs + pods


def dump(docs: list[dict]) -> str:
    """The manifests as one multi-document YAML text (a text of several lines as a block)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper, value: str):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump_all(docs, Dumper=Dumper, sort_keys=False, default_flow_style=False)


NOT_RUN = "the k8s backend is rendered only, not run by the testbed: `testbed render k8s TOPOLOGY`, then kubectl apply"


@register
class K8sBackend(Backend):
    """Manifests for a Kubernetes cluster; bringing them up is kubectl's (docs/k8s.md)."""

    kind = BACKEND
    what = "set of Kubernetes manifests"

    def __init__(
        self,
        topology: Topology,
        name: str,
        image: str | None = None,
        mpi: str | None = None,
        overrides: dict | None = None,
        place: Mapping[str, str] | None = None,
        keys: SshKeys | None = None,
    ):
        super().__init__(topology, name, image, mpi, overrides, place)
        self.keys = keys

    def render(self) -> list[dict]:
        from .. import stacks

        # ports published on this host (the host client's) are left out: `kubectl port-forward` is
        # Kubernetes' way; the lab's image, a mounted folder, volumes of this host cannot be rendered
        other = sorted({f"{svc}.{k}" for svc, body in self.overrides.items() for k in body if k != "ports"})
        if other:
            raise TestbedError(
                f"k8s: {', '.join(other)}: a lab, a mounted folder or other settings of this "
                "host cannot be rendered for Kubernetes"
            )
        return render(self.topology, self.name, stacks.get(self.mpi), image=self.image, keys=self.keys)

    def start(self) -> None:
        raise TestbedError(NOT_RUN)

    def stop(self) -> None:
        raise TestbedError(NOT_RUN)

    def node(self, service: str):
        raise TestbedError(NOT_RUN)

    def endpoint_of(self, service: str) -> str | None:
        return None
