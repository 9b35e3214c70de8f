"""Every figure of the lecture the testbed compares with, in one place.

The lecture is C.-S. Huang, "Introduction to IPython Parallel Computing" (NSYSU);
``docs/lecture.md`` lists its experiments with these same figures (a unit test holds
the two together). Experiments, tests and benchmarks read them from here.
"""

from __future__ import annotations

SOURCE = "C.-S. Huang, Introduction to IPython Parallel Computing (NSYSU)"

# L1: 27 tasks (5 heavy, 22 light) through a load-balanced and a direct view
L1 = {"speedup_lb": 4.64, "speedup_direct": 1.81, "ideal": 5, "direct_split": [6, 6, 5, 5, 5]}

# L2: one-digit frequencies of sympy.pi.evalf(10_000)
L2 = {"digits": 10_000, "each_digit": "about 1000"}

# L3: 2-digit frequencies of 5 files of 10 million digits; 1 engine on 1 file, 5 engines on 5
L3 = {
    "digits_per_s_1": 1105468.553952061,
    "mean_10m": 49.503466940918045,
    "std_10m": 28.863180323272204,
    "digits_per_s_5": 4328621.08675,
    "mean_50m": 49.49566222099847,
    "std_50m": 28.86620996770085,
    "speedup": 3.9156437976322542,
    "ideal": 5,
    "cores": 6,
}

# L4: mpiexec -n 5 python hello_mpi.py prints "Hello world from i out of 5!" for i = 0..4
L4 = {"ranks": 5}

# L6: rank 1 Sends a[0] of its chunk (scatter 32) to rank 0; blocking_send.py on the engines
L6 = {"scatter": 32, "d": [7.0, 0.0, 0.0, 0.0, 0.0], "bb": [3, 3, 0, 0, 0]}

# L7: mpiexec -n 4: collectives, objects, MPI-IO
L7 = {
    "Reduce": "10 18",
    "Scatter(root 3)": "4,10,4,10",
    "Gather": "1 1 2 2 3 5 4 10",
    "Alltoall": "[1 2 3 4] [1 2 5 10] [1 2 3 4] [1 2 5 10]",
    "Bcast": 1000,
    "gather": [1, 4, 9, 16],
    "mpi_IO": "ten 0s, ten 1s, ten 2s, ten 3s",
}

# L5, L8-L11: the length scattered over the engines
SCATTER = {"L5": 32, "L8": 28, "L9": 10, "L10": 28, "L11": 32}

# L5, L8-L11: what the lecture printed engine by engine, compared key by key with the
# engines' reports (keys the lecture did not print are absent)
ENGINES: dict[str, dict] = {
    "L5": {"chunk_len": [7, 7, 6, 6, 6], "psum": [496] * 5, "world_rank": [0, 1, 2, 3, 4], "hostnames": 1},
    "L8": {"id_history": [[0, 1, 2], [0, 1, 2, 3], [0, 1, 2, 3, 4]], "chunk_len": [6, 6, 6, 5, 5]},
    "L9": {"chunks": ["range(0, 3)", "range(3, 6)", "range(6, 8)", "range(8, 10)"], "hostnames": 2},
    "L10": {"psum": [153, 153, 153, 225, 225], "world_rank": [0, 1, 2, 1, 0]},
    "L11": {"psum": [190, 190, 190, 306, 306]},
}

# every figure above, by experiment (docs/lecture.md lists each of them)
FIGURES: dict[str, dict] = {
    k: {"scatter": SCATTER[k], **ENGINES[k]} if k in ENGINES else v
    for k, v in (
        ("L1", L1),
        ("L2", L2),
        ("L3", L3),
        ("L4", L4),
        ("L5", None),
        ("L6", L6),
        ("L7", L7),
        ("L8", None),
        ("L9", None),
        ("L10", None),
        ("L11", None),
    )
}
