"""The one bounded wait of the host side: poll a check until it succeeds or time runs out.

Readiness is an event, not a sleep: a host key that exists, an ``ssh`` that answers, a
URI file that was written. Every wait has a bound, and its error names what was
waited for and the last reason it was not there yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from .errors import TestbedError

T = TypeVar("T")


class NotYet(Exception):
    """Raised by a check to say why it is not done yet (shown if the wait times out)."""


def poll(check: Callable[[], T], *, timeout: float, what: str, interval: float = 0.2) -> T:
    """Call ``check`` until it returns a true value (returned) or ``timeout`` seconds pass.

    ``check`` may return a false value or raise :class:`NotYet` with a reason; on
    timeout a :class:`TestbedError` says ``what`` was not reached and the last reason.
    """
    deadline = time.monotonic() + timeout
    reason = ""
    while True:
        try:
            value = check()
            if value:
                return value
        except NotYet as e:
            reason = str(e)
        if time.monotonic() >= deadline:
            raise TestbedError(f"{what}: not within {timeout:g} s" + (f" ({reason})" if reason else ""))
        time.sleep(interval)
