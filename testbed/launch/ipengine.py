"""``launch: ipengine``: N engines started by hand on the group's node, one at a time, each
after the one before has registered (the lecture's L8 and L9). Plain engines unless
``mpi: true`` (``ipengine --mpi``: a singleton world each). A node other than the
controller's gets a copy of the engine connection file, as the lecture copied it."""

from __future__ import annotations

from . import ENGINE_FILE, LOGS, LaunchKind, Start, register


@register
class IPEngine(LaunchKind):
    name = "ipengine"

    def starts(self, group, rows, ctx):
        base = ctx.registered_before(group)
        flag = ["--mpi"] if group.mpi else []
        return [
            Start(
                node=row.node,
                argv=("ipengine", *flag, f"--file={ENGINE_FILE}", f"--IPEngine.id={row.id}"),
                log=LOGS / f"{group.name}-{i}.log",
                registered=base + i + 1,
                says=f"{row.node}: ipengine {' '.join(flag)}(engine id {row.id}, {base + i + 1} of "
                f"{base + group.engines})",
                engine_file_on=(row.node,),
            )
            for i, row in enumerate(rows)
        ]
