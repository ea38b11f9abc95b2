"""The service's authorization layer (plain ASGI, inside the app's error handlers): a request
the token or a session does not open gets a 401 (a person asking for a web UI page: the login
page); an MLRun client's request (its version header) is routed to MLRun's API at the same
address. Plain ASGI rather than an ``@app.middleware("http")`` function: that kind of layer
runs every request through a task group and memory streams, a third of a small request's
time (``benchmarks/service.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import cookie_parser
from starlette.responses import JSONResponse, RedirectResponse

from fnrun.service.access import SESSION_COOKIE, allowed
from fnrun.service.guard import App, Receive, Scope, Send
from fnrun.service.routes.mlrun import CLIENT_HEADER, rewrite_mlrun_path

_UNAUTHORIZED = {
    "error": "Unauthorized",
    "message": "a valid token is needed",
    "field": "Authorization",
    "hint": "send Authorization: Bearer <FNRUN_TOKEN>",
}
_MLRUN_CLIENT = CLIENT_HEADER.encode()


class Authorized:
    def __init__(
        self, app: App, token: str, session_ok: Callable[[str], bool], default_project: str
    ) -> None:
        self.app, self.token, self.session_ok = app, token, session_ok
        self.default_project = default_project

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = scope["headers"]
        if self.token and not self._allowed(scope["method"], path, headers):
            answer: Any
            if path == "/ui" or path.startswith("/ui/"):  # a person: the login page
                answer = RedirectResponse(f"/ui/login?next={quote(path)}", status_code=303)
            else:
                answer = JSONResponse(
                    _UNAUTHORIZED, status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
            await answer(scope, receive, send)
            return
        if path.startswith("/api/") and any(k.lower() == _MLRUN_CLIENT and v for k, v in headers):
            # MLRun's own client: its API (fnrun.service.routes.mlrun) at the same address
            path = rewrite_mlrun_path(path, self.default_project)
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)

    def _allowed(self, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> bool:
        first: dict[bytes, str] = {}  # a repeated header: its first value, as Starlette reads it
        for key, value in headers:
            first.setdefault(key.lower(), value.decode("latin-1"))
        authorization, cookies = first.get(b"authorization", ""), first.get(b"cookie", "")
        cookie = cookie_parser(cookies).get(SESSION_COOKIE, "") if cookies else ""
        return allowed(self.token, method, path, authorization, cookie, self.session_ok)
