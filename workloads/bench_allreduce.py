"""bench_allreduce.py -- Allreduce latency (8 bytes) and bandwidth (1 MiB, 64 MiB) between ranks.

    mpiexec -n 2 python bench_allreduce.py [--runs 5]

After a warm-up, each run times a loop of Allreduce calls (more calls for small
messages) between barriers. Rank 0 prints one JSON object: per size, the seconds
per call of every run, and bytes per second (message bytes / seconds per call).
"""

import argparse
import json

import numpy as np
from mpi4py import MPI

SIZES = {"8B": (8, 2000), "1MiB": (1 << 20, 40), "64MiB": (64 << 20, 3)}


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    comm = MPI.COMM_WORLD
    out = {"ranks": comm.size, "hosts": sorted(set(comm.allgather(MPI.Get_processor_name()))), "sizes": {}}
    for name, (nbytes, calls) in SIZES.items():
        send = np.ones(nbytes // 8, dtype="float64")
        recv = np.empty_like(send)
        comm.Allreduce(send, recv)  # warm-up
        per_call = []
        for _ in range(args.runs):
            comm.Barrier()
            t0 = MPI.Wtime()
            for _ in range(calls):
                comm.Allreduce(send, recv)
            comm.Barrier()
            per_call.append((MPI.Wtime() - t0) / calls)
        if recv[0] != comm.size:
            raise SystemExit(f"Allreduce gave {recv[0]}, not {comm.size}")
        out["sizes"][name] = {
            "bytes": nbytes,
            "calls": calls,
            "seconds": per_call,
            "bytes_per_s": [nbytes / s for s in per_call],
        }
    if comm.rank == 0:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
