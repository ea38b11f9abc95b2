"""What steps see as ``context``: nuclio's Context attributes plus the server's parameters,
secrets and streams.
"""

from __future__ import annotations

import logging
import os
from types import SimpleNamespace
from typing import Any


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


class GraphContext:
    """The ``context`` of graph steps: ``logger``, ``user_data``, ``Response``, ``get_param``,
    ``get_secret``, ``server`` (the GraphServer), ``is_mock``."""

    Response = Response

    def __init__(
        self,
        logger: Any = None,
        parameters: dict[str, Any] | None = None,
        secrets: dict[str, str] | None = None,
        is_mock: bool = False,
        nuclio_context: Any = None,
    ) -> None:
        self.logger = (
            logger or getattr(nuclio_context, "logger", None) or logging.getLogger("fnrun.graph")
        )
        self.user_data = getattr(nuclio_context, "user_data", None) or SimpleNamespace()
        self.worker_id = getattr(nuclio_context, "worker_id", 0)
        self.platform = getattr(nuclio_context, "platform", None)
        self.trigger = getattr(nuclio_context, "trigger", None)
        self.nuclio_context = nuclio_context
        self._parameters = dict(parameters or {})
        self._secrets = dict(secrets or {})
        self.is_mock = is_mock
        self.server: Any = None
        self.verbose = False
        self.stream_push: Any = None  # push(path, record): queues, tracking (set by the server)

    def get_param(self, key: str, default: Any = None) -> Any:
        """A server parameter (``fn.spec.parameters`` or ``to_mock_server(parameters=)``)."""
        return self._parameters.get(key, default)

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self._parameters)

    def get_secret(self, key: str) -> str | None:
        return self._secrets.get(key, os.environ.get(key))
