"""``mlrun.runtimes``: ``nuclio_init_hook`` (what MLRun's serving code ends with), the
runtime base class and the error of a failed run."""

from __future__ import annotations

from typing import Any

from fnrun.errors import RunError
from fnrun.execution.mlrun_modules import NotSupportedError
from fnrun.runtimes.functions.base import BaseRuntime

__all__ = ["BaseRuntime", "RunError", "nuclio_init_hook", "serving_subkind"]

serving_subkind = "serving_v2"  # the kind MLRun's serving code passes nuclio_init_hook

_SERVING = ("serving", "serving_v2", "v2_model_server")


def nuclio_init_hook(context: Any, data: dict[str, Any], kind: str) -> None:
    """Set up a Nuclio worker for a serving function: its graph is built from the function
    document fnrun put in the worker's environment (or MLRun's ``SERVING_SPEC_ENV``, its
    classes found in ``data``: the module's globals) and
    ``context.mlrun_handler(context, event)`` serves an event through it."""
    if kind not in _SERVING:
        raise NotSupportedError(
            f"nuclio_init_hook kind {kind!r} is not supported by fnrun",
            field="kind",
            hint=f"fnrun serves {', '.join(_SERVING)}",
        )
    from fnrun.runtimes.nuclio import entry as nuclio_entry

    nuclio_entry.init_context(context, data if isinstance(data, dict) else None)
    context.mlrun_handler = nuclio_entry.handler
