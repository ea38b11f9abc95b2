"""Capture a run's stdout/stderr (and its logger) while still printing them live."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Any, TextIO


class Tee(io.TextIOBase):
    """Writes to the original stream and to an in-memory buffer."""

    def __init__(self, original: TextIO, buffer: io.StringIO) -> None:
        self.original = original
        self.buffer_ = buffer

    def write(self, text: str) -> int:
        self.buffer_.write(text)
        self.original.write(text)
        return len(text)

    def flush(self) -> None:
        self.original.flush()

    def isatty(self) -> bool:
        return self.original.isatty()


@contextmanager
def capture_output(
    logger: logging.Logger | None = None, echo: bool = True
) -> Iterator[io.StringIO]:
    """Collect everything printed (and logged to ``logger``) inside the block."""
    buffer = io.StringIO()
    sink: Any = io.StringIO()
    out = Tee(sys.stdout if echo else sink, buffer)
    err = Tee(sys.stderr if echo else sink, buffer)
    handler: logging.Handler | None = None
    if logger is not None:
        handler = logging.StreamHandler(err)
        handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    try:
        with redirect_stdout(out), redirect_stderr(err):
            yield buffer
    finally:
        if logger is not None and handler is not None:
            logger.removeHandler(handler)
