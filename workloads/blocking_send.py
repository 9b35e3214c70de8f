# blocking_send.py -- the lecture's blocking point-to-point example: rank 1 sends
# aa (tag 1) then bb (tag 2); rank 0 receives them in the other order.
# mpiexec -n 2 python blocking_send.py   (or dview.run('blocking_send.py'))
from mpi4py import MPI
import numpy

comm = MPI.COMM_WORLD; npes = comm.Get_size(); myrank = comm.Get_rank()

aa = numpy.zeros(1, dtype='i')
bb = numpy.zeros(1, dtype='i')
if myrank == 1:
    aa[0] = 2; bb[0] = 3
    comm.Send(aa, dest = 0, tag=1)
    comm.Send([bb, 1, MPI.INT], dest = 0, tag=2)
if myrank == 0:
    aa[0] = 0; bb[0] = 1
    comm.Recv(bb, source = 1, tag=2)
    comm.Recv(aa, source = 1, tag=1)
    print("Process", myrank, "received  aa[0]", aa[0] )
    print("Process", myrank, "received  bb[0]", bb[0] )
