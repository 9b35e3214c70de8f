"""L8: ipcluster -n 3, then two ipengine started by hand: the ids after each, scatter 28."""

from __future__ import annotations

from .. import lecture
from ._engines import EngineCheck


class AddedEngines(EngineCheck):
    id = "L8"
    title = "added engines: ipcluster -n 3, then two ipengine by hand, scatter 28"
    topology = "added-engines"
    scatter_figure = lecture.SCATTER["L8"]
    engine_figures = lecture.ENGINES["L8"]
