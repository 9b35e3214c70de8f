# Controller defaults of the node image (profile_default of user mpi).
c = get_config()  # noqa: F821

# A new engine is registered only once the hub has seen its heart beat; with
# ipyparallel's default 3 s period that is 3-6 s per engine group. 500 ms makes
# bring-up event-bound rather than beat-bound, at a negligible CPU cost.
c.HeartMonitor.period = 500

# The hub forgets an engine whose registration it accepted but whose heart it has not
# seen beat within registration_timeout: ipyparallel's default is max(30 s, 10 heartbeat
# periods), 30 s here. With 128 engines starting on 2 cores, the first hearts beat 44 s
# after their registration was accepted, so every registration was purged and 0 of 128
# engines registered (ipyparallel logs "purging stalled registration", then "ignoring
# new heart"). 300 s holds for that, with room (docs/scale.md).
c.IPController.registration_timeout = 300

# The ports a client connects to are fixed, so that the testbed can publish them on the
# host's 127.0.0.1 when the node is created (`testbed client`, a host-side ipp.Client;
# testbed/hostclient.py): registration is the first engine port, then control, mux, task,
# iopub, notification and broadcast from the client pool. The engines' other ports stay
# random: only the cluster network reaches them.
# Only while they are free: a second controller on the node (a user's own ipp.Cluster(), which
# reads this profile too) then takes random ports, as ipyparallel does by default.
import socket  # noqa: E402


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


if all(_free(p) for p in range(10101, 10108)):
    c.IPController.engine_ports = [10101]
    c.IPController.client_ports = list(range(10102, 10108))
