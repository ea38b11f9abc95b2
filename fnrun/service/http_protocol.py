"""uvicorn's HTTP protocol with the two guards it lacks: a header-read timeout and a clear
answer to upgrade requests.

uvicorn times out idle keep-alive connections only *after* a response; a connection that
never finishes its request headers (slow-loris, or just idle after connecting) stays open
for ever. Here every request must deliver its headers within ``header_timeout`` seconds of
its first byte (or of the connection, for the first one), else the connection is closed.
An ``Upgrade: websocket`` request gets a 400 naming the reason instead of hanging (this
server speaks plain HTTP only).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class GuardedHttpProtocol(HttpToolsProtocol):
    header_timeout: float = 0.0  # set from FNRUN_SERVE_HEADER_TIMEOUT on first use

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._pending = False  # a request has begun (or the connection opened) without headers
        self._deadline = 0.0
        if not GuardedHttpProtocol.header_timeout:
            from fnrun.config import ServeLimits

            GuardedHttpProtocol.header_timeout = ServeLimits.from_env().header_timeout

    # One timer per connection, re-armed only when it fires: starting a request costs a clock
    # read, not a timer (this is the per-request hot path).
    def _schedule(self, delay: float) -> None:
        self._header_timer = self.loop.call_later(max(delay, 0.05), self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        if self._pending and now >= self._deadline:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()
            return
        self._schedule(self._deadline - now if self._pending else self.header_timeout)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._pending, self._deadline = True, self.loop.time() + self.header_timeout
        self._schedule(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._pending, self._deadline = True, self.loop.time() + self.header_timeout

    def on_headers_complete(self) -> None:
        self._pending = False
        super().on_headers_complete()

    def _unsupported_upgrade_warning(self) -> None:
        self._pending = False
        self.send_400_response("upgrade requests (WebSocket) are not supported: send plain HTTP")


def uvicorn_options(limits: Any) -> dict[str, Any]:
    """uvicorn settings that go with :class:`fnrun.config.ServeLimits` (by import path, so
    worker processes load the same protocol; they read the limits from the environment)."""
    return {
        "http": "fnrun.service.http_protocol:GuardedHttpProtocol",
        "ws": "none",
        "timeout_keep_alive": max(1, round(limits.keep_alive)),
        "h11_max_incomplete_event_size": 64 * 1024,
    }
