"""Capture a run's stdout/stderr (and its logger) while still printing them live.

Captured text goes to a sink in whole lines: a background thread hands complete lines to
``flush`` every ``interval`` seconds (so ``fnrun logs --watch`` sees a run as it goes), and
the rest when the block ends.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Any, TextIO


class LineSink:
    """Collects text; ``drain(partial)`` returns what is complete (or everything)."""

    def __init__(self) -> None:
        self._chunks: list[str] = []
        self._lock = threading.Lock()

    def add(self, text: str) -> None:
        with self._lock:
            self._chunks.append(text)

    def drain(self, partial: bool = False) -> str:
        with self._lock:
            text = "".join(self._chunks)
            cut = len(text) if partial else text.rfind("\n") + 1
            rest = text[cut:]
            self._chunks = [rest] if rest else []
        return text[:cut]


class Tee(io.TextIOBase):
    """Writes to the original stream and to a sink."""

    def __init__(self, original: TextIO, sink: LineSink) -> None:
        self.original = original
        self.sink = sink

    def write(self, text: str) -> int:
        self.sink.add(text)
        self.original.write(text)
        return len(text)

    def flush(self) -> None:
        self.original.flush()

    def isatty(self) -> bool:
        return self.original.isatty()


@contextmanager
def capture_output(
    flush: Callable[[str], None],
    logger: logging.Logger | None = None,
    echo: bool = True,
    interval: float = 1.0,
) -> Iterator[None]:
    """Everything printed (and logged to ``logger``) inside the block goes to ``flush``."""
    sink = LineSink()
    quiet: Any = io.StringIO()
    out = Tee(sys.stdout if echo else quiet, sink)
    err = Tee(sys.stderr if echo else quiet, sink)
    handler = _attach(logger, err)
    stop = threading.Event()

    def pump() -> None:
        while not stop.wait(interval):
            text = sink.drain()
            if text:
                flush(text)

    thread = threading.Thread(target=pump, name="fnrun-log-flush", daemon=True)
    thread.start()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            yield
    finally:
        stop.set()
        thread.join()
        if logger is not None and handler is not None:
            logger.removeHandler(handler)
        rest = sink.drain(partial=True)
        if rest:
            flush(rest)


def _attach(logger: logging.Logger | None, stream: Any) -> logging.Handler | None:
    if logger is None:
        return None
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler
