"""shutdown-after-kill (ipyparallel#229): engines interrupted by pid while they run tasks, then
``client.shutdown(hub=True)``: does it block? (run in a thread, bounded)."""

from __future__ import annotations

from .base import Scenario, flag, node_json, register

BOUND_S = 20.0


@register
class ShutdownAfterKill(Scenario):
    name = "shutdown-after-kill"
    issue = "ipyparallel#229"
    url = "https://github.com/ipython/ipyparallel/issues/229"
    title = "kill engines by pid & client.shutdown blocks"
    measures = f"SIGINT to every busy engine's pid, then shutdown(hub=True): blocked past {BOUND_S:.0f} s? how long"
    topology = "plain"
    bound_s = 240.0
    keys = ("engines", "blocked", "shutdown_s", "bound_s")
    logs = r"shutdown|KeyboardInterrupt|CRITICAL"
    example_reproduced = {"engines": 5, "blocked": True, "shutdown_s": 20.0, "bound_s": 20.0}
    example_fixed = {"engines": 5, "blocked": False, "shutdown_s": 0.4, "bound_s": 20.0}

    def trigger(self, cluster, m) -> None:
        m.update(node_json(cluster, "shutdown-after-kill", "--bound", str(BOUND_S), timeout=BOUND_S + 90))

    def observe(self, cluster, m) -> None:
        pass

    def verdict(self, m) -> str:
        blocked = flag(m, "blocked")
        if blocked is None:
            return "not-applicable"
        return "reproduced" if blocked else "fixed"
