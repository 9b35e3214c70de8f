"""The lecture's plain MPI programs (L4, L6, L7, B1): run each at its rank count, and judge
its lines against those derived for that count."""

from __future__ import annotations

from typing import ClassVar

from .. import programs
from ..outcome import Outcome, Row
from ..topology import Topology
from ._base import Context, Experiment, Params


def collect_programs(ctx: Context, names: list[str]) -> dict:
    """Each program run at the lecture's rank count: its exit status and what it printed."""
    got = {}
    for name in names:
        program = programs.get(name)
        across, workdir = ctx.cluster.program_where(program.shared_file)
        code, out, err = ctx.cluster.run_program(
            program.script, program.ranks, program.args, across=across, workdir=workdir
        )
        got[name] = {"ranks": program.ranks, "code": code, "out": out, "err": err.strip()[-800:]}
    return got


def judge_programs(data: dict, names: list[str]) -> tuple[bool, list[Row], dict, str]:
    """Each program's lines against those derived for the lecture's rank count (not the data's)."""
    rows, got, text = [], {}, []
    for name in names:
        program = programs.get(name)
        run = data.get(name, {"code": None, "out": "", "err": f"{name} did not run"})
        code = run["code"]
        res = programs.compare_output(program, program.ranks, run["out"])
        ok = res.ok and code == 0
        got[name] = {"ok": ok, "output": res.output, "missing": res.missing, "unexpected": res.unexpected}
        expected = program.expected(program.ranks)
        rows.append(
            Row(
                f"`mpiexec -n {program.ranks} python {program.script}`: lines as the lecture printed them",
                f"{len(expected)} lines",
                f"{len(res.output) - len(res.unexpected)}/{len(expected)} expected"
                + (f", mpiexec exit {code}" if code else ""),
                ok,
            )
        )
        text.append(f"$ mpiexec -n {program.ranks} python {program.script}\n" + "\n".join(res.output))
        if code:
            text.append(run["err"])
    return all(r.agree for r in rows), rows, got, "\n\n".join(text)


class ProgramsExperiment(Experiment):
    """An experiment that only runs the lecture's plain programs (``programs``) and holds their lines
    against those derived; a member says which programs and what the lecture printed."""

    programs: ClassVar[tuple[str, ...]] = ()

    def lecture_figures(self) -> dict:
        raise NotImplementedError

    def collect(self, ctx: Context) -> dict:
        return {"programs": collect_programs(ctx, list(self.programs))}

    def judge(self, data: dict, p: Params, topo: Topology) -> Outcome:
        ok, rows, got, text = judge_programs(data["programs"], list(self.programs))
        return Outcome(self.id, "", ok, self.lecture_figures(), got, rows, detail=text)
