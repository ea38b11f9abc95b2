"""What steps see as ``context``: a ``nuclio_sdk.Context`` (subclass, when nuclio-sdk is
installed) with nuclio's logger interface (``info_with(message, **fields)``...), plus the
server's parameters, secrets and streams.
"""

from __future__ import annotations

import logging
import os
from types import SimpleNamespace
from typing import Any

from fnrun.execution.runlogger import with_fields
from fnrun.graph.deadline import time_left

try:  # nuclio's type when it is there, so a handler written for Nuclio runs unchanged
    from nuclio_sdk import Context as _Base
except ImportError:  # pragma: no cover - nuclio-sdk is in the serve and dev extras

    class _Base:  # type: ignore[no-redef]
        pass


class GraphLogger:
    """nuclio's logger interface (``debug``/``info``/``warn``/``error`` and their ``*_with``
    forms taking structured fields) over a standard ``logging`` logger."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def _log(self, level: int, message: Any, args: tuple[Any, ...], fields: dict[str, Any]) -> None:
        if self.logger.isEnabledFor(level):
            text = str(message) % args if args else str(message)
            self.logger.log(level, with_fields(text, fields))

    def debug(self, message: Any, *args: Any, **fields: Any) -> None:
        self._log(logging.DEBUG, message, args, fields)

    def info(self, message: Any, *args: Any, **fields: Any) -> None:
        self._log(logging.INFO, message, args, fields)

    def warn(self, message: Any, *args: Any, **fields: Any) -> None:
        self._log(logging.WARNING, message, args, fields)

    warning = warn

    def error(self, message: Any, *args: Any, **fields: Any) -> None:
        self._log(logging.ERROR, message, args, fields)

    def debug_with(self, message: Any, *args: Any, **fields: Any) -> None:
        self._log(logging.DEBUG, message, args, fields)

    def info_with(self, message: Any, *args: Any, **fields: Any) -> None:
        self._log(logging.INFO, message, args, fields)

    def warn_with(self, message: Any, *args: Any, **fields: Any) -> None:
        self._log(logging.WARNING, message, args, fields)

    def error_with(self, message: Any, *args: Any, **fields: Any) -> None:
        self._log(logging.ERROR, message, args, fields)


class Response:
    """An HTTP-style answer (attribute-compatible with ``nuclio_sdk.Response``)."""

    __slots__ = ("body", "content_type", "headers", "status_code")

    def __init__(
        self,
        headers: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
        status_code: int = 200,
    ) -> None:
        self.headers = headers or {}
        self.body = body
        self.content_type = content_type
        self.status_code = status_code

    def __repr__(self) -> str:
        return f"Response(status_code={self.status_code}, body={self.body!r})"


class GraphContext(_Base):  # type: ignore[misc]
    """The ``context`` of graph steps: ``logger``, ``user_data``, ``Response``, ``get_param``,
    ``get_secret``, ``server`` (the GraphServer), ``is_mock``, ``project`` (the serving
    function's project), ``verbose``."""

    Response = Response

    def __init__(
        self,
        logger: Any = None,
        parameters: dict[str, Any] | None = None,
        secrets: dict[str, str] | None = None,
        is_mock: bool = False,
        nuclio_context: Any = None,
    ) -> None:
        chosen = logger or getattr(nuclio_context, "logger", None)
        self._logger_per_async_tasks = False  # what nuclio's ``logger`` property reads
        self._shared_logger = chosen
        self.logger = chosen or GraphLogger(logging.getLogger("fnrun.graph"))
        self.user_data = getattr(nuclio_context, "user_data", None) or SimpleNamespace()
        self.worker_id = getattr(nuclio_context, "worker_id", 0)
        self.platform = getattr(nuclio_context, "platform", None)
        self.trigger = getattr(nuclio_context, "trigger", None)
        self.nuclio_context = nuclio_context
        self._parameters = dict(parameters or {})
        self._secrets = dict(secrets or {})
        self.is_mock = is_mock
        self.project = ""
        self.server: Any = None
        self.verbose = False
        self.stream_push: Any = None  # push(path, record): queues, tracking (set by the server)
        self.tracking: Any = None  # the server's tracking taps (fnrun.graph.tracking), if any
        self.function_name = ""  # the serving function's name (in tracking records)

    @staticmethod
    def time_left() -> float | None:
        """Seconds left before the running step's deadline (the request's, or the step's own
        ``timeout``); ``None`` when nothing bounds it. A long sync step should check it."""
        return time_left()

    def get_param(self, key: str, default: Any = None) -> Any:
        """A server parameter (``fn.spec.parameters`` or ``to_mock_server(parameters=)``)."""
        return self._parameters.get(key, default)

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self._parameters)

    def update_parameters(self, parameters: dict[str, Any]) -> None:
        """Add server parameters (a serving spec's, to a context made before it was read)."""
        self._parameters.update(parameters)

    def get_secret(self, key: str) -> str | None:
        return self._secrets.get(key, os.environ.get(key))
