# collectives.py -- the lecture's buffer collectives on a = [r+1, r*r+1, r+1, r*r+1]
# and c = [r+1, r*r+1]: Reduce, Scatter (from the last rank; the lecture's root 3
# with 4 ranks), Gather, Alltoall, Bcast.   mpiexec -n 4 python collectives.py
#
# The lecture's arrays have 4 items for its 4 ranks; here a has one item per rank
# (same alternating pattern), so any number of ranks works and 4 gives the lecture's.
from mpi4py import MPI
import numpy

comm = MPI.COMM_WORLD; npes = comm.Get_size(); myrank = comm.Get_rank()

a = numpy.zeros(max(npes, 2), dtype='i')
b = numpy.zeros(1, dtype='i')
c = numpy.zeros(2, dtype='i')
d = numpy.zeros(npes, dtype='i')
rec = numpy.zeros(2 * npes, dtype='i')

a[0::2] = myrank + 1
a[1::2] = myrank * myrank + 1
c[0] = myrank + 1
c[1] = myrank * myrank + 1

def show(*values):
    return " ".join(str(v) for v in values)

# The lecture passes `rec` (8 items) as the receive buffer of a 2-item Reduce; the
# counts then disagree and the result is only right by luck (it is garbage with 2
# or 3 ranks here). Naming the receive count keeps the lecture's numbers for any n.
comm.Reduce([a, 2, MPI.INT], [rec, 2, MPI.INT], MPI.SUM, 0)
if myrank == 0:
    print("Process", myrank, "rec", show(rec[0], rec[1]))

# We need a.size >= npes*b.size
comm.Scatter([a, 1, MPI.INT], b, root = npes - 1)
print("Process", myrank, "b", b[0])

comm.Gather([c, 2, MPI.INT], rec, root = 0)
if myrank == 0:
    print("Process", myrank, "rec", show(*rec))

comm.Alltoall([a, 1, MPI.INT], d)
print("Process", myrank, "Alltoall d", show(*d))

if myrank == 0:
    b[0] = 1000
comm.Bcast(b, 0)
print("Process", myrank, "Bcast b", b[0])
