"""The service's fast lane for the writes every run makes: ``PUT /api/v1/runs/{uid}`` (store),
``PATCH /api/v1/runs/{uid}`` (update) and ``POST /api/v1/logs/{uid}`` (a log chunk).

A run through the service makes these requests and little else, and for a small request the
framework's layers (routing, dependency solving, the answer's encoding, anyio's thread trip)
cost more than the SQL. This plain ASGI layer sits inside authorization (and the guard's
limits, headers and body bounds, which wrap everything) and answers exactly these requests
when they are well formed: the same parameters, the same DB calls, the same answers and error
documents as the routes in :mod:`fnrun.service.routes`, which stay declared (the OpenAPI
schema) and answer anything this layer does not take — a missing or malformed parameter, a
body that is not a JSON object, another content type — with their own 422s.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any
from urllib.parse import parse_qsl

from fnrun.db.base import RunDB
from fnrun.errors import FnrunError
from fnrun.service.guard import App, Receive, Scope, Send, replay
from fnrun.service.queries import MAX_INT, PREFIX, json_response

_RUN = re.compile(re.escape(PREFIX) + r"/runs/([^/]+)")
_LOG = re.compile(re.escape(PREFIX) + r"/logs/([^/]+)")
_DIGITS = re.compile(r"[0-9]{1,10}")
_BOOLS = {"true": True, "1": True, "false": False, "0": False}
ErrorAnswer = Callable[[FnrunError], Any]  # an error -> the Response the app's handler sends


class HotWrites:
    """Answers the run and log writes of well-formed requests; passes the rest to ``app``."""

    def __init__(self, app: App, db: RunDB, error_answer: ErrorAnswer, pool: Executor) -> None:
        self.app, self.db, self.error_answer, self.pool = app, db, error_answer, pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method = scope["method"]
            if method in ("PUT", "PATCH"):
                matched = _RUN.fullmatch(scope["path"])
                if matched and await self._run(scope, receive, send, matched[1]):
                    return
            elif method == "POST":
                matched = _LOG.fullmatch(scope["path"])
                if matched and await self._log(scope, receive, send, matched[1]):
                    return
        await self.app(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send, uid: str) -> bool:
        query = _query(scope)
        project, iteration = _project(query), _iteration(query)
        if project is None or iteration is None or not _is_json(scope):
            return False
        body = await _body(receive)
        doc = _object(body)
        if doc is None:  # the route says what is wrong with it (422)
            await self.app(scope, replay(body, receive), send)
            return True
        if scope["method"] == "PUT":
            answer = await self._call(self.db.store_run, doc, uid, project, iteration)
        else:
            answer = await self._call(self.db.update_run, doc, uid, project, iteration)
        await self._send(scope, receive, send, answer)
        return True

    async def _log(self, scope: Scope, receive: Receive, send: Send, uid: str) -> bool:
        query = _query(scope)
        project, append = _project(query), _BOOLS.get(query.get("append", "true").lower())
        if project is None or append is None:
            return False
        body = await _body(receive)
        answer = await self._call(self.db.store_log, uid, project, body, append)
        await self._send(scope, receive, send, answer)
        return True

    async def _call(self, work: Callable[..., Any], *args: Any) -> Any:
        """``work(*args)`` on one of the pool's threads (the SQL never holds the event loop):
        its answer (None for ``{}``), or its error."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, work, *args)
        except FnrunError as exc:
            return exc

    async def _send(self, scope: Scope, receive: Receive, send: Send, answer: Any) -> None:
        if isinstance(answer, FnrunError):
            await self.error_answer(answer)(scope, receive, send)
            return
        response: Any = json_response({} if answer is None else answer)
        await response(scope, receive, send)


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string") or b""
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)) if raw else {}


def _project(query: dict[str, str]) -> str | None:
    """The project the routes take (1 to 63 characters), or None: the route answers."""
    project = query.get("project")
    return project if project and len(project) <= 63 else None


def _iteration(query: dict[str, str]) -> int | None:
    raw = query.get("iter", "0")
    if not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= MAX_INT else None


def _is_json(scope: Scope) -> bool:
    key: bytes
    value: bytes
    for key, value in scope["headers"]:
        if key.lower() == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client left: what came is all there is
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, parsed as the routes parse it (the standard library's
    parser: NaN taken, wide integers kept exact), or None."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if type(value) is dict else None
