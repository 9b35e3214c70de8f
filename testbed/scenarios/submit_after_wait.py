"""submit-after-wait (ipyparallel#476): engines that have just registered take a task at once,
right after ``wait_for_engines`` returns?"""

from __future__ import annotations

from .base import Scenario, node_json, num, register

NEW = 2
TIMEOUT_S = 60.0


@register
class SubmitAfterWait(Scenario):
    name = "submit-after-wait"
    issue = "ipyparallel#476"
    url = "https://github.com/ipython/ipyparallel/issues/476"
    title = "A task submitted right after wait_for_engines returns"
    measures = f"{NEW} new ipengines, wait_for_engines, then rc[:].apply at once: engines that ran it vs registered"
    topology = "plain"
    bound_s = 240.0
    keys = ("expected", "registered", "wait_s", "ran")
    logs = r"ERROR|CRITICAL|Traceback"
    example_reproduced = {"expected": 7, "registered": 7, "wait_s": 2.1, "ran": 5, "client_error": "TimeoutError: "}
    example_fixed = {"expected": 7, "registered": 7, "wait_s": 2.1, "ran": 7, "client_error": ""}

    def trigger(self, cluster, m) -> None:
        m.update(node_json(cluster, "submit-after-wait", "--start", str(NEW), "--timeout", str(TIMEOUT_S), timeout=200))

    def observe(self, cluster, m) -> None:
        pass

    def verdict(self, m) -> str:
        want, got, ran = num(m, "expected"), num(m, "registered"), num(m, "ran")
        if not want or got is None or ran is None or got < want:  # the engines never came: not this thread
            return "not-applicable"
        return "fixed" if ran == want and not m.get("client_error") else "reproduced"
