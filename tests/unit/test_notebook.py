"""The notebook pieces that need no Docker: ports, names, the compose override, bad input."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from testbed import cli, labels, notebook
from testbed.errors import TestbedError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def taken_port():
    """A port of the loopback address that something listens on."""
    s = socket.socket()
    s.bind((notebook.HOST, 0))
    s.listen()
    yield s.getsockname()[1]
    s.close()


def test_a_taken_port_is_said_not_used(taken_port):
    assert not notebook.port_free(taken_port)
    with pytest.raises(TestbedError, match=f"port {taken_port} on 127.0.0.1 is taken: choose another"):
        notebook.choose_port(taken_port)


def test_without_a_port_the_first_free_one_from_8888_is_chosen(monkeypatch):
    busy = {8888, 8889}
    monkeypatch.setattr(notebook, "port_free", lambda p: p not in busy)
    assert notebook.choose_port(None) == 8890
    monkeypatch.setattr(notebook, "port_free", lambda p: False)
    with pytest.raises(TestbedError, match="are all taken: choose one with --port"):
        notebook.choose_port(None)


@pytest.mark.parametrize("port", [0, -1, 65536, 10**9])
def test_a_port_out_of_range_is_refused(port):
    with pytest.raises(TestbedError, match="a port is 1-65535"):
        notebook.choose_port(port)


def test_cli_with_a_taken_port_says_so_in_one_line_and_starts_nothing(monkeypatch, capsys, taken_port):
    started = []
    monkeypatch.setattr(cli, "is_up", lambda name: False)
    monkeypatch.setattr("testbed.images.build_lab", lambda *a, **k: started.append("image"))
    monkeypatch.setattr(cli.Cluster, "up", lambda self, **k: started.append("cluster"))
    code = cli.main(["notebook", "single-world", "--port", str(taken_port)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"port {taken_port}" in err[0] and "taken" in err[0]
    assert started == []


def test_the_lab_is_published_on_loopback_only():
    o = notebook.overrides("head", "ipp-testbed/lab:openmpi4", 8890)
    assert o == {
        "head": {
            "image": "ipp-testbed/lab:openmpi4",
            "ports": ["127.0.0.1:8890:8888"],
            "labels": {labels.LAB_PORT: "8890"},
        }
    }


def test_the_token_is_on_the_lab_command_line_and_nowhere_in_the_override():
    argv = notebook.lab_argv("abc123")
    assert "--IdentityProvider.token=abc123" in argv and "--ip=0.0.0.0" in argv
    assert "abc123" not in json.dumps(notebook.overrides("head", "img", 8888))


def test_notebook_names():
    known = notebook.known()
    assert known == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) and len(known) == 4
    assert notebook.resolve("03", known) == "03-added-engines-and-split-worlds.ipynb"
    assert notebook.resolve("notebooks/01-load-balance.ipynb", known) == "01-load-balance.ipynb"
    assert notebook.resolve("02-mpi-meets-ipython", known) == "02-mpi-meets-ipython.ipynb"
    for bad in ("0", "nope", "", "   ", ["03"], None, 3):
        with pytest.raises(TestbedError) as e:
            notebook.resolve(bad, known)
        assert "\n" not in str(e.value) and "give one of" in str(e.value)


def test_notebooks_carry_no_outputs_and_name_their_topology():
    """The repository's notebooks are sources: no outputs, no execution counts, a topology."""
    from testbed import topology

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        assert nb["metadata"]["ipp-testbed"]["topology"] in topology.known_topologies(), path.name
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name
        text = "".join("".join(c["source"]) for c in nb["cells"])
        assert "/tmp/testbed/facts.json" in text, path.name  # facts read from the cluster


def test_outputs_text_takes_streams_results_and_errors():
    nb = {
        "cells": [
            {"outputs": [{"output_type": "stream", "text": ["a\n", "b"]}]},
            {"outputs": [{"output_type": "execute_result", "data": {"text/plain": ["42"]}}]},
            {"outputs": [{"output_type": "error", "ename": "ValueError", "evalue": "bad"}]},
            {"cell_type": "markdown"},
        ]
    }
    assert notebook.outputs_text(nb) == "a\nb\n42\nValueError: bad"
