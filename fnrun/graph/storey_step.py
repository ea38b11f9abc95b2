"""storey operators as graph steps: ``graph.to("storey.Batch", max_events=10)``.

A step whose class is a ``storey.Flow`` (batching, windowed aggregations, joins with tables,
targets such as ``storey.CSVTarget``...) runs inside a small storey flow of its own:
``AsyncEmitSource -> <the operator> -> hand-off``. The request that reaches the step emits its
body into that flow and its own walk ends there; whatever the operator emits later (a batch, a
window's aggregate) continues through the steps after it as a new event. So storey's
per-event machinery (~330 us per event here) is paid only by the events that go through a
storey step, never by the rest of the graph.

Rules (checked when the graph is built): storey steps need the async engine (a flow with no
engine named gets it), and the responding step cannot come after one (its answer comes later,
not in the request). A storey step that *is* the responder answers the request with what the
operator emits for that event (matched by event id); an operator that emits nothing for it in
``response_timeout`` seconds (a filter that drops it, a batch that answers later) fails the
request with a 504 naming the step, never a silent empty 200. ``storey.MapClass`` subclasses
are not run here: they are ordinary steps (:func:`is_map_class`). Pending
work is flushed by ``server.wait_for_completion()`` in the mock and at server shutdown; a
Kafka message counts as processed once it is handed to the operator.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from typing import TYPE_CHECKING, Any

from fnrun.graph.event import Event
from fnrun.graph.resolve import StepError

if TYPE_CHECKING:
    from fnrun.graph.nodes import CompiledGraph


def is_storey_class(cls: Any) -> bool:
    """A ``storey.Flow`` subclass (storey is never imported here unless a step named it)."""
    storey = sys.modules.get("storey")
    return storey is not None and isinstance(cls, type) and issubclass(cls, storey.Flow)


def is_map_class(cls: Any) -> bool:
    """A ``storey.MapClass`` subclass: one output per input, run as an ordinary step (its
    ``do()`` called directly, on either engine; ``self.filter()`` drops the event)."""
    storey = sys.modules.get("storey")
    return storey is not None and isinstance(cls, type) and issubclass(cls, storey.MapClass)


def map_class_runner(obj: Any, run: Any) -> Any:
    """``run`` (the wrapped ``do``) honouring the MapClass's ``filter()`` flag."""

    def check(event: Any) -> Any:
        if getattr(obj, "_filter", False):
            obj._filter = False
            return None
        return event

    if getattr(run, "is_async", False):

        async def run_async(event: Event) -> Any:
            out = await run(event)
            return check(out) if out is not None else None

        run_async.is_async = True  # type: ignore[attr-defined]
        return run_async

    def run_sync(event: Event) -> Any:
        out = run(event)
        return check(out) if out is not None else None

    return run_sync


RESPONSE_TIMEOUT = 30.0


class StoreyNoAnswer(StepError):
    """A responding storey step emitted nothing for the request (HTTP 504)."""

    http_status = 504


_ELEMENTWISE = ("Map", "Filter", "Extend")


def elementwise_runner(cls: Any, step: Any, args: dict[str, Any], context: Any) -> Any:
    """``storey.Map``/``Filter``/``Extend`` (the classes themselves, on bodies) as ordinary
    steps on either engine: their function is called directly, as storey would call it
    (``fn(body)``, or ``fn(body, context)`` with ``pass_context``); None when the step needs
    storey's own machinery (another operator, ``full_event``)."""
    storey = sys.modules.get("storey")
    kind = next((k for k in _ELEMENTWISE if storey and cls is getattr(storey, k, None)), "")
    fn = args.get("fn")
    if not kind or step.full_event or not callable(fn):
        return None
    unknown = sorted(set(args) - {"fn", "pass_context", "long_running"})
    if unknown:
        raise StepError(
            f"step {step.name!r}: storey.{kind} does not take {unknown} here",
            field=f"graph.{step.name}.class_args",
            hint="pass fn= (or _fn= naming it) and optionally pass_context=",
        )
    call = (lambda body: fn(body, context)) if args.get("pass_context") else fn
    combine = _COMBINE[kind]
    if inspect.iscoroutinefunction(fn):

        async def run_async(event: Event) -> Any:
            return combine(event, await call(event.body))

        run_async.is_async = True  # type: ignore[attr-defined]
        return run_async
    return lambda event: combine(event, call(event.body))


def _mapped(event: Event, result: Any) -> Event:
    event.body = result
    return event


def _filtered(event: Event, keep: Any) -> Event | None:
    return event if keep else None


def _extended(event: Event, extra: Any) -> Event:
    event.body = {**event.body, **extra}
    return event


_COMBINE = {"Map": _mapped, "Filter": _filtered, "Extend": _extended}


class StoreyStep:
    def __init__(
        self,
        cls: type,
        name: str,
        class_args: dict[str, Any],
        context: Any,
        full_event: bool | None = None,
    ) -> None:
        self.cls = cls
        self.name = name
        # Bodies, not storey events, travel between our steps: full_event is off unless asked.
        self.class_args = {"full_event": bool(full_event), **class_args}
        self.context = context
        self.graph: CompiledGraph | None = None
        self.index = -1
        self.after: set[int] = set()
        self._controller: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.emitted = 0  # events handed on by the operator (for tests and metrics)
        self.responds = False  # this step answers the request (set by bind)
        self.response_timeout = RESPONSE_TIMEOUT
        self._awaiting: dict[Any, asyncio.Future[Any]] = {}
        # Built now, so bad class_args fail when the graph is built; used by the first flow
        # (operators such as AggregateByKey register themselves on the table they are given).
        self._spare: Any = self._build()

    def _build(self) -> Any:
        try:
            return self.cls(**{**self.class_args, "name": self.name})
        except Exception as exc:
            raise StepError(
                f"step {self.name!r}: {self.cls.__name__}({', '.join(self.class_args)}) "
                f"failed: {exc}",
                field=f"graph.{self.name}.class_args",
                hint="fix the storey operator's arguments",
            ) from exc

    def bind(self, graph: CompiledGraph, index: int) -> None:
        """The compiled graph and this step's node: where the operator's output goes on."""
        from fnrun.graph.nodes import descendants

        self.graph, self.index = graph, index
        self.after = descendants(graph, index)
        self.responds = graph.response == index

    # -- the step ------------------------------------------------------------------------------
    async def run(self, event: Event) -> Event | None:
        controller = self._controller_for(asyncio.get_running_loop())
        import storey

        answer: asyncio.Future[Any] | None = None
        if self.responds:
            answer = self._awaiting[event.id] = asyncio.get_running_loop().create_future()
        try:
            await controller.emit(storey.Event(event.body, id=event.id))
            if answer is None:
                return None  # the walk of this request ends here; the output goes on later
            try:
                event.body = await asyncio.wait_for(answer, self.response_timeout)
            except TimeoutError:
                raise StoreyNoAnswer(
                    f"storey step {self.name!r} emitted nothing for event {event.id!r} within "
                    f"{self.response_timeout:g} s",
                    field=f"graph.{self.name}.responder",
                    hint="operators that filter, batch or window answer later or never: "
                    "respond from a step before it",
                ) from None
            return event
        except Exception:
            if answer is None:
                self._controller = None  # the flow died (the operator raised): start afresh
            raise
        finally:
            if answer is not None:
                self._awaiting.pop(event.id, None)

    def _controller_for(self, loop: asyncio.AbstractEventLoop) -> Any:
        if self._controller is None or self._loop is not loop:
            import storey

            flow = storey.build_flow(
                [
                    storey.AsyncEmitSource(),
                    self._spare or self._build(),
                    storey.Map(self._forward, full_event=True),
                ]
            )
            self._spare = None
            self._controller = flow.run()
            self._loop = loop
        return self._controller

    async def _forward(self, out: Any) -> Any:
        """An event the operator emitted: run the steps after this one with it."""
        from fnrun.graph.engines import StepFailed, run_async

        self.emitted += 1
        assert self.graph is not None
        answer = self._awaiting.pop(out.id, None) if self._awaiting else None
        if answer is not None and not answer.done():
            answer.set_result(out.body)
            return out  # the request's own walk goes on from this step
        event = Event(body=out.body, id=out.id, path="/", method="POST")
        try:
            await run_async(self.graph, event, start=self.index, only=self.after)
        except StepFailed as exc:
            server = getattr(self.context, "server", None)
            if server is not None:
                server.failure(event, exc)  # to the error stream and the log
            else:  # pragma: no cover - a server always builds the graph
                raise
        return out  # storey's Map passes its event on (nothing follows it)

    async def drain(self) -> None:
        """Flush what the operator holds (batches, windows) and stop its flow; the next event
        starts a new one. The flow may live on another, idle loop (a Kafka trigger's)."""
        controller, loop = self._controller, self._loop
        self._controller = None
        if controller is None or loop is None or loop.is_closed():
            return
        if loop is asyncio.get_running_loop():
            await controller.terminate(wait=True)
        elif not loop.is_running():
            await asyncio.to_thread(loop.run_until_complete, controller.terminate(wait=True))
