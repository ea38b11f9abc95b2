"""uvicorn's HTTP protocol with the guards it lacks: header and body deadlines and a clear
answer to upgrade requests.

uvicorn times out idle keep-alive connections only *after* a response; a connection that
never finishes its request headers (slow-loris, or just idle after connecting) stays open
for ever, and so does one that promises a body and trickles it a byte at a time (each read
is a new wait; after the app has answered, uvicorn keeps swallowing the rest for the next
request). Here every request must deliver its headers within ``header_timeout`` seconds of
its first byte (or of the connection, for the first one), else the connection is closed;
and its whole body within ``body_timeout`` seconds of the end of its headers (one deadline,
not one per read) and, after ``RATE_GRACE`` seconds, at ``min_body_rate`` bytes a second
or faster, else it is answered 408 (when nothing was answered yet) and the connection is
closed: a slow but honest upload goes through, a trickle does not hold a socket. An
``Upgrade: websocket`` request gets a 400 naming the reason instead of hanging (this
server speaks plain HTTP only).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from fnrun.config import SERVICE_LIMITS, ServeLimits

RATE_GRACE = 3.0  # seconds of a body before its rate is judged


class GuardedHttpProtocol(HttpToolsProtocol):
    header_timeout: float = 0.0  # set from <env_prefix>HEADER_TIMEOUT on first use
    body_timeout: float = 0.0  # and <env_prefix>BODY_TIMEOUT
    min_body_rate: float = 0.0  # and <env_prefix>MIN_BODY_RATE
    env_prefix = "FNRUN_SERVE_"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._pending = False  # a request has begun (or the connection opened) without headers
        self._in_body = False  # its headers are in, its body is not complete yet
        self._deadline = 0.0
        self._body_start = 0.0
        self._body_bytes = 0
        if not type(self).header_timeout:
            base = SERVICE_LIMITS if self.env_prefix == "FNRUN_SERVICE_" else None
            limits = ServeLimits.from_env(prefix=self.env_prefix, base=base)
            type(self).header_timeout = limits.header_timeout
            type(self).body_timeout = limits.body_timeout
            type(self).min_body_rate = limits.min_body_rate

    # One timer per connection, re-armed only when it fires: starting a request costs a clock
    # read, not a timer (this is the per-request hot path).
    def _schedule(self, delay: float) -> None:
        self._header_timer = self.loop.call_later(max(delay, 0.05), self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        waiting = self._pending or self._in_body
        if waiting and (now >= self._deadline or (self._in_body and self._trickling(now))):
            self._header_timer = None
            if self._in_body:
                self._body_too_slow()
            if not self.transport.is_closing():
                self.transport.close()
            return
        if self._in_body and self.min_body_rate:  # judge the rate each second
            self._schedule(min(self._deadline - now, max(self._body_start + RATE_GRACE - now, 1.0)))
            return
        self._schedule(self._deadline - now if waiting else self.header_timeout)

    def _trickling(self, now: float) -> bool:
        elapsed = now - self._body_start
        return (
            self.min_body_rate > 0
            and elapsed >= RATE_GRACE
            and self._body_bytes < self.min_body_rate * elapsed
        )

    def _body_too_slow(self) -> None:
        """Answer 408 (unless the app already answered) and end the request for the app."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_started and not self.transport.is_closing():
            body = json.dumps({
                "error": "RequestTimeout", "status": 408,
                "message": f"the request body did not arrive within {self.body_timeout} s "
                f"at {self.min_body_rate:.0f} bytes/s or more",
                "hint": f"send it faster, or raise {self.env_prefix}BODY_TIMEOUT / lower "
                f"{self.env_prefix}MIN_BODY_RATE",
            }).encode()  # fmt: skip
            head = (
                "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n"
                "x-content-type-options: nosniff\r\n\r\n"
            )
            self.transport.write(head.encode() + body)
        if cycle is not None:  # the app's receive() sees a disconnect; its sends are dropped
            cycle.disconnected = True
            cycle.message_event.set()

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
        # a request without a body completes in the same read: the flag is cleared at once
        self._pending, self._in_body = False, True
        self._body_start = self.loop.time()
        self._deadline, self._body_bytes = self._body_start + self.body_timeout, 0
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_body = False
        super().on_message_complete()

    def _unsupported_upgrade_warning(self) -> None:
        self._pending = self._in_body = False
        self.send_400_response("upgrade requests (WebSocket) are not supported: send plain HTTP")


class ServiceHttpProtocol(GuardedHttpProtocol):
    """The same guards for ``fnrun service`` (``FNRUN_SERVICE_HEADER_TIMEOUT``,
    ``FNRUN_SERVICE_BODY_TIMEOUT``)."""

    header_timeout = 0.0
    body_timeout = 0.0
    min_body_rate = 0.0
    env_prefix = "FNRUN_SERVICE_"


def uvicorn_options(limits: Any, protocol: str = "GuardedHttpProtocol") -> dict[str, Any]:
    """uvicorn settings that go with :class:`fnrun.config.ServeLimits` (by import path, so
    worker processes load the same protocol; they read the limits from the environment)."""
    return {
        "http": f"fnrun.service.http_protocol:{protocol}",
        "ws": "none",
        "timeout_keep_alive": max(1, round(limits.keep_alive)),
        "h11_max_incomplete_event_size": 64 * 1024,
    }


def service_config(app: Any, host: str, port: int, **extra: Any) -> Any:
    """The uvicorn configuration ``fnrun service`` runs ``app`` with (its guards included)."""
    import uvicorn

    limits = ServeLimits.from_env(prefix="FNRUN_SERVICE_", base=SERVICE_LIMITS)
    options = uvicorn_options(limits, "ServiceHttpProtocol")
    return uvicorn.Config(app, host=host, port=port, access_log=False, **options, **extra)
