"""Sign-in sessions of the web UI: a random id per sign-in, kept server-side with an expiry.

The cookie holds only the id (256 random bits); the DB holds its SHA-256, the mark of the
token it was made under (an HMAC keyed by the token, never the token) and when it expires
(``FNRUN_SERVICE_SESSION_HOURS``, default 12). Signing out deletes it; a service started
with another token knows none of the old ones (and deletes them). A malformed cookie
(non-ASCII, oversized) is simply no session. A DB without the sessions table (not SQL)
keeps them in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from fnrun.model.schedule import iso  # one width for every stamp: compared as text

DEFAULT_HOURS = 12.0


class _Memory:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, str]] = {}
        self.lock = threading.Lock()

    def store_session(self, digest: str, token_mark: str, expires: str) -> None:
        with self.lock:
            self.rows[digest] = (token_mark, expires)

    def session_expiry(self, digest: str, token_mark: str) -> str:
        mark, expires = self.rows.get(digest, ("", ""))
        return expires if mark == token_mark else ""

    def delete_sessions(self, digest: str = "", token_mark: str = "", before: str = "") -> None:
        with self.lock:
            self.rows = {
                d: (m, e)
                for d, (m, e) in self.rows.items()
                if d != digest and m == (token_mark or m) and e >= (before or e)
            }


class Sessions:
    """The sessions of a service whose token is ``token``."""

    def __init__(self, db: Any, token: str, hours: float | None = None) -> None:
        if hours is None:
            hours = float(os.environ.get("FNRUN_SERVICE_SESSION_HOURS") or DEFAULT_HOURS)
        self.ttl = timedelta(hours=hours)
        self.mark = hmac.new(token.encode(), b"fnrun-ui-session", hashlib.sha256).hexdigest()
        self._store = db if hasattr(db, "store_session") else _Memory()
        if token:
            self._store.delete_sessions(token_mark=self.mark)  # another token's: gone

    def open(self) -> str:
        """A new session's id (for the cookie)."""
        now = datetime.now(UTC)
        self._store.delete_sessions(before=iso(now))  # expired ones
        sid = secrets.token_urlsafe(32)
        self._store.store_session(_digest(sid), self.mark, iso(now + self.ttl))
        return sid

    def valid(self, sid: str) -> bool:
        if not sid or len(sid) > 128 or not sid.isascii():
            return False
        expires = self._store.session_expiry(_digest(sid), self.mark)
        return bool(expires) and expires > iso(datetime.now(UTC))

    def close(self, sid: str) -> None:
        if sid and len(sid) <= 128 and sid.isascii():
            self._store.delete_sessions(digest=_digest(sid))


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()
