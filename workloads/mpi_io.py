# mpi_io.py -- the lecture's MPI-IO: each rank writes 10 copies of its rank at
# offset rank*10 with one collective Write_at_all, giving one "single" file.
# mpiexec -n 4 python mpi_io.py [path]      (default ./mpi_IO)
# Rank 0 then reads the file back the lecture's way (np.fromfile) and prints it.
import sys
from mpi4py import MPI
import numpy as np

path = sys.argv[1] if len(sys.argv) > 1 else "./mpi_IO"
amode = MPI.MODE_WRONLY|MPI.MODE_CREATE
comm = MPI.COMM_WORLD
fh = MPI.File.Open(comm, path, amode)

buffer = np.empty(10, dtype=np.int64)   # the lecture's np.int: a C long
buffer[:] = comm.Get_rank()

offset = comm.Get_rank()*buffer.nbytes
fh.Write_at_all(offset, buffer)

fh.Close()

comm.Barrier()
if comm.Get_rank() == 0:
    with open(path, 'rb') as f:
        a = np.fromfile(f, dtype=np.int64)
    print("file", " ".join(str(x) for x in a))
