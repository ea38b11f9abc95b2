"""What ``fn.run`` shows while it runs.

- a terminal (stderr a TTY): the start line (name, uid, where), then a live line below the
  run's output (state, elapsed time, the last output line; a bar for hyper-parameter runs:
  ``iteration 7/16, 1 error, best #3 loss=0.1``), then the end line (:mod:`.live`, rich);
- a notebook: one HTML widget updated in place (:mod:`.widget`);
- a pipe or CI log: the start line and the end line (state, duration, the web UI link when the
  run DB is the service); with ``FNRUN_PROGRESS=1`` also one per iteration (:mod:`.lines`).

``FNRUN_PROGRESS=0`` silences them all, ``=lines`` asks for plain lines anywhere;
``watch=False`` shows nothing. The CLI's ``fnrun run`` always reports.

A reporter is any ``report(event, info)``: events ``started`` (uid, name, project, where),
``planned`` (total iterations), ``iteration`` (done, total, errors, best, best_value) and
``finished`` (state, error).

May import: notebook, model and the shared leaves.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from fnrun.notebook import in_notebook
from fnrun.runtimes.progress.lines import LineReporter

Reporter = Callable[[str, dict[str, Any]], None]

__all__ = ["LineReporter", "Reporter", "default_reporter", "status_printer"]


def default_reporter(watch: bool) -> Reporter | None:
    """The reporter ``fn.run`` uses when it is given none."""
    if not _wanted(watch):
        return None
    choice = os.environ.get("FNRUN_PROGRESS", "")
    if choice != "lines" and in_notebook():
        from fnrun.runtimes.progress.widget import NotebookReporter

        return NotebookReporter()
    if choice != "lines" and sys.stderr.isatty():
        from fnrun.runtimes.progress.live import LiveReporter

        return LiveReporter()
    return LineReporter(sys.stderr, iterations=choice in ("1", "lines"))


def status_printer(watch: bool) -> Callable[[str], None] | None:
    """Where a placement says what happens while it waits (``job x submitted``, ``pod y:
    ImagePullBackOff``): indented lines on stderr, in a terminal, a notebook or with
    ``FNRUN_PROGRESS=1`` (a pipe gets only the start and end lines)."""
    if not _wanted(watch) or not _detailed():
        return None

    def say(text: str) -> None:
        sys.stderr.write(f"  {text}\n")
        sys.stderr.flush()

    return say


def _wanted(watch: bool) -> bool:
    return watch and os.environ.get("FNRUN_PROGRESS", "") != "0"


def _detailed() -> bool:
    return (
        os.environ.get("FNRUN_PROGRESS", "") in ("1", "lines")
        or sys.stderr.isatty()
        or in_notebook()
    )
