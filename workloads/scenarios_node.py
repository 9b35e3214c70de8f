"""The client side of ``testbed scenario`` (docs/scenarios.md): one subcommand per scenario, run on
the controller node (``reach``: on an engine node). Each prints one JSON object of what it measured
and judges nothing. Every client call has a timeout; the process ends with ``os._exit``, so a
stuck ipyparallel thread never keeps it alive (and the host runs it under ``timeout`` as well).

    python scenarios_node.py count [--timeout S] [--profile P] [--engines N --wait S]
    python scenarios_node.py storm --engines N --wait S [--engine-timeout S --registration-timeout S]
    python scenarios_node.py shutdown-after-kill [--bound S]
    python scenarios_node.py oom-kill --engine I [--timeout S]
    python scenarios_node.py watch --engine I --marker M --out O [--timeout S]
    python scenarios_node.py segfault [--timeout S]
    python scenarios_node.py broadcast [--timeout S]
    python scenarios_node.py submit-after-wait --start N [--timeout S]
    python scenarios_node.py reach --file ENGINE_JSON
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

ENGINE_FILE = os.path.expanduser("~/.ipython/profile_default/security/ipcontroller-engine.json")
LOGS = "/tmp/testbed"


def err(e: BaseException) -> str:
    """What the client saw, in one line: ipyparallel's ename when it has one."""
    text = [ln for ln in str(e).strip().splitlines() if ln.strip()]
    return f"{getattr(e, 'ename', None) or type(e).__name__}: {text[-1][:240] if text else ''}"


def client(timeout: float = 30, **kw):
    import ipyparallel as ipp

    return ipp.Client(timeout=timeout, **kw)


def pid():
    import os

    return os.getpid()


def start_engines(n: int, tag: str, *extra: str) -> None:
    """``n`` ipengines at once, each its own session and log (left running)."""
    for i in range(n):
        with open(f"{LOGS}/scen-{tag}-{i}.log", "w") as log:
            argv = ["ipengine", f"--file={ENGINE_FILE}", *extra]
            subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_count(rc, n: int, timeout: float) -> tuple[int, float, str]:
    """(engines registered, seconds waited, the error) after ``rc.wait_for_engines(n)`` within ``timeout``."""
    t, error = time.monotonic(), ""
    try:
        rc.wait_for_engines(n, timeout=timeout)
    except Exception as e:  # TimeoutError: fewer than n within the bound
        error = err(e)
    return len(rc.ids), round(time.monotonic() - t, 2), error


def cmd_count(a) -> dict:
    """The engines registered now, or (``--engines N``) once N are, within ``--wait`` seconds."""
    rc = client(a.timeout, **({"profile": a.profile} if a.profile else {}))
    if not a.engines:
        return {"registered": len(rc.ids)}
    registered, waited, error = wait_count(rc, a.engines, a.wait)
    return {"registered": registered, "wait_s": waited, "client_error": error}


def cmd_storm(a) -> dict:
    """ipcontroller, then N ipengines at once (ipyparallel#301, #394, #700)."""
    host = os.uname().nodename
    for f in (ENGINE_FILE,):
        if os.path.exists(f):
            os.remove(f)
    log_path = f"{LOGS}/scen-controller.log"
    with open(log_path, "w") as log:
        argv = ["ipcontroller", "--ip=0.0.0.0", f"--location={host}", "--log-level=20"]
        # an Int trait: "30.0" is refused ("expected an int, not the str")
        argv += [f"--IPController.registration_timeout={int(a.registration_timeout)}"] if a.registration_timeout else []
        ctl = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    until = time.monotonic() + 60
    while not os.path.exists(ENGINE_FILE) and time.monotonic() < until and ctl.poll() is None:
        time.sleep(0.2)
    if not os.path.exists(ENGINE_FILE):
        with open(log_path) as f:
            last = ([ln.strip() for ln in f if ln.strip()] or ["(no log)"])[-1][-240:]
        return {"expected": a.engines, "registered": 0, "error": f"the controller wrote no engine file: {last}"}
    time.sleep(1)  # the file is written before the hub listens
    start_engines(a.engines, "storm", *([f"--IPEngine.timeout={a.engine_timeout}"] if a.engine_timeout else []))
    rc = client()
    registered, waited, error = wait_count(rc, a.engines, a.wait)
    time.sleep(5)  # what a client that comes later sees (ipyparallel#301: a client sees only some)
    later = len(client().ids)
    return {
        "expected": a.engines,
        "registered": registered,
        "wait_s": waited,
        "later_client": later,
        "client_error": error,
    }


def cmd_shutdown_after_kill(a) -> dict:
    """ipyparallel#229: tasks running, engines interrupted by pid, then ``shutdown(hub=True)``."""
    rc = client()
    pids = rc[:].apply_async(pid).get_dict(timeout=30)
    for i in rc.ids:
        rc[i].apply_async(time.sleep, 30)
    time.sleep(1)
    for p in pids.values():
        os.kill(int(p), signal.SIGINT)
    out: dict = {"engines": len(pids), "client_error": ""}

    def shut() -> None:
        try:
            rc.shutdown(hub=True, block=True)
        except Exception as e:
            out["client_error"] = err(e)

    t = time.monotonic()
    th = threading.Thread(target=shut, daemon=True)
    th.start()
    th.join(a.bound)
    out.update(blocked=th.is_alive(), shutdown_s=round(time.monotonic() - t, 2), bound_s=a.bound)
    return out


def cmd_oom_kill(a) -> dict:
    """ipyparallel#695/#706: SIGKILL of a busy engine (as the OOM killer does), then a new ipengine."""
    rc = client()
    n = len(rc.ids)
    victim = int(rc[a.engine].apply_sync(pid))
    ar = rc[a.engine].apply_async(time.sleep, 120)
    time.sleep(1)
    t = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    out = {"engines": n, "task_error": "", "task_error_s": None, "detect_s": None}
    try:
        ar.get(timeout=a.timeout)
    except Exception as e:
        if type(e).__name__ != "TimeoutError":
            out.update(task_error=err(e), task_error_s=round(time.monotonic() - t, 2))
    until = time.monotonic() + a.timeout
    while a.engine in rc.ids and time.monotonic() < until:
        time.sleep(0.1)
    if a.engine not in rc.ids:
        out["detect_s"] = round(time.monotonic() - t, 2)
    t = time.monotonic()
    start_engines(1, "restart")
    back, waited, error = wait_count(rc, n, a.timeout)
    out.update(restarted=back >= n, engines_after=back, restart_s=waited, error=error)
    return out


def cmd_watch(a) -> dict:
    """Writes the marker (the engines' pids), then times until engine ``--engine`` leaves ``rc.ids``."""
    rc = client()
    where = {str(i): [h, p] for i, (h, p) in rc[:].apply_async(whoami).get_dict(timeout=30).items()}
    write(a.marker, {"where": where})
    t, gone = time.time(), None
    until = time.monotonic() + a.timeout
    while time.monotonic() < until:
        if a.engine not in rc.ids:
            gone = time.time()
            break
        time.sleep(0.05)
    doc = {"engine": a.engine, "t_marker": t, "gone_at": gone, "left": sorted(rc.ids)}
    write(a.out, doc)
    return doc


def whoami():
    import os
    import socket

    return socket.gethostname(), os.getpid()


def crash():
    import ctypes

    ctypes.string_at(0)  # a segmentation fault in the engine's process


def cmd_segfault(a) -> dict:
    """ipyparallel#322: a task that segfaults its engine, through a load-balanced view."""
    rc = client()
    n = len(rc.ids)
    t = time.monotonic()
    ar = rc.load_balanced_view().apply_async(crash)
    out = {"engines": n, "answered": False, "task_error": "", "task_error_s": None}
    try:
        ar.get(timeout=a.timeout)
        out["answered"] = True
    except Exception as e:
        if type(e).__name__ != "TimeoutError":
            out.update(answered=True, task_error=err(e), task_error_s=round(time.monotonic() - t, 2))
    time.sleep(5)
    later = client()
    out.update(engines_after=len(later.ids), queue_status_ok=bool(later.queue_status(verbose=False)))
    return out


def cmd_broadcast(a) -> dict:
    """ipyparallel#882: a broadcast view's apply; does the client keep tasks the hub says are done?"""
    rc = client()
    view = rc.broadcast_view()
    view.is_coalescing = False
    ar = view.apply_async(pid)
    results = ar.get(timeout=a.timeout)
    until = time.monotonic() + 5
    while rc.outstanding & set(ar.msg_ids) and time.monotonic() < until:
        time.sleep(0.1)
    stuck = rc.outstanding & set(ar.msg_ids)
    # the hub's view as the thread read it (queue_status): a broadcast's per-engine message ids are
    # unknown to result_status ("No such message"), so the hub's queue counts are what is compared
    queues = {k: v for k, v in rc.queue_status().items() if isinstance(v, dict)}
    pending = sum(int(v.get("queue", 0)) + int(v.get("tasks", 0)) for v in queues.values())
    out = {"results": len(results), "outstanding": len(stuck), "hub_pending": pending}
    out["hub_completed"] = sum(int(v.get("completed", 0)) for v in queues.values())
    try:
        rc.purge_local_results("all")
        out["purge_error"] = ""
    except Exception as e:  # "Can't purge outstanding tasks"
        out["purge_error"] = err(e)
    return out


def cmd_submit_after_wait(a) -> dict:
    """ipyparallel#476: new engines, ``wait_for_engines``, then a task on every engine at once."""
    rc = client()
    n0 = len(rc.ids)
    start_engines(a.start, "late")
    want = n0 + a.start
    registered, waited, error = wait_count(rc, want, a.timeout)
    out = {"expected": want, "registered": registered, "wait_s": waited, "ran": 0, "client_error": error}
    try:
        out["ran"] = len(set(rc[:].apply_async(pid).get(timeout=a.timeout)))
    except Exception as e:
        out["client_error"] = err(e)
    return out


def cmd_reach(a) -> dict:
    """ipyparallel#231: on an engine node, the networks it has and whether the controller's
    registration address in its connection file is reachable from it."""
    import socket

    nets = subprocess.run(["ip", "-o", "-4", "addr", "show", "scope", "global"], capture_output=True, text=True)
    networks = len([ln for ln in nets.stdout.splitlines() if ln.strip()])
    with open(a.file) as f:
        info = json.load(f)
    host = info.get("location") or ""
    port = info.get("registration")
    out = {"networks": networks, "location": host, "port": port, "reachable": False, "client_error": ""}
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
        out["reachable"] = True
    except (OSError, TypeError, ValueError) as e:
        out["client_error"] = err(e)
    return out


def write(path: str, doc: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


def main() -> None:
    p = argparse.ArgumentParser(prog="scenarios_node.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("count")
    s.add_argument("--timeout", type=float, default=10)
    s.add_argument("--profile", default="")
    s.add_argument("--engines", type=int, default=0)
    s.add_argument("--wait", type=float, default=60)
    s = sub.add_parser("storm")
    s.add_argument("--engines", type=int, required=True)
    s.add_argument("--wait", type=float, default=90)
    s.add_argument("--engine-timeout", type=float, default=0, help="IPEngine.timeout (0: the profile's)")
    s.add_argument("--registration-timeout", type=float, default=0, help="IPController.registration_timeout")
    s = sub.add_parser("shutdown-after-kill")
    s.add_argument("--bound", type=float, default=20)
    s = sub.add_parser("oom-kill")
    s.add_argument("--engine", type=int, required=True)
    s.add_argument("--timeout", type=float, default=30)
    s = sub.add_parser("watch")
    s.add_argument("--engine", type=int, required=True)
    s.add_argument("--marker", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--timeout", type=float, default=60)
    for name in ("segfault", "broadcast"):
        s = sub.add_parser(name)
        s.add_argument("--timeout", type=float, default=30)
    s = sub.add_parser("submit-after-wait")
    s.add_argument("--start", type=int, default=2)
    s.add_argument("--timeout", type=float, default=60)
    s = sub.add_parser("reach")
    s.add_argument("--file", default=ENGINE_FILE)
    a = p.parse_args()
    try:
        doc = globals()["cmd_" + a.cmd.replace("-", "_")](a)
    except Exception as e:  # one line for the host side, never a traceback
        doc = {"error": err(e)}
    # "error" is the host's sign of a failed run; what a client saw while measuring is "client_error"
    print(json.dumps(doc), flush=True)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
