"""L7: ``mpiexec -n 4``: collectives, objects, MPI-IO."""

from __future__ import annotations

from .. import lecture
from ._programs import ProgramsExperiment


class Collectives(ProgramsExperiment):
    id = "L7"
    title = "collectives and MPI-IO: mpiexec -n 4"
    topology = "single-world"
    programs = ("collectives", "objects", "mpi_io")

    def lecture_figures(self) -> dict:
        return dict(lecture.L7)
