# Engine defaults of the node image (profile_default of user mpi), for every launch kind:
# ipcluster's launchers, ipengine by hand, mpiexec, Slurm and SSH all read this profile.
c = get_config()  # noqa: F821

# An engine waits IPEngine.timeout for the hub's reply to its registration request, then
# gives up ("Registration timed out after 5.0 seconds") and never registers. ipyparallel's
# default, 5 s, is too short when many engines start at once on few cores: with 128 engines
# on 2 cores the hub, starved of CPU, answered two of them late, and the bring-up ended with
# 126 of 128 registered (2026-12-07, docs/scale.md). The engines that start last (the
# highest ranks: ipyparallel staggers MPI ranks' registrations by rank) meet the busiest hub,
# which is why the missing ids were always the last ones. 60 s leaves a wide margin; an
# engine whose controller is really gone still gives up, a minute later.
c.IPEngine.timeout = 60.0

# A cluster with a mounted folder (`--mount`) runs its engines in it, however they were
# started: node-entry gives ssh sessions TESTBED_WORKDIR as well (docker/rootfs/usr/local/bin/node-entry).
import os  # noqa: E402

if os.environ.get("TESTBED_WORKDIR"):
    c.IPEngine.work_dir = os.environ["TESTBED_WORKDIR"]
