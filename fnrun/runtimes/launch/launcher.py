"""``fn.run(...)``: turn the call into a run request and place it.

Each kind names its placement (:mod:`fnrun.runtimes.placements`): in this process for the
``handler`` kind and for a callable handler; a child process (``python -m fnrun exec
--from-env``) for the ``local`` kind; a Kubernetes Job for the ``job`` kind when a cluster is
configured (else a child process, and the start line says why; ``local=True`` always runs
here); Dask, Spark and MPI for theirs.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Unpack

import fnrun.tracing as tracing
from fnrun.config import get_settings
from fnrun.db import get_run_db
from fnrun.errors import InvalidArgumentError, RunError
from fnrun.execution.execute import RunRequest
from fnrun.execution.hyper import HyperParamOptions
from fnrun.execution.options import LAUNCH_OPTIONS, Handler, LaunchOptions
from fnrun.execution.request import build_request
from fnrun.execution.retry import RetryPolicy
from fnrun.model.function_like import maker
from fnrun.runtimes.launch.background import run_in_background
from fnrun.runtimes.launch.hyper import run_iterations
from fnrun.runtimes.launch.retries import with_retries
from fnrun.runtimes.launch.runobject import RunObject
from fnrun.runtimes.placements import (
    describe_placement,
    get_placement,
    resolve_placement,
    runs_detached,
)
from fnrun.runtimes.progress import default_reporter

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.model.function_like import RuntimeLike


def run_function(
    fn: RuntimeLike,
    handler: Handler = None,
    *,
    db: RunDB | None = None,
    **options: Unpack[LaunchOptions],
) -> RunObject:
    """Run ``fn`` as ``fn.run(runspec, handler, **options)`` does, once its task is merged
    (:class:`fnrun.execution.options.LaunchOptions`); ``db``: the run DB (default: the
    configured one)."""
    local, watch = options.get("local", False), options.get("watch", True)
    in_process, uid = options.get("in_process", False), options.get("uid", "")
    hyperparams = options.get("hyperparams")
    _refuse(fn, local, {k: v for k, v in options.items() if k not in LAUNCH_OPTIONS})
    check_handler(fn, handler)
    _build_first(fn, handler, in_process, local, options.get("auto_build"), watch)

    settings = get_settings()
    db = db or get_run_db()
    request = build_request(fn, handler, **options)
    place = _placement(fn, handler, db, settings, watch, here=in_process, local=local)
    hyper = HyperParamOptions.from_any(options.get("hyper_param_options"))
    progress = options.get("progress")
    report = progress if progress is not None else default_reporter(watch)
    retry = RetryPolicy.from_any(options.get("retry"))
    if retry is not None:
        place = with_retries(place, retry, db, _say(watch))
    request.uid = uid or request.uid or uuid.uuid4().hex
    request.trace = request.trace or tracing.env_carrier()  # the caller's trace, if any
    if report is not None:
        where = _where(fn, handler, in_process, hyper, local)
        report(
            "started",
            {"uid": request.uid, "name": request.name, "project": request.project, "where": where},
        )
    if hyperparams or hyper.param_file:
        if hyper.parallel_runs > 1 and callable(handler):
            raise InvalidArgumentError(
                "parallel_runs needs a handler by name, not a callable",
                field="parallel_runs",
                hint="give handler='name' from the function's code",
            )
        if hyper.parallel_runs > 1:
            place, done = _parallel_placement(fn, hyper, db, settings, watch, local)
            if retry is not None:
                place = with_retries(place, retry, db, _say(watch))
        work = partial(run_iterations, request, hyperparams, hyper, place, db, report)
        if hyper.parallel_runs > 1:
            work = partial(_then, work, done)
    else:
        work = partial(place, request)

    background = not watch and fn.submits_runs and not (local or in_process or callable(handler))
    background = background and runs_detached(_placement_name(fn, handler, in_process)[0])
    if background:  # a submitted run goes on without us (MLRun's remote kinds with watch=False)
        doc = run_in_background(work, request, db, daemon=not (hyperparams or hyper.param_file))
    else:
        try:
            doc = work()
        except BaseException as exc:  # the display ends too (Ctrl-C, a refused submission)
            if report is not None:
                state = "interrupted" if isinstance(exc, KeyboardInterrupt) else "error"
                report(
                    "finished",
                    {
                        "uid": request.uid,
                        "name": request.name,
                        "state": state,
                        "error": str(exc) or type(exc).__name__,
                    },
                )
            raise
    run = RunObject(doc, db)
    if report is not None and not background:
        report(
            "finished",
            {"uid": run.uid(), "name": request.name, "state": run.state(), "error": run.error,
             "ui_url": run.ui_url},
        )  # fmt: skip
    if run.state() == "error":
        meta = doc["metadata"]
        raise RunError(
            f"run {meta['name']} ({meta['uid']}) failed: {run.error}",
            run=run,
            hint=f"see the logs: fnrun logs {meta['uid']}",
        )
    return run


def _say(watch: bool) -> Callable[[str], None]:
    def say(text: str) -> None:
        if watch:
            print(text, file=sys.stderr, flush=True)

    return say


def _build_first(
    fn: RuntimeLike,
    handler: Any,
    here: bool,
    local: bool,
    auto_build: bool | None,
    watch: bool,
) -> None:
    """``auto_build`` (or ``build_config(auto_build=True)``): a run that goes to pods builds
    the function's image first, unless it is built already (MLRun's first-run build)."""
    wanted = auto_build if auto_build is not None else fn.spec.build.auto_build
    if not wanted or fn.status.state == "ready":
        return
    name, _why = _placement_name(fn, handler, here, local)
    deploy = getattr(fn, "deploy", None)
    if name == "kubernetes" and callable(deploy):
        deploy(watch=watch)


def _placement(
    fn: RuntimeLike,
    handler: Any,
    db: RunDB,
    settings: Settings,
    watch: bool,
    here: bool = False,
    local: bool = False,
) -> Callable[[RunRequest], dict[str, Any]]:
    """How one run request is executed: the function kind's placement."""

    name, _why = _placement_name(fn, handler, here, local)
    return get_placement(name)(fn, db, settings, watch)


def _placement_name(
    fn: RuntimeLike, handler: Any, here: bool, local: bool = False, parallel: bool = False
) -> tuple[str, str]:
    """The kind's placement (its local one with ``local``; the one it resolves to, as a
    child process for ``kubernetes`` without a cluster) and why it is not the kind's own;
    in this process instead of a child for a callable handler (it cannot be shipped) or
    ``here`` (a process that exists for the run, such as ``fnrun run``)."""

    name = fn.parallel_placement if parallel else fn.placement
    if local and fn.local_placement:
        name = fn.local_placement
    if callable(handler) and not parallel and fn.local_placement:
        name = fn.local_placement
    name, why = resolve_placement(name, fn)
    if (here or callable(handler)) and name == "process" and not parallel:
        return "here", why
    return name, why


def _where(
    fn: RuntimeLike, handler: Any, here: bool, options: HyperParamOptions, local: bool = False
) -> str:
    """Where the run goes, in words, for the start line."""

    parallel = options.parallel_runs > 1
    if parallel and options.dask_cluster_uri:
        return f"iterations on Dask {options.dask_cluster_uri}"
    name, why = _placement_name(fn, handler, here, local, parallel)
    where = describe_placement(name, fn)
    return f"{where} ({why})" if why else where


def _parallel_placement(
    fn: RuntimeLike,
    options: HyperParamOptions,
    db: RunDB,
    settings: Settings,
    watch: bool,
    local: bool = False,
) -> tuple[Callable[[RunRequest], dict[str, Any]], Callable[[], None]]:
    """Where parallel iterations go: the dask kind's workers, the Dask scheduler that
    ``dask_cluster_uri`` names (any kind), else child processes here; and what to do once
    they are done (close a cluster started for them)."""
    if options.dask_cluster_uri and _is_function_uri(options.dask_cluster_uri):
        on_dask, close = _on_cluster_of(fn, options.dask_cluster_uri, db)
        return get_placement("dask-workers")(on_dask, db, settings, watch), close
    return _placement_of_iterations(fn, options, db, settings, watch, local), _nothing


def _placement_of_iterations(
    fn: RuntimeLike,
    options: HyperParamOptions,
    db: RunDB,
    settings: Settings,
    watch: bool,
    local: bool,
) -> Callable[[RunRequest], dict[str, Any]]:
    if options.dask_cluster_uri:
        from fnrun.runtimes.placements.dask_cluster import DaskClientMixin

        if not isinstance(fn, DaskClientMixin):
            fn = _on_dask(fn, options.dask_cluster_uri)
        else:
            fn.spec.scheduler_address = fn.spec.scheduler_address or options.dask_cluster_uri
        return get_placement("dask-workers")(fn, db, settings, watch)
    name, _why = _placement_name(fn, None, False, local, parallel=True)
    return get_placement(name)(fn, db, settings, watch)


def _is_function_uri(value: str) -> bool:
    """A stored function's URI (``db://project/name``, MLRun's ``project/name``), not a Dask
    scheduler address (``tcp://host:8786``, ``host:8786``)."""
    return value.startswith(("db://", "hub://")) or ("://" not in value and "/" in value)


def _on_cluster_of(fn: RuntimeLike, uri: str, db: RunDB) -> tuple[RuntimeLike, Callable[[], None]]:
    """MLRun's ``dask_cluster_uri`` naming a stored dask function: the iterations run on that
    function's cluster (its scheduler, or the cluster its spec starts on first use)."""
    cluster_fn = maker("import_function")(uri, db=db)
    if not hasattr(cluster_fn, "client"):
        raise InvalidArgumentError(
            f"dask_cluster_uri {uri!r} is a {cluster_fn.kind!r} function, not a dask one",
            field="hyper_param_options.dask_cluster_uri",
            hint="name a stored dask-kind function, or a scheduler address (tcp://host:8786)",
        )
    copy = _on_dask(fn, cluster_fn.scheduler_address)
    copy.__dict__["_dask_client"] = cluster_fn.client  # that function's cluster, shared
    return copy, cluster_fn.close  # a cluster it started for these iterations ends with them


def _then(work: Callable[[], dict[str, Any]], done: Callable[[], None]) -> dict[str, Any]:
    try:
        return work()
    finally:
        done()


def _nothing() -> None:
    return None


def _on_dask(fn: RuntimeLike, address: str) -> RuntimeLike:
    """A dask-kind copy of ``fn`` connected to ``address`` (its runs keep their own kind)."""
    copy: RuntimeLike = maker("function_from_dict")({**fn.to_dict(), "kind": "dask"})
    copy.spec.scheduler_address = address
    return copy


def check_handler(fn: RuntimeLike, handler: Any) -> None:
    """A plain handler name must be one of the code's entry points (when they are known)."""
    name = handler if isinstance(handler, str) else ("" if handler else fn.spec.default_handler)
    points = fn.spec.entry_points
    if name and "." not in name and points and name not in points:
        raise InvalidArgumentError(
            f"handler {name!r} is not a function of {fn.metadata.name!r}",
            field="handler",
            hint=f"functions in the code: {', '.join(sorted(points))}",
        )


def _refuse(fn: RuntimeLike, local: bool, unsupported: dict[str, Any]) -> None:
    unknown = [k for k, v in unsupported.items() if v is not None]
    if unknown:
        raise TypeError(f"run() got unexpected arguments: {', '.join(unknown)}")
    if not fn.is_batch:
        raise InvalidArgumentError(
            f"a {fn.kind!r} function is deployed, not run",
            field="kind",
            hint="use fn.deploy() or fn.to_mock_server()",
        )
    if not (local or fn.runs_in_process or fn.runs_on_this_machine):
        raise InvalidArgumentError(
            f"running a {fn.kind!r} function remotely is not available in this installation",
            field="local",
            hint="pass local=True to run it on this machine",
        )
