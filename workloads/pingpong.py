"""pingpong.py -- round-trip time of a message (8 bytes unless --bytes) between rank 0 and rank 1.

    mpiexec -n 2 python pingpong.py [--trips 20] [--bytes 8]

Rank 0 prints one JSON object: the hosts, and the median and each round trip in microseconds.
"""

import argparse
import json
import statistics
import time

import numpy as np
from mpi4py import MPI


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--trips", type=int, default=20)
    p.add_argument("--bytes", type=int, default=8, help="message size (rounded up to whole float64s)")
    args = p.parse_args(argv)
    comm = MPI.COMM_WORLD
    buf = np.zeros(max(1, -(-args.bytes // 8)), dtype="float64")
    hosts = comm.allgather(MPI.Get_processor_name())
    trips = []
    for i in range(args.trips + 1):  # the first is a warm-up
        comm.Barrier()
        t = time.perf_counter()
        if comm.rank == 0:
            comm.Send(buf, dest=1)
            comm.Recv(buf, source=1)
        elif comm.rank == 1:
            comm.Recv(buf, source=0)
            comm.Send(buf, dest=0)
        if i:
            trips.append((time.perf_counter() - t) * 1e6)
    if comm.rank == 0:
        print(
            json.dumps(
                {"hosts": hosts[:2], "bytes": buf.nbytes, "median_us": statistics.median(trips), "trips_us": trips}
            )
        )


if __name__ == "__main__":
    main()
