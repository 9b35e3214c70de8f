"""registration-storm (ipyparallel#394, #700): 64 engines register at once; the controller purges
stalled registrations, or unregisters engines that never finished registering."""

from __future__ import annotations

from .base import Scenario, count_lines, num, register, storm

ENGINES = 64
WAIT_S = 120.0
PURGED = r"purging stalled registration"
UNREGISTERED = r"already unregistered|never completed registering"


@register
class RegistrationStorm(Scenario):
    name = "registration-storm"
    issue = "ipyparallel#700"
    url = "https://github.com/ipython/ipyparallel/issues/700"
    title = "Some engines fail to finish registration (also ipyparallel#394: many engines at once)"
    measures = f"{ENGINES} ipengines at once: 'purging stalled registration' / 'already unregistered' lines, registered"
    topology = "plain"
    counts = (ENGINES,)
    engines = False
    fixed_in = "8.3.0"  # ipyparallel#701 cancels a registration whose engine unregisters
    bound_s = 480.0
    keys = ("expected", "registered", "purged_lines", "unregistered_lines")
    logs = rf"{PURGED}|{UNREGISTERED}|Registration timed out"
    example_reproduced = {"expected": 64, "registered": 40, "purged_lines": 24, "unregistered_lines": 0}
    example_fixed = {"expected": 64, "registered": 64, "purged_lines": 0, "unregistered_lines": 0}

    def trigger(self, cluster, m) -> None:
        m.update(storm(cluster, self.topo().engine_count, WAIT_S))

    def observe(self, cluster, m) -> None:
        m["purged_lines"] = count_lines(cluster, PURGED)
        m["unregistered_lines"] = count_lines(cluster, UNREGISTERED)

    def verdict(self, m) -> str:
        want, got = num(m, "expected"), num(m, "registered")
        if not want or got is None:
            return "not-applicable"
        stalled = (num(m, "purged_lines") or 0) + (num(m, "unregistered_lines") or 0)
        return "reproduced" if got < want or stalled > 0 else "fixed"
