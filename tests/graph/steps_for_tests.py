"""Step classes and handlers used by the graph tests (resolved by name from this module)."""

from __future__ import annotations

import asyncio
from typing import Any


class Chain:
    def __init__(self, context: Any = None, name: str | None = None) -> None:
        self.name = name

    def do(self, x: list[str]) -> list[str]:
        x.append(self.name or "?")
        return x


class Mutator:
    """Mutates its input in place (branches must not see each other's changes)."""

    def __init__(self, context: Any, name: str | None = None, key: str = "k") -> None:
        self.key = key

    def do(self, body: dict[str, Any]) -> dict[str, Any]:
        body[self.key] = body.get(self.key, 0) + 1
        return body


class Counter:
    post_inits = 0

    def __init__(self, context: Any, name: str | None = None, start: int = 0) -> None:
        self.start = start
        self.context = context

    def post_init(self, mode: str = "sync") -> None:
        Counter.post_inits += 1

    def do(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "count": self.start, "param": self.context.get_param("p", "none")}


class EventEcho:
    def __init__(self, context: Any, name: str | None = None) -> None:
        pass

    def do_event(self, event: Any) -> Any:
        event.body = {
            "path": event.path,
            "id": event.id,
            "header": event.headers.get("x-h"),
            "method": event.method,
            "body": event.body,
        }
        return event


class Boom:
    def __init__(self, context: Any, name: str | None = None) -> None:
        pass

    def do(self, body: Any) -> Any:
        raise ValueError("boom happened")


class Catcher:
    def __init__(self, context: Any, name: str | None = None) -> None:
        pass

    def do_event(self, event: Any) -> Any:
        event.body = {"caught": event.error, "origin": event.origin_state, "input": event.body}
        return event


class NoArgs:
    def __init__(self) -> None:
        pass

    def do(self, body: Any) -> Any:
        return body


def inc(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


def with_context(context: Any, x: int) -> dict[str, Any]:
    return {"x": x, "secret": context.get_secret("TOKEN")}


def drop(x: Any) -> None:
    return None


def merge(bodies: dict[str, Any]) -> dict[str, Any]:
    return {"merged": sorted(bodies)}


def listify(x: Any) -> list[Any]:
    return [x]


async def slow_inc(x: int) -> int:
    await asyncio.sleep(0.001)
    return x + 1
