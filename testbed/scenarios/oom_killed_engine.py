"""oom-killed-engine (ipyparallel#695, #706): a busy engine's process gets SIGKILL, as the OOM killer
sends it. What does the client see, how fast, and does a new ``ipengine`` take its place?"""

from __future__ import annotations

from .base import Scenario, flag, node_json, register

TIMEOUT_S = 30.0
ENGINE = 4  # the last of plain's 5


@register
class OomKilledEngine(Scenario):
    name = "oom-killed-engine"
    issue = "ipyparallel#695"
    url = "https://github.com/ipython/ipyparallel/issues/695"
    title = "More user-friendly errors and automatic restarts when engines crash due to OOM (and #706)"
    measures = "SIGKILL of a busy engine: the task's error and its delay, time to drop, a new ipengine registers?"
    topology = "plain"
    bound_s = 300.0
    keys = ("engines", "task_error", "task_error_s", "detect_s", "restarted", "engines_after")
    logs = r"died|SIGKILL|signal|unregister|CRITICAL"
    example_reproduced = {
        "engines": 5,
        "task_error": "",
        "task_error_s": None,
        "detect_s": None,
        "restarted": False,
        "engines_after": 4,
    }
    example_fixed = {
        "engines": 5,
        "task_error": "EngineError: Engine 4 died while running task (signal 9: SIGKILL)",
        "task_error_s": 0.3,
        "detect_s": 0.3,
        "restarted": True,
        "engines_after": 5,
    }

    def trigger(self, cluster, m) -> None:
        args = ["--engine", str(ENGINE), "--timeout", str(TIMEOUT_S)]
        m.update(node_json(cluster, "oom-kill", *args, timeout=3 * TIMEOUT_S + 60))

    def observe(self, cluster, m) -> None:
        pass

    def verdict(self, m) -> str:
        error, restarted = m.get("task_error"), flag(m, "restarted")
        if not isinstance(error, str) or restarted is None:
            return "not-applicable"
        says_kill = any(w in error for w in ("SIGKILL", "signal 9", "-9", "killed", "Killed"))
        return "fixed" if error and says_kill and restarted else "reproduced"
