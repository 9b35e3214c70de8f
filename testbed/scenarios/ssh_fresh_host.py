"""ssh-fresh-host (ipyparallel#646): ipcluster's SSH launcher, with a profile other than the default,
starts engines on hosts that have never seen that profile. Do they register?"""

from __future__ import annotations

import json

from ..cluster import LOGS
from ..launch import HOME, ipcluster_engines
from ..waiting import poll
from .base import Scenario, count_lines, node_json, num, register

PROFILE = "scenario"  # made on the controller node by ipcontroller; absent on every engine node
WAIT_S = 60.0
NOT_FOUND = r"not found|No such file|ProfileDirError"


@register
class SshFreshHost(Scenario):
    name = "ssh-fresh-host"
    issue = "ipyparallel#646"
    url = "https://github.com/ipython/ipyparallel/issues/646"
    title = "'.ipython/profile_ssh' not found"
    measures = f"`ipcluster engines --engines=ssh --profile={PROFILE}` to a node without that profile: registered"
    topology = "ssh-engines"
    engines = False  # nodes and ssh trust only: the trigger starts the controller and the SSH launcher
    bound_s = 300.0
    keys = ("expected", "registered", "remote_profile_before", "not_found_lines")
    logs = NOT_FOUND + "|CRITICAL|ERROR"
    example_reproduced = {"expected": 2, "registered": 0, "remote_profile_before": False, "not_found_lines": 2}
    example_fixed = {"expected": 2, "registered": 2, "remote_profile_before": False, "not_found_lines": 0}

    def trigger(self, cluster, m) -> None:
        topo, ctl = cluster.topology, cluster.controller
        group = topo.groups[0]
        profile = HOME / f".ipython/profile_{PROFILE}"
        m["expected"] = group.engines
        m["remote_profile_before"] = cluster.exec(group.node, ["test", "-d", str(profile)]).code == 0
        host = topo.hostname(topo.controller)
        ctl.start(["ipcontroller", f"--profile={PROFILE}", "--ip=0.0.0.0", f"--location={host}"], LOGS / "scen-ctl.log")
        engine_file = profile / "security/ipcontroller-engine.json"
        poll(
            lambda: ctl.exec(["test", "-f", str(engine_file)]).code == 0,
            timeout=60,
            what="the controller's engine file",
        )
        engines = json.dumps({topo.hostname(group.node): group.engines})
        argv = ipcluster_engines(group.engines, f"--profile={PROFILE}", "--engines=ssh")
        ctl.start([*argv, f"--SSHEngineSetLauncher.engines={engines}"], LOGS / "scen-ssh.log")
        args = ["--profile", PROFILE, "--engines", str(group.engines), "--wait", str(WAIT_S)]
        m.update(node_json(cluster, "count", *args, timeout=WAIT_S + 60))

    def observe(self, cluster, m) -> None:
        m["not_found_lines"] = count_lines(cluster, NOT_FOUND)

    def verdict(self, m) -> str:
        want, got = num(m, "expected"), num(m, "registered")
        if not want or got is None or m.get("remote_profile_before") is True:  # not a fresh host
            return "not-applicable"
        return "fixed" if got >= want else "reproduced"
