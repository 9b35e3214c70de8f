"""broadcast-outstanding (ipyparallel#882): after a broadcast view's apply, the client still holds
tasks as outstanding that the hub says are complete."""

from __future__ import annotations

from .base import Scenario, node_json, num, register

TIMEOUT_S = 30.0


@register
class BroadcastOutstanding(Scenario):
    name = "broadcast-outstanding"
    issue = "ipyparallel#882"
    url = "https://github.com/ipython/ipyparallel/issues/882"
    title = "Outstanding task on client but hub says completed when using broadcast view"
    measures = "broadcast_view().apply, answered: its msg_ids in rc.outstanding vs the hub's pending, purge's error"
    topology = "plain"
    bound_s = 180.0
    keys = ("results", "outstanding", "hub_pending", "hub_completed", "purge_error")
    logs = r"outstanding|unknown result|ERROR|CRITICAL"
    example_reproduced = {
        "results": 5,
        "outstanding": 0,
        "hub_pending": 0,
        "hub_completed": 0,
        "purge_error": "RuntimeError: Can't purge outstanding tasks: {'a1348245-847f569ba193f51ef24e5e3a_162_1'}",
    }
    example_fixed = {"results": 5, "outstanding": 0, "hub_pending": 0, "hub_completed": 1, "purge_error": ""}

    def trigger(self, cluster, m) -> None:
        m.update(node_json(cluster, "broadcast", "--timeout", str(TIMEOUT_S), timeout=TIMEOUT_S + 60))

    def observe(self, cluster, m) -> None:
        pass

    def verdict(self, m) -> str:
        out, pending = num(m, "outstanding"), num(m, "hub_pending")
        if out is None or pending is None:
            return "not-applicable"
        # the thread's own sign: purge refuses ("Can't purge outstanding tasks") while the hub has
        # nothing pending; the id it names may be the broadcast's own, not one of its per-engine ids
        refused = "outstanding" in str(m.get("purge_error") or "")
        return "reproduced" if (out > 0 or refused) and pending == 0 else "fixed"
