"""The entry of a run placed in another process (a child process, a pod, an MPI rank):
``python -m fnrun exec --from-env``, the execution layer's entry handed the kinds' loader."""

from __future__ import annotations

from fnrun.execution.entry import main as exec_main
from fnrun.runtimes.functions.factory import function_from_dict


def main() -> int:
    """Exit 0 (completed), 1 (run error), 2 (bad setup)."""
    return exec_main(function_from_dict)
