"""fs: why a Python process starts slower in a container here (path lookups, ``import ipyparallel``)."""

from __future__ import annotations

from testbed import docker_env
from testbed.node import last_json

from ..context import WORKLOADS, Context, in_node, log, ratios, row, run_argv, stats
from ..host import host_venv
from . import Section, register

FIGURES = ("stat_abs_us", "stat_rel_us", "import_ipyparallel_s")


@register
class FileSystem(Section):
    name = "fs"
    measures = "path lookups and `import ipyparallel`: host, node container as mpi, as root"
    order = 30

    def run(self, ctx: Context) -> dict:
        """On a daemon whose storage driver is fuse-overlayfs, a lookup that starts at '/'
        may go to the FUSE daemon; Python's imports make several per module."""
        args = ["--runs", str(ctx.runs)]
        r = run_argv([str(host_venv()), str(WORKLOADS / "bench_fs.py"), *args])
        docs = {"host": last_json(r.stdout, r.stderr, "host bench_fs.py")}
        for who in ("mpi", "root"):
            docs[f"container_{who}"] = in_node("bench_fs.py", args, user=who)
        out: dict = {"storage_driver": docker_env.client().info().get("Driver")}
        for where, d in docs.items():
            out[where] = {k: stats(d[k]) for k in FIGURES}
        for where in ("container_mpi", "container_root"):
            out[f"import_ratio_{where}"] = ratios(
                docs[where]["import_ipyparallel_s"], docs["host"]["import_ipyparallel_s"]
            )
        log(
            f"fs ({out['storage_driver']}): stat of an absolute path host "
            f"{out['host']['stat_abs_us']['median']:.1f} us, container as mpi "
            f"{out['container_mpi']['stat_abs_us']['median']:.1f} us, as root "
            f"{out['container_root']['stat_abs_us']['median']:.1f} us; import ipyparallel host "
            f"{out['host']['import_ipyparallel_s']['median']:.2f} s, container as mpi "
            f"{out['container_mpi']['import_ipyparallel_s']['median']:.2f} s"
        )
        return out

    def headline(self, value: dict) -> dict:
        return {
            "storage_driver": value["storage_driver"],
            "import_ratio_container_mpi": value["import_ratio_container_mpi"]["median"],
        }

    def rows(self, value: dict) -> list[str]:
        drv = value["storage_driver"]
        lines = []
        for where, name in (
            ("host", "host"),
            ("container_mpi", f"container ({drv}), user mpi"),
            ("container_root", f"container ({drv}), root"),
        ):
            f = value[where]
            lines.append(row(f"stat() of an absolute path, {name}", f["stat_abs_us"], " us", "{:.1f}"))
            lines.append(row(f"stat() of the same file, relative path, {name}", f["stat_rel_us"], " us", "{:.1f}"))
            lines.append(row(f"`import ipyparallel` in a new process, {name}", f["import_ipyparallel_s"], " s"))
        return lines
