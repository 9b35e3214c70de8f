"""L3: 2-digit frequencies of 5 files of 10 million digits of pi; 1 engine on 1 file, then
every engine on every file, with the lecture's counting code and with numpy.

The expectation is the files' counts made on the host; the lecture's means and stds are
held within the reference's tolerance when the files are the lecture's size.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import digits as digits_mod
from .. import lecture, plots
from ..cluster import LOGS
from ..outcome import Outcome, Row, all_agree, fmt
from ..topology import Topology
from ._base import Context, Experiment, Params, absolute, within

TOLERANCE = 1e-3  # absolute, on the means and stds (the files' layout in the lecture is unknown)


def _l3_rates(runs: dict) -> dict[str, tuple[float, float]]:
    """Digits per second of each implementation: (1 file on 1 engine, every file on every engine)."""
    return {
        impl: (r["one"]["digits"] / r["one"]["seconds"], r["all"]["digits"] / r["all"]["seconds"])
        for impl, r in runs.items()
    }


def _l3_all_freqs(runs: dict) -> list[int]:
    import numpy as np

    pidigits = digits_mod.pidigits()
    return pidigits.reduce_freqs([np.array(f, dtype="i8") for f in runs["lecture"]["all"]["freqs"]]).tolist()


class ParallelDigits(Experiment):
    id = "L3"
    title = "parallel digits: 2-digit frequencies of 50 million decimals"
    topology = "plain"
    needs_digits = True
    reference = {key: absolute(lecture.L3[key], TOLERANCE) for key in ("mean_10m", "std_10m", "mean_50m", "std_50m")}

    def collect(self, ctx: Context) -> dict:
        """pi_parallel.py's counts and timings, and the files' counts made on the host (the expectation)."""
        p = ctx.params
        dset = ctx.digits or digits_mod.ensure(
            p.digit_files, p.digits_per_file, p.digit_cache, log=ctx.log, check_prefix=p.check_prefix
        )
        ctx.log(f"[L3] copying {len(dset.files)} digit files to {ctx.cluster.topology.controller}")
        remote = ctx.cluster.put_files(LOGS / "digits", dset.files)
        n = ctx.cluster.topology.engine_count
        ctx.log(
            f"[L3] 2-digit frequencies: 1 file on 1 engine, {len(remote)} files on {n} engines; "
            "lecture code, then numpy"
        )
        doc = ctx.cluster.client_json("pi_parallel.py", *remote, "--engines", str(n))
        pidigits = digits_mod.pidigits()
        return {
            "engines": n,
            "cores": int(ctx.machine.get("cores_node") or os.cpu_count() or 1),
            "runs": doc["runs"],
            "digits_in_files": doc["digits"],
            "expected_counts": [pidigits.compute_two_digit_freqs_np(str(f)).tolist() for f in dset.files],
            "digit_set": {
                "files": [str(f) for f in dset.files],
                "folder": str(dset.folder),
                "total": dset.total,
                "cached": dset.cached,
                "method": dset.manifest.get("method"),
                "generate_s": dset.manifest.get("generate_s"),
                "checks": dset.manifest.get("checks"),
            },
        }

    def judge(self, data: dict, p: Params, topo: Topology) -> Outcome:
        import numpy as np

        pidigits = digits_mod.pidigits()
        n = topo.engine_count
        runs = data["runs"]
        want = data["expected_counts"]
        lec, vec = runs["lecture"], runs["numpy"]
        same_impl = lec["one"]["freqs"] == vec["one"]["freqs"] and lec["all"]["freqs"] == vec["all"]["freqs"]
        right = len(want) == p.digit_files and lec["one"]["freqs"] == want[0] and lec["all"]["freqs"] == want
        sizes_ok = data["digits_in_files"] == [p.digits_per_file] * p.digit_files
        mean_10m, std_10m = pidigits.mean_std(np.array(lec["one"]["freqs"]))
        mean_50m, std_50m = pidigits.mean_std(np.array(_l3_all_freqs(runs)))
        dps = _l3_rates(runs)
        cores = data["cores"]
        ideal = min(n, cores)
        dset = data["digit_set"]
        got = {
            "mean_10m": mean_10m,
            "std_10m": std_10m,
            "mean_50m": mean_50m,
            "std_50m": std_50m,
            "digits_per_s_1": dps["lecture"][0],
            "digits_per_s_5": dps["lecture"][1],
            "speedup": dps["lecture"][1] / dps["lecture"][0],
            "numpy_digits_per_s_1": dps["numpy"][0],
            "numpy_digits_per_s_5": dps["numpy"][1],
            "numpy_speedup": dps["numpy"][1] / dps["numpy"][0],
            "cores": cores,
            "ideal_speedup": ideal,
            "engines": n,
            "digit_files": dset["files"],
            "digits_in_files": data["digits_in_files"],
            "digits_cached": dset["cached"],
            "digit_generation_s": dset["generate_s"],
            "digit_checks": dset["checks"],
            "identical_counts": same_impl,
            "counts_match_files": right,
        }
        rows = [
            Row(
                "digits in each file",
                "10,000,000" if p.lecture_digits else "-",
                fmt(data["digits_in_files"]),
                sizes_ok,
            ),
            Row("lecture code and numpy give identical 2-digit counts", "-", str(same_impl), same_impl),
            Row("engine counts equal the files counted on the host", "-", str(right), right),
        ]
        label = "10m" if p.lecture_digits else f"{p.digits_per_file:,}"
        label_all = "50m" if p.lecture_digits else f"{p.digits_per_file * p.digit_files:,}"
        L3 = lecture.L3
        for key, what in (
            ("mean_10m", f"mean, {label} digits"),
            ("std_10m", f"std, {label} digits"),
            ("mean_50m", f"mean, {label_all} digits"),
            ("std_50m", f"std, {label_all} digits"),
        ):
            diff = got[key] - L3[key]
            agree = within(got[key], self.reference[key]) if p.lecture_digits else None
            rows.append(Row(f"{what} (±{TOLERANCE:g}; difference {diff:+.2e})", repr(L3[key]), repr(got[key]), agree))
        rows += [
            Row("digits/s, 1 engine (lecture code)", f"{L3['digits_per_s_1']:,.0f}", f"{got['digits_per_s_1']:,.0f}"),
            Row(
                f"digits/s, {n} engines (lecture code)", f"{L3['digits_per_s_5']:,.0f}", f"{got['digits_per_s_5']:,.0f}"
            ),
            Row("speedup (lecture code)", f"{L3['speedup']:.2f}", f"{got['speedup']:.2f}"),
            Row("digits/s, 1 engine (numpy)", "-", f"{got['numpy_digits_per_s_1']:,.0f}"),
            Row(f"digits/s, {n} engines (numpy)", "-", f"{got['numpy_digits_per_s_5']:,.0f}"),
            Row("speedup (numpy)", "-", f"{got['numpy_speedup']:.2f}"),
            Row("cores / ideal speedup min(engines, cores)", f"{L3['cores']} / {L3['ideal']}", f"{cores} / {ideal}"),
        ]
        names = ", ".join(Path(f).name for f in dset["files"])
        notes = [
            f"The speedup is capped by this machine's {cores} cores (ideal min({n}, {cores}) = {ideal}); the lecture's "
            f"machine had {L3['cores']}.",
            f"Digits: the first {dset['total']:,} decimals of pi computed here ({dset['method']}, "
            f"{dset['generate_s']} s), checked: {dset['checks']}; files {names} in {dset['folder']}.",
        ]
        if not p.lecture_digits:
            notes.append("Fewer digits than the lecture's: mean and std are shown, not compared.")
        return Outcome(self.id, "", all_agree(rows), L3, got, rows, notes=notes)

    def plot(self, data: dict, out: Path) -> list[str]:
        n, per_file = data["engines"], data["digits_in_files"]
        label_all = "50m" if per_file == [10_000_000] * 5 else f"{sum(per_file):,}"
        return [
            plots.plot_two_digit(out, "L3_two_digit_freqs.png", _l3_all_freqs(data["runs"]), label_all),
            plots.plot_throughput(out, "L3_throughput.png", _l3_rates(data["runs"]), n, lecture.L3),
        ]
