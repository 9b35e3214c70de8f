"""up-killed: ``testbed up`` killed with SIGKILL in the middle of a bring-up; the next ``up`` of that
name says what is left and how to remove it; ``down`` leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from .. import docker_env
from ..waiting import poll
from .base import Drill, Fault, FaultResult, count_text, register


@register
class UpKilled(Fault):
    name = "up-killed"
    summary = "`testbed up` killed with SIGKILL mid-bring-up: the next `up` names the remainder, `down` removes it"
    order = 70

    def pick(self, topo):
        return "testbed up", set()

    def run(self, d: Drill) -> FaultResult:  # its own bring-up, killed: no session
        res = FaultResult(self.name, d.topo.name)
        name = f"faults-upkill-{d.topo.name}"[:41]
        c = docker_env.client()
        docker_env.clean(c, name)
        cli = [sys.executable, "-m", "testbed.cli"]
        topo_arg = str(d.topo.path)
        swarm = ["--swarm"] if d.backend == "swarm" else []
        proc = subprocess.Popen(
            [*cli, "up", topo_arg, "--name", name, "--mpi", d.stack.name, *swarm],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            poll(
                lambda: any(docker_env.leftovers(c, name).values()) or docker_env.swarm_services(c, name),
                timeout=120,
                what="the bring-up's first node",
            )
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole bring-up, compose included, as a closed terminal
            proc.wait()
        # requests the killed compose had sent may still be completing in the daemon: wait until
        # what is left stops changing (bounded), so that the next `up` and `down` see all of it
        seen: list[dict] = []

        def settled() -> bool:
            seen.append(docker_env.leftovers(c, name))
            return len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]

        poll(settled, timeout=30, what="the killed bring-up's remainder to settle", interval=1.0)
        left = seen[-1]
        res.done = f"SIGKILL of `testbed up {d.topo.name}` once its first node existed: {count_text(left)} left"
        again = subprocess.run(
            [*cli, "up", topo_arg, "--name", name, *swarm], capture_output=True, text=True, timeout=120
        )
        lines = [ln for ln in again.stderr.strip().splitlines() if ln.strip()]
        res.extra["next_up_says"] = lines[-1] if lines else ""
        res.expect(
            "the next `up` of that name refuses, in one line, with exit status 2",
            again.returncode == 2 and len(lines) == 1 and "Traceback" not in again.stderr,
        )
        said = lines[-1] if lines else ""
        res.expect(
            "it says what is left and the one command that removes it",
            f"testbed down --name {name}" in said and ("container" in said or "network" in said),
        )
        down = subprocess.run([*cli, "down", topo_arg, "--name", name], capture_output=True, text=True, timeout=300)
        after = docker_env.leftovers(c, name)
        res.extra["after_down"] = after
        res.expect(
            f"`testbed down --name {name}` leaves 0 containers, networks and volumes ({count_text(after)})",
            down.returncode == 0 and not any(after.values()) and not docker_env.swarm_services(c, name),
        )
        res.tasks_lost = 0
        return res
