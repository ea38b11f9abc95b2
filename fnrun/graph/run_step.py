"""RunStep: a batch function as a graph step. Each event submits a tracked run and the step
answers with the run's outputs (results and artifact ``store://`` URIs).

    graph.to("RunStep", name="train", function_url="db://my-project/trainer", handler="train")
    graph.to(RunStep(function=trainer_fn, handler="train", params={"epochs": 3}))

(In the string form ``function_url``, not ``function``: a step's ``function=`` names the child
function that serves it; a step object takes ``function=`` as a URL or a function object of any
batch kind: job, local, handler, dask...)

The event body (a dict) gives the run's params — or, when it has ``params``/``inputs`` keys,
those — and ``inputs`` maps input names to data URLs; the step's own ``params``/``inputs``
(class args) win over the body (a client cannot change a step's configured settings).
``wait=False`` answers ``{"run": uid, "state": "running"}`` as soon as the run is recorded and
lets it go on. The run goes through the same path as ``fn.run()``:
the run DB, artifacts, logs, secrets; ``local=True`` runs it in a child process. A failed run
fails the step (500) naming the run and how to see its logs. On the async engine the run goes
to a worker thread, so the event loop keeps serving while it runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import fnrun.tracing as tracing
from fnrun.db import get_run_db
from fnrun.db.monitor import UNFINISHED
from fnrun.errors import InvalidArgumentError, NotFoundError, RunError
from fnrun.execution.retry import RetryPolicy
from fnrun.graph.deadline import DeadlineExceeded, time_left
from fnrun.model.function_like import maker
from fnrun.model.step_objects import StepToDict


class RunFailed(InvalidArgumentError):
    """The submitted run ended in error (HTTP 500 at the edge)."""

    http_status = 500


def _recorded(uid: str, project: str, timeout: float) -> bool:
    """Wait until run ``uid`` is in the run DB (a client may read it as soon as it has the uid)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            get_run_db().read_run(uid, project)
            return True
        except NotFoundError:
            time.sleep(0.005)
    return False


def _abort(db: Any, uid: str, project: str) -> str:
    try:
        maker("abort_run")(db, uid, project)  # the runtimes know where runs execute
    except InvalidArgumentError:
        return "it runs in this process and goes on (run it with local=True to stop it)"
    except Exception as exc:  # already finished, or the store refused: say so, never hide it
        return f"aborting it failed: {exc}"
    return "it was aborted"


def _outputs(run: dict[str, Any]) -> dict[str, Any]:
    status = run.get("status") or {}
    return {**(status.get("results") or {}), **(status.get("artifact_uris") or {})}


class RunStep(StepToDict):
    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        function_url: str = "",
        handler: str = "",
        params: dict[str, Any] | None = None,
        inputs: dict[str, str] | None = None,
        local: bool = False,
        project: str = "",
        function: Any = None,
        wait: bool = True,
        retry: Any = None,
        **kwargs: Any,
    ) -> None:
        RetryPolicy.from_any(retry)  # a wrong policy fails when the graph is built
        if isinstance(function, str):
            function_url, function = function_url or function, None
        if not function_url and function is None:
            raise InvalidArgumentError(
                f"step {name!r}: RunStep needs function_url= (or function=)",
                field="function_url",
                hint="a function URL: db://project/name[:tag], a function.yaml path or http URL",
            )
        self.context = context
        self.name = name or "run"
        self.function_url = function_url
        self.handler = handler
        self.params = dict(params or {})
        self.inputs = dict(inputs or {})
        self.local = local
        self.project = project
        self.wait = wait
        self.retry = retry
        self.function: Any = function

    def post_init(self, mode: str = "sync") -> None:
        """Find the function now, so a wrong URL fails when the graph is built."""
        if self.function is None:
            self.function = maker("import_function")(self.function_url)

    def do(self, body: Any) -> dict[str, Any]:
        params, inputs = self._split(body)
        arguments = {
            "handler": self.handler or None,
            "params": {**params, **self.params},  # fixed settings are not the client's
            "inputs": {**inputs, **self.inputs} or None,
            "local": self.local,
            "project": self.project,
            "watch": False,
            "retry": self.retry,
        }
        if not self.wait:
            return self._start(arguments)
        if time_left() is not None:
            return self._within_deadline(arguments)
        try:
            run = self.function.run(**arguments)
            run.wait_for_completion()  # a submitted run (a Job) returns at once with watch=False
        except RunError as exc:
            raise RunFailed(exc.message, field="run", hint=exc.hint) from exc
        return {"run": run.uid(), "state": run.state(), "outputs": run.outputs}

    def _within_deadline(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Under a deadline: start the run, wait for it while there is time, abort it when
        the time is up (a run in a child process is stopped; one in this process cannot be
        and is only marked) and fail with DeadlineExceeded naming the run."""
        import time

        started = self._start(arguments)
        uid, project = started["run"], self.project
        db = get_run_db()
        while True:
            run = db.read_run(uid, project)
            state = (run.get("status") or {}).get("state", "")
            if state not in UNFINISHED:
                break
            left = time_left()
            if left is not None and left <= 0:
                where = _abort(db, uid, project)
                raise DeadlineExceeded(
                    f"step {self.name!r}: run {uid} did not finish before the deadline; {where}",
                    field="timeout",
                    hint="raise the timeout, or use wait=False and poll the run",
                )
            time.sleep(min(0.05, left) if left is not None else 0.05)
        if state != "completed":
            error = (run.get("status") or {}).get("error", "")
            raise RunFailed(
                f"step {self.name!r}: run {uid} ended {state}: {error}",
                field="run",
                hint=f"see its logs: fnrun logs {uid}",
            )
        return {"run": uid, "state": state, "outputs": _outputs(run)}

    def _split(self, body: Any) -> tuple[dict[str, Any], dict[str, str]]:
        if body is not None and not isinstance(body, dict):
            raise InvalidArgumentError(
                f"step {self.name!r}: the body gives the run's params and must be an object, "
                f"got {type(body).__name__}",
                field="body",
                hint='send e.g. {"p1": 2}, or {"params": {...}, "inputs": {"data": "s3://..."}}',
            )
        body = body or {}
        if isinstance(body.get("params"), dict) or isinstance(body.get("inputs"), dict):
            return dict(body.get("params") or {}), dict(body.get("inputs") or {})
        return dict(body), {}

    def _start(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Start the run in a thread; answer once it is recorded (its uid is known)."""
        import threading

        started = threading.Event()
        seen: dict[str, Any] = {}

        def report(event: str, info: dict[str, Any]) -> None:
            if event == "started":
                seen.update(info)
                started.set()

        def go() -> None:
            try:
                self.function.run(**arguments, progress=report)
            except Exception as exc:  # the run records its own error; note it in the log too
                seen.setdefault("error", str(exc))
                started.set()
                logger = getattr(self.context, "logger", None)
                if logger is not None:
                    logger.error(f"step {self.name!r}: run failed: {exc}")

        carried = tracing.current()  # the run records (and its child continues) this trace
        threading.Thread(
            target=tracing.run_in, args=(carried, go), name=f"runstep-{self.name}", daemon=True
        ).start()
        started.wait(30)
        if "uid" not in seen or not _recorded(seen["uid"], seen.get("project", ""), 30):
            raise RunFailed(
                f"step {self.name!r}: the run did not start: {seen.get('error', 'timeout')}",
                field="run",
            )
        return {"run": seen["uid"], "state": "running"}

    async def async_do_event(self, event: Any) -> Any:
        """On the async engine: the run happens in a worker thread."""
        event.body = await asyncio.to_thread(self.do, event.body)
        return event
