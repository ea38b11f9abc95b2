"""The event that walks a graph: a ``nuclio_sdk.Event`` (subclass) when nuclio-sdk is
installed, so a handler written for Nuclio runs unchanged (``isinstance`` checks,
``get_header``, ``to_json``, ``event.trigger.kind``).

Built for every request, it is slotted and sets only what a request has (nuclio's own
``__init__`` sets 19 attributes, ~1 µs; this ~0.4 µs); the other nuclio attributes are
class-level defaults an instance overrides only when it sets them. Real ``nuclio_sdk.Event``
objects are accepted as they are.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import TYPE_CHECKING, Any

try:  # nuclio's type when it is there; the same attributes either way
    from nuclio_sdk import Event as _Base
    from nuclio_sdk import TriggerInfo
except ImportError:  # pragma: no cover - nuclio-sdk is in the serve and dev extras

    class _Base:  # type: ignore[no-redef]
        pass

    class TriggerInfo:  # type: ignore[no-redef]
        def __init__(self, kind: str = "", name: str = "") -> None:
            self.kind = kind
            self.name = name


__all__ = [
    "HTTP_TRIGGER",
    "Event",
    "TriggerInfo",
    "as_event",
    "get_path",
    "set_path",
    "trigger_info",
]

HTTP_TRIGGER = TriggerInfo("http", "fnrun")


def trigger_info(trigger: Any) -> Any:
    """A trigger object with ``kind`` and ``name`` from one, a dict, or a kind string."""
    if trigger is None or hasattr(trigger, "kind"):
        return trigger
    if isinstance(trigger, dict):
        return TriggerInfo(str(trigger.get("kind", "")), str(trigger.get("name", "")))
    return TriggerInfo(str(trigger), "")


class Event(_Base):  # type: ignore[misc]
    # The fields every request sets are slots; the rest are class-level defaults that an
    # instance overrides only when it sets them (kept in the instance ``__dict__``).
    if TYPE_CHECKING:  # the base class brings the __dict__ that other attributes go to
        __slots__ = (
            "__dict__",
            "body",
            "content_type",
            "headers",
            "id",
            "method",
            "path",
            "trigger",
        )
    else:
        __slots__ = ("body", "content_type", "headers", "id", "method", "path", "trigger")

    error: str | None = None
    origin_state: str | None = None
    deadline: float | None = None  # when the request's time is up (a time.monotonic() value)
    size: int | None = None
    timestamp: Any = None
    shard_id: int | None = None
    url: str | None = None
    num_shards: int | None = None
    type: str | None = None
    type_version: str | None = None
    version: str | None = None
    last_in_batch: bool | None = None
    offset: int | None = None
    topic: str | None = None

    def __init__(
        self,
        body: Any = None,
        content_type: str | None = None,
        headers: dict[str, Any] | None = None,
        method: str | None = None,
        path: str | None = "/",
        id: Any = None,
        trigger: Any = None,
    ) -> None:
        self.body = body
        self.content_type = content_type
        self.headers = headers if headers is not None else {}
        self.method = method
        self.path = path
        self.id = id
        self.trigger = trigger

    @property
    def fields(self) -> dict[str, Any]:
        """Trigger-specific fields (created on first use, one dict per event)."""
        fields = self.__dict__.get("_fields")
        if fields is None:
            fields = self.__dict__["_fields"] = {}
        return fields

    @fields.setter
    def fields(self, value: dict[str, Any]) -> None:
        self.__dict__["_fields"] = value

    def copy(self, deep_body: bool = True) -> Event:
        """An independent copy (the body deep-copied) for another branch."""
        new = Event.__new__(Event)
        new.body = copy.deepcopy(self.body) if deep_body else self.body
        new.content_type = self.content_type
        new.headers = dict(self.headers)
        new.id = self.id
        new.method = self.method
        new.path = self.path
        new.trigger = self.trigger
        extra = self.__dict__
        if extra:
            new.__dict__.update({k: copy.copy(v) for k, v in extra.items()})
        return new

    def get_header(self, key: str) -> Any:
        """A header by name, in any case (nuclio's ``Event.get_header``)."""
        found = self.headers.get(key)
        if found is not None:
            return found
        lower = key.lower()
        for name, value in self.headers.items():
            if name.lower() == lower:
                return value
        return None

    def to_json(self) -> str:
        """The event as JSON (nuclio's ``Event.to_json``: bytes bodies in base64)."""
        body = self.body
        if isinstance(body, bytes | bytearray):
            body = base64.b64encode(bytes(body)).decode("ascii")
        trigger = self.trigger
        data = {
            "body": body,
            "content_type": self.content_type,
            "headers": self.headers,
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "fields": self.fields,
            "trigger": {
                "kind": getattr(trigger, "kind", ""),
                "name": getattr(trigger, "name", ""),
            },
            **{k: v for k, v in self.__dict__.items() if not k.startswith("_")},
        }
        return json.dumps(data, default=str)

    def __repr__(self) -> str:
        return f"Event(id={self.id!r}, path={self.path!r}, body={self.body!r})"


def get_path(body: Any, path: str) -> Any:
    """``body`` at a dotted path (``"data.features"``); dict keys or list indexes."""
    for part in path.split("."):
        body = body[int(part)] if isinstance(body, list) else body[part]
    return body


def set_path(body: Any, path: str, value: Any) -> Any:
    """``body`` with ``value`` set at a dotted path (creating dicts on the way)."""
    if not isinstance(body, dict):
        body = {}
    node = body
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return body


def as_event(event: Any) -> Event:
    """Our Event from ours, a nuclio Event, or anything with a ``body``."""
    if isinstance(event, Event):
        return event
    return Event(
        body=getattr(event, "body", event),
        content_type=getattr(event, "content_type", None),
        headers=dict(getattr(event, "headers", None) or {}),
        method=getattr(event, "method", None),
        path=getattr(event, "path", "/"),
        id=getattr(event, "id", None),
        trigger=getattr(event, "trigger", None),
    )
