"""docs/lecture.md lists every figure of testbed/lecture.py, and nothing refers outside the repository."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from testbed import experiments, lecture

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "lecture.md"


def figure_rows() -> list[str]:
    return [
        f"| {exp_id} | {name} | `{json.dumps(value)}` |"
        for exp_id, figures in lecture.FIGURES.items()
        for name, value in figures.items()
    ]


def test_every_figure_is_in_the_document():
    doc = DOC.read_text().splitlines()
    missing = [row for row in figure_rows() if row not in doc]
    assert not missing, "docs/lecture.md lacks (or differs on) these rows of testbed/lecture.py:\n" + "\n".join(missing)


def test_the_document_lists_no_figure_the_module_lacks():
    table = [ln for ln in DOC.read_text().splitlines() if re.match(r"\| [LB]\d+ \| \w[^|]* \| `", ln)]
    assert sorted(table) == sorted(figure_rows())


def test_every_experiment_is_in_the_document():
    doc = DOC.read_text()
    for e in experiments.EXPERIMENTS:
        assert re.search(rf"^\| {e.id} [^|]+\| `{e.topology}`[^|]*\|", doc, re.M), e.id


def test_the_figures_cover_every_lecture_experiment():
    assert list(lecture.FIGURES) == [e.id for e in experiments.EXPERIMENTS if not e.beyond]
    assert set(lecture.ENGINES) == set(lecture.SCATTER) == {"L5", "L8", "L9", "L10", "L11"}


def test_nothing_refers_to_a_path_outside_the_repository():
    outside = ("../" + "shared", "/work" + "/")  # spelt apart so that this file does not hit itself
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    hits = [
        f for f in files if (ROOT / f).is_file() and any(o in (ROOT / f).read_text("utf-8", "replace") for o in outside)
    ]
    assert hits == []
