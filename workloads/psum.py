# psum.py -- the lecture's parallel sum: every rank adds its local chunk, and an
# Allreduce over MPI_COMM_WORLD gives each rank the total of its world.
# Run on engines with `dview.run('psum.py')`, then `%px totalsum = psum(a)`.
from mpi4py import MPI
import numpy as np


def psum(a):
    locsum = np.sum(a)
    rcvBuf = np.array(0.0, 'float64')
    MPI.COMM_WORLD.Allreduce([locsum, MPI.DOUBLE],
                             [rcvBuf, MPI.DOUBLE], op=MPI.SUM)
    return rcvBuf
