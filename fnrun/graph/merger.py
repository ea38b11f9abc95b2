"""Merge: join the events of several branches into one (MLRun's ``mlrun.serving.merger.Merge``).

A step after several branches runs once per event that reaches it; put a ``Merge`` step there
to wait for every branch instead. Parts are matched by event id (or by ``key_path``, a safe
expression such as ``event["doc_id"]``); when all ``expected_num_events`` parts (by default:
the step's number of parents) have arrived, one event goes on with the list of the parts'
bodies, in arrival order. At most ``max_behind`` (64) keys wait at once: when a new key
comes and the oldest is still incomplete, the oldest is dropped and reported to the error
stream (never silently); a part of a dropped key that arrives later is dropped too (and
reported) rather than starting the key afresh, as MLRun's (the last ``max_behind`` dropped
keys are remembered, so the memory stays bounded). Works on both engines; subclass and
override ``get_join_key`` or ``merge_function`` for your own logic.

>>> graph.add_step(Merge(), name="join", after=["left", "right"])  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.model.step_objects import StepToDict


class MergeDropped(InvalidArgumentError):
    """An incomplete join was dropped (``max_behind`` newer keys arrived first)."""


class Merge(StepToDict):
    step_class_name = "mlrun.serving.merger.Merge"

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        full_event: bool | None = None,
        key_path: str | None = None,
        max_behind: int | None = None,
        expected_num_events: int | None = None,
        **kwargs: Any,
    ) -> None:
        if max_behind is not None and (not isinstance(max_behind, int) or max_behind < 1):
            raise InvalidArgumentError(
                f"max_behind must be >= 1, got {max_behind!r}", field="max_behind"
            )
        self.context = context
        self.name = name or "merge"
        self.key_path = key_path
        self.max_behind = max_behind or 64
        self.expected_num_events = expected_num_events
        self.full_event = bool(full_event) if full_event is not None else not key_path
        self._key = None
        if key_path:
            from fnrun.execution.safe_expr import parse

            self._key = parse(key_path, field="key_path", data=True, names=frozenset({"event"}))
        self._parts = expected_num_events or 0
        self._waiting: OrderedDict[Any, list[Any]] = OrderedDict()
        self._dropped: OrderedDict[Any, None] = OrderedDict()  # recent keys given up on
        self._lock = threading.Lock()

    def set_upstream_count(self, count: int) -> None:
        """The number of parents (the graph tells it when the step is built)."""
        self._parts = self.expected_num_events or count

    def get_join_key(self, event: Any) -> Any:
        """The key that matches parts: the event id, or ``key_path`` over the event (the
        whole event with ``full_event``, else its body)."""
        if self._key is None:
            return event.id
        from fnrun.execution.safe_expr import evaluate

        return evaluate(self._key, {"event": event if self.full_event else event.body})

    def merge_function(self, last_event: Any, parts: list[Any]) -> Any:
        """The joined event: ``last_event`` with the list of the parts' bodies."""
        last_event.body = [part.body for part in parts]
        return last_event

    def do_event(self, event: Any) -> Any:
        if self._parts <= 1:
            return event
        key = self.get_join_key(event)
        parts: list[Any] = []
        dropped = None
        done = False
        with self._lock:
            late = key in self._dropped
            if not late:
                waiting = self._waiting.get(key)
                if waiting is None:
                    dropped = self._make_room()
                    self._waiting[key] = waiting = parts
                parts = waiting
                parts.append(event)
                done = len(parts) >= self._parts
                if done:
                    del self._waiting[key]
        if late:
            self._report(
                event,
                f"merge {self.name!r}: a part of key {key!r} arrived after the key was dropped; "
                "dropped too",
            )
            return None
        if dropped is not None:
            old_key, old_parts = dropped
            self._report(
                old_parts[0],
                f"merge {self.name!r}: key {old_key!r} got {len(old_parts)} of {self._parts} "
                f"parts before {self.max_behind} newer keys arrived; dropped",
            )
        return self.merge_function(event, parts) if done else None

    def _make_room(self) -> tuple[Any, list[Any]] | None:
        if len(self._waiting) < self.max_behind:
            return None
        key, parts = self._waiting.popitem(last=False)
        self._dropped[key] = None
        if len(self._dropped) > self.max_behind:
            self._dropped.popitem(last=False)
        return key, parts

    def _report(self, event: Any, message: str) -> None:
        from fnrun.graph.engines import StepFailed

        error = MergeDropped(
            message,
            field="max_behind",
            hint="raise max_behind, or check that every branch answers (None stops a branch)",
        )
        server = getattr(self.context, "server", None)
        if server is not None:
            server.failure(event, StepFailed(self.name, error))
