"""What a page reads from elsewhere (a function's /metrics, its tracking sink), read at most
once per key per ``ttl`` seconds however many pages are open: one reader at a time per key,
the others wait for its answer. At most ``MAX_KEYS`` keys are remembered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
MAX_KEYS = 1000


class OncePerTtl(Generic[T]):
    """``get(key, read)``: ``read()``'s answer for ``key``, cached for ``ttl`` seconds."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._clock = ttl, clock
        self._seen: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()
        self._gates: dict[str, threading.Lock] = {}

    def get(self, key: str, read: Callable[[], T]) -> T:
        with self._lock:
            if len(self._seen) > MAX_KEYS:
                self._seen.clear()
                self._gates.clear()
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:
            seen = self._seen.get(key)
            if seen is not None and self._clock() - seen[0] < self._ttl:
                return seen[1]
            value = read()
            self._seen[key] = (self._clock(), value)
            return value
