"""``python -m fnrun.execution.script <file.py> [args...]``: run a Python file as
``python <file.py>`` does (``__main__``, its folder first on ``sys.path``, its exit status),
with MLRun code's ``import mlrun`` mapped to fnrun's surface. The ``.py`` command of a
``mode="args"``/``"pass"`` function runs through it, so an MLRun script runs unchanged and its
``get_or_create_ctx`` joins the run that started it."""

from __future__ import annotations

import sys
from pathlib import Path

from fnrun.execution.targets import run_as_main


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m fnrun.execution.script <file.py> [args...]", file=sys.stderr)
        return 2
    script = Path(argv[0])
    sys.path.insert(0, str(script.resolve().parent))
    return run_as_main(script, argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
