"""The one bounded wait: it returns what the check found, or says what it waited for and why not."""

import time

import pytest

from testbed.errors import TestbedError
from testbed.waiting import NotYet, poll


def test_returns_the_first_true_value():
    calls = iter([None, "", "found"])
    assert poll(lambda: next(calls), timeout=5, what="x", interval=0) == "found"


def test_timeout_names_what_and_the_last_reason():
    def check():
        raise NotYet("connection refused")

    t0 = time.monotonic()
    with pytest.raises(TestbedError) as e:
        poll(check, timeout=0.2, what="ssh from head to node1", interval=0.05)
    assert time.monotonic() - t0 < 2
    assert str(e.value) == "ssh from head to node1: not within 0.2 s (connection refused)"


def test_other_errors_are_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        poll(lambda: 1 / 0, timeout=1, what="x")
