"""The notebooks of notebooks/, run against lab clusters: headless (nbclient), and once in a
real browser (Debian's Chromium, driven by Playwright).

What each notebook prints is compared with what the topology derives (expect.derive), never
with its own output: each notebook ends with one ``RESULT {...}`` line of what it measured.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from testbed import cli, expect, notebook, topology
from testbed.cluster import Cluster, IfExists

pytestmark = pytest.mark.integration

PREFIX = "it-nb-"
# each notebook, and the topology it is tested on (its metadata says the same)
NOTEBOOKS = {
    "01-load-balance.ipynb": "plain",
    "02-mpi-meets-ipython.ipynb": "single-world",
    "03-added-engines-and-split-worlds.ipynb": "split-world",
    "04-beyond-the-lecture.ipynb": "merged-world",
}
BROWSER_NOTEBOOK = "03-added-engines-and-split-worlds.ipynb"
OUTPUT = Path(os.environ.get("TESTBED_TEST_OUTPUT", "results/test-output"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def labs(docker_client):
    """Lab clusters by topology, each brought up once for the module (the lab image first)."""
    from testbed import images

    images.build_lab(log=print)  # up to date after `make test` (lab-image): returns at once
    up: dict[str, Cluster] = {}

    def get(name: str) -> Cluster:
        if name not in up:
            topo = topology.load(name)
            port = notebook.choose_port(None)
            up[name] = Cluster(topo, name=PREFIX + name, log=print, lab_port=port).up(if_exists=IfExists.REPLACE)
        return up[name]

    yield get
    for cluster in up.values():
        cluster.down()


def _result(executed: dict) -> dict:
    text = notebook.outputs_text(executed)
    lines = [ln for ln in text.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"no RESULT line in the notebook's output:\n{text[-2000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


def _errors(executed: dict) -> list[str]:
    return [
        f"{o.get('ename')}: {o.get('evalue')}"
        for cell in executed.get("cells", [])
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def test_every_notebook_is_tested():
    """A notebook added to notebooks/ gets a topology here, and its metadata names the same one."""
    assert sorted(NOTEBOOKS) == notebook.known()
    for name, topo in NOTEBOOKS.items():
        meta = json.loads((Path("notebooks") / name).read_text())["metadata"]
        assert meta["ipp-testbed"]["topology"] == topo


# the everyday tier runs the browser notebook's (one lab cluster); the full matrix runs them all
@pytest.mark.parametrize(
    "nb", [nb if nb == BROWSER_NOTEBOOK else pytest.param(nb, marks=pytest.mark.extended) for nb in NOTEBOOKS]
)
def test_notebook_runs_headless(labs, nb):
    topo_name = NOTEBOOKS[nb]
    cluster = labs(topo_name)
    executed = cluster.lab.execute(nb)
    assert not _errors(executed)
    got = _result(executed)
    topo = cluster.topology
    want = expect.derive(topo)
    assert got["topology"] == topo_name
    assert got["engines"] == [e.id for e in want]
    if nb.startswith("01"):
        # 27 tasks, 5 heavy first: the direct view's chunks are ipyparallel's split of 27 over the engines
        bounds = expect.scatter_bounds(27, len(want))
        assert got["direct_tasks_per_engine"] == [b - a for a, b in bounds]
        heavy = {str(e.id): sum(1 for i in range(a, b) if i < 5) for e, (a, b) in zip(want, bounds)}
        assert got["direct_heavy_per_engine"] == heavy  # {0: 5, others 0}: the lecture's observation
        pngs = [o for c in executed["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        assert pngs, "the timeline plot is missing"
        return
    assert got["psum"] == [e.psum for e in want]
    assert got["ranks"] == [e.world_rank for e in want]
    assert got["hosts"] == [e.hostname for e in want]
    assert got["agree"] is True
    if nb.startswith("02"):
        assert got["chunk_lens"] == [e.chunk_len for e in want]
        assert got["distinct_pids"] == len(want)
        rank1 = next(e for e in want if e.world_rank == 1)
        assert got["d"] == [float(rank1.chunk_start) if e.world_rank == 0 else 0.0 for e in want]
        assert got["objs"] == [{"a": 7, "b": 3.14} if e.world_rank == 1 else None for e in want]
    if nb.startswith("03"):
        assert got["sizes"] == [e.world_size for e in want]
        assert got["psum"] == [153, 153, 153, 225, 225]  # the lecture's L10
    if nb.startswith("04"):
        assert got["merged"]["psum"] == [e.merged_psum for e in want]
        assert got["merged"]["ranks"] == [e.merged_rank for e in want]
        assert got["merged"]["sizes"] == [e.merged_size for e in want]


def test_lab_takes_only_its_token(labs):
    lab = labs("split-world").lab
    assert lab.get("/api/contents")[0] == 200
    assert lab.get("/api/contents", token="0" * 48)[0] == 403
    assert lab.get("/api/contents", token=None)[0] == 403
    assert not notebook.port_free(lab.port)  # published on the host's loopback address


def test_lab_panel_lists_the_cluster(labs):
    """ipyparallel's JupyterLab panel reads this list: the testbed's cluster is there, running, with
    the topology's engine count."""
    cluster = labs("split-world")
    code, body = cluster.lab.get("/ipyparallel/clusters")
    assert code == 200
    mine = [c for c in json.loads(body) if c["id"] == f"default:{cluster.name}"]
    assert mine, [c["id"] for c in json.loads(body)]
    assert mine[0]["controller"]["state"]["state"] == "running"
    assert mine[0]["cluster"]["n"] == cluster.topology.engine_count


def _chromium() -> str:
    """The Chromium to drive: TESTBED_CHROMIUM, one on PATH, or Playwright's own (`make browser`)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return _no_browser("Playwright is not installed: `make venv`")
    path = os.environ.get("TESTBED_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        with sync_playwright() as p:
            own = p.chromium.executable_path
        path = own if own and os.path.exists(own) else ""
    if not path:
        return _no_browser(
            "no Chromium: `make browser` (Debian's with apt as root, or Playwright's), or TESTBED_CHROMIUM=/path"
        )
    return path


def _no_browser(msg: str) -> str:
    if IN_CI:
        pytest.fail(msg)
    pytest.skip(msg)
    return ""


@pytest.mark.browser
def test_notebook_in_a_real_browser(labs):
    """Headless Chromium opens the lab with the token, runs every cell of a notebook from the
    Run menu, finds the expected output in the page, and saves screenshots."""
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    cluster = labs("split-world")
    lab = cluster.lab
    want = expect.derive(cluster.topology)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{lab.base}/lab/tree/{BROWSER_NOTEBOOK}?token={lab.token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            # "Run All Cells" before the kernel is up runs nothing: wait for the status bar's Idle
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            # the last cell's output; cells out of view may be left unrendered (windowing): attached
            result = page.get_by_text("RESULT {").last
            try:
                result.wait_for(state="attached", timeout=120_000)
            finally:
                page.screenshot(path=str(OUTPUT / "notebook-browser.png"))
            text = result.text_content()
            got = json.loads(text[text.index("{") :])
            assert got["psum"] == [e.psum for e in want]
            assert got["ranks"] == [e.world_rank for e in want]
            assert page.get_by_text("every engine agrees with the topology: True").count() == 1
            result.scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUT / "notebook-browser.png"))
            # ipyparallel's panel, in the left sidebar, lists the cluster
            page.locator(".jp-SideBar li[data-id='ipp-cluster-launcher']").click()
            page.get_by_text(cluster.name).first.wait_for(timeout=30_000)
            page.screenshot(path=str(OUTPUT / "notebook-panel.png"))
        finally:
            browser.close()
    assert (OUTPUT / "notebook-browser.png").stat().st_size > 10_000


def test_notebook_on_a_cluster_that_is_down(docker_client, capsys):
    rc = cli.main(["notebook", "single-world", "--name", PREFIX + "nothing-here", "--execute", "02"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and "no cluster named 'it-nb-nothing-here' is up" in err[0], err
