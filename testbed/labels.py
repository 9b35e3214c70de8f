"""Every Docker label the testbed reads or writes, in one place.

Containers, networks and volumes of a cluster carry ``CLUSTER=<name>``, so that
``testbed clean``, ``down`` and test teardown find them all, even after a crash.
The compose files (``compose/node.yml``) write the same names.
"""

CLUSTER = "ipp-testbed.cluster"  # the cluster's name
TOPOLOGY = "ipp-testbed.topology"  # the topology it was brought up from
COUNTS = "ipp-testbed.counts"  # its engine counts per group, e.g. "3,2"
MPI = "ipp-testbed.mpi"  # its MPI stack (also on each node image)
IMAGE_INPUTS = "ipp-testbed.inputs"  # on the node image: a hash of what it was built from
IMAGE_ROLE = "ipp-testbed.image"  # on an image of the testbed: "node" or "lab"
COMPOSE_PROJECT = "com.docker.compose.project"  # set by Compose
COMPOSE_SERVICE = "com.docker.compose.service"  # set by Compose: the node's service name
LAB_PORT = "ipp-testbed.lab-port"  # on a lab node: the host port its JupyterLab is published on
