"""What ``fn.run`` says while it runs: one line when a run starts (its uid, so a person can
follow it with ``fnrun logs``) and one when it ends (state, duration, where to look next).

A terminal (stderr a TTY) gets the lines by default; ``FNRUN_PROGRESS=0`` silences them and
``=1`` forces them (pipes, CI logs). The CLI's ``fnrun run`` always prints them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

Reporter = Callable[[str, dict[str, Any]], None]


def default_reporter(watch: bool) -> Reporter | None:
    """The reporter ``fn.run`` uses when it is given none."""
    return LineReporter(sys.stderr) if _wanted(watch) else None


def status_printer(watch: bool) -> Callable[[str], None] | None:
    """Where a placement says what happens while it waits (``job x submitted``, ``pod y:
    ImagePullBackOff``): indented lines on stderr, when the start and end lines show."""
    if not _wanted(watch):
        return None

    def say(text: str) -> None:
        sys.stderr.write(f"  {text}\n")
        sys.stderr.flush()

    return say


def _wanted(watch: bool) -> bool:
    wanted = os.environ.get("FNRUN_PROGRESS", "")
    if wanted == "0" or not watch:
        return False
    return wanted == "1" or sys.stderr.isatty()


class LineReporter:
    """Plain lines: ``run <name> <uid> started`` / ``... completed in 1.2 s``."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started: dict[str, float] = {}

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        uid, name = str(info.get("uid", "")), info.get("name", "")
        if event == "iteration":
            best = (
                f", best so far: #{info['best']} {info['best_value']}" if info.get("best") else ""
            )
            self.out.write(
                f"  iteration {info['done']}/{info['total']} {info['state']} "
                f"(#{info['iteration']}), {info['errors']} errors{best}\n"
            )
        elif event == "started":
            self.started[uid] = time.monotonic()
            kind = f" ({info['iterations']} iterations)" if info.get("iterations") else ""
            where = f", {info['where']}" if info.get("where") else ""
            self.out.write(
                f"run {name} {uid} started in project {info.get('project')}{where}{kind}\n"
            )
        else:
            took = time.monotonic() - self.started.pop(uid, time.monotonic())
            state = info.get("state", "")
            tail = f": {info['error']}" if info.get("error") else ""
            self.out.write(f"run {name} {uid} {state} in {took:.1f} s{tail}\n")
            if state == "error":
                self.out.write(f"  logs: fnrun logs {uid[:12]}\n")
        self.out.flush()
