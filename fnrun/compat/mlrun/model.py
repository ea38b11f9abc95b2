"""``mlrun.model``: runs and tasks (``RunObject``, ``RunTemplate``, ``new_task``)."""

from fnrun.execution.runobject import RunObject
from fnrun.execution.task import RunTemplate, new_task

__all__ = ["RunObject", "RunTemplate", "new_task"]
