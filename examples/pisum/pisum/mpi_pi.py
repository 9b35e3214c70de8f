"""``mpiexec -n N python3 -m pisum.mpi_pi [n]``: each rank sums its part, rank 0 prints the total.

Rank 0 prints one line: ``pi <value> ranks <size> hosts <host,host,...>`` (the hosts
its ranks ran on, in rank order).
"""

import socket
import sys

from mpi4py import MPI

from . import part


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    comm = MPI.COMM_WORLD
    total = comm.reduce(part(comm.rank, comm.size, n), op=MPI.SUM, root=0)
    hosts = comm.gather(socket.gethostname(), root=0)
    if comm.rank == 0:
        print(f"pi {total!r} ranks {comm.size} hosts {','.join(hosts)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
