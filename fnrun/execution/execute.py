"""``execute``: the one call that runs a batch handler and tracks it, wherever it runs.

run spec -> RunContext -> resolve the code -> bind the signature -> call -> log returns ->
commit state, results and captured logs to the run DB. An exception marks the run ``error``
(message + traceback) before it propagates; nothing is lost.
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fnrun.tracing as tracing
from fnrun.errors import NotFoundError
from fnrun.execution.attach import adopt, attach_env
from fnrun.execution.binding import bind
from fnrun.execution.capture import capture_output
from fnrun.execution.context import RunContext
from fnrun.execution.masking import MIN_FREE_LENGTH
from fnrun.execution.returns import HANDLER_ATTR, log_returns
from fnrun.execution.targets import command_line, resolve, run_command, run_script, source_workdir

if TYPE_CHECKING:
    from fnrun.datastore.dataitem import DataItem
    from fnrun.db.base import RunDB
    from fnrun.model.function_like import FunctionLike

_current: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar(
    "fnrun_ctx", default=None
)


def current_context() -> RunContext | None:
    """The context of the run executing in this thread/task, if any."""
    return _current.get()


@dataclass
class RunRequest:
    """What to run: the function, handler (name or callable), params and tracking fields."""

    function: FunctionLike | None = None
    handler: str | Callable[..., Any] | None = None
    name: str = ""
    project: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    artifact_path: str = ""
    returns: list[str] | None = None
    uid: str = ""
    iteration: int = 0
    watcher: dict[str, Any] | None = None  # the parent process watching a child-process run
    # status fields the placement records, kept by every commit (``status.kubernetes``)
    status_extra: dict[str, Any] = field(default_factory=dict)
    # attributes the context gets in this process (``dask_client``); never serialized
    context_extras: dict[str, Any] = field(default_factory=dict)
    # set by a placement once the run is submitted and goes on without the caller
    # (``watch=False``: the process started, the Job created); None when the caller waits
    submitted: threading.Event | None = None
    retry: dict[str, Any] | None = None  # the run's retry policy (spec.retry), if any
    attempt: int = 0  # 0 for the first attempt, N for the Nth retry
    # the trace the run continues (TRACEPARENT/TRACESTATE), wherever it executes: taken where
    # fn.run() is called, so a child process, a pod or a Dask worker continues that trace
    trace: dict[str, str] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        """The request as another process reads it (the entry's config, a Dask task): every
        field but the function (sent as its document), the secrets (sent apart, never in
        the config) and what lives only in this process; a callable handler is None."""
        handler = self.handler if isinstance(self.handler, str) else None
        return {"handler": handler} | {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in _LOCAL
        }


_LOCAL = frozenset(("function", "handler", "secrets", "context_extras", "submitted"))


def execute(request: RunRequest, db: RunDB | None, code_dir: Path, echo: bool = True) -> RunContext:
    """Run ``request`` in this process and return its committed context; in a span of its
    own (``run <name>``) when a tracer provider is installed, continuing the trace the caller
    is in or, in a run's child process, the one ``TRACEPARENT`` names."""
    tracer = tracing.tracer()
    if tracer is None:
        return _execute(request, db, code_dir, echo)
    with tracer.start_as_current_span(
        f"run {request.name}".strip(),
        context=tracing.from_env({**os.environ, **request.trace}),
        attributes=tracing.attributes_of(
            (
                ("fnrun.run.uid", request.uid),
                ("fnrun.run.iteration", request.iteration),
                ("fnrun.project", request.project),
                ("fnrun.run.attempt", request.attempt),
            )
        ),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        ctx = _execute(request, db, code_dir, echo)
        span.set_attribute("fnrun.run.uid", ctx.uid)
        span.set_attribute("fnrun.status", ctx.state)
        if ctx.state == "error":
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, str(ctx.error or "")[:500]))
        return ctx


def _execute(request: RunRequest, db: RunDB | None, code_dir: Path, echo: bool) -> RunContext:
    ctx = context_for(request, db)
    ctx.state = "running"
    ctx.commit()
    token = _current.set(ctx)
    interrupted: BaseException | None = None
    _warn_short_secrets(ctx)
    with capture_output(
        _log_writer(ctx, db), ctx.logger, echo=echo, mask=ctx.redact, tick=ctx.flush_if_dirty
    ):
        try:
            _call(ctx, request, code_dir)
        except BaseException as exc:
            ctx.mark_error(exc)
            print(ctx.error_traceback, file=sys.stderr, end="")
            if isinstance(exc, KeyboardInterrupt):
                interrupted = exc
        finally:
            _current.reset(token)
    ctx.commit(completed=True)
    if interrupted is not None:
        raise interrupted
    return ctx


def context_for(request: RunRequest, db: RunDB | None) -> RunContext:
    """A new (``created``) context for ``request``; the one place a request becomes a run."""
    handler = request.handler
    if not handler and request.function is not None:  # the run records what it runs
        handler = getattr(request.function.spec, "default_handler", "") or ""
    ctx = RunContext(
        name=request.name,
        project=request.project,
        uid=request.uid,
        iteration=request.iteration,
        parameters=request.params,
        inputs=request.inputs,
        labels=request.labels,
        artifact_path=request.artifact_path,
        secrets=request.secrets,
        handler=handler if isinstance(handler, str) else getattr(handler, "__name__", "") or "",
        function_uri=_function_uri(request.function),
        db=db,
        watcher=request.watcher,
    )
    ctx.function = request.function
    trace = tracing.trace_id() or tracing.trace_id_of(request.trace)  # the run's trace
    if trace:
        request.status_extra["trace_id"] = trace
    if request.retry:
        ctx.spec_extra["retry"] = dict(request.retry)
    ctx.status_extra.update(request.status_extra)
    for key, value in request.context_extras.items():
        setattr(ctx, key, value)
    return ctx


def _warn_short_secrets(ctx: RunContext) -> None:
    short = ctx.masker.short_keys
    if short:
        ctx.logger.warning(
            "secret(s) %s are shorter than %d characters: they are masked only where they stand "
            "alone, not inside longer words; use longer secrets",
            ", ".join(short),
            MIN_FREE_LENGTH,
        )


def _log_writer(ctx: RunContext, db: RunDB | None) -> Callable[[str], None]:
    """Append captured text (secrets masked) to the run's log in the run DB."""

    def write(text: str) -> None:
        if db is not None and ctx.logging_worker:
            db.store_log(ctx.uid, ctx.project, ctx.redact(text).encode("utf-8"))

    return write


def _call(ctx: RunContext, request: RunRequest, code_dir: Path) -> None:
    inputs = {key: ctx.get_input(key) for key in ctx.inputs}
    for key, item in inputs.items():
        _check_input(key, item)
    fn = request.function
    with source_workdir(fn, code_dir.parent / "source"):
        if fn is not None and fn.spec.mode in ("pass", "args"):
            _run_joined(ctx, command_line(fn, ctx.parameters))
            return
        target, script = resolve(fn, request.handler, code_dir)
        if script is not None:
            run_script(script, fn.spec.args if fn is not None else [])
            return
        assert target is not None
        kwargs, unused = bind(target, ctx, ctx.parameters, inputs)
        if unused:
            ctx.logger.warning("params not taken by %s(): %s", target.__name__, ", ".join(unused))
        declared: dict[str, Any] = getattr(target, HANDLER_ATTR, {})  # @mlrun.handler(...)
        for label, label_value in (declared.get("labels") or {}).items():
            ctx.set_label(label, label_value)
        value = target(**kwargs)
    log_returns(ctx, value, request.returns or declared.get("outputs"))


def _run_joined(ctx: RunContext, argv: list[str]) -> None:
    """Run the command as a process of this run: its ``get_or_create_ctx`` is this run, and
    what it commits (results, artifacts, labels, its error) becomes this context's."""
    try:
        run_command(argv, env=attach_env(ctx))
    except RuntimeError as exc:
        error = adopt(ctx)
        raise RuntimeError(f"{exc}: {error}" if error else str(exc)) from None
    adopt(ctx)


def _check_input(key: str, item: DataItem) -> None:
    """A local input file must exist before the handler runs (remote ones are read lazily)."""
    if item.kind == "file" and not Path(item.local()).exists():
        raise NotFoundError(
            f"input {key!r}: {item.url} does not exist",
            field=f"inputs.{key}",
            hint="fix the path or URL of the input",
        )


def _function_uri(fn: FunctionLike | None) -> str:
    if fn is None or not fn.metadata.name:
        return ""
    return fn.uri
