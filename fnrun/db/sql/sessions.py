"""The web UI's sign-in sessions in the SQL DB (so every replica of the service knows them):
a row per session, keyed by the SHA-256 of its id, with the mark of the token it was made
under and its expiry (:mod:`fnrun.service.sessions` decides what they mean)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, delete, select

from fnrun.db.sql.engine import with_retries
from fnrun.db.sql.tables import ui_sessions


class SessionsMixin:
    engine: Engine

    def store_session(self, digest: str, token_mark: str, expires: str) -> None:
        def work(conn: Connection) -> None:
            conn.execute(ui_sessions.insert().values(digest=digest, token_mark=token_mark,
                                                     expires=expires))  # fmt: skip

        with_retries(self.engine, work)

    def session_expiry(self, digest: str, token_mark: str) -> str:
        """The session's expiry ("" when there is none under this token)."""
        query = select(ui_sessions.c.expires).where(
            ui_sessions.c.digest == digest, ui_sessions.c.token_mark == token_mark
        )
        found = with_retries(self.engine, lambda c: c.execute(query).scalar(), write=False)
        return str(found or "")

    def delete_sessions(self, digest: str = "", token_mark: str = "", before: str = "") -> None:
        """Delete one session (``digest``), or every session not made under ``token_mark``
        or expired ``before`` a time."""

        def work(conn: Connection) -> None:
            if digest:
                conn.execute(delete(ui_sessions).where(ui_sessions.c.digest == digest))
            if token_mark:
                conn.execute(delete(ui_sessions).where(ui_sessions.c.token_mark != token_mark))
            if before:
                conn.execute(delete(ui_sessions).where(ui_sessions.c.expires < before))

        with_retries(self.engine, work)
