"""Runs: one row per (project, uid, iteration); iteration 0 is the parent of hyper-param runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select

from fnrun.clock import now_iso
from fnrun.db.base import Doc, labels_match
from fnrun.db.monitor import stale_update
from fnrun.db.sql.engine import upsert, with_retries
from fnrun.db.sql.projects import ensure_project
from fnrun.db.sql.tables import artifact_tags, artifacts, logs, runs
from fnrun.errors import NotFoundError
from fnrun.model.names import check_names


class RunsMixin:
    engine: Engine
    default_project: str
    known_projects: set[str]

    def store_run(self, run: Doc, uid: str, project: str = "", iter: int = 0) -> None:
        project = project or self.default_project
        name = (run.get("metadata") or {}).get("name") if isinstance(run, dict) else None
        check_names(project=project, uid=uid, **{"metadata.name": name or None})
        # _run_row sets keys of the top level, metadata and status: copy those, not the rest
        # (the row is serialised in this call, the caller's document is never touched)
        body = {**run, "metadata": dict(run.get("metadata") or {}),
                "status": dict(run.get("status") or {})}  # fmt: skip
        row = _run_row(body, uid, project, iter)

        def work(conn: Connection) -> None:
            ensure_project(conn, project, self.known_projects)
            upsert(conn, runs, row)

        with_retries(self.engine, work)
        self.known_projects.add(project)

    def update_run(
        self, updates: dict[str, Any], uid: str, project: str = "", iter: int = 0
    ) -> Doc:
        """Apply dotted-key updates (``{"status.state": "completed"}``) to a stored run."""
        project = project or self.default_project
        check_names(project=project, uid=uid)

        def work(conn: Connection) -> Doc:
            body = _read(conn, uid, project, iter)
            for key, value in updates.items():
                set_dotted(body, key, value)
            upsert(conn, runs, _run_row(body, uid, project, iter))
            return body

        return with_retries(self.engine, work)

    def read_run(self, uid: str, project: str = "", iter: int = 0) -> Doc:
        project = project or self.default_project
        doc = with_retries(self.engine, lambda c: _read(c, uid, project, iter), write=False)
        return self._settle(doc)

    def _settle(self, doc: Doc) -> Doc:
        """``doc``, marked ``error`` first when its executor process is gone (fnrun.db.monitor)."""
        if stale_update(doc) is None:
            return doc
        meta = doc["metadata"]
        uid, project, iter = meta["uid"], meta["project"], meta.get("iteration", 0)

        def work(conn: Connection) -> Doc:
            body = _read(conn, uid, project, iter)
            updates = stale_update(body)  # again, under the lock: it may have finished since
            if updates:
                for key, value in updates.items():
                    set_dotted(body, key, value)
                upsert(conn, runs, _run_row(body, uid, project, iter))
            return body

        return with_retries(self.engine, work)

    def list_runs(
        self,
        name: str | None = None,
        project: str | None = None,
        labels: dict[str, str] | None = None,
        state: str | None = None,
        uid: str | None = None,
        iter: bool = False,
        last: int = 0,
        offset: int = 0,
        sort: str = "",
    ) -> list[Doc]:
        """Runs newest first; child iterations only with ``iter=True``; ``last`` of them
        after the first ``offset`` (a page)."""
        query = select(runs.c.body)
        for column, value in (
            (runs.c.project, project),
            (runs.c.name, name),
            (runs.c.state, state),
            (runs.c.uid, uid),
        ):
            if value:
                query = query.where(column == value)
        if not iter:
            query = query.where(runs.c.iteration == 0)
        query = query.order_by(
            *_order(sort),
            runs.c.start_time.desc(),
            runs.c.updated.desc(),
            runs.c.uid,
            runs.c.iteration,
        )
        if not labels:  # labels are matched on the documents: cut after that
            query = query.offset(offset or None).limit(last or None)
        rows = with_retries(self.engine, lambda c: c.execute(query).all(), write=False)
        out = [r.body for r in rows if labels_match(r.body["metadata"].get("labels", {}), labels)]
        if labels:
            out = out[offset : offset + last] if last else out[offset:]
        settled = [self._settle(doc) for doc in out]
        return [d for d in settled if d["status"].get("state") == state] if state else settled

    def del_run(self, uid: str, project: str = "", iter: int | None = None) -> None:
        """Delete one iteration, or (``iter=None``) the run with its iterations, its log and
        the records of the artifacts it made (``latest`` tags move to the newest version
        left). Artifact files are the caller's (:func:`fnrun.db.cleanup.delete_run`)."""
        project = project or self.default_project
        stmt = runs.delete().where(runs.c.project == project, runs.c.uid == uid)
        if iter is not None:
            with_retries(self.engine, lambda c: c.execute(stmt.where(runs.c.iteration == iter)))
            return

        def work(conn: Connection) -> None:
            conn.execute(stmt)
            conn.execute(logs.delete().where(logs.c.project == project, logs.c.uid == uid))
            keys = conn.execute(
                select(artifacts.c.key)
                .where(artifacts.c.project == project, artifacts.c.uid == uid)
                .distinct()
            ).scalars()
            for key in list(keys):
                _drop_version(conn, project, key, uid)

        with_retries(self.engine, work)


def _drop_version(conn: Connection, project: str, key: str, uid: str) -> None:
    """Remove run ``uid``'s version of artifact ``key``; its tags go, ``latest`` moves to the
    newest version left (if any)."""
    same = (artifacts.c.project == project) & (artifacts.c.key == key)
    conn.execute(artifacts.delete().where(same & (artifacts.c.uid == uid)))
    tags = (artifact_tags.c.project == project) & (artifact_tags.c.key == key)
    conn.execute(artifact_tags.delete().where(tags & (artifact_tags.c.uid == uid)))
    if conn.execute(
        select(artifact_tags.c.tag).where(tags & (artifact_tags.c.tag == "latest"))
    ).first():
        return
    newest = conn.execute(
        select(artifacts.c.uid).where(same).order_by(artifacts.c.updated.desc()).limit(1)
    ).first()
    if newest is not None:
        upsert(
            conn,
            artifact_tags,
            {"project": project, "key": key, "tag": "latest", "uid": newest.uid},
        )


_READ = select(runs.c.body).where(  # built once: every update and read of a run uses it
    runs.c.project == bindparam("project"),
    runs.c.uid == bindparam("uid"),
    runs.c.iteration == bindparam("iteration"),
)


def _read(conn: Connection, uid: str, project: str, iter: int) -> Doc:
    row = conn.execute(_READ, {"project": project, "uid": uid, "iteration": iter}).first()
    if row is None:
        raise NotFoundError(
            f"run {uid} (iteration {iter}) not found in project {project!r}",
            field="uid",
            hint="list runs with `fnrun get runs`",
        )
    return dict(row.body)


SORTS = ("name", "state", "start_time")


def _order(sort: str) -> list[Any]:
    """The ORDER BY of a ``sort`` (a run column, ``-`` first for descending)."""
    if not sort:
        return []
    column = sort.lstrip("-")
    if column not in SORTS:
        from fnrun.errors import InvalidArgumentError

        raise InvalidArgumentError(
            f"runs cannot be sorted by {sort!r}",
            field="sort",
            hint="name, state or start_time; -name for descending",
        )
    field = runs.c[column]
    return [field.desc() if sort.startswith("-") else field.asc()]


def _run_row(body: Doc, uid: str, project: str, iter: int) -> dict[str, Any]:
    meta = body.setdefault("metadata", {})
    meta.update(uid=uid, project=project, iteration=iter)
    status = body.setdefault("status", {})
    now = now_iso()
    status["last_update"] = now
    return {
        "project": project,
        "uid": uid,
        "iteration": iter,
        "name": meta.get("name", ""),
        "state": status.get("state", ""),
        "labels": meta.get("labels", {}),
        "start_time": status.get("start_time", ""),
        "updated": now,
        "body": body,
    }


def set_dotted(body: dict[str, Any], key: str, value: Any) -> None:
    """``set_dotted(d, "status.state", "x")`` sets ``d["status"]["state"]``, creating levels."""
    *parents, leaf = key.split(".")
    node = body
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = value
