# sendrecv.py -- the lecture's object send/recv (lower-case: generic Python objects).
# mpiexec -n 2 python sendrecv.py
from mpi4py import MPI

comm = MPI.COMM_WORLD; myrank = comm.Get_rank()

if myrank == 0:
    data = {'a': 7, 'b': 3.14}
    comm.send(data, dest=1, tag=11)
elif myrank == 1:
    data = comm.recv(source=0, tag=11)
    print("Process", myrank, "data = ", data )
