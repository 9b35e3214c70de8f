"""segfault-task (ipyparallel#322): a task segfaults its engine. What error does the client get,
how fast, and is the dead engine cleaned up?"""

from __future__ import annotations

from .base import Scenario, flag, node_json, num, register

TIMEOUT_S = 30.0


@register
class SegfaultTask(Scenario):
    name = "segfault-task"
    issue = "ipyparallel#322"
    url = "https://github.com/ipython/ipyparallel/issues/322"
    title = "Engines that segfault aren't cleaned up properly"
    measures = "a load-balanced task reads address 0: the client's error and its delay, engines left after"
    topology = "plain"
    bound_s = 240.0
    keys = ("engines", "answered", "task_error", "task_error_s", "engines_after")
    logs = r"died|SIGSEGV|signal|segmentation|unregister|CRITICAL"
    example_reproduced = {"engines": 5, "answered": False, "task_error": "", "task_error_s": None, "engines_after": 5}
    example_fixed = {
        "engines": 5,
        "answered": True,
        "task_error": "EngineError: Engine 3 died while running task",
        "task_error_s": 0.5,
        "engines_after": 4,
    }

    def trigger(self, cluster, m) -> None:
        m.update(node_json(cluster, "segfault", "--timeout", str(TIMEOUT_S), timeout=TIMEOUT_S + 90))

    def observe(self, cluster, m) -> None:
        pass

    def verdict(self, m) -> str:
        answered, n, after = flag(m, "answered"), num(m, "engines"), num(m, "engines_after")
        if answered is None or n is None or after is None:
            return "not-applicable"
        # reproduced: the client waited in vain, or the dead engine is still listed
        return "fixed" if answered and m.get("task_error") and after < n else "reproduced"
