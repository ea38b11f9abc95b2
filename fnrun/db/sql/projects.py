"""Projects (created on first use) and run logs (appended chunks)."""

from __future__ import annotations

import copy

from sqlalchemy import Connection, Engine, func, select

from fnrun.clock import now_iso
from fnrun.db.base import Doc
from fnrun.db.sql.engine import upsert, with_retries
from fnrun.db.sql.tables import (
    artifact_tags,
    artifacts,
    function_tags,
    functions,
    logs,
    projects,
    runs,
)
from fnrun.errors import NotFoundError
from fnrun.model.names import check_names


def ensure_project(conn: Connection, project: str, known: set[str]) -> None:
    """Create the project row on first use (``known``: projects this process has seen)."""
    if project in known:
        return
    exists = conn.execute(select(projects.c.name).where(projects.c.name == project)).first()
    if exists is None:
        body = {"kind": "project", "metadata": {"name": project}}
        upsert(conn, projects, {"name": project, "created": now_iso(), "body": body})


_LOG_INSERT = logs.insert()  # one statement, compiled once; the values bound per call


class ProjectsMixin:
    engine: Engine
    default_project: str
    known_projects: set[str]

    def store_project(self, name: str, project: Doc | None = None) -> None:
        check_names(project=name)
        body: Doc = copy.deepcopy(project) if project else {"kind": "project", "metadata": {}}
        body.setdefault("metadata", {})["name"] = name
        with_retries(
            self.engine,
            lambda c: upsert(c, projects, {"name": name, "body": body, "created": now_iso()}),
        )

    def get_project(self, name: str) -> Doc:
        row = with_retries(
            self.engine,
            lambda c: c.execute(select(projects.c.body).where(projects.c.name == name)).first(),
            write=False,
        )
        if row is None:
            raise NotFoundError(f"project {name!r} not found", field="project")
        return dict(row.body)

    def list_projects(self) -> list[Doc]:
        rows = with_retries(
            self.engine,
            lambda c: c.execute(select(projects.c.body).order_by(projects.c.name)).all(),
            write=False,
        )
        return [dict(r.body) for r in rows]

    def delete_project(self, name: str) -> None:
        """Delete a project with its functions, runs, artifacts and logs."""

        def work(conn: Connection) -> None:
            for table in (function_tags, functions, runs, artifact_tags, artifacts, logs):
                conn.execute(table.delete().where(table.c.project == name))
            conn.execute(projects.delete().where(projects.c.name == name))

        with_retries(self.engine, work)
        self.known_projects.discard(name)


class LogsMixin:
    engine: Engine
    default_project: str

    def store_log(
        self, uid: str, project: str = "", body: bytes = b"", append: bool = True
    ) -> None:
        project = project or self.default_project
        check_names(project=project, uid=uid)
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)

        def work(conn: Connection) -> None:
            if not append:
                conn.execute(logs.delete().where(logs.c.project == project, logs.c.uid == uid))
            if data:
                conn.execute(_LOG_INSERT, {"project": project, "uid": uid, "body": data})

        with_retries(self.engine, work)

    def get_log(
        self, uid: str, project: str = "", offset: int = 0, size: int = -1
    ) -> tuple[str, bytes]:
        """(run state, log bytes from ``offset``; ``size`` -1 for all)."""
        project = project or self.default_project

        def work(conn: Connection) -> tuple[str, bytes]:
            chunks = conn.execute(
                select(logs.c.body)
                .where(logs.c.project == project, logs.c.uid == uid)
                .order_by(logs.c.id)
            ).all()
            state = conn.execute(
                select(func.max(runs.c.state)).where(
                    runs.c.project == project, runs.c.uid == uid, runs.c.iteration == 0
                )
            ).scalar()
            return state or "", b"".join(c.body for c in chunks)

        state, data = with_retries(self.engine, work, write=False)
        data = data[offset:]
        return state, data if size < 0 else data[:size]
