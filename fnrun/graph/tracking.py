"""Model monitoring: each model's requests, responses and latency pushed to a stream.

``fn.set_tracking(stream_path, batch=N, sample=M)`` sets the server parameters ``log_stream``,
``log_stream_batch`` and ``log_stream_sample`` (MLRun's names). Every M-th request of a model
is recorded; records go out one per message, or N per message as ``{"headers", "values"}``
rows. Failures are always recorded, at once. The stream is the server's queue pusher: in-memory
in the mock (``server.streams.read(path)``), Kafka (``kafka://host:port/topic``) when deployed.
"""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from typing import Any

from fnrun.errors import InvalidArgumentError

HEADERS = ["request", "op", "resp", "when", "microsec", "metrics"]


def tracker_for(model: Any) -> ModelTracker | None:
    """The tracker of ``model`` when its server has a ``log_stream``, else None."""
    context = model.context
    getter = getattr(context, "get_param", None)
    push = getattr(context, "stream_push", None)
    path = getter("log_stream", "") if getter is not None else ""
    if not path or getter is None:
        return None
    if push is None:
        raise InvalidArgumentError(
            f"model {model.name!r}: tracking stream {path!r} has no stream to push to",
            field="log_stream",
            hint="serve through to_mock_server() or fnrun serve/deploy",
        )
    return ModelTracker(
        model,
        push,
        str(path),
        batch=int(getter("log_stream_batch", 1) or 1),
        sample=int(getter("log_stream_sample", 1) or 1),
    )


class ModelTracker:
    def __init__(self, model: Any, push: Any, path: str, batch: int = 1, sample: int = 1) -> None:
        if batch < 1 or sample < 1:
            raise InvalidArgumentError(
                "tracking batch and sample must be >= 1", field="log_stream_batch"
            )
        self.model = model
        self.push = push
        self.path = path
        self.batch = batch
        self.sample = sample
        self._seen = 0
        self._rows: list[list[Any]] = []
        self._lock = threading.Lock()
        self._base = {
            "class": type(model).__name__,
            "model": model.name,
            "version": model.version,
            "host": socket.gethostname(),
            "worker": getattr(model.context, "worker_id", 0),
        }
        if model.labels:
            self._base["labels"] = dict(model.labels)

    def record(self, request: Any, op: str, response: Any, seconds: float) -> None:
        with self._lock:
            self._seen += 1
            if self._seen % self.sample:
                return
            row = [request, op, response, _now(), int(seconds * 1e6), self.model.metrics]
            if self.batch == 1:
                message = {**self._base, **dict(zip(HEADERS, row, strict=True))}
            else:
                self._rows.append(row)
                if len(self._rows) < self.batch:
                    return
                message = {**self._base, "headers": HEADERS, "values": self._rows}
                self._rows = []
        self._send(message)

    def error(self, request: Any, op: str, exc: BaseException) -> None:
        self._send({**self._base, "request": request, "op": op, "when": _now(), "error": str(exc)})

    def flush(self) -> None:
        """Send a partly filled batch (at shutdown)."""
        with self._lock:
            rows, self._rows = self._rows, []
        if rows:
            self._send({**self._base, "headers": HEADERS, "values": rows})

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self.push(self.path, message)
        except Exception as exc:  # monitoring must never fail a request
            logger = getattr(self.model.context, "logger", None)
            if logger is not None:
                logger.warn(f"tracking stream {self.path!r}: {exc}")


def _now() -> str:
    return datetime.now(UTC).isoformat()
