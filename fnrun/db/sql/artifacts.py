"""Artifacts: versions keyed by the producing run (``uid``) and iteration; tags move."""

from __future__ import annotations

import copy

from sqlalchemy import Connection, Engine, select

from fnrun.clock import now_iso
from fnrun.db.base import Doc, labels_match
from fnrun.db.sql.engine import upsert, with_retries
from fnrun.db.sql.projects import ensure_project
from fnrun.db.sql.tables import artifact_tags, artifacts
from fnrun.errors import NotFoundError
from fnrun.model.names import check_names


class ArtifactsMixin:
    engine: Engine
    default_project: str
    known_projects: set[str]

    def store_artifact(
        self, key: str, artifact: Doc, uid: str, iter: int = 0, tag: str = "", project: str = ""
    ) -> None:
        """Store the version made by run ``uid``; ``tag`` and ``latest`` point at it."""
        project = project or self.default_project
        check_names(key=key, project=project, uid=uid or None, tag=tag or None)
        body = copy.deepcopy(artifact)
        meta = body.setdefault("metadata", {})
        meta.update(key=key, project=project, iter=iter, tree=uid, updated=now_iso())
        row = {
            "project": project,
            "key": key,
            "iteration": iter,
            "uid": uid,
            "kind": body.get("kind", ""),
            "labels": meta.get("labels", {}),
            "updated": meta["updated"],
            "body": body,
        }

        def work(conn: Connection) -> None:
            ensure_project(conn, project, self.known_projects)
            upsert(conn, artifacts, row)
            for t in {tag or "latest", "latest"}:
                upsert(conn, artifact_tags, {"project": project, "key": key, "tag": t, "uid": uid})

        with_retries(self.engine, work)
        self.known_projects.add(project)

    def read_artifact(
        self,
        key: str,
        tag: str = "",
        iter: int | None = None,
        project: str = "",
        uid: str | None = None,
    ) -> Doc:
        project = project or self.default_project

        def work(conn: Connection) -> Doc:
            tree = uid or _tagged_uid(conn, project, key, tag or "latest")
            query = select(artifacts.c.body).where(
                artifacts.c.project == project, artifacts.c.key == key, artifacts.c.uid == tree
            )
            query = query.where(artifacts.c.iteration == (iter or 0))
            row = conn.execute(query).first()
            if row is None:
                raise NotFoundError(
                    f"artifact {project}/{key} not found",
                    field="key",
                    hint="list artifacts with `fnrun get artifacts`",
                )
            body: Doc = copy.deepcopy(row.body)
            body["metadata"]["tag"] = tag or "latest"
            return body

        return with_retries(self.engine, work, write=False)

    def list_artifacts(
        self,
        name: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        labels: dict[str, str] | None = None,
        kind: str | None = None,
    ) -> list[Doc]:
        """Artifacts a tag points at (default ``latest``; ``"*"`` every version), newest first."""
        if tag == "*":
            query = select(artifacts.c.body)
        else:
            query = (
                select(artifacts.c.body)
                .join(
                    artifact_tags,
                    (artifact_tags.c.project == artifacts.c.project)
                    & (artifact_tags.c.key == artifacts.c.key)
                    & (artifact_tags.c.uid == artifacts.c.uid),
                )
                .where(artifact_tags.c.tag == (tag or "latest"))
            )
        for column, value in (
            (artifacts.c.project, project),
            (artifacts.c.key, name),
            (artifacts.c.kind, kind),
        ):
            if value:
                query = query.where(column == value)
        query = query.order_by(artifacts.c.updated.desc())
        rows = with_retries(self.engine, lambda c: c.execute(query).all(), write=False)
        return [r.body for r in rows if labels_match(r.body["metadata"].get("labels", {}), labels)]

    def del_artifact(self, key: str, project: str = "", tag: str | None = None) -> None:
        project = project or self.default_project

        def work(conn: Connection) -> None:
            if tag:
                conn.execute(
                    artifact_tags.delete().where(
                        artifact_tags.c.project == project,
                        artifact_tags.c.key == key,
                        artifact_tags.c.tag == tag,
                    )
                )
                return
            for table in (artifact_tags, artifacts):
                conn.execute(table.delete().where(table.c.project == project, table.c.key == key))

        with_retries(self.engine, work)


def _tagged_uid(conn: Connection, project: str, key: str, tag: str) -> str:
    row = conn.execute(
        select(artifact_tags.c.uid).where(
            artifact_tags.c.project == project,
            artifact_tags.c.key == key,
            artifact_tags.c.tag == tag,
        )
    ).first()
    return str(row.uid) if row else ""
