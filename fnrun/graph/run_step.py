"""RunStep: a batch function as a graph step. Each event submits a tracked run and the step
answers with the run's outputs (results and artifact ``store://`` URIs).

    graph.to("RunStep", name="train", function_url="db://my-project/trainer", handler="train")

(``function_url``, not ``function``: a step's ``function=`` names the child function that
serves it.)

The event body (a dict) gives the run's params; ``params`` (class arg) adds fixed ones, which
win over the body (a client cannot change a step's configured settings), and
``inputs`` maps input names to data URLs. The run goes through the same path as ``fn.run()``:
the run DB, artifacts, logs, secrets; ``local=True`` runs it in a child process. A failed run
fails the step (500) naming the run and how to see its logs. On the async engine the run goes
to a worker thread, so the event loop keeps serving while it runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fnrun.errors import InvalidArgumentError, RunError
from fnrun.model.step_objects import StepToDict


class RunFailed(InvalidArgumentError):
    """The submitted run ended in error (HTTP 500 at the edge)."""

    http_status = 500


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
        **kwargs: Any,
    ) -> None:
        if not function_url:
            raise InvalidArgumentError(
                f"step {name!r}: RunStep needs function_url=",
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
        self.function: Any = None

    def post_init(self, mode: str = "sync") -> None:
        """Find the function now, so a wrong URL fails when the graph is built."""
        from fnrun.runtimes.importer import import_function

        self.function = import_function(self.function_url)

    def do(self, body: Any) -> dict[str, Any]:
        if body is not None and not isinstance(body, dict):
            raise InvalidArgumentError(
                f"step {self.name!r}: the body gives the run's params and must be an object, "
                f"got {type(body).__name__}",
                field="body",
                hint='send e.g. {"p1": 2}',
            )
        try:
            run = self.function.run(
                handler=self.handler or None,
                params={**(body or {}), **self.params},  # fixed settings are not the client's
                inputs=self.inputs or None,
                local=self.local,
                project=self.project,
                watch=False,
            )
        except RunError as exc:
            raise RunFailed(exc.message, field="run", hint=exc.hint) from exc
        return {"run": run.uid(), "state": run.state(), "outputs": run.outputs}

    async def async_do_event(self, event: Any) -> Any:
        """On the async engine: the run happens in a worker thread."""
        event.body = await asyncio.to_thread(self.do, event.body)
        return event
