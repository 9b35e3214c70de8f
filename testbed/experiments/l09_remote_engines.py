"""L9: 3 engines on host A, 1 plain engine on host B, scatter range(10)."""

from __future__ import annotations

from .. import lecture
from ._engines import EngineCheck


class RemoteEngines(EngineCheck):
    id = "L9"
    title = "remote engines: 3 on host A, 1 plain engine on host B, scatter range(10)"
    topology = "remote-engines"
    scatter_figure = lecture.SCATTER["L9"]
    engine_figures = lecture.ENGINES["L9"]
