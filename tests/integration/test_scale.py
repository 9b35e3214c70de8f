"""Scale: the largest group the testbed accepts, checked on every engine.

128 engines in one MPI world on one node is where ipyparallel's default registration
timeout (30 s) lost every engine on this machine, and where fuse-overlayfs ran out of file
descriptors: both are handled by the testbed (docs/scale.md), and this test keeps it so.
"""

from __future__ import annotations

import os
import time

import pytest

from testbed import docker_env, topology
from testbed.arch import engine_arch, triplet
from testbed.cluster import ENGINES_ON_OVERLAY, Cluster, IfExists

from .helpers import checked_engines

pytestmark = [pytest.mark.integration, pytest.mark.scale]


def test_128_engines_in_one_world_on_one_node_all_checked(clusters):
    clusters.down_all()  # 128 engines hold about 13 GB: the other clusters of the session go first
    n = topology.MAX_ENGINES_PER_GROUP
    topo = topology.load("single-world").with_counts((n,))
    assert n > ENGINES_ON_OVERLAY  # this size puts the node's libraries on volumes
    cluster = Cluster(topo, name="it-scale-128", log=print)
    # what else holds the 2 cores and the memory as it starts (printed, so a failed CI run says it)
    beside = [c.name for c in docker_env.client().containers.list()]
    print(f"before bring-up: load {os.getloadavg()}, {len(beside)} container(s) running: {beside[:20]}")
    t0 = time.monotonic()
    cluster.up(if_exists=IfExists.REPLACE)
    try:
        print(f"{n} engines registered in {time.monotonic() - t0:.1f} s: {cluster.timings}")
        engines = checked_engines(cluster, topo.scatter)  # psum, rank, chunk of every engine, derived
        assert len(engines) == n and sorted(e["world_rank"] for e in engines) == list(range(n))
        assert {e["psum"] for e in engines} == {32 * 31 / 2}
        mounts = {m["Destination"] for m in cluster.node("head").container.attrs["Mounts"]}
        libs = f"/usr/lib/{triplet(engine_arch(docker_env.client()))}"  # the image is the engine's architecture
        if docker_env.client().info()["Driver"] == "fuse-overlayfs":  # only there (docs/scale.md)
            assert libs in mounts and "/opt/venv" in mounts
        else:
            assert libs not in mounts
    finally:
        cluster.down()
