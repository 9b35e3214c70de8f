"""ipp-testbed: a containerised multi-node testbed for IPython Parallel and MPI."""

__version__ = "0.1.0"
