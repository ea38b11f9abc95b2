"""``mlrun.model``: runs and tasks (``RunObject``, ``RunTemplate``, ``new_task``)."""

from fnrun.execution.task import RunTemplate, new_task
from fnrun.runtimes.launch.runobject import RunObject

__all__ = ["RunObject", "RunTemplate", "new_task"]
