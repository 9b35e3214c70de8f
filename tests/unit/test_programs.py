"""The lines the plain MPI programs must print, derived from the rank count.

For the lecture's rank counts they must be the lecture's tables (L4, L6, L7).
"""

import pytest

from testbed import programs
from testbed.errors import TestbedError


def lines(name, n):
    return sorted(programs.get(name).expected(n))


def test_hello_l4():
    assert lines("hello", 5) == [f"Hello world from {i} out of 5!" for i in range(5)]


def test_collectives_l7_tables_for_4_ranks():
    got = lines("collectives", 4)
    assert "Process 0 rec 10 18" in got  # Reduce
    assert [ln for ln in got if " b " in ln and "Bcast" not in ln] == [
        "Process 0 b 4",
        "Process 1 b 10",
        "Process 2 b 4",
        "Process 3 b 10",
    ]  # Scatter from root 3
    assert "Process 0 rec 1 1 2 2 3 5 4 10" in got  # Gather
    assert [ln for ln in got if "Alltoall" in ln] == [
        "Process 0 Alltoall d 1 2 3 4",
        "Process 1 Alltoall d 1 2 5 10",
        "Process 2 Alltoall d 1 2 3 4",
        "Process 3 Alltoall d 1 2 5 10",
    ]
    assert [ln for ln in got if "Bcast" in ln] == [f"Process {r} Bcast b 1000" for r in range(4)]


def test_collectives_other_rank_counts():
    got = lines("collectives", 3)
    assert "Process 0 rec 6 8" in got  # 1+2+3, 1+2+5
    assert "Process 1 b 5" in got  # root 2's a = [3, 5, 3]


def test_objects_l7():
    got = lines("objects", 4)
    assert "Process 0 gather data =  [1, 4, 9, 16]" in got
    assert sorted(ln for ln in got if "scatter" in ln) == [
        f"Process {r} scatter data =  {(r + 1) ** 2}" for r in range(4)
    ]
    assert "Process 2 bcast data =  {'key1': [7, 2.72, (2+3j)], 'key2': ('abc', 'xyz')}" in got


def test_mpi_io_l7_ten_of_each_rank():
    assert lines("mpi_io", 4) == ["file " + " ".join(["0"] * 10 + ["1"] * 10 + ["2"] * 10 + ["3"] * 10)]


def test_compare_output_finds_missing_and_unexpected():
    p = programs.get("hello")
    r = programs.compare_output(p, 3, "Hello world from 0 out of 3!\nHello world from 2 out of 3!\njunk\n")
    assert not r.ok
    assert r.missing == ["Hello world from 1 out of 3!"] and r.unexpected == ["junk"]
    ok = programs.compare_output(p, 2, "Hello world from 1 out of 2!\nHello world from 0 out of 2!\n")
    assert ok.ok


def test_unknown_program():
    with pytest.raises(TestbedError, match="known: hello"):
        programs.get("nope")


def test_rma_lines_are_derived_from_the_rank_count():
    # 4 ranks in a ring: rank r gets r-1 by Put and r-2 by Get; Accumulate of r+1 gives 1+2+3+4
    want = programs.get("rma").expected(4)
    assert "Process 0 Put from left 3 Get from left 2" in want
    assert "Process 1 Put from left 0 Get from left 3" in want
    assert want[-1] == "Process 0 Accumulate 10" and len(want) == 5
