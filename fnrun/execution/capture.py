"""Capture a run's stdout/stderr (and its logger) while still printing them live.

Captured text goes to a sink in whole lines: a background thread (one for every capture of
the process) hands complete lines to ``flush`` every ``interval`` seconds (so ``fnrun logs
--watch`` sees a run as it goes), and the rest when the block ends.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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

    def give_back(self, text: str) -> None:
        """Put drained text back in front (its flush failed: the next one carries it)."""
        with self._lock:
            self._chunks.insert(0, text)


Mask = Callable[[str], str]


def _unmasked(text: str) -> str:
    return text


def safe_write(stream: TextIO, text: str) -> None:
    """Write to a console that may be gone (the parent of a child run died: a broken pipe);
    the run goes on and its output still reaches its log."""
    with contextlib.suppress(BrokenPipeError, OSError, ValueError):
        stream.write(text)


class Tee(io.TextIOBase):
    """Writes to a stream and to a sink (the run's logger: captured from any thread)."""

    def __init__(self, original: TextIO, sink: LineSink, mask: Mask = _unmasked) -> None:
        self.original = original
        self.sink = sink
        self.mask = mask

    def write(self, text: str) -> int:
        masked = self.mask(text)
        self.sink.add(masked)
        safe_write(self.original, masked)
        return len(text)

    def flush(self) -> None:
        self.original.flush()


class _ThreadRouter(io.TextIOBase):
    """Stands in for ``sys.stdout``/``sys.stderr`` while captures run: text written by a thread
    that has a capture goes to that capture's sink (and to the original stream unless the capture
    is quiet); other threads write to the original stream only. One router serves any number of
    concurrent captures (in-process runs in several threads), so nothing is swapped per run."""

    def __init__(self, original: TextIO) -> None:
        self.original = original
        # per thread, a stack: a capture inside a capture (a nested run) takes over until it ends
        self.sinks: dict[int, list[tuple[LineSink, bool, Mask]]] = {}

    def write(self, text: str) -> int:
        stack = self.sinks.get(threading.get_ident())
        shown = text
        if stack:
            sink, echo, mask = stack[-1]
            shown = mask(text)
            sink.add(shown)
            if not echo:
                return len(text)
        safe_write(self.original, shown)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            self.original.flush()

    def isatty(self) -> bool:
        return self.original.isatty()


class _Routing:
    """Installs the routers on the first capture and restores the streams after the last."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.routers: dict[str, _ThreadRouter] = {}

    def start(self, sink: LineSink, echo: bool, mask: Mask) -> dict[str, _ThreadRouter]:
        with self.lock:
            if self.active == 0:
                self.routers = {name: _ThreadRouter(getattr(sys, name)) for name in _STREAMS}
                for name, router in self.routers.items():
                    setattr(sys, name, router)
            self.active += 1
            for router in self.routers.values():
                router.sinks.setdefault(threading.get_ident(), []).append((sink, echo, mask))
            return self.routers

    def stop(self) -> None:
        with self.lock:
            for router in self.routers.values():
                stack = router.sinks.get(threading.get_ident(), [])
                if stack:
                    stack.pop()
                if not stack:
                    router.sinks.pop(threading.get_ident(), None)
            self.active -= 1
            if self.active == 0:
                for name, router in self.routers.items():
                    if getattr(sys, name) is router:  # unless someone replaced it meanwhile
                        setattr(sys, name, router.original)
                self.routers = {}


_STREAMS = ("stdout", "stderr")
_ROUTING = _Routing()


class _Pump:
    """One capture's periodic work: complete lines to ``flush``, then ``tick``."""

    def __init__(self, sink: LineSink, flush: Callable[[str], None],
                 tick: Callable[[], None] | None, interval: float) -> None:  # fmt: skip
        self.sink, self.flush, self.tick, self.interval = sink, flush, tick, interval
        self.due = time.monotonic() + interval
        self.lock = threading.Lock()  # held while it pumps: the block's end waits for it

    def run(self) -> None:
        text = self.sink.drain()
        if text:
            try:
                self.flush(text)
            except Exception:  # a failing sink: the next tick, or the block's end, writes it
                self.sink.give_back(text)
        if self.tick is not None:
            with contextlib.suppress(Exception):  # best effort; the final commit reports
                self.tick()


class _Pumps:
    """One daemon thread pumps every active capture at its interval (a thread per run cost
    a start and a join per run; concurrent runs share this one)."""

    def __init__(self) -> None:
        self.active: set[_Pump] = set()
        self.changed = threading.Condition()
        self.thread: threading.Thread | None = None

    def add(self, pump: _Pump) -> None:
        with self.changed:
            self.active.add(pump)
            if self.thread is None or not self.thread.is_alive():  # none yet, or a fork's
                self.thread = threading.Thread(target=self._loop, name="fnrun-log-flush",
                                               daemon=True)  # fmt: skip
                self.thread.start()
            self.changed.notify()

    def remove(self, pump: _Pump) -> None:
        with self.changed:
            self.active.discard(pump)
        with pump.lock:  # a pump under way finishes before the block's last flush
            pass

    def _loop(self) -> None:
        while True:
            with self.changed:
                while not self.active:
                    self.changed.wait()
                due = min(self.active, key=lambda p: p.due)
                wait = due.due - time.monotonic()
                if wait > 0:
                    self.changed.wait(wait)
                    continue  # re-check: a capture may have ended or begun meanwhile
                due.due = time.monotonic() + due.interval
                due.lock.acquire()
            try:
                if due in self.active:
                    due.run()
            finally:
                due.lock.release()

    def after_fork(self) -> None:
        """In a forked child: the thread is gone and its locks may have been held."""
        self.changed = threading.Condition()
        self.thread = None
        for pump in self.active:
            pump.lock = threading.Lock()


_PUMPS = _Pumps()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_PUMPS.after_fork)


@contextmanager
def capture_output(
    flush: Callable[[str], None],
    logger: logging.Logger | None = None,
    echo: bool = True,
    interval: float = 1.0,
    mask: Mask = _unmasked,
    tick: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Everything the calling thread prints (and logs to ``logger``) inside the block goes to
    ``flush``; other threads' output is not mixed in, so runs may capture concurrently.
    ``mask`` is applied before text reaches the console or the sink (secrets); ``tick`` is
    called every ``interval`` with the flush (the run writes what it logged meanwhile)."""
    sink = LineSink()
    routers = _ROUTING.start(sink, echo, mask)
    quiet: Any = io.StringIO()
    handler = _attach(logger, Tee(routers["stderr"].original if echo else quiet, sink, mask))
    pump = _Pump(sink, flush, tick, interval)
    _PUMPS.add(pump)
    try:
        yield
    finally:
        _PUMPS.remove(pump)
        if logger is not None and handler is not None:
            logger.removeHandler(handler)
        _ROUTING.stop()
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
