# hello_mpi.py -- Hello World ! Again   (mpiexec -n 5 python hello_mpi.py)
from mpi4py import MPI

comm    = MPI.COMM_WORLD
npes    = comm.Get_size()
myrank  = comm.Get_rank()
print("Hello world from %i out of %i!"
      %(myrank, npes))
