"""many-engines (ipyparallel#301): 40 engines start at once; how many does a client see?"""

from __future__ import annotations

from .base import Scenario, num, register, storm

ENGINES = 40
WAIT_S = 90.0


@register
class ManyEngines(Scenario):
    name = "many-engines"
    issue = "ipyparallel#301"
    url = "https://github.com/ipython/ipyparallel/issues/301"
    title = "Many engines started, the client sees only some of them"
    measures = (
        f"{ENGINES} ipengines at once (ipyparallel's default timeouts): registered at wait_for_engines vs expected"
    )
    topology = "plain"
    counts = (ENGINES,)
    engines = False  # the trigger starts the controller and every engine at once
    bound_s = 420.0
    keys = ("expected", "registered", "wait_s", "later_client")
    logs = r"stalled registration|already unregistered|Registration timed out|CRITICAL"
    example_reproduced = {"expected": 40, "registered": 31, "wait_s": 90.0, "later_client": 31}
    example_fixed = {"expected": 40, "registered": 40, "wait_s": 12.5, "later_client": 40}

    def trigger(self, cluster, m) -> None:
        m.update(storm(cluster, self.topo().engine_count, WAIT_S))

    def observe(self, cluster, m) -> None:
        pass  # the storm measured it

    def verdict(self, m) -> str:
        want, got, later = num(m, "expected"), num(m, "registered"), num(m, "later_client")
        if not want or got is None:
            return "not-applicable"
        return "reproduced" if got < want or (later is not None and later < want) else "fixed"
