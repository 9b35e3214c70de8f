"""L5: ipcluster with the MPI launcher: one MPI world of 5 engines, scatter 32, psum."""

from __future__ import annotations

from .. import lecture
from ._engines import EngineCheck


class SingleWorld(EngineCheck):
    id = "L5"
    title = "single world: ipcluster with the MPI launcher, scatter 32, psum"
    topology = "single-world"
    scatter_figure = lecture.SCATTER["L5"]
    engine_figures = lecture.ENGINES["L5"]
