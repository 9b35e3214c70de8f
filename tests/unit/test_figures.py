"""benchmarks/figures.py: measured figures rendered from one results file into README.md and docs/."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from benchmarks import figures

REPO = Path(__file__).resolve().parents[2]


def fig(value, unit="s", date="2026-11-25", command="make reproduce", note=""):
    raw = {"value": value, "unit": unit, "date": date, "command": command}
    if note:
        raw["note"] = note
    return raw


def write_figures(root: Path, figs: dict) -> None:
    path = root / figures.FIGURES
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"figures": figs}))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_figures(
        tmp_path,
        {
            "reproduce.seconds": fig(98, note="13 experiments"),
            "image.size": fig(369, "MB", "2026-12-02", "make images"),
            "image.build": fig(200, "s", "2026-11-26", ".ci/run", "node image | from nothing"),
            "tier.test": fig("not yet measured", "s", "2026-12-07", "make test"),
        },
    )
    (tmp_path / "README.md").write_text(
        "It takes <!-- fig:reproduce.seconds -->?<!-- /fig -->, once built.\n"
        "| figure | value |\n|---|---|\n| size | <!-- fig:image.size --><!-- /fig --> |\n"
        "```\n<!-- fig:in.code.is.left.alone -->x<!-- /fig -->\n```\n"
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "images.md").write_text("Images.\n\n<!-- figtable:image. -->\n<!-- /figtable -->\n\nEnd.\n")
    return tmp_path


def run(root: Path, *args: str) -> int:
    return figures.main(["--root", str(root), *args])


def test_render_writes_inline_and_table_blocks(repo, capsys):
    assert run(repo, "render") == 0
    readme = (repo / "README.md").read_text()
    assert "It takes <!-- fig:reproduce.seconds -->1 min 38 s (2026-11-25, `make reproduce`)<!-- /fig -->," in readme
    assert "| size | <!-- fig:image.size -->369 MB (2026-12-02, `make images`)<!-- /fig --> |" in readme
    assert "<!-- fig:in.code.is.left.alone -->x<!-- /fig -->" in readme  # fenced code is not rendered
    doc = (repo / "docs" / "images.md").read_text()
    assert doc == (
        "Images.\n\n<!-- figtable:image. -->\n"
        "| figure | value | date | command |\n|---|---|---|---|\n"
        "| `image.size` | 369 MB | 2026-12-02 | `make images` |\n"
        "| node image \\| from nothing | 3 min 20 s | 2026-11-26 | `.ci/run` |\n"
        "<!-- /figtable -->\n\nEnd.\n"
    )
    assert run(repo, "check") == 0
    assert "all current" in capsys.readouterr().out
    assert run(repo, "render") == 0  # a second render changes nothing
    assert "0 file(s) rewritten" in capsys.readouterr().out


def test_check_names_each_stale_block_and_writes_nothing(repo, capsys):
    run(repo, "render")
    capsys.readouterr()
    assert (
        run(repo, "record", "image.size", "371", "--unit", "MB", "--command", "make images", "--date", "2026-12-08")
        == 0
    )
    capsys.readouterr()
    before = {p: p.read_text() for p in (repo / "README.md", repo / "docs" / "images.md")}
    assert run(repo, "check") == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "README.md:4: fig:image.size is stale: run `python -m benchmarks.figures render`",
        "docs/images.md:3: figtable:image. is stale: run `python -m benchmarks.figures render`",
    ]
    assert {p: p.read_text() for p in before} == before
    run(repo, "render")
    assert "371 MB (2026-12-08, `make images`)" in (repo / "README.md").read_text()
    assert run(repo, "check") == 0


def test_unknown_keys_and_unclosed_blocks_fail_the_check(repo, capsys):
    (repo / "docs" / "bad.md").write_text(
        "a <!-- fig:no.such -->1 s<!-- /fig -->\nb <!-- fig:image.size -->open\n"
        "<!-- figtable:nothing. -->\n<!-- /figtable -->\n"
    )
    assert run(repo, "check") == 1
    out = capsys.readouterr().out
    assert "docs/bad.md:1: fig:no.such: no such figure" in out
    assert "docs/bad.md:2: a marked block that is not closed" in out
    assert "docs/bad.md:3: figtable:nothing.: no figure's key starts with it" in out


def test_values_are_written_with_their_units():
    def text(value, unit):
        return figures.value_text(figures.make_figure("k", fig(value, unit)))

    assert text(98, "s") == "1 min 38 s"
    assert text(120, "s") == "2 min"
    assert text(5.1, "s") == "5.1 s"
    assert text(1216, "s") == "20 min 16 s"
    assert text(1.82, "x") == "1.82x"
    assert text(4803535, "/s") == "4,803,535/s"
    assert text("7-29", "s") == "7-29 s"
    assert text("not yet measured", "s") == "not yet measured"
    assert text(0.0003, "") == "0.0003"


def test_record_adds_and_replaces_in_place(repo):
    assert run(repo, "record", "tier.unit", "4.2", "--unit", "s", "--command", "make test-unit") == 0
    assert (
        run(
            repo,
            "record",
            "reproduce.seconds",
            "101",
            "--unit",
            "s",
            "--command",
            "make reproduce",
            "--note",
            "again",
            "--date",
            "2026-12-08",
        )
        == 0
    )
    doc = json.loads((repo / figures.FIGURES).read_text())["figures"]
    assert list(doc)[0] == "reproduce.seconds" and list(doc)[-1] == "tier.unit"
    assert doc["reproduce.seconds"] == fig(101, date="2026-12-08", note="again")
    assert doc["tier.unit"] == fig(4.2, command="make test-unit", date=dt.date.today().isoformat())


@pytest.mark.parametrize(
    "args, says",
    [
        (["bench.x", "1", "--unit", "s", "--command", "c"], "read from"),
        (["k", "1", "--unit", "s", "--command", "c", "--date", "2026-13-01"], "YYYY-MM-DD"),
        (["k", "1", "--unit", "s", "--command", "`c`"], "command"),
        (["k y", "1", "--unit", "s", "--command", "c"], "key"),
        (["k", "nan", "--unit", "s", "--command", "c"], None),  # not a number: kept as the text 'nan'
    ],
)
def test_record_refuses_what_it_cannot_render(repo, capsys, args, says):
    status = run(repo, "record", *args)
    err = capsys.readouterr().err
    if says is None:
        assert status == 0 and json.loads((repo / figures.FIGURES).read_text())["figures"]["k"]["value"] == "nan"
    else:
        assert status == 2 and says in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "content, says",
    [
        (b"{", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"figures": []}', "expected"),
        (b'{"figures": {"k": {"value": 1, "unit": "s", "date": "11-26", "command": "c"}}}', "YYYY-MM-DD"),
        (b'{"figures": {"k": {"value": NaN, "unit": "s", "date": "2026-11-26", "command": "c"}}}', "not valid JSON"),
        (b'{"figures": {"k": {"value": true, "unit": "s", "date": "2026-11-26", "command": "c"}}}', "finite number"),
        (b'{"figures": {"k": {"value": 1, "unit": "s", "date": "2026-11-26", "command": "c", "x": 1}}}', "unknown"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_a_malformed_results_file_is_one_line_and_exit_2(repo, capsys, content, says):
    (repo / figures.FIGURES).write_bytes(content)
    assert run(repo, "check") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err


def test_an_oversized_results_file_is_refused_unread(repo, capsys):
    (repo / figures.FIGURES).write_bytes(b" " * (figures.MAX_BYTES + 1))
    assert run(repo, "render") == 2
    assert "over the 1048576" in capsys.readouterr().err


def test_bench_figures_are_read_from_latest_json_with_each_runs_date(repo):
    latest = {
        "updated": "2026-12-02T18:14:14Z",
        "machine": {"cores": 2, "memory_gib": 23.5, "docker": "20.10"},
        "sources": {
            "bringup": "2026-11-26T020318Z.json",
            "scale": "2026-11-26T044843Z.json; 2026-12-02T181414Z.json for 128x1",
        },
        "sections": {
            "bringup": {
                "n5": {
                    "host_s": {"median": 5.51, "runs": 3},
                    "containers_s": {"median": 8.53, "runs": 3},
                    "ratio": {"median": 1.548, "runs": 3},
                }
            },
            "scale": [
                {
                    "engines": 8,
                    "nodes": 1,
                    "ok": True,
                    "bringup_s": 10.04,
                    "checked": 8,
                    "mem_mb_per_engine": 103.1,
                    "mem_mb_per_node": {"node1": 580.4},
                    "teardown_s": 0.45,
                    "host_bringup_s": 4.36,
                },
                {
                    "engines": 128,
                    "nodes": 1,
                    "ok": True,
                    "bringup_s": 177.99,
                    "checked": 128,
                    "mem_mb_per_engine": 105.6,
                    "mem_mb_per_node": {"node1": 8823.1},
                    "teardown_s": 3.46,
                    "host_bringup_s": 52.99,
                },
                {"engines": 128, "nodes": 8, "ok": False, "error": "mpiexec ... exited with status 255:"},
            ],
        },
    }
    (repo / figures.LATEST).write_text(json.dumps(latest))
    got = figures.all_figures(repo)
    assert got["bench.bringup.n5.containers"].value == 8.5
    assert got["bench.bringup.n5.ratio"].date == "2026-11-26"
    assert got["bench.bringup.n5.ratio"].command == "make bench BENCH=bringup"
    assert got["bench.scale.point.8x1"].date == "2026-11-26"
    p128 = got["bench.scale.point.128x1"]
    assert (p128.value, p128.date) == (178.0, "2026-12-02")
    assert p128.command == 'make bench BENCH=scale BENCH_ARGS="--scale-engines 128 --scale-nodes 1"'
    assert got["bench.scale.point.128x8"].value == "failed" and "status 255" in got["bench.scale.point.128x8"].note
    assert got["reproduce.seconds"].value == 98  # figures.json's own keys beside them


def test_figures_json_may_not_hold_what_latest_json_gives(repo, capsys):
    write_figures(repo, {"bench.bringup.n5.ratio": fig(1.5, "x")})
    assert run(repo, "check") == 2
    assert "read from" in capsys.readouterr().err


def test_the_repositorys_documents_are_current():
    """A figure changed in figures.json or latest.json without `make figures` fails here."""
    assert figures.main(["check"]) == 0
