# rma.py -- one-sided communication (MPI RMA) over COMM_WORLD, ranks on several hosts.
# A window of size+1 int64 slots per rank. Between fences every rank Puts its rank into
# slot [rank] of its right neighbour, then Gets slot [left-1] of its left neighbour (which
# its own left neighbour Put there); then, under a passive-target lock, every rank
# Accumulates rank+1 into slot [size] of rank 0. Each rank prints one line.
import socket
from mpi4py import MPI
import numpy as np

comm = MPI.COMM_WORLD
rank, size = comm.rank, comm.size
host = socket.gethostname()
try:
    win = MPI.Win.Allocate(8 * (size + 1), disp_unit=8, comm=comm)
    buf = np.frombuffer(win.tomemory(), dtype='i8')
    buf[:size] = -1
    buf[size] = 0
    win.Fence()
    right, left = (rank + 1) % size, (rank - 1) % size
    win.Put(np.array([rank], dtype='i8'), right, target=(rank,))
    win.Fence()
    got = np.empty(1, dtype='i8')
    win.Get(got, left, target=((left - 1) % size,))
    win.Fence()
    print("Process", rank, "Put from left", int(buf[left]), "Get from left", int(got[0]), flush=True)
    win.Lock(0)
    win.Accumulate(np.array([rank + 1], dtype='i8'), 0, target=(size,), op=MPI.SUM)
    win.Unlock(0)
    comm.Barrier()
    if rank == 0:
        win.Lock(0)
        total = int(buf[size])
        win.Unlock(0)
        print("Process 0 Accumulate", total, flush=True)
    win.Free()
except MPI.Exception as e:
    print("Process", rank, "on", host, "failed:", e.Get_error_string(), flush=True)
