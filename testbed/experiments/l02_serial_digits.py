"""L2: one-digit frequencies of sympy.pi.evalf(10_000), against MPFR's decimals on the host."""

from __future__ import annotations

from pathlib import Path

from .. import digits as digits_mod
from .. import lecture, plots
from ..outcome import Outcome, Row, all_agree
from ..topology import Topology
from ._base import Context, Experiment, Params

CHI2_9DOF_P001 = 27.877  # chi-square, 9 degrees of freedom, p = 0.001


class SerialDigits(Experiment):
    id = "L2"
    title = "serial digits: one-digit frequencies of 10,000 decimals (SymPy)"
    topology = "plain"
    # the lecture's figures are exact (its digit count) or words ("about 1000"): none within a tolerance

    def collect(self, ctx: Context) -> dict:
        """pi_serial.py's decimals and counts, and the same decimals from MPFR on the host (the expectation)."""
        n = ctx.params.serial_digits
        ctx.log(f"[L2] sympy.pi.evalf: {n:,} decimals, one-digit frequencies (the lecture's code)")
        doc = ctx.cluster.client_json("pi_serial.py", "--digits", str(n))
        return {
            "digits": n,
            "decimals": doc["decimals"],
            "freqs": doc["freqs"],
            "evalf_s": doc["evalf_s"],
            "expected_decimals": digits_mod.mpfr_digits(n),  # independent: MPFR, on the host
        }

    def judge(self, data: dict, p: Params, topo: Topology) -> Outcome:
        n = p.serial_digits
        reference = data["expected_decimals"]
        want = [reference.count(str(d)) for d in range(10)]
        freqs = data["freqs"]
        same_digits = data["decimals"] == reference and len(reference) == n
        chi2 = sum((f - n / 10) ** 2 / (n / 10) for f in freqs)
        rows = [Row(f"count of digit {d}", f"about {n // 10}", str(freqs[d]), freqs[d] == want[d]) for d in range(10)]
        rows.append(Row("the decimals equal MPFR's (an independent method)", "-", str(same_digits), same_digits))
        rows.append(
            Row(
                f"chi-square against uniform, 9 dof (uniform unless > {CHI2_9DOF_P001} at p = 0.001)",
                f"each digit {lecture.L2['each_digit']} times",
                f"{chi2:.2f}",
                chi2 <= CHI2_9DOF_P001,
            )
        )
        got = {"digits": n, "freqs": freqs, "expected_freqs": want, "chi2": chi2, "evalf_s": data["evalf_s"]}
        return Outcome(self.id, "", all_agree(rows), dict(lecture.L2), got, rows)

    def plot(self, data: dict, out: Path) -> list[str]:
        return [plots.plot_one_digit(out, "L2_one_digit_freqs.png", data["freqs"], data["digits"])]
