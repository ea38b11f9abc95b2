"""Steps written the MLRun way (resolved by name from this module by the fidelity tests)."""

from __future__ import annotations

from typing import Any

import storey

from fnrun.serving import V2ModelServer


class Double:
    """A plain class: no __init__, only do()."""

    def do(self, x: int) -> int:
        return x * 2


def add_one(event: Any, context: Any = None) -> Any:
    """MLRun's handler form: the context comes as a keyword."""
    return {"value": event + 1, "mock": bool(getattr(context, "is_mock", False))}


def seen_context(context: Any, body: Any) -> Any:
    """fnrun's handler form: the context comes first."""
    return {"body": body, "has_logger": hasattr(context, "logger")}


class Tripler(storey.MapClass):
    def do(self, event: Any) -> Any:
        return event * 3


class DropOdd(storey.MapClass):
    def do(self, event: Any) -> Any:
        if event % 2:
            self.filter()
        return event


class AsyncTripler(storey.MapClass):
    async def do(self, event: Any) -> Any:
        return event * 3


class Scaled:
    def __init__(self, factor: int = 1) -> None:
        self.factor = factor

    def do(self, x: int) -> int:
        return x * self.factor


class ApplyFn:
    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def do(self, x: Any) -> Any:
        return self.fn(x)


def square(x: int) -> int:
    return x * x


class EchoModel(V2ModelServer):
    def __init__(self, context: Any = None, name: str = "", factor: int = 1, **kw: Any) -> None:
        super().__init__(context, name, **kw)
        self.factor = factor

    def load(self) -> None:
        self.model = True

    def predict(self, request: dict[str, Any]) -> Any:
        return [sum(row) * self.factor for row in request["inputs"]]


class Labeller:
    """A plain class whose init args are read back from its attributes."""

    def __init__(self, label: str = "x", context: Any = None) -> None:
        self.label = label

    def do(self, body: Any) -> Any:
        return {"label": self.label, "body": body}
