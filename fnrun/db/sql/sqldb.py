"""The SQL run DB: embedded SQLite by default, PostgreSQL (or any SQLAlchemy URL) at scale.

>>> db = SQLRunDB("sqlite://")          # in memory
>>> db.store_project("demo")
>>> [p["metadata"]["name"] for p in db.list_projects()]
['demo']
"""

from __future__ import annotations

from fnrun.db.sql.artifacts import ArtifactsMixin
from fnrun.db.sql.engine import make_engine
from fnrun.db.sql.functions import FunctionsMixin
from fnrun.db.sql.projects import LogsMixin, ProjectsMixin
from fnrun.db.sql.runs import RunsMixin
from fnrun.db.sql.schedules import SchedulesMixin
from fnrun.db.sql.schema import ensure_schema
from fnrun.db.sql.sessions import SessionsMixin


class SQLRunDB(
    ProjectsMixin, FunctionsMixin, RunsMixin, ArtifactsMixin, LogsMixin, SchedulesMixin,
    SessionsMixin,
):  # fmt: skip
    """A :class:`~fnrun.db.base.RunDB` over SQLAlchemy; creates or migrates its schema on open
    (safe when many processes open a fresh DB at once: :mod:`fnrun.db.sql.schema`)."""

    def __init__(self, url: str, default_project: str = "") -> None:
        if not default_project:
            from fnrun.config import get_settings

            default_project = get_settings().default_project
        self.url = url
        self.default_project = default_project
        self.engine = make_engine(url)
        self.known_projects: set[str] = set()
        self.schema_version = ensure_schema(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"SQLRunDB({self.engine.url.render_as_string(hide_password=True)!r})"
