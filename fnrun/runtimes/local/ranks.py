"""MPI ranks in output lines: what ``mpirun`` here and an MPIJob's launcher pod print, each
line tagged with its rank by the MPI implementation, shown and logged once per line."""

from __future__ import annotations

import re

# Open MPI's --tag-output "[job,rank]<stdout>:" and MPICH's -prepend-rank "[rank] "
_TAG = re.compile(r"^\[(?:\d+,)?(?P<rank>\d+)\](?:<std(?:out|err)>:)? ?")


def rank_line(raw: str) -> tuple[str, str]:
    """Rank 0's lines are shown (rank 0 logs them itself); another rank's are shown and
    logged with their rank; mpirun's own lines (a rank that failed) are shown and logged."""
    match = _TAG.match(raw)
    if match is None:
        return raw, raw
    text = raw[match.end() :]
    rank = int(match["rank"])
    if rank == 0:
        return text, ""
    line = f"[rank {rank}] {text}"
    return line, line
