# merge_worlds.py -- join separately launched MPI worlds into one communicator.
#
# The lecture's open question: a late `mpiexec -n 2 ipengine` forms a second
# MPI_COMM_WORLD. MPI's dynamic-process interface answers it: the first world opens
# a port and publishes it under a name (Open MPI needs a name server both launches
# know: `ompi-server`, `mpiexec --ompi-server file:...`), the late world looks the
# name up and connects; Intercomm.Merge turns the pair into one intra-communicator.
#
# On engines:  dview.run('merge_worlds.py')
#              %px merged = merge_worlds(my_world, all_worlds)
#              %px total = psum_over(merged, a)
# my_world names this engine's world (e.g. the smallest engine id in it), all_worlds
# lists every world's name; worlds are joined in that order, the first one low.
from mpi4py import MPI
import numpy as np
import time


def _lookup(service, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return MPI.Lookup_name(service)
        except MPI.Exception:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)


def merge_worlds(my_world, all_worlds, timeout=30.0, tag="ipp-testbed-merge"):
    """Return one intra-communicator holding every world, ranks in world order."""
    worlds = sorted(all_worlds)
    world = MPI.COMM_WORLD
    merged = world if my_world == worlds[0] else None
    for w in worlds[1:]:
        service = f"{tag}-{w}"
        if my_world < w:        # already joined: accept world w
            port = MPI.Open_port() if merged.rank == 0 else None
            if merged.rank == 0:
                MPI.Publish_name(service, port)
            inter = merged.Accept(port, root=0)
            if merged.rank == 0:
                MPI.Unpublish_name(service, port)
                MPI.Close_port(port)
            merged = inter.Merge(high=False)
            inter.Free()
        elif my_world == w:     # this world joins now
            port = _lookup(service, timeout) if world.rank == 0 else None
            port = world.bcast(port, root=0)
            if port is None:
                raise TimeoutError(
                    f"no port published as {service!r} within {timeout:.0f}s: "
                    "is the name server (ompi-server) up and known to both mpiexec launches?"
                )
            inter = world.Connect(port, root=0)
            merged = inter.Merge(high=True)
            inter.Free()
        # worlds after w wait for their turn
    return merged


def psum_over(comm, a):
    """psum.py's Allreduce, over any communicator."""
    locsum = np.sum(a)
    rcvBuf = np.array(0.0, 'float64')
    comm.Allreduce([locsum, MPI.DOUBLE], [rcvBuf, MPI.DOUBLE], op=MPI.SUM)
    return rcvBuf
