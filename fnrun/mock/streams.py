"""In-memory streams for the mock: queue steps and the error stream write here."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from fnrun.graph.event import Event


class MemoryStreams:
    """Named in-memory streams (``push``, ``read``); thread-safe."""

    def __init__(self) -> None:
        self._data: dict[str, list[Any]] = defaultdict(list)
        self._lock = threading.Lock()

    def push(self, name: str, record: Any) -> None:
        """Keep ``record``; an event is copied, so later steps cannot change what was sent."""
        if isinstance(record, Event):
            record = record.copy()
        with self._lock:
            self._data[name].append(record)

    def read(self, name: str) -> list[Any]:
        with self._lock:
            return list(self._data.get(name, []))

    def names(self) -> list[str]:
        return sorted(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
