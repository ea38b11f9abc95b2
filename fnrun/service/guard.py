"""The service's outermost layer (plain ASGI): what every request must be and every answer
carries, before any route sees it.

Every answer gets ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
``X-Frame-Options: DENY`` and a Content-Security-Policy (the web UI's for HTML, ``default-src
'none'`` for the rest) — 404s, 400s and 500s too; an artifact's own sandboxing policy is kept,
with ``frame-ancestors 'self'`` so only our pages frame it.

Every request: no null byte in its path or query (400), a URL of at most ``MAX_QUERY`` bytes
(414); a body no larger than ``max_body``
(413, from its Content-Length or as it arrives); a JSON body nested no deeper than
``max_depth`` (400: a deeper one would be a RecursionError, a 500, somewhere later).

Without a token (loopback mode) the browser is the threat: a page elsewhere can make the
user's browser send requests, and DNS rebinding can give such a page our address under its
own name. So a request whose ``Host`` is not a loopback name or one of ``allowed_hosts`` is
refused (403), and a state-changing request must come from our own origin (an ``Origin``
header, when sent, must match its ``Host``) and carry what no page elsewhere can send without
the browser asking first (CORS is off, so the asking fails): a content type other than the
three a form can send (``application/x-www-form-urlencoded``, ``multipart/form-data``,
``text/plain``), or fnrun's or MLRun's client header.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from fnrun.graph.jsonbody import MAX_DEPTH, TooDeep, check_depth
from fnrun.model.depth import may_nest_deeper

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# the web UI: our own script and styles only; artifact pictures are data: URLs; HTML artifacts
# in sandboxed frames from this origin
UI_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
          "script-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
          "form-action 'self'; frame-ancestors 'none'")  # fmt: skip
API_CSP = "default-src 'none'; frame-ancestors 'none'"
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
_LOOPBACK = frozenset(("localhost", "127.0.0.1", "::1", "[::1]"))
_FORM_TYPES = frozenset(("application/x-www-form-urlencoded", "multipart/form-data", "text/plain"))
MAX_QUERY = 8192
_WRITES = frozenset(("POST", "PUT", "PATCH", "DELETE"))
_CLIENT_HEADERS = (b"x-fnrun-client", b"x-mlrun-client-version")
_OPEN_FORMS = ("/ui/login", "/ui/logout")  # a sign-in form; meaningless without a token


class ServiceGuard:
    """Wraps the service's ASGI app (see the module's text)."""

    def __init__(
        self, app: App, token: str, *, max_body: int, max_depth: int = MAX_DEPTH,
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        self.app, self.token = app, token
        self.max_body, self.max_depth = max_body, max_depth
        self.hosts = _LOOPBACK | {h.lower() for h in allowed_hosts if h}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        headers = _headers(scope)
        problem = self._refusal(scope, headers)
        if problem is None and scope["method"] in _WRITES:
            body, problem = await self._body(receive, headers)
            if problem is None:
                receive = replay(body, receive)
        if problem is not None:
            await _answer(send, *problem)
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, str, str] | None:
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"").lower():
            return 400, "a null byte in the path or query", "remove the \\0 from names and values"
        if len(scope.get("query_string", b"")) > MAX_QUERY or len(scope["path"]) > MAX_QUERY:
            return 414, f"the URL is longer than {MAX_QUERY} bytes", "send fewer or shorter filters"
        if self.token:
            return None  # a bearer token proves the caller; a cookie only reads
        host = _hostname(headers.get(b"host", b"").decode("latin-1"))
        if host and host not in self.hosts:
            return (403, f"host {host!r} is not this service's name",
                    "use 127.0.0.1 or localhost, set FNRUN_SERVICE_HOSTS, or give the service "
                    "a token (FNRUN_TOKEN)")  # fmt: skip
        if scope["method"] not in _WRITES or scope["path"] in _OPEN_FORMS:
            return None
        origin = headers.get(b"origin", b"").decode("latin-1")
        if origin and _hostport(origin) != headers.get(b"host", b"").decode("latin-1").lower():
            return (
                403,
                f"a change from another origin ({origin})",
                "send it from this service's origin",
            )
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1").lower()
        if (not ctype or ctype in _FORM_TYPES) and not any(h in headers for h in _CLIENT_HEADERS):
            return (415, "a change must be sent as JSON",
                    "send Content-Type: application/json (a form or text/plain is what a page "
                    "elsewhere could send)")  # fmt: skip
        return None

    async def _body(
        self, receive: Receive, headers: dict[bytes, bytes]
    ) -> tuple[bytes, tuple[int, str, str] | None]:
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            return b"", self._too_large()
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", self._too_large()
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        # parsed here only when its brackets could nest too deep (the route parses it anyway)
        if body[:1] in (b"{", b"[") and may_nest_deeper(body, self.max_depth):
            try:
                check_depth(body, _shape(body), self.max_depth)
            except TooDeep:
                hint = "flatten the document (the limit is FNRUN_SERVICE_MAX_DEPTH)"
                return body, (400, f"the body nests deeper than {self.max_depth} levels", hint)
        return body, None

    def _too_large(self) -> tuple[int, str, str]:
        return (413, f"the request body is larger than {self.max_body} bytes",
                "send less (the limit is FNRUN_SERVICE_MAX_BODY)")  # fmt: skip


def _shape(body: bytes) -> Any:
    """The document, for the depth walk; a body too deep even for the parser is as deep as
    it gets."""
    try:
        return json.loads(body)
    except RecursionError:
        raise TooDeep("too deep") from None
    except ValueError:
        return None  # not JSON: the route says so


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope.get("headers", [])}


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _hostport(origin: str) -> str:
    try:
        return urlsplit(origin).netloc.lower()
    except ValueError:
        return ""


def _with_headers(send: Send) -> Send:
    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            names = {k.lower() for k, _ in headers}
            headers += [(k, v) for k, v in _ALWAYS if k not in names]
            if b"content-security-policy" in names:  # an artifact's own (framed by our pages)
                headers.append((b"x-frame-options", b"SAMEORIGIN"))
            else:
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html")
                           for k, v in headers)  # fmt: skip
                headers.append((b"content-security-policy", (UI_CSP if html else API_CSP).encode()))
                headers.append((b"x-frame-options", b"DENY"))
            message = {**message, "headers": headers}
        await send(message)

    return secured


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands ``body`` (read already) to the next layer, then the client's."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then whatever comes (a disconnect)

    return replay


async def _answer(send: Send, status: int, message: str, hint: str) -> None:
    error = {400: "InvalidArgumentError", 403: "AccessError", 413: "RequestTooLarge",
             414: "URITooLong", 415: "UnsupportedMediaType"}[status]  # fmt: skip
    body = json.dumps({"error": error, "message": message, "hint": hint, "detail": message})
    headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body.encode()})
