# objects.py -- the lecture's collectives on generic Python objects (mpi_pyObj.py):
# bcast of a dict, scatter of squares, gather of squares.   mpiexec -n 4 python objects.py
from mpi4py import MPI

comm = MPI.COMM_WORLD; npes = comm.Get_size(); myrank = comm.Get_rank()

if myrank == 0:
    data = {'key1' : [7, 2.72, 2+3j],
            'key2' : ( 'abc', 'xyz') }
else:
    data = None
data = comm.bcast(data, root=0)
print("Process", myrank, "bcast data = ", data )

if myrank == 0:
    data = [(i+1)**2 for i in range(npes)]
else:
    data = None
data = comm.scatter(data, root=0)
print("Process", myrank, "scatter data = ", data )

data = (myrank+1)**2
data = comm.gather(data, root=0)
print("Process", myrank, "gather data = ", data )
