"""Tracking taps: what each model (and each chosen step) was asked and answered, errors
included, as one record per call:

``{function, step, model, version, request_id, when, latency_us, inputs, outputs, error}``
(and ``op``, the model operation; ``labels`` when the model has them).

``fn.set_tracking(stream_path, sample=1.0, steps=None)`` sets the server parameters
``log_stream``, ``log_stream_sample`` and ``log_stream_steps`` (MLRun's names for the first
two, and its ``log_stream_batch``). ``sample`` is the share of requests tracked (MLRun's int
``sample=M``: one in M), chosen by a stable hash of the request id, so every step of a graph
tracks the same requests, on every replica; a failed call is always recorded. With
``steps`` unset every model is tracked (V2ModelServer routes, ensembles); ``steps=[names]``
taps those steps too. Where records go:
:mod:`fnrun.graph.sinks`. A failing sink never fails a request; its losses are counted in
``/metrics``.
"""

from __future__ import annotations

import inspect
import time
from datetime import UTC, datetime
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.graph.keys import stable_hash
from fnrun.graph.sinks import Sink, frozen, open_sink

_SCALE = 1 << 64


class Tracking:
    """A server's tracking: its sink, its share of requests and the steps it taps."""

    def __init__(self, path: str, sink: Sink, sample: float, steps: list[str], function: str):
        self.path, self.sink, self.steps, self.function = path, sink, steps, function
        self.share = sample
        self._bound = int(sample * _SCALE)

    @classmethod
    def from_context(cls, context: Any) -> Tracking | None:
        """The tracking a server's parameters ask for (None without ``log_stream``)."""
        get = context.get_param
        path = str(get("log_stream", "") or "")
        if not path:
            return None
        sample = share_of(get("log_stream_sample", None))
        batch = get("log_stream_batch", 1) or 1
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise InvalidArgumentError(
                f"tracking batch must be an int >= 1, got {batch!r}", field="log_stream_batch"
            )
        steps = get("log_stream_steps", None) or []
        if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
            raise InvalidArgumentError(
                "tracking steps must be a list of step names", field="log_stream_steps"
            )
        function = str(getattr(context, "function_name", "") or "")
        sink = open_sink(path, getattr(context, "stream_push", None), function, batch)
        return cls(path, sink, sample, list(steps), function)

    def wants(self, request_id: Any) -> bool:
        """Whether the request with this id is tracked (the same answer everywhere)."""
        if self._bound >= _SCALE:
            return True
        return stable_hash(str(request_id)) < self._bound

    def write(
        self,
        step: str,
        request_id: Any,
        inputs: Any,
        outputs: Any,
        seconds: float,
        error: BaseException | str | None = None,
        **extra: Any,
    ) -> None:
        record = {
            "function": self.function,
            "step": step,
            "model": extra.pop("model", step),
            "version": extra.pop("version", ""),
            "request_id": request_id,
            "when": now_iso(),
            "latency_us": int(seconds * 1e6),
            "inputs": inputs,
            "outputs": outputs,
            "error": None if error is None else _error_text(error),
            **extra,
        }
        self.sink.write(record)

    def tap(self, name: str, run: Any) -> Any:
        """``run`` (a step's runner) recording its calls, when ``name`` is a tapped step."""
        if name not in self.steps:
            return run
        clock = time.perf_counter
        if getattr(run, "is_async", False) or inspect.iscoroutinefunction(run):

            async def tapped_async(event: Any) -> Any:
                wanted, inputs, start = self._taken(event)
                try:
                    out = await run(event)
                except Exception as exc:  # a failure is always recorded
                    self.write(name, event.id, inputs, None, clock() - start, exc)
                    raise
                return self._answered(name, event, wanted, inputs, start, out)

            tapped_async.is_async = True  # type: ignore[attr-defined]
            return tapped_async

        def tapped(event: Any) -> Any:
            wanted, inputs, start = self._taken(event)
            try:
                out = run(event)
            except Exception as exc:  # a failure is always recorded
                self.write(name, event.id, inputs, None, clock() - start, exc)
                raise
            return self._answered(name, event, wanted, inputs, start, out)

        for attr in ("streams", "routes_outlets"):
            if getattr(run, attr, False):
                setattr(tapped, attr, True)
        return tapped

    def _taken(self, event: Any) -> tuple[bool, Any, float]:
        """(tracked?, the input as it came — a snapshot when tracked —, the start time)."""
        wanted = self.wants(event.id)
        return wanted, (frozen(event.body) if wanted else event.body), time.perf_counter()

    def _answered(
        self, name: str, event: Any, wanted: bool, inputs: Any, start: float, out: Any
    ) -> Any:
        """``out``, recorded first when the request is tracked."""
        if wanted:
            self.write(name, event.id, inputs, _body(out), time.perf_counter() - start)
        return out

    def close(self) -> None:
        self.sink.close()


def share_of(sample: Any) -> float:
    """``sample`` as a share of requests: a float from 0 to 1, or MLRun's int M (one in M)."""
    if sample is None:
        return 1.0
    if isinstance(sample, bool) or not isinstance(sample, int | float):
        raise InvalidArgumentError(
            f"tracking sample must be a number, got {sample!r}", field="log_stream_sample"
        )
    if isinstance(sample, int):
        if sample < 1:
            raise InvalidArgumentError(
                f"tracking sample must be >= 1 (one in N) or a share from 0 to 1, got {sample}",
                field="log_stream_sample",
            )
        return 1.0 / sample
    if not 0.0 < sample <= 1.0:
        raise InvalidArgumentError(
            f"tracking sample {sample} is not a share from 0 to 1", field="log_stream_sample"
        )
    return float(sample)


class ModelTracker:
    """One model's (or ensemble's) tracking: its record fields, the server's sink."""

    def __init__(self, model: Any, tracking: Tracking) -> None:
        self.model = model
        self.tracking = tracking
        self.extra: dict[str, Any] = {"model": model.name, "version": model.version}
        self._labels = dict(getattr(model, "labels", None) or {})
        if self._labels:
            self.extra["labels"] = self._labels

    def wants(self, request_id: Any) -> bool:
        return self.tracking.wants(request_id)

    def record(self, request_id: Any, op: str, inputs: Any, outputs: Any, seconds: float) -> None:
        """One answered call (the hot path: the record is built here, in one go)."""
        model = self.model
        record = {
            "function": self.tracking.function,
            "step": model.name,
            "model": model.name,
            "version": model.version,
            "request_id": request_id,
            "when": now_iso(),
            "latency_us": int(seconds * 1e6),
            "inputs": inputs,
            "outputs": outputs,
            "error": None,
            "op": op,
        }
        if self._labels:
            record["labels"] = self._labels
        self.tracking.sink.write(record)

    def error(self, request_id: Any, op: str, inputs: Any, exc: BaseException, seconds: float
              ) -> None:  # fmt: skip
        self.tracking.write(self.model.name, request_id, inputs, None, seconds, exc, op=op,
                            **self.extra)  # fmt: skip

    def flush(self) -> None:
        self.tracking.sink.flush()


def tracker_for(model: Any) -> ModelTracker | None:
    """The tracker of ``model`` when its server tracks, else None."""
    context = model.context
    tracking = getattr(context, "tracking", None)
    if tracking is None:
        return None
    return ModelTracker(model, tracking)


_second: list[Any] = [0, ""]  # the last whole second and its ISO text


def now_iso() -> str:
    """The time now as ISO 8601 in UTC with microseconds (each second's text made once)."""
    micros = time.time_ns() // 1000
    whole, part = divmod(micros, 1_000_000)
    if whole != _second[0]:
        _second[1] = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _second[0] = whole
    return f"{_second[1]}{part:06d}+00:00"


def _body(out: Any) -> Any:
    return out.body if hasattr(out, "body") and not hasattr(out, "status_code") else out


def _error_text(error: BaseException | str) -> str:
    if isinstance(error, str):
        return error
    return f"{type(error).__name__}: {error}"
