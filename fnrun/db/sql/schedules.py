"""Schedules: one row per (project, name), with the next due time as an indexed column.

Storing a schedule again (same name) replaces its spec, keeps its history (runs, last run)
and plans its next time from now. The scheduler claims a due time with a compare-and-set on
``next_run`` (:meth:`SchedulesMixin.advance_schedule`), so two services on one DB never both
run it.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from fnrun.clock import now_iso
from fnrun.db.base import Doc, labels_match
from fnrun.db.sql.engine import upsert, with_retries
from fnrun.db.sql.projects import ensure_project
from fnrun.db.sql.runs import set_dotted
from fnrun.db.sql.tables import schedules
from fnrun.errors import NotFoundError
from fnrun.model.schedule import iso, next_after, validate_schedule


class SchedulesMixin:
    engine: Engine
    default_project: str
    known_projects: set[str]

    def store_schedule(self, schedule: Doc, project: str = "") -> Doc:
        """Create or replace a schedule; returns it with ``status.next_run_time``."""
        doc = validate_schedule(schedule, project or self.default_project)
        project, name = doc["metadata"]["project"], doc["metadata"]["name"]
        now = datetime.now(UTC)

        def work(conn: Connection) -> Doc:
            ensure_project(conn, project, self.known_projects)
            old = _read(conn, project, name, missing_ok=True)
            status = dict(old["status"]) if old else {"created": iso(now)}
            status["next_run_time"] = iso(next_after(doc["spec"]["cron"], now))
            status["updated"] = iso(now)
            doc["status"] = status
            upsert(conn, schedules, _row(doc))
            return doc

        stored = with_retries(self.engine, work)
        self.known_projects.add(project)
        return stored

    def get_schedule(self, name: str, project: str = "") -> Doc:
        project = project or self.default_project
        return with_retries(self.engine, lambda c: _read(c, project, name), write=False)

    def list_schedules(
        self,
        project: str | None = None,
        name: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> list[Doc]:
        query = select(schedules.c.body).order_by(schedules.c.project, schedules.c.name)
        if project:
            query = query.where(schedules.c.project == project)
        if name:
            query = query.where(schedules.c.name == name)
        rows = with_retries(self.engine, lambda c: c.execute(query).all(), write=False)
        docs = [dict(r.body) for r in rows]
        return [d for d in docs if labels_match(d["metadata"].get("labels") or {}, labels)]

    def delete_schedule(self, name: str, project: str = "") -> None:
        project = project or self.default_project

        def work(conn: Connection) -> None:
            _read(conn, project, name)  # 404 when it is not there
            conn.execute(
                schedules.delete().where(schedules.c.project == project, schedules.c.name == name)
            )

        with_retries(self.engine, work)

    # -- the scheduler's side (the service's own SQL DB) ------------------------------------
    def due_schedules(self, now: datetime) -> list[Doc]:
        """Schedules whose next time is at or before ``now``, earliest first."""
        query = (
            select(schedules.c.body)
            .where(schedules.c.next_run != "", schedules.c.next_run <= iso(now))
            .order_by(schedules.c.next_run)
        )
        rows = with_retries(self.engine, lambda c: c.execute(query).all(), write=False)
        return [dict(r.body) for r in rows]

    def advance_schedule(
        self, name: str, project: str, expected_next: str, updates: dict[str, Any]
    ) -> Doc | None:
        """Apply dotted ``updates`` (``status.next_run_time`` among them) if the schedule's
        next time is still ``expected_next``; the updated document, or None when another
        scheduler claimed that time first or the schedule is gone."""

        def work(conn: Connection) -> Doc | None:
            body = _read(conn, project, name, missing_ok=True, lock=True)
            if body is None or body["status"].get("next_run_time", "") != expected_next:
                return None
            for key, value in updates.items():
                set_dotted(body, key, value)
            result = conn.execute(
                schedules.update()
                .where(
                    schedules.c.project == project,
                    schedules.c.name == name,
                    schedules.c.next_run == expected_next,
                )
                .values(**_row(body))
            )
            return body if result.rowcount == 1 else None

        return with_retries(self.engine, work)

    def update_schedule_status(
        self,
        name: str,
        project: str,
        updates: dict[str, Any],
        increments: dict[str, int] | None = None,
    ) -> None:
        """Apply dotted ``updates`` and add ``increments`` to counters (``status.runs``) of a
        schedule, under a row lock: two updates at once never lose a count."""

        def work(conn: Connection) -> None:
            body = _read(conn, project, name, missing_ok=True, lock=True)
            if body is None:
                return
            for key, value in updates.items():
                set_dotted(body, key, value)
            for key, step in (increments or {}).items():
                node: Any = body
                for part in key.split(".")[:-1]:
                    node = node.get(part) or {}
                set_dotted(body, key, int(node.get(key.rsplit(".", 1)[-1]) or 0) + step)
            upsert(conn, schedules, _row(body))

        with_retries(self.engine, work)


def _read(
    conn: Connection, project: str, name: str, missing_ok: bool = False, lock: bool = False
) -> Any:
    query = select(schedules.c.body).where(schedules.c.project == project, schedules.c.name == name)
    if lock:  # PostgreSQL: FOR UPDATE; SQLite's write transaction is the lock already
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        if missing_ok:
            return None
        raise NotFoundError(
            f"schedule {name!r} not found in project {project!r}",
            field="name",
            hint="see `fnrun schedules list`",
        )
    return copy.deepcopy(dict(row.body))


def _row(doc: Doc) -> dict[str, Any]:
    meta = doc["metadata"]
    return {
        "project": meta["project"],
        "name": meta["name"],
        "next_run": doc["status"].get("next_run_time") or "",
        "updated": now_iso(),
        "body": doc,
    }
