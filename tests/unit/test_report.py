"""The report renders synthetic outcomes: Markdown, self-contained HTML, and JSON for scripts."""

import json

from testbed import plots, report
from testbed.experiments import EXPERIMENTS
from testbed.outcome import Outcome, Row

MACHINE = {"cores_host": 2, "cores_node": 2, "mpi": "mpiexec (OpenRTE) 4.1.4", "ipyparallel": "9.2.0"}
META = {"started": "2026-11-25 10:00:00 UTC", "elapsed_s": 321.0}


def _outcomes(tmp_path):
    by_id = {e.id: e for e in EXPERIMENTS}
    plot = plots.plot_one_digit(tmp_path, "L2_one_digit_freqs.png", [1000] * 10, 10_000)
    l1 = Outcome(
        "L1",
        by_id["L1"].title,
        True,
        {"speedup_lb": 4.64, "speedup_direct": 1.81},
        {"speedup_lb": 4.6, "speedup_direct": 1.8},
        [Row("speedup, direct view", "1.81", "1.806", True), Row("ideal", "5", "5", None)],
    )
    l2 = Outcome(
        "L2",
        by_id["L2"].title,
        True,
        {},
        {"freqs": [1000] * 10},
        [Row("count of digit 0", "1000", "1000", True)],
        plots=[plot],
    )
    l3 = Outcome(
        "L3",
        by_id["L3"].title,
        False,
        {"mean_10m": 49.5},
        {"mean_10m": 49.6, "digit_files": ["/x/a"]},
        [Row("mean | 10m <b>", "49.5", "49.6", False)],
        notes=["a <note>"],
        detail="id  host\n0   head",
    )
    return [(by_id["L1"], l1), (by_id["L2"], l2), (by_id["L3"], l3)]


def test_json_for_scripts(tmp_path):
    paths = report.write(tmp_path, _outcomes(tmp_path), MACHINE, META)
    doc = json.loads(paths["json"].read_text())
    assert doc["ok"] is False
    assert doc["experiments"]["L1"]["ok"] is True
    assert doc["experiments"]["L1"]["testbed"]["speedup_lb"] == 4.6
    assert doc["experiments"]["L1"]["lecture"]["speedup_direct"] == 1.81
    assert doc["experiments"]["L3"]["ok"] is False
    assert doc["experiments"]["L3"]["testbed"]["digit_files"] == ["/x/a"]
    assert doc["machine"]["cores_node"] == 2


def test_markdown_side_by_side(tmp_path):
    md = report.render_md(_outcomes(tmp_path), MACHINE, META)
    assert "2 of 3 experiments agree" in md
    assert "| speedup, direct view | 1.81 | 1.806 | agrees |" in md
    assert "mean \\| 10m" in md and "DISAGREES" in md  # a pipe cannot break the table
    assert "![L2](L2_one_digit_freqs.png)" in md
    assert "mpiexec (OpenRTE) 4.1.4" in md


def test_html_is_self_contained_and_escaped(tmp_path):
    html = report.render_html(_outcomes(tmp_path), MACHINE, META, tmp_path)
    assert "data:image/png;base64," in html
    assert "src='L2" not in html  # no file the browser would have to fetch
    assert "&lt;b&gt;" in html and "a &lt;note&gt;" in html
    assert html.count('class="DISAGREES"') >= 2  # the row and the verdict of L3


def test_faults_written_beside_the_report_become_a_section(tmp_path):
    import json

    faults = [
        {
            "name": "node-lost",
            "topology": "remote-engines",
            "ok": True,
            "done": "docker kill of node laptop",
            "lost": [3],
            "detect_s": 5.72,
            "tasks_lost": 0,
            "failed": [],
        },
        {
            "name": "partition",
            "topology": "true-world",
            "ok": False,
            "done": "node2 cut off",
            "lost": [0, 1],
            "detect_s": None,
            "tasks_lost": 0,
            "failed": ["the check <stuck>"],
        },
    ]
    (tmp_path / "faults.json").write_text(json.dumps({"faults": faults}))
    paths = report.write(tmp_path, _outcomes(tmp_path), MACHINE, META)
    md = paths["md"].read_text()
    assert "## Faults" in md
    assert "| node-lost | remote-engines | docker kill of node laptop | 3 | 5.72 s | 0 | ok |" in md
    assert "partition on true-world: failed: the check <stuck>" in md
    html_text = paths["html"].read_text()
    assert "Faults (make faults)" in html_text
    assert json.loads(paths["json"].read_text())["faults"][0]["name"] == "node-lost"


def test_a_broken_faults_file_is_no_section(tmp_path):
    (tmp_path / "faults.json").write_bytes(b"\xff{not json")
    paths = report.write(tmp_path, _outcomes(tmp_path), MACHINE, META)
    assert "## Faults" not in paths["md"].read_text()
