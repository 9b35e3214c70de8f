"""What a fault takes, derived from the topology alone (worked by hand for the catalogue)."""

import pytest

from testbed import faults, topology
from testbed.expect import derive


@pytest.mark.parametrize(
    "topo, fault, victim, lost",
    [
        ("remote-engines", "engine-killed", 3, {3}),
        ("remote-engines", "node-lost", "laptop", {3}),
        ("split-world", "rank-killed", 4, {3, 4}),  # late world: rank 0 is id 4 (descending)
        ("true-world", "rank-killed", 0, {0, 1, 2, 3, 4}),
        ("true-world", "node-lost", "node2", {0, 1, 2, 3, 4}),  # one world over node1 and node2
        ("remote-split-world", "node-lost", "laptop", {3, 4}),
        ("plain", "engine-killed", 4, {4}),
        ("remote-engines", "partition", "laptop", {3}),  # cut off longer than the heartbeat allows
        ("true-world", "partition", "node2", {0, 1, 2, 3, 4}),  # a world cut in two ends
        ("remote-engines", "slow-network", 3, set()),  # the engine on the second node; nothing lost
        ("split-world", "controller-restart", "head", set()),
    ],
)
def test_what_a_fault_takes(topo, fault, victim, lost):
    got_victim, got_lost = faults.pick(topology.load(topo), fault)
    assert getattr(got_victim, "id", got_victim) == victim and got_lost == lost


@pytest.mark.parametrize(
    "topo, fault",
    [
        ("split-world", "engine-killed"),
        ("split-world", "node-lost"),
        ("plain", "rank-killed"),
        ("single-world", "slow-network"),
        ("split-world", "partition"),
    ],
)
def test_a_fault_that_does_not_apply_says_why(topo, fault):
    assert isinstance(faults.pick(topology.load(topo), fault), str)


def test_the_engines_left_are_expected_as_derived_over_themselves():
    # split-world without its late world: 28 items over engines 0..2 (10, 9, 9), world 0 sums them all
    left = derive(topology.load("split-world"), 28, alive={0, 1, 2})
    assert [e.chunk_len for e in left] == [10, 9, 9] and {e.psum for e in left} == {float(sum(range(28)))}


# -- the contract every fault of the catalogue passes ------------------------------------------------
@pytest.mark.parametrize("name", faults.FAULTS)
def test_every_fault_is_one_module_with_its_row_in_the_docs(name):
    import inspect
    from pathlib import Path

    fault = faults.REGISTRY[name]
    module = inspect.getmodule(type(fault))
    assert module.__name__ == "testbed.faults." + name.replace("-", "_")  # one module, named after the fault
    assert fault.summary and "\n" not in fault.summary
    docs = (Path(__file__).parents[2] / "docs" / "faults.md").read_text()
    assert f"| `{name}` |" in docs, f"docs/faults.md has no row for {name}"


@pytest.mark.parametrize("name", faults.FAULTS)
@pytest.mark.parametrize("topo", topology.known_topologies())
def test_what_a_fault_takes_is_a_subset_of_the_topology_or_a_reason(name, topo):
    t = topology.load(topo)
    chosen = faults.pick(t, name)
    if isinstance(chosen, str):
        assert chosen and "\n" not in chosen
        return
    _victim, lost = chosen
    assert lost <= set(range(t.engine_count))


def test_the_catalogue_is_in_its_order_and_an_unknown_fault_is_refused():
    assert faults.FAULTS == (
        "engine-killed",
        "rank-killed",
        "node-lost",
        "partition",
        "controller-restart",
        "slow-network",
        "up-killed",
    )
    with pytest.raises(ValueError):
        faults.pick(topology.load("plain"), "no-such-fault")
