"""The run's logger (``context.logger``): a standard :class:`logging.Logger` that also takes
MLRun's structured fields, ``context.logger.info("trained", model="rf", acc=0.93)``, rendered
after the message as ``model='rf' acc=0.93``; ``warn`` is kept as MLRun code calls it.

Each run gets a logger of its own (parented under ``fnrun.run``, not cached by name), so two
runs of the same name in one process never share the handlers that capture their logs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

_STD = ("exc_info", "extra", "stack_info", "stacklevel")


def with_fields(text: str, fields: Mapping[str, Any]) -> str:
    """``text`` followed by ``key=value`` for each structured field."""
    if not fields:
        return text
    return text + " " + " ".join(f"{k}={v!r}" for k, v in fields.items())


class RunLogger(logging.Logger):
    def _log(  # type: ignore[override]
        self, level: int, msg: object, args: Any, **kwargs: Any
    ) -> None:
        fields = {k: kwargs.pop(k) for k in list(kwargs) if k not in _STD}
        if fields:
            msg = with_fields(str(msg) % args if args else str(msg), fields)
            args = ()
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
        super()._log(level, msg, args, **kwargs)

    def warn(self, msg: object, *args: object, **kwargs: Any) -> None:
        """MLRun's name for :meth:`warning` (no deprecation warning in the run's output)."""
        if self.isEnabledFor(logging.WARNING):
            kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
            self._log(logging.WARNING, msg, args, **kwargs)


def run_logger(name: str) -> RunLogger:
    logger = RunLogger(f"fnrun.run.{name}")
    logger.parent = logging.getLogger("fnrun.run")
    return logger
