"""Backends: where a cluster's nodes run (``base.Backend``; one module a member, in ``REGISTRY``)."""

from __future__ import annotations

from . import compose, k8s, swarm  # noqa: F401 - each registers its backend
from .base import REGISTRY, Backend, NoNetem, get, kind_of, project_name, register

__all__ = ["REGISTRY", "Backend", "NoNetem", "get", "kind_of", "project_name", "register"]
