"""L10: a late mpiexec group is a second MPI_COMM_WORLD, scatter 28."""

from __future__ import annotations

from .. import lecture
from ._engines import EngineCheck


class SplitWorld(EngineCheck):
    id = "L10"
    title = "split world: a late mpiexec group is a second MPI_COMM_WORLD, scatter 28"
    topology = "split-world"
    scatter_figure = lecture.SCATTER["L10"]
    engine_figures = lecture.ENGINES["L10"]
