"""What a live progress display shows of one run, and the output it watches for the last line.

:class:`RunProgress` follows the reporter events (``started``, ``planned``, ``iteration``,
``finished``); :func:`watch_output` puts a thin stream in front of ``sys.stdout`` and
``sys.stderr`` for the display's life, so the run's last output line can be shown whichever
placement prints it (the handler here, a child process's or a pod's streamed output).
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class RunProgress:
    """One run as a display sees it."""

    uid: str = ""
    name: str = ""
    project: str = ""
    where: str = ""
    state: str = "running"
    error: str = ""
    last_line: str = ""
    total: int = 0  # hyper-parameter iterations planned (0: a single run)
    done: int = 0
    errors: int = 0
    best: str = ""  # "#3 loss=0.1"
    began: float = field(default_factory=time.monotonic)
    ended: float | None = None

    def apply(self, event: str, info: dict[str, Any]) -> None:
        if event == "started":
            self.uid, self.name = str(info.get("uid", "")), str(info.get("name", ""))
            self.project, self.where = str(info.get("project", "")), str(info.get("where", ""))
            self.began = time.monotonic()
        elif event == "planned":
            self.total = int(info.get("total", 0))
        elif event == "iteration":
            self.done, self.total = int(info["done"]), int(info["total"])
            self.errors = int(info["errors"])
            if info.get("best"):
                self.best = f"#{info['best']} {info['best_value']}"
        elif event == "finished":
            self.state, self.error = str(info.get("state", "")), str(info.get("error") or "")
            self.ended = time.monotonic()

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.began

    def counts(self) -> str:
        """``iteration 7/16, 1 error, best #3 loss=0.1``."""
        errors = f"{self.errors} error{'' if self.errors == 1 else 's'}"
        best = f", best {self.best}" if self.best else ""
        return f"iteration {self.done}/{self.total}, {errors}{best}"

    def saw(self, line: str) -> None:
        text = _ANSI.sub("", line).rsplit("\r", 1)[-1].strip()
        if text:
            self.last_line = text


class _Watched(io.TextIOBase):
    """Forwards everything to ``stream`` and hands each complete line to ``on_line``."""

    def __init__(self, stream: TextIO, on_line: Callable[[str], None]) -> None:
        self.stream, self.on_line = stream, on_line
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        self.stream.write(text)
        with self._lock:
            *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            with contextlib.suppress(Exception):  # a display never breaks the run's output
                self.on_line(line)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")

    def fileno(self) -> int:
        return self.stream.fileno()

    def __getattr__(self, name: str) -> Any:  # what else the real stream has (a kernel's)
        return getattr(self.stream, name)


@contextlib.contextmanager
def watch_output(on_line: Callable[[str], None]) -> Iterator[None]:
    """``on_line`` hears every line written to ``sys.stdout``/``sys.stderr`` in the block."""
    before = sys.stdout, sys.stderr
    sys.stdout = _Watched(before[0], on_line)
    sys.stderr = _Watched(before[1], on_line)
    try:
        yield
    finally:  # restore only what is still ours (a capture may stand in front meanwhile)
        if isinstance(sys.stdout, _Watched) and sys.stdout.stream is before[0]:
            sys.stdout = before[0]
        if isinstance(sys.stderr, _Watched) and sys.stderr.stream is before[1]:
            sys.stderr = before[1]
