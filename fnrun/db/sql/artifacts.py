"""Artifacts: versions keyed by the producing run (``uid``) and iteration; tags move."""

from __future__ import annotations

import copy
import difflib
from typing import Any

from sqlalchemy import Connection, Engine, select

from fnrun.clock import now_iso
from fnrun.db.base import Doc, labels_match
from fnrun.db.sql.engine import upsert, with_retries
from fnrun.db.sql.projects import ensure_project
from fnrun.db.sql.tables import artifact_tags, artifacts, runs
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
            row = _version(conn, project, key, tree, iter or 0)
            if row is None and not iter:  # no iteration named: the run's best one (MLRun's
                best = _best_iteration(conn, project, tree)  # link to the selected iteration)
                row = _version(conn, project, key, tree, best) if best else None
            if row is None:
                raise _missing(conn, project, key, tag, iter or 0, tree)
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


def _version(conn: Connection, project: str, key: str, tree: str, iteration: int) -> Any:
    query = select(artifacts.c.body).where(
        artifacts.c.project == project,
        artifacts.c.key == key,
        artifacts.c.uid == tree,
        artifacts.c.iteration == iteration,
    )
    return conn.execute(query).first()


def _best_iteration(conn: Connection, project: str, tree: str) -> int:
    """The iteration the selector picked in the hyper-parameter run ``tree`` (0: none)."""
    row = conn.execute(
        select(runs.c.body).where(
            runs.c.project == project, runs.c.uid == tree, runs.c.iteration == 0
        )
    ).first()
    best = ((row.body or {}).get("status") or {}).get("best_iteration") if row else 0
    return best if isinstance(best, int) and not isinstance(best, bool) else 0


def _missing(
    conn: Connection, project: str, key: str, tag: str, iteration: int, tree: str
) -> NotFoundError:
    """The error for an artifact version that is not there, naming what is: the key's
    iterations (a hyper-parameter run without a selector has no best one), else the keys
    with a like name."""
    versions = conn.execute(
        select(artifacts.c.uid, artifacts.c.iteration).where(
            artifacts.c.project == project, artifacts.c.key == key
        )
    ).all()
    if versions:
        mine = sorted(v.iteration for v in versions if v.uid == tree)
        if mine:
            named = f"iteration {iteration}" if iteration else "best iteration (no selector)"
            return NotFoundError(
                f"artifact {project}/{key} of run {tree[:12]} has no {named}; it has "
                f"iterations {', '.join(map(str, mine[:20]))}",
                field="key",
                hint=f"name one: store://.../{project}/{key}#{mine[-1]} (a selector= picks "
                "the best iteration, which the URI without # then means)",
            )
        return NotFoundError(
            f"artifact {project}/{key}"
            + (f" has no tag {tag!r}" if tag else " not found")
            + f" (it has {len(versions)} versions)",
            field="key",
            hint=f"see them: fnrun get artifacts -p {project} --name {key} --tag '*'",
        )
    keys = sorted({str(k) for (k,) in conn.execute(
        select(artifacts.c.key).where(artifacts.c.project == project).distinct()
    )})  # fmt: skip
    like = difflib.get_close_matches(key, keys, n=5, cutoff=0.5)
    shown = like or keys[:10]
    return NotFoundError(
        f"artifact {project}/{key} not found",
        field="key",
        hint=(f"did you mean {', '.join(shown)}?" if like else
              f"project {project} has {', '.join(shown) or 'no artifacts'}"
              + ("..." if len(keys) > len(shown) else "")),
    )  # fmt: skip


def _tagged_uid(conn: Connection, project: str, key: str, tag: str) -> str:
    row = conn.execute(
        select(artifact_tags.c.uid).where(
            artifact_tags.c.project == project,
            artifact_tags.c.key == key,
            artifact_tags.c.tag == tag,
        )
    ).first()
    return str(row.uid) if row else ""
