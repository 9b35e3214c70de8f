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
# on the node image (docker/Dockerfile), so on its containers: the ipyparallel version it holds
IPYPARALLEL = "ipp-testbed.ipyparallel"
COMPOSE_PROJECT = "com.docker.compose.project"  # set by Compose
COMPOSE_SERVICE = "com.docker.compose.service"  # set by Compose: the node's service name
LAB_PORT = "ipp-testbed.lab-port"  # on a lab node: the host port its JupyterLab is published on
NODE = "ipp-testbed.node"  # on a swarm node container: the topology's node (service) it is
BACKEND = "ipp-testbed.backend"  # "swarm" on a cluster deployed as a swarm stack (compose sets none)
SWARM_SERVICE = "com.docker.swarm.service.name"  # set by Swarm: <stack>_<node>
# labels of a swarm node (the machine), set by its admin with `docker node update --label-add`
SWARM_PLACE = "ipp-testbed.host"  # `--place NODE=VALUE` puts a node on the swarm nodes labelled VALUE
SWARM_ENDPOINT = "ipp-testbed.docker"  # the Docker endpoint (ssh://, tcp://) the testbed execs through


def node_of(labels: dict, default: str = "?") -> str:
    """The topology node (service) a container is, under compose or on a swarm."""
    return labels.get(COMPOSE_SERVICE) or labels.get(NODE) or default


ROLE = "ipp-testbed.role"  # "swarm-host" on a Docker-in-Docker host of `testbed dind`
MOUNT = "ipp-testbed.mount"  # on a node of a cluster with `--mount`: the folder's path in the node
UID = "ipp-testbed.uid"  # on such a node: user mpi's uid:gid (the host user's), when not 1000
PACKAGES = "ipp-testbed.packages"  # on a derived node image (`--requirements`/`--pip`): what it adds
