"""The k8s backend's manifests (testbed/backends/k8s.py): valid against Kubernetes' published
OpenAPI schema (kubernetes-validate bundles it: offline) and Kubernetes' naming rules, for every
topology of the catalogue, and faithful to the topology. Nothing is applied to a cluster."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from testbed import api, cli, labels, ssh, stacks, topology
from testbed.backends import k8s
from testbed.cluster import Cluster
from testbed.errors import TestbedError

K8S_VERSION = "1.30"  # the schema the manifests are checked against
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # RFC 1123 label
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
TOPOLOGIES = topology.known_topologies()


def schema_check(doc: dict) -> None:
    """Kubernetes' OpenAPI schema, strict: an unknown field is an error. Skipped in a venv made
    before it was a test dependency (`make venv` installs it)."""
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed: run `make venv`")
    kv.validate(doc, K8S_VERSION, strict=True)


def name_check(docs: list[dict]) -> None:
    """What the schema does not say: names, labels, and that every reference is to an object rendered."""
    have = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for d in docs:
        meta = d["metadata"]
        assert LABEL.match(meta["name"]), f"{d['kind']} name {meta['name']!r} is not an RFC 1123 label"
        if d["kind"] != "Namespace":
            assert ("Namespace", meta["namespace"]) in have, f"{d['kind']} {meta['name']}: no such namespace"
        for k, v in meta.get("labels", {}).items():
            assert LABEL_KEY.match(k) and LABEL_VALUE.match(v), f"{d['kind']} {meta['name']}: label {k}={v!r}"
        if d["kind"] != "Pod":
            continue
        spec = d["spec"]
        assert LABEL.match(spec["hostname"]) and LABEL.match(spec["subdomain"]), spec["hostname"]
        assert ("Service", spec["subdomain"]) in have
        volumes = {v["name"]: v for v in spec["volumes"]}
        for v in volumes.values():
            assert LABEL.match(v["name"]), v["name"]
            ref = (
                ("Secret", v["secret"]["secretName"])
                if "secret" in v
                else ("ConfigMap", v["configMap"]["name"])
                if "configMap" in v
                else ("PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"])
                if "persistentVolumeClaim" in v
                else None
            )
            assert ref is None or ref in have, f"pod {meta['name']}: volume {v['name']} refers to {ref}"
        for c in spec["containers"]:
            assert LABEL.match(c["name"])
            for m in c["volumeMounts"]:
                assert m["name"] in volumes, f"pod {meta['name']}: mount of no volume {m['name']}"


def check(docs: list[dict]) -> None:
    name_check(docs)
    for d in docs:
        schema_check(d)


def rendered(topo_name: str, cluster: str | None = None, mpi: str | None = None) -> list[dict]:
    topo = topology.load(topo_name)
    return k8s.render(topo, cluster or topo.name, stacks.get(mpi))


def pods(docs: list[dict]) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "Pod"}


@pytest.mark.parametrize("name", TOPOLOGIES)
def test_every_topology_renders_valid_manifests(name):
    docs = rendered(name)
    check(docs)
    # what kubectl apply reads back: the YAML text gives the same objects
    assert list(yaml.safe_load_all(k8s.dump(docs))) == docs


@pytest.mark.parametrize("mpi", list(stacks.STACKS))
def test_every_stack_renders_valid_manifests_with_its_image_and_settings(mpi):
    docs = rendered("true-world", "tw", mpi)
    stack = stacks.get(mpi)
    env_file = Path(topology.compose_dir(), "mpi", f"{mpi}.env").read_text()
    settings = dict(line.split("=", 1) for line in env_file.splitlines() if line and not line.startswith("#"))
    for pod in pods(docs).values():
        (c,) = pod["spec"]["containers"]
        assert c["image"] == stack.image
        assert {e["name"]: e["value"] for e in c["env"]} == settings
        assert {"mountPath": "/dev/shm", "name": "shm"} in c["volumeMounts"]  # compose's shm_size: 256m
        assert {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}} in pod["spec"]["volumes"]
        assert any(m["mountPath"] == "/shared" for m in c["volumeMounts"])  # true-world's shared volume
    (claim,) = [d for d in docs if d["kind"] == "PersistentVolumeClaim"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    check(docs)


@pytest.mark.parametrize("name", TOPOLOGIES)
def test_pods_are_the_topologys_nodes_with_their_hostnames(name):
    topo = topology.load(name)
    docs = rendered(name)
    by_name = pods(docs)
    assert set(by_name) == set(topo.nodes)
    for svc, node in topo.nodes.items():
        assert by_name[svc]["spec"]["hostname"] == node.hostname
        assert by_name[svc]["metadata"]["labels"][labels.NODE] == svc
    # every engine group's node, and every node its ranks run on, is a pod
    for g in topo.groups:
        assert {g.node, *g.rank_hosts} <= set(by_name), g.name
    # the bare hostnames of the hostfile resolve: the pods' subdomain is searched
    (svc,) = [d for d in docs if d["kind"] == "Service"]
    ns = svc["metadata"]["namespace"]
    for pod in by_name.values():
        assert pod["spec"]["subdomain"] == svc["metadata"]["name"]
        assert pod["spec"]["dnsConfig"]["searches"] == [f"{svc['metadata']['name']}.{ns}.svc.{k8s.DOMAIN}"]
    assert svc["spec"]["clusterIP"] == "None" and svc["spec"]["selector"] == {labels.CLUSTER: topo.name}


@pytest.mark.parametrize("name", TOPOLOGIES)
def test_the_hostfile_is_the_testbeds(name):
    topo = topology.load(name)
    (config,) = [d for d in rendered(name, mpi="mpich") if d["kind"] == "ConfigMap"]
    assert config["data"]["hostfile"] == api.hostfile(Cluster(topo, name=topo.name, stack=stacks.get("mpich")))


def test_every_object_carries_the_clusters_labels():
    docs = rendered("split-world", "mine")
    for d in docs:
        lab = d["metadata"]["labels"]
        assert lab[labels.CLUSTER] == "mine" and lab[labels.TOPOLOGY] == "split-world"
        assert lab[labels.MPI] == "openmpi4" and lab[labels.BACKEND] == "k8s"
        assert d["kind"] == "Namespace" or d["metadata"]["namespace"] == "ipp-testbed-mine"
    for pod in pods(docs).values():  # "3,2" is no label value: an annotation
        assert pod["metadata"]["annotations"][labels.COUNTS] == "3,2"
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    assert secret["type"] == "kubernetes.io/ssh-auth" and set(secret["stringData"]) == {
        "ssh-privatekey",
        "ssh-publickey",
    }
    # the key where the compose backend makes it
    (c,) = pods(docs)["head"]["spec"]["containers"]
    mounted = {m["mountPath"] for m in c["volumeMounts"]}
    assert mounted >= {f"{k8s.SSH_DIR}/id_ed25519", f"{k8s.SSH_DIR}/authorized_keys"}
    assert str(k8s.SSH_DIR / k8s.KEY_FILE) == str(ssh.KEY)


def test_a_broken_manifest_fails_the_checks():
    docs = rendered("split-world")
    pod = pods(docs)["head"]
    pod["metadata"]["name"] = "Head_1"
    with pytest.raises(AssertionError, match="RFC 1123"):
        name_check(docs)
    pod["metadata"]["name"] = "head"
    pod["spec"]["containers"][0]["volumeMounts"].append({"name": "nowhere", "mountPath": "/x"})
    with pytest.raises(AssertionError, match="mount of no volume"):
        name_check(docs)
    pod["metadata"]["labels"]["x"] = "a,b"
    with pytest.raises(AssertionError, match="label x"):
        name_check(docs)
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed: run `make venv`")
    good = rendered("split-world")
    bad = pods(good)["head"]
    bad["spec"]["containers"][0]["shmSize"] = "256m"  # a compose key, no field of a container
    with pytest.raises(kv.ValidationError):
        schema_check(bad)
    del bad["spec"]["containers"][0]["shmSize"]
    bad["spec"]["containers"] = [{"image": "x"}]  # a container needs a name
    with pytest.raises(kv.ValidationError):
        schema_check(bad)


def test_names_kubernetes_refuses_are_one_line(tmp_path):
    topo = topology.load("split-world")
    with pytest.raises(TestbedError, match="take no '_'"):
        k8s.render(topo, "my_cluster", stacks.get(None))
    with pytest.raises(TestbedError, match="cluster name"):
        k8s.render(topo, "Bad Name", stacks.get(None))
    block = "  controller: Head1\n  groups:\n    - {name: g, node: Head1, launch: ipcluster, engines: 1}\n"
    with pytest.raises(TestbedError, match=r"RFC 1123") as e:  # refused as the topology is read, before k8s
        topology.write(tmp_path, "odd", block, ["Head1"])
    assert "\n" not in str(e.value)


def _topology_with(tmp_path: Path, extra: str) -> topology.Topology:
    block = "  controller: head\n  groups:\n    - {name: g, node: head, launch: ipcluster, engines: 1}\n"
    topo = topology.write(tmp_path, "t", block, ["head"])
    text = topo.path.read_text().replace("hostname: head}", "hostname: head, " + extra + "}")
    topo.path.write_text(text)
    return topology.load(str(topo.path))


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ("volumes: ['./here:/x']", "not a named volume"),
        ("ulimits: {nofile: 1024}", "ulimits cannot be rendered"),
        ("ports: ['8888:8888']", "ports cannot be rendered"),
        ("shm_size: 900g", "shm_size"),
        ("shm_size: lots", "not a size"),
        ("extends: {file: t.yaml, service: head}", "extends"),  # a loop
    ],
)
def test_what_kubernetes_cannot_carry_is_one_line(tmp_path, extra, why):
    with pytest.raises(TestbedError, match=why) as e:  # a size out of bounds is refused when the file is read
        k8s.render(_topology_with(tmp_path, extra), "t", stacks.get(None))
    assert "\n" not in str(e.value)


def test_compose_keys_map_to_the_container(tmp_path):
    topo = _topology_with(tmp_path, "cap_add: [NET_ADMIN], environment: {EXTRA: '1'}, command: [sleep, '5']")
    docs = k8s.render(topo, "t", stacks.get(None))
    (c,) = pods(docs)["head"]["spec"]["containers"]
    assert c["securityContext"] == {"capabilities": {"add": ["NET_ADMIN"]}}
    assert c["args"] == ["sleep", "5"] and "command" not in c  # compose's command is the image's CMD
    assert {"name": "EXTRA", "value": "1"} in c["env"]
    # NET_ADMIN is past Pod Security's baseline: the namespace says so
    assert docs[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    check(docs)


def test_the_backend_renders_and_says_it_is_not_run():
    topo = topology.load("split-world")
    backend = k8s.K8sBackend(topo, "sw", None, "mpich", overrides={"head": {"ports": ["127.0.0.1::10101"]}})
    assert backend.render() == k8s.render(topo, "sw", stacks.get("mpich"))
    for call in (backend.start, backend.stop):
        with pytest.raises(TestbedError, match="rendered only, not run") as e:
            call()
        assert "\n" not in str(e.value)
    with pytest.raises(TestbedError, match=r"head\.volumes"):
        k8s.K8sBackend(topo, "sw", None, None, overrides={"head": {"volumes": ["/x:/y"]}}).render()


def test_cli_render_writes_one_file_with_the_given_key(tmp_path, capsys):
    key = tmp_path / "key"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n")
    Path(f"{key}.pub").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB testbed\n")
    out = tmp_path / "out"
    assert (
        cli.main(
            ["render", "k8s", "split-world", "--name", "kx", "--mpi", "mpich", "-o", str(out), "--ssh-key", str(key)]
        )
        == 0
    )
    path = out / "kx.yaml"
    assert str(path) in capsys.readouterr().out
    assert path.stat().st_mode & 0o077 == 0  # it holds the private key
    docs = list(yaml.safe_load_all(path.read_text()))
    (secret,) = [d for d in docs if d["kind"] == "Secret"]
    assert secret["stringData"]["ssh-privatekey"] == key.read_text()
    # a bad key or name: one line, exit 2
    Path(f"{key}.pub").write_text("not a key\n")
    assert cli.main(["render", "k8s", "split-world", "-o", str(out), "--ssh-key", str(key)]) == 2
    assert cli.main(["render", "k8s", "split-world", "-o", str(out), "--name", "a_b"]) == 2
    err = capsys.readouterr().err
    assert "is not one OpenSSH public key line" in err and "take no '_'" in err
    check(docs)
