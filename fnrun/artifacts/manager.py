"""The one artifact-logging path: place the bytes, describe them, register the version.

Target: ``<artifact_path>/<run name>/<run uid>/<iteration>/<key><suffix>`` (a folder for model
and dir artifacts) unless the artifact names its own ``target_path``, so a later run never
overwrites an earlier run's files. ``artifact_path`` may use MLRun's templates
(``{{run.uid}}``, ``{{run.project}}``, ``{{run.name}}``, ``{{run.iteration}}``); when it places
the uid itself the uid folder is not added again. Keys and file names are checked
(:mod:`fnrun.model.names`) before anything is written. Registered in the run DB under the
producing run's uid with the body's hash, addressable as
``store://<category>/<project>/<key>[#iter]@<uid>``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from fnrun.artifacts.base import Artifact
from fnrun.clock import now_iso
from fnrun.datastore.dataitem import DataItem
from fnrun.datastore.integrity import digest, file_digest, manifest_digest
from fnrun.datastore.store_uri import build_store_uri
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.model.names import check_name, check_relative, join_under

if TYPE_CHECKING:
    from fnrun.db.base import RunDB


class Masker(Protocol):
    def doc(self, doc: dict[str, Any]) -> dict[str, Any]: ...


class RunContext(Protocol):
    """What logging an artifact needs of the run (``fnrun.execution.context.RunContext``)."""

    name: str
    project: str
    uid: str
    iteration: int
    artifact_path: str
    producer_kind: str
    logging_worker: bool
    artifact_uris: dict[str, str]

    @property
    def masker(self) -> Masker: ...
    @property
    def db(self) -> RunDB | None: ...
    def changed(self, commit: bool = False) -> None: ...


_INLINE_LIMIT = 64 * 1024


def log_artifact(
    ctx: RunContext,
    item: Artifact | str,
    body: bytes | str | None = None,
    local_path: str = "",
    artifact_path: str = "",
    tag: str = "",
    target_path: str = "",
    labels: dict[str, str] | None = None,
    format: str = "",
    viewer: str = "",
    upload: bool = True,
    description: str = "",
) -> Artifact:
    """Store ``item`` (an Artifact, or a key with ``body``/``local_path``) for the run ``ctx``."""
    if isinstance(item, str):
        item = Artifact(
            item,
            body=body,
            local_path=local_path,
            format=format,
            viewer=viewer,
            target_path=target_path,
            labels=labels,
            description=description,
        )
    else:
        item.labels.update(labels or {})
        item.src_path = item.src_path or local_path
        item.target_path = item.target_path or target_path
    check_name(item.key, "key")
    if not ctx.logging_worker:
        return item  # an MPI rank other than 0: rank 0 stores the run's artifacts
    target = item.target_path or _default_target(ctx, item, artifact_path)
    size, hashes = _write(item, target, upload)
    item.target_path = target
    doc = ctx.masker.doc(_document(ctx, item, target, size, hashes, tag))
    if ctx.db is not None:
        ctx.db.store_artifact(
            item.key, doc, uid=ctx.uid, iter=ctx.iteration, tag=tag, project=ctx.project
        )
    uri = build_store_uri(item.kind, ctx.project, item.key, ctx.iteration, tree=ctx.uid)
    ctx.artifact_uris[item.key] = uri
    ctx.changed()
    item.uri = uri  # type: ignore[attr-defined]
    return item


_TEMPLATE = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def _default_target(ctx: RunContext, item: Artifact, artifact_path: str) -> str:
    template = (artifact_path or ctx.artifact_path).rstrip("/")
    if not template:
        raise InvalidArgumentError(
            "no artifact_path for the run",
            field="artifact_path",
            hint="set FNRUN_ARTIFACT_PATH or pass artifact_path=",
        )
    base = fill_template(template, ctx)
    uid_placed = any(m.group(1) == "run.uid" for m in _TEMPLATE.finditer(template))
    parts = [check_name(ctx.name, "name"), *([] if uid_placed else [ctx.uid])]
    return join_under(base, *parts, str(ctx.iteration), item.key + item.suffix(), field="key")


def fill_template(path: str, ctx: RunContext) -> str:
    """``path`` with MLRun's ``{{run.uid}}``-style placeholders filled from the run."""
    values = {
        "run.uid": ctx.uid,
        "run.project": ctx.project,
        "project": ctx.project,
        "run.name": ctx.name,
        "run.iteration": str(ctx.iteration),
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise InvalidArgumentError(
                f"unknown placeholder {{{{{name}}}}} in artifact_path {path!r}",
                field="artifact_path",
                hint="use {{run.uid}}, {{run.project}}, {{run.name}} or {{run.iteration}}",
            )
        return check_name(values[name], f"artifact_path {{{{{name}}}}}")

    return _TEMPLATE.sub(fill, path)


def _write(item: Artifact, target: str, upload: bool) -> tuple[int | None, dict[str, Any]]:
    """Place the artifact's bytes at ``target``; return its size and hash fields."""
    if item.is_dir:
        files = {check_relative(n, f"{item.key}: file"): d for n, d in item.get_files().items()}
        for name, data in files.items():
            DataItem(name, join_under(target, name, field=f"{item.key}: file")).put(data)
        file_hashes = {name: digest(data) for name, data in files.items()}
        hashes = {"hash": manifest_digest(file_hashes), "file_hashes": file_hashes}
        return sum(len(d) for d in files.values()), hashes
    body = item.get_body()
    if body is not None:
        DataItem(item.key, target).put(body)
        return len(body), {"hash": digest(body)}
    if item.src_path:
        src = Path(item.src_path)
        if not src.is_file():
            raise NotFoundError(
                f"artifact {item.key!r}: local_path {item.src_path} not found",
                field="local_path",
                hint="write the file first or pass body=",
            )
        if upload and str(src.resolve()) != str(Path(target).resolve()):
            DataItem(item.key, target).upload(str(src))
        return src.stat().st_size, {"hash": file_digest(src)}
    if item.target_path:
        return None, {}  # registers existing data in place
    raise InvalidArgumentError(
        f"artifact {item.key!r} has no body, local_path or target_path",
        field="body",
        hint="pass body=, local_path= or target_path=",
    )


def _document(
    ctx: RunContext,
    item: Artifact,
    target: str,
    size: int | None,
    hashes: dict[str, Any],
    tag: str,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "target_path": target,
        "src_path": item.src_path,
        "format": item.format or item.suffix().lstrip("."),
        "size": size,
        **hashes,
        "viewer": item.viewer,
        "producer": {
            "kind": ctx.producer_kind,
            "name": ctx.name,
            "uri": f"{ctx.project}/{ctx.uid}",
        },
    }
    spec.update(item.spec_extra())
    body = item.get_body() if item.is_inline and not item.is_dir else None
    if body is not None and len(body) <= _INLINE_LIMIT:
        spec["body"] = body.decode("utf-8", errors="replace")
    uid_of = f"{ctx.project}/{item.key}/{ctx.iteration}/{ctx.uid}/{hashes.get('hash', '')}"
    return {
        "kind": item.kind,
        "metadata": {
            "key": item.key,
            "project": ctx.project,
            "iter": ctx.iteration,
            "tree": ctx.uid,
            "uid": hashlib.sha1(uid_of.encode()).hexdigest(),  # this artifact version's id
            "tag": tag or "latest",
            "labels": dict(item.labels),
            "description": item.description,
            "updated": now_iso(),
        },
        "spec": {k: v for k, v in spec.items() if v not in (None, "")},
        "status": {"state": "created", **item.status_extra()},
    }
