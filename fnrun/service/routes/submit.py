"""``/api/v1/submit``: run a function on its placement from the service (the run answers at
once, ``pending``; the job runner's threads do the work)."""

from typing import Annotated

from fastapi import Body

from fnrun.service.jobs import JobRunner
from fnrun.service.queries import Doc, Router


def routes(runner: JobRunner) -> Router:
    router = Router()

    @router.post("/submit")
    def submit(
        function: Annotated[Doc | str, Body(description="the function document or db:// URI")],
        task: Annotated[Doc, Body()],
        project: Annotated[str, Body(max_length=63)] = "",
    ) -> Doc:
        """Run a function on its placement; answers the run (``pending``) at once."""
        return runner.submit(function, task, project)

    return router
