"""Plain progress lines, for pipes, CI logs and the start and end of a live display:
``run <name> <uid> started ...`` / ``... completed in 1.2 s`` and one per iteration."""

from __future__ import annotations

import time
from typing import Any, TextIO


def started_line(info: dict[str, Any]) -> str:
    kind = f" ({info['iterations']} iterations)" if info.get("iterations") else ""
    where = f", {info['where']}" if info.get("where") else ""
    return (
        f"run {info.get('name', '')} {info.get('uid', '')} started in project "
        f"{info.get('project')}{where}{kind}"
    )


def iteration_line(info: dict[str, Any]) -> str:
    best = f", best so far: #{info['best']} {info['best_value']}" if info.get("best") else ""
    return (
        f"  iteration {info['done']}/{info['total']} {info['state']} "
        f"(#{info['iteration']}), {info['errors']} errors{best}"
    )


def finished_lines(info: dict[str, Any], took: float) -> list[str]:
    uid, state = str(info.get("uid", "")), info.get("state", "")
    tail = f": {info['error']}" if info.get("error") else ""
    lines = [f"run {info.get('name', '')} {uid} {state} in {took:.1f} s{tail}"]
    if info.get("ui_url"):
        lines.append(f"  web UI: {info['ui_url']}")
    if state == "error":
        lines.append(f"  logs: fnrun logs {uid[:12]}")
    return lines


class LineReporter:
    """Plain lines: ``run <name> <uid> started`` / ``... completed in 1.2 s``, and with
    ``iterations`` one per hyper-parameter iteration."""

    def __init__(self, out: TextIO, iterations: bool = True) -> None:
        self.out = out
        self.iterations = iterations
        self.started: dict[str, float] = {}

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        uid = str(info.get("uid", ""))
        if event == "iteration" and not self.iterations:
            return
        if event == "iteration":
            self.out.write(iteration_line(info) + "\n")
        elif event == "started":
            self.started[uid] = time.monotonic()
            self.out.write(started_line(info) + "\n")
        elif event == "finished":
            took = time.monotonic() - self.started.pop(uid, time.monotonic())
            self.out.write("".join(f"{line}\n" for line in finished_lines(info, took)))
        self.out.flush()
