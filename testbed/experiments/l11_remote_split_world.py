"""L11: the late group of a split world on another host, scatter 32."""

from __future__ import annotations

from .. import lecture
from ._engines import EngineCheck


class RemoteSplitWorld(EngineCheck):
    id = "L11"
    title = "remote split world: the late group on another host, scatter 32"
    topology = "remote-split-world"
    scatter_figure = lecture.SCATTER["L11"]
    engine_figures = lecture.ENGINES["L11"]
