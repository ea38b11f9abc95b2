"""Job submission: the service runs a function on its placement (``POST /api/v1/submit``).

A submission is the function (its document, or a ``db://``/``hub://`` URI the service
resolves) and a task (:data:`fnrun.model.schedule` task fields: handler, params, inputs,
labels, secret sources, artifact path, returns, hyper-parameters). It is checked at once (a
bad one is a 4xx, nothing recorded), then recorded as a ``pending`` run whose executor is
this service, and run by a worker thread through ``fn.run`` on the function's own placement
(a child process for ``job``/``local``, a Kubernetes Job when a cluster is configured, the
Dask, Spark or MPI engines). A run that fails before its code starts (a secrets file gone)
ends ``error`` saying why; if the service dies first, the run monitor marks it (its
executor is gone). The scheduler submits the same way.
"""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fnrun.clock import now_iso
from fnrun.db.base import RunDB
from fnrun.db.monitor import UNFINISHED, this_executor
from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.errors import FnrunError, InvalidArgumentError, RunError
from fnrun.execution.request import build_request
from fnrun.model.names import check_names
from fnrun.model.schedule import check_task
from fnrun.runtimes.functions.base import BaseRuntime
from fnrun.runtimes.functions.factory import function_from_dict
from fnrun.runtimes.functions.importer import import_function
from fnrun.runtimes.launch.launcher import check_handler, run_function
from fnrun.runtimes.launch.schedule import options_from_task
from fnrun.runtimes.placements import resolve_placement

Doc = dict[str, Any]
log = logging.getLogger("fnrun.service")
_URI_SCHEMES = ("db://", "hub://")


def _silent(_event: str, _info: dict[str, Any]) -> None:
    """No progress display in the service."""


class JobRunner:
    """Runs submitted tasks on worker threads (``workers`` at once; the rest wait ``pending``)."""

    def __init__(self, db: RunDB, workers: int = 8) -> None:
        self.db = db
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fnrun-job")

    def close(self, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def submit(
        self,
        function: Doc | str,
        task: Doc,
        project: str = "",
        labels: dict[str, str] | None = None,
    ) -> Doc:
        """Check and queue one run; returns its ``pending`` run document."""

        task = {} if task is None else task
        check_task(task, field="task", inline_secrets=True)
        fn = self.function(function, project)
        project = project or fn.metadata.project or getattr(self.db, "default_project", "")
        fn.metadata.project = project
        kwargs = options_from_task(task, labels)
        check_names(project=project, **{"task.name": kwargs["name"] or None})

        check_handler(fn, kwargs["handler"])
        build = {k: v for k, v in kwargs.items() if not k.startswith("hyper")}
        request = build_request(fn, project=project, **build)  # bad input: raised here
        uid = uuid.uuid4().hex
        doc = _pending(uid, request, fn)
        self.db.store_run(doc, uid, project)
        self._pool.submit(self._run, fn, kwargs, project, uid)
        return doc

    def function(self, function: Doc | str, project: str = "") -> BaseRuntime:
        """The runtime of a submitted function: a batch kind, from its document or URI."""

        if isinstance(function, str):
            if not function.startswith(_URI_SCHEMES):
                raise InvalidArgumentError(
                    f"function {function!r} is neither a document nor a db:// or hub:// URI",
                    field="function",
                    hint="send the function document (fn.to_dict()) or db://project/name:tag",
                )
            fn = import_function(function, project=project or None, db=self.db)
        elif isinstance(function, dict):
            fn = function_from_dict(function)
        else:
            raise InvalidArgumentError("function must be a document or a URI", field="function")
        if not fn.is_batch:
            raise InvalidArgumentError(
                f"a {fn.kind!r} function is deployed, not run",
                field="function.kind",
                hint="submit a batch kind (job, local, dask, spark, mpijob)",
            )
        return _out_of_process(fn)

    def _run(self, fn: BaseRuntime, kwargs: Doc, project: str, uid: str) -> None:

        if _drives_here(fn):
            self._run_in_child(fn, kwargs, project, uid)
            return
        try:
            run_function(
                fn, project=project, watch=False, db=self.db, progress=_silent, uid=uid, **kwargs
            )
        except RunError:
            pass  # the run failed and says so itself
        except BaseException as exc:  # before or around the run: the run must say so
            log.warning("submitted run %s failed: %s", uid, exc)
            self._fail(uid, project, exc)

    def _run_in_child(self, fn: BaseRuntime, kwargs: Doc, project: str, uid: str) -> None:
        """The whole launch in a fresh process of its own: a kind whose handler runs where
        ``fn.run`` is called (the Dask client, the Spark driver) runs it there, not here."""
        import multiprocessing

        url = str(getattr(self.db, "url", ""))
        child = multiprocessing.get_context("spawn").Process(
            target=_launch, args=(fn.to_dict(), kwargs, project, uid, url),
            name=f"fnrun-run-{uid[:8]}",
        )  # fmt: skip
        child.start()
        child.join()
        if child.exitcode:
            self._fail(uid, project, RuntimeError(f"its process exited with {child.exitcode}"))

    def _fail(self, uid: str, project: str, exc: BaseException) -> None:
        try:
            run = self.db.read_run(uid, project)
            if (run.get("status") or {}).get("state") in UNFINISHED:
                what = str(exc) if isinstance(exc, FnrunError) else f"{type(exc).__name__}: {exc}"
                self.db.update_run(
                    {
                        "status.state": "error",
                        "status.error": what,
                        "status.last_update": now_iso(),
                    },
                    uid,
                    project,
                )
        except FnrunError as again:  # the DB itself is failing: the monitor marks the run later
            log.error("cannot record the failure of run %s: %s", uid, again)


def _out_of_process(fn: BaseRuntime) -> BaseRuntime:
    """A kind that runs in the caller's process (``handler``) runs in a child process here,
    as the ``local`` kind does: user code never runs inside the service (``os._exit`` in it
    would stop the service, and it could read the service's memory)."""
    if fn.placement != "here":
        return fn

    doc = fn.to_dict()
    doc["kind"] = "local"
    return function_from_dict(doc)


# placements whose handler runs in the process that calls fn.run (the Dask client, the Spark
# driver): the service launches those runs from a child process
_DRIVERS = ("dask", "spark")


def _drives_here(fn: BaseRuntime) -> bool:

    return resolve_placement(fn.placement, fn)[0] in _DRIVERS


def _launch(doc: Doc, kwargs: Doc, project: str, uid: str, db_url: str) -> None:
    """A child process: run ``doc`` as the service would have, on the service's DB."""

    db = SQLRunDB(db_url)
    try:
        run_function(function_from_dict(doc), project=project, watch=False, db=db,
                     progress=_silent, uid=uid, **kwargs)  # fmt: skip
    except RunError:
        pass  # the run failed and says so itself
    finally:
        db.close()


def _pending(uid: str, request: Any, fn: BaseRuntime) -> Doc:
    """The run's record until its placement writes its own: ``pending``, executed by us."""
    now = now_iso()
    return {
        "kind": "run",
        "metadata": {
            "name": request.name,
            "uid": uid,
            "project": request.project,
            "labels": dict(request.labels),
            "iteration": 0,
        },
        "spec": {
            "function": fn.uri,
            "handler": request.handler if isinstance(request.handler, str) else "",
            "parameters": dict(request.params),
            "inputs": dict(request.inputs),
        },
        "status": {
            "state": "pending",
            "start_time": now,
            "last_update": now,
            "executor": this_executor(),
        },
    }
