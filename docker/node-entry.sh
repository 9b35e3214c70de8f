#!/bin/sh
# Entry point of every node container (PID 1 is tini, which reaps what the
# daemonized ipcluster, ipengine and mpiexec processes leave behind).
#   idle          start sshd, then keep the node up; the testbed starts controller
#                 and engines with `docker exec` in the order the topology says
#   <cmd> ...     run that command instead
set -e
case "${1:-idle}" in
    idle)
        if [ "$(id -u)" = 0 ]; then
            # this node's host key is made now, per container: none is in the image
            [ -f /etc/ssh/ssh_host_ed25519_key ] \
                || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
            /usr/sbin/sshd -E /tmp/sshd.log || echo "node-entry: sshd did not start" >&2
        fi
        exec sleep infinity ;;
    *) exec "$@" ;;
esac
