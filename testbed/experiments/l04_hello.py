"""L4: ``mpiexec -n 5 python hello_mpi.py`` prints one hello a rank."""

from __future__ import annotations

from .. import lecture
from .. import programs as lecture_programs
from ._programs import ProgramsExperiment


class Hello(ProgramsExperiment):
    id = "L4"
    title = "hello: mpiexec -n 5 hello_mpi.py"
    topology = "single-world"
    programs = ("hello",)

    def lecture_figures(self) -> dict:
        return {"lines": lecture_programs.get("hello").expected(lecture.L4["ranks"])}
