"""Request batching: concurrent ``infer`` requests of one model become one ``predict`` call.

A request joins the open batch; the batch is sent when it holds ``max_batch_size`` rows or
``max_wait_ms`` after its first request, whichever comes first. ``predict`` gets one request
whose ``inputs`` are all the rows (other keys come from the first request) and must return one
output per row; each caller gets back the slice for its own rows. A failing ``predict`` fails
every request of that batch, with the same error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.model.values import to_plain


class BatchSizeMismatch(InvalidArgumentError):
    """``predict`` returned a different number of outputs than rows it was given."""

    http_status = 500


class Batcher:
    def __init__(
        self,
        predict: Callable[[dict[str, Any]], Any],
        max_batch_size: int,
        max_wait_ms: float,
        name: str = "model",
    ) -> None:
        if max_batch_size < 1 or max_wait_ms < 0:
            raise InvalidArgumentError(
                f"model {name!r}: max_batch_size must be >= 1 and max_wait_ms >= 0",
                field="max_batch_size",
            )
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.name = name
        self._pending: list[tuple[dict[str, Any], asyncio.Future[list[Any]]]] = []
        self._rows = 0
        self._timer: asyncio.TimerHandle | None = None
        self.batches = 0  # predict calls made (for tests and metrics)

    async def submit(self, request: dict[str, Any]) -> list[Any]:
        """The outputs for ``request``'s rows, computed together with other waiting requests."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        self._pending.append((request, future))
        self._rows += len(request["inputs"])
        if self._rows >= self.max_batch_size:
            self.flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.max_wait, self.flush)
        return await future

    def flush(self) -> None:
        """Send the open batch now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending, self._rows = self._pending, [], 0
        if not batch:
            return
        self.batches += 1
        rows = [row for request, _ in batch for row in request["inputs"]]
        try:
            outputs = _as_list(self.predict({**batch[0][0], "inputs": rows}))
            if len(outputs) != len(rows):
                raise BatchSizeMismatch(
                    f"model {self.name!r}: predict returned {len(outputs)} outputs for "
                    f"{len(rows)} batched rows",
                    field="max_batch_size",
                    hint="return one output per input row, or serve without max_batch_size",
                )
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        offset = 0
        for request, future in batch:
            count = len(request["inputs"])
            if not future.done():
                future.set_result(outputs[offset : offset + count])
            offset += count


def _as_list(outputs: Any) -> list[Any]:

    plain = to_plain(outputs)
    return plain if isinstance(plain, list) else [plain]
