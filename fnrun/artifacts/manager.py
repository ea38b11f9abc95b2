"""The one artifact-logging path: place the bytes, describe them, register the version.

Target: ``<artifact_path>/<run name>/<iteration>/<key><suffix>`` (a folder for model and dir
artifacts) unless the artifact names its own ``target_path``; registered in the run DB under
the producing run's uid, addressable as ``store://<category>/<project>/<key>[#iter]@<uid>``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fnrun.artifacts.base import Artifact
from fnrun.artifacts.uri import build_store_uri
from fnrun.clock import now_iso
from fnrun.datastore.dataitem import DataItem
from fnrun.errors import InvalidArgumentError, NotFoundError

if TYPE_CHECKING:
    from fnrun.execution.context import RunContext

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
    if not item.key or not isinstance(item.key, str):
        raise InvalidArgumentError("an artifact needs a key", field="key")
    target = item.target_path or _default_target(ctx, item, artifact_path)
    size, digest = _write(item, target, upload)
    item.target_path = target
    doc = _document(ctx, item, target, size, digest, tag)
    if ctx.db is not None:
        ctx.db.store_artifact(
            item.key, doc, uid=ctx.uid, iter=ctx.iteration, tag=tag, project=ctx.project
        )
    uri = build_store_uri(item.kind, ctx.project, item.key, ctx.iteration, tree=ctx.uid)
    ctx.artifact_uris[item.key] = uri
    item.uri = uri  # type: ignore[attr-defined]
    return item


def _default_target(ctx: RunContext, item: Artifact, artifact_path: str) -> str:
    base = (artifact_path or ctx.artifact_path).rstrip("/")
    if not base:
        raise InvalidArgumentError(
            "no artifact_path for the run",
            field="artifact_path",
            hint="set FNRUN_ARTIFACT_PATH or pass artifact_path=",
        )
    return f"{base}/{ctx.name}/{ctx.iteration}/{item.key}{item.suffix()}"


def _write(item: Artifact, target: str, upload: bool) -> tuple[int | None, str]:
    if item.is_dir:
        files = item.get_files()
        for name, data in files.items():
            DataItem(name, f"{target.rstrip('/')}/{name}").put(data)
        return sum(len(d) for d in files.values()), ""
    body = item.get_body()
    if body is not None:
        DataItem(item.key, target).put(body)
        return len(body), hashlib.sha1(body).hexdigest()
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
        return src.stat().st_size, hashlib.sha1(src.read_bytes()).hexdigest()
    if item.target_path:
        return None, ""  # registers existing data in place
    raise InvalidArgumentError(
        f"artifact {item.key!r} has no body, local_path or target_path",
        field="body",
        hint="pass body=, local_path= or target_path=",
    )


def _document(
    ctx: RunContext, item: Artifact, target: str, size: int | None, digest: str, tag: str
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "target_path": target,
        "src_path": item.src_path,
        "format": item.format or item.suffix().lstrip("."),
        "size": size,
        "hash": digest,
        "viewer": item.viewer,
        "producer": {"kind": "run", "name": ctx.name, "uri": f"{ctx.project}/{ctx.uid}"},
    }
    spec.update(item.spec_extra())
    body = item.get_body() if item.is_inline and not item.is_dir else None
    if body is not None and len(body) <= _INLINE_LIMIT:
        spec["body"] = body.decode("utf-8", errors="replace")
    return {
        "kind": item.kind,
        "metadata": {
            "key": item.key,
            "project": ctx.project,
            "iter": ctx.iteration,
            "tree": ctx.uid,
            "tag": tag or "latest",
            "labels": dict(item.labels),
            "description": item.description,
            "updated": now_iso(),
        },
        "spec": {k: v for k, v in spec.items() if v not in (None, "")},
        "status": {"state": "created"},
    }
