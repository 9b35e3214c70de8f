"""One integration session per Docker engine: a second one is refused while the first runs."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import lock_path

TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    sys.exit(3)
"""


def test_a_second_session_on_this_engine_finds_the_lock_held(docker_client):
    path = lock_path()
    assert path.read_text().strip() == str(os.getpid())  # the holder, as the refusal names it
    proc = subprocess.run([sys.executable, "-c", TRY_LOCK, str(path)], timeout=30)
    assert proc.returncode == 3, "another process could take this session's lock"
