"""The streaming entries of a :class:`~fnrun.graph.server.GraphServer`: ``run(...,
stream=True)`` (the mock) and ``stream_async`` (the HTTP front-end) answer a streaming graph's
chunks one by one. A streamed request is admitted at the server's door and keeps its place
until the stream ends; its deadline holds for the whole stream (:mod:`fnrun.graph.streaming`
stops the generator at it); a consumer that stops early closes the generator."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import TYPE_CHECKING, Any

from fnrun.graph.deadline import NO_DEADLINE, run_async_timed
from fnrun.graph.engines import Streamed, run_async, run_sync
from fnrun.graph.event import Event, as_event
from fnrun.graph.jsonbody import decode_body
from fnrun.graph.streaming import StreamFailed, chunks_async

if TYPE_CHECKING:
    from fnrun.graph.admission import Door
    from fnrun.graph.nodes import CompiledGraph


class StreamEntries:
    """Mixed into GraphServer, whose door, deadline and walks these use."""

    if TYPE_CHECKING:
        compiled: CompiledGraph
        door: Door | None
        max_depth: int
        _sync: bool
        _untimed: bool

        def _admit(self, ev: Event, get_body: bool) -> Any: ...
        def _deadline(self, ev: Event) -> Any: ...
        def _run_timed(self, ev: Event, deadline: float | None) -> Any: ...
        def _complete(self, coro: Any) -> Any: ...
        def _chunks(self, signal: Streamed, deadline: float | None = None) -> Any: ...
        def failure(self, event: Event, exc: Exception, get_body: bool = False) -> Any: ...

    def _enter(self, ev: Event) -> None:
        """Take the stream's place at the door, or fail with the server's 503."""
        if self.door is not None:
            refused = self._admit(ev, False)
            if refused is not None:
                raise StreamFailed(refused)

    def _walk(self, ev: Event) -> Any:
        """Decode the body and walk the graph under the request's deadline, from synchronous
        code (``GraphServer.run`` does the same inline: the hot path)."""
        ev.body = decode_body(ev.body, ev.content_type, self.max_depth)
        deadline = NO_DEADLINE if self._untimed and not ev.headers else self._deadline(ev)
        if deadline is not NO_DEADLINE:
            return self._run_timed(ev, deadline)
        if self._sync:
            return run_sync(self.compiled, ev)
        return self._complete(run_async(self.compiled, ev))

    async def _walk_async(self, ev: Event) -> Any:
        """:meth:`_walk` on the running loop (``run_async`` and ``stream_async``)."""
        ev.body = decode_body(ev.body, ev.content_type, self.max_depth)
        deadline = NO_DEADLINE if self._untimed and not ev.headers else self._deadline(ev)
        if deadline is NO_DEADLINE:
            return await run_async(self.compiled, ev)
        return await run_async_timed(self.compiled, ev, deadline)

    def _stream(self, ev: Event) -> Iterator[Any]:
        """The chunks' answers (bodies) one by one; a failure midway raises
        :class:`StreamFailed` with the error answer (sent to the error stream too). The
        server's door and the request's deadline hold for the whole stream; a consumer that
        stops early closes the generator."""
        self._enter(ev)
        door = self.door
        try:
            try:
                out = self._walk(ev)
            except Streamed as signal:
                chunks = self._chunks(signal, ev.deadline)
                try:
                    for chunk in chunks:
                        if chunk is not None:
                            yield chunk.body
                except Exception as exc:
                    raise StreamFailed(self.failure(ev, exc)) from exc
                finally:
                    chunks.close()
                return
            except Exception as exc:
                raise StreamFailed(self.failure(ev, exc)) from exc
            if out is not None:
                yield out.body  # a graph without a generator step: one chunk
        finally:
            if door is not None:
                door.leave()

    async def stream_async(self, event: Any) -> AsyncGenerator[Any, None]:
        """:meth:`_stream` on the running loop (the HTTP front-end)."""
        ev = as_event(event)
        self._enter(ev)
        door = self.door
        try:
            try:
                out = await self._walk_async(ev)
            except Streamed as signal:
                chunks = chunks_async(self.compiled, signal, ev.deadline)
                try:
                    async for chunk in chunks:
                        if chunk is not None:
                            yield chunk.body
                except Exception as exc:
                    raise StreamFailed(self.failure(ev, exc)) from exc
                finally:
                    await chunks.aclose()
                return
            except Exception as exc:
                raise StreamFailed(self.failure(ev, exc)) from exc
            if out is not None:
                yield out.body
        finally:
            if door is not None:
                door.leave()
