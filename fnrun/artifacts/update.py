"""Change a logged artifact's record after the fact (MLRun's ``update_dataset_meta`` and
``update_model``): the version keeps its key, run and iteration; only what is named changes.

A model's new extra files are written into its folder and its hashes recomputed, so reads
through its ``store://`` URI still verify; ``model_spec.yaml`` is rewritten to match.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fnrun.artifacts.tabular import as_frame, extra_data_refs
from fnrun.datastore.dataitem import DataItem
from fnrun.datastore.integrity import digest, manifest_digest
from fnrun.db import get_run_db
from fnrun.errors import InvalidArgumentError
from fnrun.model.names import check_relative, join_under
from fnrun.model.values import check_json

Doc = dict[str, Any]


def update_dataset_meta(
    artifact: Any,
    from_df: Any = None,
    schema: dict[str, Any] | None = None,
    header: list[str] | None = None,
    preview: list[list[Any]] | None = None,
    stats: dict[str, Any] | bool | None = None,
    extra_data: dict[str, Any] | None = None,
    column_metadata: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
) -> Doc:
    """Update a logged dataset (its object, ``store://`` URI or DataItem): schema, header,
    preview and length from ``from_df`` (stats too when ``stats`` is True), or the fields
    given; ``extra_data`` and ``labels`` are merged in. Returns the stored document."""

    def change(doc: Doc) -> None:
        spec = doc.setdefault("spec", {})
        if from_df is not None:
            from fnrun.artifacts.stats import dataset_stats
            from fnrun.artifacts.stats import preview as preview_of
            from fnrun.artifacts.stats import schema as schema_of

            df = as_frame(from_df)
            spec.update(
                schema=schema_of(df),
                header=[str(c) for c in df.columns],
                length=len(df),
                preview=preview_of(df, len(spec.get("preview") or []) or 20),
            )
            if stats is True:
                doc.setdefault("status", {})["stats"] = dataset_stats(df)
        for name, value in (("schema", schema), ("header", header), ("preview", preview)):
            if value is not None:
                spec[name] = check_json(value, name)
        if isinstance(stats, dict):
            doc.setdefault("status", {})["stats"] = check_json(stats, "stats")
        if column_metadata is not None:
            spec["column_metadata"] = check_json(column_metadata, "column_metadata")
        spec.setdefault("extra_data", {}).update(extra_data_refs(extra_data))
        if not spec["extra_data"]:
            del spec["extra_data"]

    return _update(artifact, "dataset", labels, change)


def update_model(
    model_artifact: Any,
    parameters: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    extra_data: dict[str, Any] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    key_prefix: str = "",
    labels: dict[str, str] | None = None,
    write_spec_copy: bool = True,
) -> Doc:
    """Update a logged model: merge ``parameters`` and ``metrics`` (names prefixed with
    ``key_prefix``), replace ``inputs``/``outputs``, add ``extra_data``: bytes or text become
    files in its folder, logged artifacts are kept by their URI (``get_model`` gives both as
    DataItems). Returns the stored document."""

    def change(doc: Doc) -> None:
        spec = doc.setdefault("spec", {})
        for field, values in (("parameters", parameters), ("metrics", metrics)):
            for key, value in (values or {}).items():
                spec.setdefault(field, {})[key_prefix + key] = check_json(value, f"{field}.{key}")
        for field, given in (("inputs", inputs), ("outputs", outputs)):
            if given is not None:
                spec[field] = check_json(list(given), field)
        folder = str(spec.get("target_path", ""))
        hashes: dict[str, str] = dict(spec.get("file_hashes") or {})
        for name, data in (extra_data or {}).items():
            name = check_relative(name, f"extra_data.{name}")
            if not isinstance(data, str | bytes):  # a logged artifact: kept by reference
                spec.setdefault("extra_data_refs", {}).update(extra_data_refs({name: data}))
                continue
            body = data.encode("utf-8") if isinstance(data, str) else bytes(data)
            DataItem(name, join_under(folder, name, field="extra_data")).put(body)
            hashes[name] = digest(body)
            spec["extra_data"] = sorted({*spec.get("extra_data", []), name})
        if write_spec_copy:
            from fnrun.artifacts.model import MODEL_SPEC
            from fnrun.model.serialize import to_yaml

            copy_of = {k: spec.get(k) for k in _MODEL_SPEC_FIELDS if k in spec}
            body = to_yaml({"kind": "model", "key": doc["metadata"]["key"], **copy_of}).encode()
            DataItem(MODEL_SPEC, join_under(folder, MODEL_SPEC, field="target_path")).put(body)
            hashes[MODEL_SPEC] = digest(body)
        if hashes:
            spec["file_hashes"] = hashes
            spec["hash"] = manifest_digest(hashes)

    return _update(model_artifact, "model", labels, change)


_MODEL_SPEC_FIELDS = (
    "model_file",
    "metrics",
    "parameters",
    "inputs",
    "outputs",
    "framework",
    "algorithm",
    "extra_data",
)


def _update(
    artifact: Any, kind: str, labels: dict[str, str] | None, change: Callable[[Doc], None]
) -> Doc:
    from fnrun.datastore.store_uri import resolve_store_uri

    uri = _uri_of(artifact)
    db = get_run_db()
    doc = copy.deepcopy(resolve_store_uri(uri, db))
    if doc.get("kind") != kind:
        raise InvalidArgumentError(
            f"{uri} is a {doc.get('kind')!r} artifact, not a {kind}",
            field="artifact",
            hint=f"pass a logged {kind} (its object or store:// URI)",
        )
    change(doc)
    meta = doc["metadata"]
    meta.setdefault("labels", {}).update({k: str(v) for k, v in (labels or {}).items()})
    db.store_artifact(
        meta["key"],
        doc,
        uid=meta.get("tree", ""),
        iter=int(meta.get("iter") or 0),
        tag=meta.get("tag", ""),
        project=meta.get("project", ""),
    )
    return doc


def _uri_of(artifact: Any) -> str:
    """The ``store://`` URI of a logged artifact object, a DataItem of one, or a URI."""
    if isinstance(artifact, DataItem):
        uri = artifact.artifact_url
    elif isinstance(artifact, str):
        uri = artifact
    else:
        uri = str(getattr(artifact, "uri", "") or "")
    if not uri.startswith("store://"):
        raise InvalidArgumentError(
            f"cannot update {artifact!r}: it is not a logged artifact",
            field="artifact",
            hint="pass what log_artifact/log_dataset/log_model returned, or its store:// URI",
        )
    return uri
