"""Who may call the service: the token as ``Authorization: Bearer``, or for the web UI's
reads (GET/HEAD) a session cookie made from it at ``/ui/login``.

The cookie holds an HMAC of a fixed message keyed by the token, never the token itself; it
is ``HttpOnly`` and ``SameSite=Strict`` and opens only reads (the UI changes nothing), so a
page elsewhere cannot act with it. Every comparison is constant-time. ``/api/v1/healthz``,
the UI's static files and its login page are open.
"""

from __future__ import annotations

import hashlib
import hmac

SESSION_COOKIE = "fnrun_session"
_OPEN = ("/api/v1/healthz", "/ui/login")
_OPEN_PREFIXES = ("/ui/static/",)


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"fnrun-ui-session", hashlib.sha256).hexdigest()


def is_open(path: str) -> bool:
    return path in _OPEN or path.startswith(_OPEN_PREFIXES)


def allowed(token: str, method: str, path: str, authorization: str, cookie: str) -> bool:
    """Whether a request may go on (always, when the service has no token)."""
    if not token or is_open(path):
        return True
    if hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    reads = method in ("GET", "HEAD")
    return reads and bool(cookie) and hmac.compare_digest(cookie, session_value(token))
