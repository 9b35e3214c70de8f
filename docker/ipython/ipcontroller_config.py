# Controller defaults of the node image (profile_default of user mpi).
c = get_config()  # noqa: F821

# A new engine is registered only once the hub has seen its heart beat; with
# ipyparallel's default 3 s period that is 3-6 s per engine group. 500 ms makes
# bring-up event-bound rather than beat-bound, at a negligible CPU cost.
c.HeartMonitor.period = 500
