# rank_mpi.py -- the lecture's helpers: rank, hostname and pid of an engine, and
# the point-to-point example (rank 1 sends a[0] to rank 0, which keeps it in d).
# Run on engines with `dview.run('rank_mpi.py')`.
from mpi4py import MPI
import numpy as np; import socket; import os

pid  = os.getpid()
comm = MPI.COMM_WORLD
host = socket.gethostname()


def myrank():
    return comm.rank  # NOT comm.Get_rank()


def hostname():
    return host


def mypid():
    return pid


d = np.zeros(1, dtype='float64')


def mysendOneToZero():
    if comm.rank == 1:
        comm.Send([a, 1, MPI.DOUBLE], dest=0, tag=1)  # noqa: F821 (a is scattered in)
    if comm.rank == 0:
        comm.Recv(d, source=1, tag=1)
    return True
