"""Function versions (by content hash) and tags (movable pointers at hashes)."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import Connection, Engine, select

from fnrun.clock import now_iso
from fnrun.db.base import Doc, labels_match
from fnrun.db.sql.engine import upsert, with_retries
from fnrun.db.sql.projects import ensure_project
from fnrun.db.sql.tables import function_tags, functions
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.model.names import check_names
from fnrun.model.serialize import content_hash


class FunctionsMixin:
    engine: Engine
    default_project: str
    known_projects: set[str]

    def store_function(
        self,
        function: Doc,
        name: str,
        project: str = "",
        tag: str = "latest",
        versioned: bool = True,
    ) -> str:
        """Store a version under its content hash; point ``tag`` and ``latest`` at it."""
        project = project or self.default_project
        tag = tag or "latest"
        check_names(name=name, project=project, tag=tag)
        hash_key = content_hash(function)
        body = copy.deepcopy(function)
        meta = body.setdefault("metadata", {})
        meta.update(name=name, project=project, hash=hash_key, updated=now_iso())
        meta.pop("tag", None)

        def work(conn: Connection) -> None:
            ensure_project(conn, project, self.known_projects)
            previous = _tag_hash(conn, project, name, tag)
            upsert(
                conn,
                functions,
                {
                    "project": project,
                    "name": name,
                    "hash": hash_key,
                    "body": body,
                    "updated": meta["updated"],
                },
            )
            for t in {tag, "latest"}:
                upsert(
                    conn,
                    function_tags,
                    {"project": project, "name": name, "tag": t, "hash": hash_key},
                )
            if not versioned and previous and previous != hash_key:
                _drop_untagged(conn, project, name, previous)

        with_retries(self.engine, work)
        self.known_projects.add(project)
        return hash_key

    def get_function(self, name: str, project: str = "", tag: str = "", hash_key: str = "") -> Doc:
        """A version by hash, or the one ``tag`` (default ``latest``) points at."""
        project = project or self.default_project

        def work(conn: Connection) -> Doc:
            key = hash_key or _tag_hash(conn, project, name, tag or "latest")
            row = _version(conn, project, name, key) if key else None
            if row is None:
                raise _missing(conn, project, name, tag, hash_key)
            body: Doc = copy.deepcopy(row.body)
            body["metadata"]["tag"] = "" if hash_key and not tag else (tag or "latest")
            return body

        return with_retries(self.engine, work, write=False)

    def list_functions(
        self,
        name: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> list[Doc]:
        """Tagged functions (``tag`` default ``latest``; ``"*"`` every tag), newest first."""
        query = select(function_tags.c.tag, functions.c.body).join(
            functions,
            (functions.c.project == function_tags.c.project)
            & (functions.c.name == function_tags.c.name)
            & (functions.c.hash == function_tags.c.hash),
        )
        if project:
            query = query.where(function_tags.c.project == project)
        if name:
            query = query.where(function_tags.c.name == name)
        if tag != "*":
            query = query.where(function_tags.c.tag == (tag or "latest"))
        query = query.order_by(functions.c.updated.desc())
        rows = with_retries(self.engine, lambda c: c.execute(query).all(), write=False)
        out = []
        for row in rows:
            body = copy.deepcopy(row.body)
            body["metadata"]["tag"] = row.tag
            if labels_match(body["metadata"].get("labels", {}), labels):
                out.append(body)
        return out

    def list_function_versions(self, name: str, project: str = "") -> list[Doc]:
        """Every stored version of a function, newest first: ``{hash, updated, tags}``."""
        project = project or self.default_project

        def work(conn: Connection) -> list[Doc]:
            tags: dict[str, list[str]] = {}
            for row in conn.execute(
                select(function_tags).where(
                    function_tags.c.project == project, function_tags.c.name == name
                )
            ):
                tags.setdefault(row.hash, []).append(row.tag)
            rows = conn.execute(
                select(functions.c.hash, functions.c.updated)
                .where(
                    functions.c.project == project,
                    functions.c.name == name,
                )
                .order_by(functions.c.updated.desc())
            ).all()
            return [
                {"hash": r.hash, "updated": r.updated, "tags": sorted(tags.get(r.hash, []))}
                for r in rows
            ]

        return with_retries(self.engine, work, write=False)

    def tag_function(self, name: str, project: str, tag: str, hash_key: str) -> None:
        """Point ``tag`` at an existing version (restore: ``tag_function(n, p, "latest", h)``)."""
        project = project or self.default_project
        if not tag:
            raise InvalidArgumentError("empty tag", field="tag")
        check_names(name=name, project=project, tag=tag)

        def work(conn: Connection) -> None:
            if _version(conn, project, name, hash_key) is None:
                raise _missing(conn, project, name, "", hash_key)
            upsert(
                conn,
                function_tags,
                {"project": project, "name": name, "tag": tag, "hash": hash_key},
            )

        with_retries(self.engine, work)

    def delete_function(self, name: str, project: str = "") -> None:
        project = project or self.default_project

        def work(conn: Connection) -> None:
            for table in (function_tags, functions):
                conn.execute(table.delete().where(table.c.project == project, table.c.name == name))

        with_retries(self.engine, work)


def _version(conn: Connection, project: str, name: str, hash_key: str) -> Any:
    """The stored row of one function version, or None."""
    return conn.execute(
        select(functions.c.body).where(
            functions.c.project == project, functions.c.name == name, functions.c.hash == hash_key
        )
    ).first()


def _tag_hash(conn: Connection, project: str, name: str, tag: str) -> str:
    row = conn.execute(
        select(function_tags.c.hash).where(
            function_tags.c.project == project,
            function_tags.c.name == name,
            function_tags.c.tag == tag,
        )
    ).first()
    return str(row.hash) if row else ""


def _drop_untagged(conn: Connection, project: str, name: str, hash_key: str) -> None:
    still = conn.execute(
        select(function_tags.c.tag).where(
            function_tags.c.project == project,
            function_tags.c.name == name,
            function_tags.c.hash == hash_key,
        )
    ).first()
    if still is None:
        conn.execute(
            functions.delete().where(
                functions.c.project == project,
                functions.c.name == name,
                functions.c.hash == hash_key,
            )
        )


def _missing(conn: Connection, project: str, name: str, tag: str, hash_key: str) -> NotFoundError:
    tags = [
        r.tag
        for r in conn.execute(
            select(function_tags.c.tag).where(
                function_tags.c.project == project, function_tags.c.name == name
            )
        )
    ]
    ref = f"@{hash_key}" if hash_key else f":{tag or 'latest'}"
    hint = f"known tags: {', '.join(sorted(tags))}" if tags else "save it first: fn.save()"
    return NotFoundError(f"function db://{project}/{name}{ref} not found", field="name", hint=hint)
