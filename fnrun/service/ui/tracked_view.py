"""The last tracked records of a serving function, for its page: read from its tracking sink
(:mod:`fnrun.stream.tracked`) within the service's bounds, at most once per ``TTL`` seconds
per sink (:mod:`fnrun.service.ui.once`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fnrun.service.ui.once import OncePerTtl
from fnrun.stream.tracked import MAX_LIMIT, Bounds, NotReadable, recent_records, steps_of

TTL = 5.0
SHOWN = 20  # records of the chosen step on the page
CELL = 300  # characters of a record's inputs or outputs shown
HEADER = ["when", "model", "version", "latency µs", "error", "inputs", "outputs"]
View = dict[str, Any]


class TrackedViews:
    """``view(doc, step)``: the tracking of a function document, or None without one."""

    def __init__(self, roots: list[Path], ttl: float = TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self._roots = roots
        self._once: OncePerTtl[list[dict[str, Any]] | str] = OncePerTtl(ttl, clock)

    def __call__(self, doc: dict[str, Any], step: str = "") -> View | None:
        params = (doc.get("spec") or {}).get("parameters") or {}
        path = str(params.get("log_stream") or "")
        if not path:
            return None
        read = self._read(path)
        if isinstance(read, str):
            return {"path": path, "error": read, "steps": [], "step": "", "rows": []}
        steps = steps_of(read)
        chosen = step if step in steps else (steps[0] if steps else "")
        rows = [_row(r) for r in read if r.get("step") == chosen][:SHOWN]
        return {"path": path, "error": "", "steps": steps, "step": chosen, "rows": rows,
                "header": HEADER}  # fmt: skip

    def _read(self, path: str) -> list[dict[str, Any]] | str:
        return self._once.get(path, lambda: self._read_now(path))

    def _read_now(self, path: str) -> list[dict[str, Any]] | str:
        """The sink's newest records, or why they were not read."""
        try:
            return recent_records(path, "", MAX_LIMIT, Bounds.for_service(self._roots), 1.0)
        except NotReadable as exc:
            return f"not read: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
        except Exception as exc:  # whatever the sink holds, the page still shows
            return f"not read: {type(exc).__name__}: {exc}"


def _row(record: dict[str, Any]) -> list[str]:
    return [
        str(record.get("when", "")),
        str(record.get("model", "")),
        str(record.get("version", "")),
        str(record.get("latency_us", "")),
        str(record.get("error") or ""),
        _cut(record.get("inputs")),
        _cut(record.get("outputs")),
    ]


def _cut(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= CELL else text[: CELL - 1] + "…"
