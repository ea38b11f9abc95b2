"""A graph over many rows: the serving graph as a batch job (``srv.to_job()``).

Each body is one event through the same ``GraphServer`` the mock and HTTP use, so a graph
answers a row the same way wherever it runs. Answers come back in the input order, one
:class:`Outcome` each — a failed event is an outcome with its error, never dropped and never a
stop of the whole job. The sync engine walks events one after another; the async engine keeps
up to ``concurrency`` in flight (a fixed set of workers pulls the next event, so a million
rows never make a million pending tasks).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fnrun.graph.event import Event

if TYPE_CHECKING:
    from fnrun.graph.server import GraphServer

OUTPUT_COLUMN = "output"  # the column of an answer that is not a mapping
ERROR_COLUMN = "error"
ANSWERED_ERROR_COLUMN = f"{OUTPUT_COLUMN}.{ERROR_COLUMN}"  # an answer's own "error" key


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one event answered: its ``value``, or ``error`` (type: message (step)) if it
    failed."""

    value: Any = None
    error: str = ""


def bodies_of(
    rows: Sequence[Any],
    batch_size: int = 1,
    nest_under_inputs: bool = False,
    batched: bool | None = None,
) -> list[tuple[Any, int]]:
    """The event bodies of ``rows`` and how many rows each holds: one row per event, or
    (``batched``, by default when ``batch_size`` > 1) lists of up to ``batch_size`` rows;
    ``nest_under_inputs`` wraps each body as ``{"inputs": body}``."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not (batch_size > 1 if batched is None else batched):
        return [({"inputs": row} if nest_under_inputs else row, 1) for row in rows]
    out: list[tuple[Any, int]] = []
    for start in range(0, len(rows), batch_size):
        chunk = list(rows[start : start + batch_size])
        out.append(({"inputs": chunk} if nest_under_inputs else chunk, len(chunk)))
    return out


def serve_all(
    server: GraphServer, bodies: Iterable[Any], concurrency: int = 16, first_id: int = 0
) -> list[Outcome]:
    """Each body through ``server``, the outcomes in order."""
    events = [
        Event(body=body, method="POST", path="/", id=first_id + i) for i, body in enumerate(bodies)
    ]
    if server.engine == "sync" or concurrency <= 1:
        return [outcome_of(server.run(ev, as_data=True)) for ev in events]
    return server._complete(_serve_async(server, events, concurrency))  # type: ignore[no-any-return]


async def _serve_async(server: GraphServer, events: list[Event], concurrency: int) -> list[Outcome]:
    results: list[Outcome] = [Outcome()] * len(events)
    upcoming = iter(range(len(events)))

    async def worker() -> None:
        for i in upcoming:  # the workers share one iterator: each index is taken once
            results[i] = outcome_of(await server.run_async(events[i], as_data=True))

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(events)))))
    return results


def outcome_of(result: Any) -> Outcome:
    """The outcome of what ``GraphServer.run(..., as_data=True)`` answered."""
    if type(result) is dict or type(result) is list:
        return Outcome(result)
    status = getattr(result, "status_code", 200)
    body = getattr(result, "body", result)
    if status >= 300:
        return Outcome(error=_error_text(body, status))
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str) and "json" in (getattr(result, "content_type", "") or ""):
        with contextlib.suppress(ValueError):
            body = json.loads(body)
    return Outcome(body)


def _error_text(body: Any, status: int) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return f"status {status}: {body}"
    if not isinstance(body, dict):
        return f"status {status}: {body}"
    text = f"{body.get('error') or 'Error'}: {body.get('message', '')}"
    return text + (f" (step {body['step']!r})" if body.get("step") else "")


def per_row(
    outcomes: Sequence[Outcome], sizes: Sequence[int], batched: bool = True
) -> list[tuple[int, Outcome]]:
    """(first input row, outcome) per output row: a batch's answer that is a list of one item
    per row is spread over its rows; any other answer (or its error) is one row for the
    batch, at the batch's first row. Not ``batched``: one outcome per row, as it is."""
    if not batched:
        return list(enumerate(outcomes))
    out: list[tuple[int, Outcome]] = []
    row = 0
    for outcome, size in zip(outcomes, sizes, strict=True):
        value = outcome.value
        if not outcome.error and isinstance(value, list) and len(value) == size:
            out.extend((row + i, Outcome(item)) for i, item in enumerate(value))
        else:
            out.append((row, outcome))
        row += size
    return out


def record_of(outcome: Outcome) -> dict[str, Any]:
    """One dataset row: a mapping answer's keys as columns (else ``output``), and ``error``,
    which says only whether the event failed: an answer's own ``error`` key (an error
    handler's answer, say) is the column ``output.error``, never taken for a failure."""
    if outcome.error:
        return {ERROR_COLUMN: outcome.error}
    value = outcome.value
    record = dict(value) if isinstance(value, dict) else {OUTPUT_COLUMN: value}
    if ERROR_COLUMN in record:
        record[ANSWERED_ERROR_COLUMN] = record.pop(ERROR_COLUMN)
    record[ERROR_COLUMN] = None
    return record


def per_model(outcomes: Sequence[Outcome]) -> dict[str, list[tuple[int, Any]]]:
    """MLRun's per-model datasets: when answers are ``{model: answer, ...}`` (a ModelRunner,
    an ensemble's per-model answers), each model's (position, answer) pairs; else nothing."""
    first = next((o.value for o in outcomes if not o.error), None)
    if not isinstance(first, dict) or not first:
        return {}
    if not isinstance(next(iter(first.values())), dict | list):
        return {}
    grouped: dict[str, list[tuple[int, Any]]] = {}
    for position, outcome in enumerate(outcomes):
        if outcome.error:
            continue
        if not isinstance(outcome.value, dict):
            return {}
        for model, answer in outcome.value.items():
            grouped.setdefault(str(model), []).append((position, answer))
    return grouped
