"""controller-restart: ``kill -9`` of the controller, then ``ipcontroller --restore`` on the same
connection files. How many engines come back is measured, and the check says which did not."""

from __future__ import annotations

import time

from .. import checks
from ..cluster import ATTACHED_WAIT, LOGS
from ..waiting import poll
from .base import COME_BACK_S, Fault, register, registered_within

# ipcontroller's process, however it was started (by ipcluster, or alone): pkill's pattern, argv
PATTERN = "ipyparallel.controller|bin/ipcontroller"


@register
class ControllerRestart(Fault):
    name = "controller-restart"
    summary = "`kill -9` of the controller, then `ipcontroller --restore` on the same connection files"
    order = 50

    def pick(self, topo):
        return topo.controller, set()

    def drill(self, cluster, victim, lost, res) -> None:
        topo, ctl = cluster.topology, cluster.controller
        host = topo.hostname(topo.controller)
        killed = ctl.exec(["pkill", "-9", "-f", PATTERN]).code == 0
        res.expect("the controller's process was there to kill", killed)
        poll(lambda: ctl.exec(["pgrep", "-f", PATTERN]).code == 1, timeout=10, what="the controller gone")
        t = time.time()
        res.done = "kill -9 of the controller, then ipcontroller --restore on the same connection files"
        ctl.start(["ipcontroller", "--restore", "--ip=0.0.0.0", f"--location={host}"], LOGS / "controller-restored.log")
        back = registered_within(cluster, topo.engine_count, COME_BACK_S)
        res.extra["engines_back"] = back
        if back == topo.engine_count:  # here: the time until every engine is registered again
            res.detect_s = round(time.time() - t, 2)
        # the check: a client gets answers (or this raises), the engines back are as derived
        report = cluster.report(topo.scatter, timeout=ATTACHED_WAIT, partial=True)
        seen = {int(e["id"]) for e in report["engines"]}
        as_derived = not seen or checks.against(topo, report["engines"], cluster=cluster.name, alive=seen).ok
        res.lost = sorted(set(range(topo.engine_count)) - seen)
        res.extra["check"] = cluster.missing_note(res.lost) if res.lost else "every engine back, as derived"
        res.held.append("the restored controller answers a client")
        res.expect(f"every engine came back: {len(seen)} of {topo.engine_count}", len(seen) == topo.engine_count)
        res.expect("the check reports the engines back as derived and names any that did not come back", as_derived)
