"""digits: counting 2-digit strings of pi on one engine (the lecture's code, numpy) against memory speed."""

from __future__ import annotations

from testbed import digits as digits_mod
from testbed import lecture

from ..context import Context, in_node, log, row, stats
from . import Section, register


@register
class Digits(Section):
    name = "digits"
    measures = "2-digit counts per second on one engine: the lecture's code, numpy, the memory-read limit"
    order = 70

    def run(self, ctx: Context) -> dict:
        dset = digits_mod.ensure(log=log)
        doc = in_node(
            "bench_digits.py",
            [f"/data/{dset.files[0].name}", "--runs", str(ctx.runs)],
            volumes={str(dset.folder): {"bind": "/data", "mode": "ro"}},
        )
        mem = stats(doc["memory_read_bytes_per_s"])
        limit = mem["median"] / doc["bytes_per_digit"]
        out = {
            "lecture_code_digits_per_s": stats(doc["lecture_digits_per_s"]),
            "numpy_digits_per_s": stats(doc["numpy_digits_per_s"]),
            "memory_read_MBps": stats([x / 1e6 for x in doc["memory_read_bytes_per_s"]]),
            "memory_limit_digits_per_s": limit,
            "lecture_digits_per_s": lecture.L3["digits_per_s_1"],
        }
        out["lecture_code_vs_lecture"] = out["lecture_code_digits_per_s"]["median"] / out["lecture_digits_per_s"]
        out["numpy_vs_memory_limit"] = out["numpy_digits_per_s"]["median"] / limit
        log(
            f"digits: lecture code {out['lecture_code_digits_per_s']['median']:,.0f}/s, numpy "
            f"{out['numpy_digits_per_s']['median']:,.0f}/s, memory limit {limit:,.0f}/s"
        )
        return out

    def headline(self, value: dict) -> dict:
        return {
            "digits_lecture_code_per_s": value["lecture_code_digits_per_s"]["median"],
            "digits_numpy_per_s": value["numpy_digits_per_s"]["median"],
        }

    def rows(self, value: dict) -> list[str]:
        d = value
        return [
            row("2-digit counts, lecture code, 1 engine", d["lecture_code_digits_per_s"], "/s", "{:,.0f}"),
            row("2-digit counts, numpy, 1 engine", d["numpy_digits_per_s"], "/s", "{:,.0f}"),
            row("memory read speed", d["memory_read_MBps"], " MB/s", "{:,.0f}"),
            f"| limit set by memory reads | {d['memory_limit_digits_per_s']:,.0f}/s | | | |",
            f"| lecture's figure (its machine, its code) | {d['lecture_digits_per_s']:,.0f}/s | | | |",
        ]
