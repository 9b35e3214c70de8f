"""ipp-testbed: a containerised multi-node testbed for IPython Parallel and MPI.

The public API is ``testbed.cluster`` (docs/api.md); everything else is the testbed's own.
"""

__version__ = "0.1.0"

from . import launch  # noqa: E402,F401  (registers the launch kinds the topology parser looks up: testbed.kinds)
from .api import ExecResult, TestbedCluster, TestbedError, cluster  # noqa: E402

__all__ = ["ExecResult", "TestbedCluster", "TestbedError", "cluster"]
