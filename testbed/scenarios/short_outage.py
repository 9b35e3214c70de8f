"""short-outage (ipython#6444): the engine node off the network for 2 s (shorter than the heartbeat
window) is survived; for 10 s it is dropped. Does it come back (re-register) after that?"""

from __future__ import annotations

import time

from ..faults.base import COME_BACK_S, last_engine_node, registered_within
from .base import Scenario, count, flag, num, register

SHORT_S, LONG_S = 2.0, 10.0
SETTLE_S = 8.0  # past the controller's heartbeat window (10 misses of 500 ms, the image's period)


@register
class ShortOutage(Scenario):
    name = "short-outage"
    issue = "ipython#6444"
    url = "https://github.com/ipython/ipython/issues/6444"
    title = "Allow engines to re-register to the controller"
    measures = (
        f"engine node cut off {SHORT_S:.0f} s, then {LONG_S:.0f} s: engines after each; "
        f"back within {COME_BACK_S:.0f} s?"
    )
    topology = "remote-engines"
    bound_s = 300.0
    keys = ("expected", "after_short", "after_long", "came_back")
    logs = r"heartbeat::|unregister|No heartbeat|registration|CRITICAL"
    example_reproduced = {"expected": 4, "after_short": 4, "after_long": 3, "came_back": False}
    example_fixed = {"expected": 4, "after_short": 4, "after_long": 3, "came_back": True}

    def trigger(self, cluster, m) -> None:
        picked = last_engine_node(cluster.topology)
        if isinstance(picked, str):
            m["error"] = picked
            return
        node, _lost = picked
        m["expected"] = cluster.topology.engine_count
        cluster.backend.cut_off(node, SHORT_S)
        time.sleep(SETTLE_S)  # a bounded wait for the heartbeat to decide, not for a state
        m["after_short"] = count(cluster)
        cluster.backend.cut_off(node, LONG_S)
        time.sleep(SETTLE_S)
        m["after_long"] = count(cluster)

    def observe(self, cluster, m) -> None:
        if "expected" in m:
            want = m["expected"]
            m["came_back"] = registered_within(cluster, want, COME_BACK_S) == want

    def verdict(self, m) -> str:
        want, short, long_, back = num(m, "expected"), num(m, "after_short"), num(m, "after_long"), flag(m, "came_back")
        if not want or short is None:
            return "not-applicable"
        if short < want:  # a short outage, within the heartbeat window, was not survived
            return "reproduced"
        if long_ is None or back is None or long_ >= want:  # the long one dropped nothing: re-registration untested
            return "not-applicable"
        return "fixed" if back else "reproduced"
