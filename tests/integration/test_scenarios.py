"""Every scenario of the catalogue on a fresh cluster (docs/scenarios.md): a verdict, the figures
it declares, within its bound. Whether a failure is reproduced is measured, not asserted."""

from __future__ import annotations

import time

import pytest

from testbed import scenarios

# the lean subset `make test-all` (and CI) runs; `make test-scenarios` runs them all
LEAN = ("segfault-task", "death-detection")


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.faults if n in LEAN else pytest.mark.scenarios) for n in scenarios.SCENARIOS],
)
def test_scenario_gives_a_verdict_with_its_figures_within_its_bound(docker_client, name):
    sc = scenarios.REGISTRY[name]
    t = time.monotonic()
    res = sc.run(log=print)
    took = time.monotonic() - t
    print(res.as_json())
    assert res.verdict in scenarios.VERDICTS
    assert set(sc.keys) <= set(res.measured), (res.error, sorted(res.measured))
    assert took < sc.bound_s, f"{name} took {took:.0f} s, its bound is {sc.bound_s:.0f} s"
    assert res.ipyparallel  # asked from the controller node
