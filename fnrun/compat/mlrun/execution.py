"""``mlrun.execution``: ``MLClientCtx`` is fnrun's :class:`~fnrun.RunContext`."""

from fnrun.execution.context import RunContext as MLClientCtx

__all__ = ["MLClientCtx"]
