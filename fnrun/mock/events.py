"""MLRun's mock event types (``mlrun.serving.server.MockEvent``/``MockTrigger``): events a
test builds by hand and hands to ``server.run(event)`` or a handler.

>>> event = MockEvent(body={"x": 1}, path="/v2/models/m/infer", event_id="e1",
...                   trigger=MockTrigger("kafka", "orders"))
>>> event.id, event.trigger.kind
('e1', 'kafka')
"""

from __future__ import annotations

from typing import Any

from fnrun.graph.event import Event, TriggerInfo

__all__ = ["MockEvent", "MockTrigger"]


class MockTrigger(TriggerInfo):  # type: ignore[misc]
    """A trigger with ``kind`` (``http``, ``kafka``...) and ``name``."""

    def __init__(self, kind: str = "", name: str = "") -> None:
        self.kind = kind
        self.name = name


class MockEvent(Event):
    """An event with MLRun's mock constructor (``event_id=`` rather than ``id=``)."""

    __slots__ = ()

    def __init__(
        self,
        body: Any = None,
        content_type: str | None = None,
        headers: dict[str, Any] | None = None,
        method: str | None = None,
        path: str | None = None,
        event_id: Any = None,
        trigger: Any = None,
    ) -> None:
        super().__init__(body, content_type, headers, method, path or "/", event_id, trigger)
