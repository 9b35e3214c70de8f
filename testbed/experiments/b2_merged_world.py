"""B2 (beyond the lecture): the late group of a split world joined into the first world,
Intercomm.Merge giving one communicator of every engine."""

from __future__ import annotations

from .. import lecture
from ..expect import derive
from ..outcome import Row, fmt
from ..topology import Topology
from ._engines import EngineCheck


class MergedWorld(EngineCheck):
    id = "B2"
    title = "beyond: the late group joined into the first world (merged-world)"
    topology = "merged-world"
    beyond = True
    about = (
        "The lecture left open how a late-added group can join the first MPI_COMM_WORLD. With Open MPI's "
        "name server (ompi-server) both launches can find each other: Open_port/Publish_name/Accept on one world, "
        "Lookup_name/Connect on the other, then Intercomm.Merge gives one communicator of 5. COMM_WORLD stays "
        "split (L10's psum) while psum over the merged communicator is the whole sum."
    )

    def extra_rows(self, data: dict, got: dict, topo: Topology) -> list[Row]:
        want_merged = [e.merged_psum for e in derive(topo, topo.scatter)]
        split_psum = lecture.ENGINES["L10"]["psum"]
        return [
            Row(
                "psum over COMM_WORLD (still two worlds)",
                f"{fmt(split_psum)} (L10)",
                fmt(got["psum"]),
                got["psum"] == split_psum,
            ),
            Row(
                "psum over the merged communicator",
                "left open by the lecture",
                fmt(got["merged_psum"]),
                got["merged_psum"] == want_merged,
            ),
            Row(
                "merged ranks", "-", fmt(got["merged_rank"]), sorted(got["merged_rank"]) == list(range(len(got["ids"])))
            ),
        ]
