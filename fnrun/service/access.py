"""Who may call the service: the token as ``Authorization: Bearer``, or for the web UI's
reads (GET/HEAD) a session cookie from ``/ui/login`` (:mod:`fnrun.service.sessions`).

The cookie holds a random session id, never the token; it is ``HttpOnly`` and
``SameSite=Strict`` and opens only reads (the UI changes nothing), so a page elsewhere cannot
act with it. The token is compared in constant time; a header or cookie that is not ASCII
or is oversized is refused like a wrong one (401, never a 500). ``/api/v1/healthz``, the
UI's static files and its login page are open.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

SESSION_COOKIE = "fnrun_session"
_OPEN = ("/api/v1/healthz", "/ui/login", "/ui/logout")
_OPEN_PREFIXES = ("/ui/static/",)
_MAX_HEADER = 4096


def is_open(path: str) -> bool:
    return path in _OPEN or path.startswith(_OPEN_PREFIXES)


def allowed(
    token: str,
    method: str,
    path: str,
    authorization: str,
    cookie: str,
    session_ok: Callable[[str], bool],
) -> bool:
    """Whether a request may go on (always, when the service has no token)."""
    if not token or is_open(path):
        return True
    if len(authorization) <= _MAX_HEADER and hmac.compare_digest(
        authorization.encode("utf-8", "replace"), f"Bearer {token}".encode()
    ):
        return True
    return method in ("GET", "HEAD") and bool(cookie) and session_ok(cookie)
