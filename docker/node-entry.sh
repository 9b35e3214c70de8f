#!/bin/sh
# Entry point of every node container (PID 1 is tini, which reaps what the
# daemonized ipcluster, ipengine and mpiexec processes leave behind).
#   idle          keep the node up; the testbed starts controller and engines
#                 with `docker exec` in the order the topology describes
#   <cmd> ...     run that command instead
set -e
case "${1:-idle}" in
    idle) exec sleep infinity ;;
    *) exec "$@" ;;
esac
