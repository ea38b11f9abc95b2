"""A run's traceback as its author reads it: without fnrun's own frames (the call into the
handler, the entry, the placement), so the first frame shown is the user's code."""

from __future__ import annotations

import re
from pathlib import Path

_FRAME = re.compile(r'^  File "(?P<path>[^"]+)", line \d+, in ')
_OURS = str(Path(__file__).resolve().parents[1])  # the fnrun package folder


def user_traceback(text: str, ours: str = _OURS) -> str:
    """``text`` (a formatted traceback) without the frames whose file lies under ``ours``:
    each frame's ``File ...`` line and the source and marker lines under it."""
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        frame = _FRAME.match(line)
        if frame is not None:
            path = frame["path"]
            skipping = path == ours or path.startswith(ours.rstrip("/") + "/")
            if not skipping:
                kept.append(line)
            continue
        if skipping and line.startswith("    "):
            continue  # the skipped frame's source line and its ^^^ markers
        skipping = False
        kept.append(line)
    return "\n".join(kept)


def first_line(text: str) -> str:
    """The first non-empty line of an error message."""
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")
