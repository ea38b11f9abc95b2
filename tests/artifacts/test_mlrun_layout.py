"""Artifact documents in MLRun's layout, get_model as mlrun.artifacts.get_model, and
log_dataset from the shapes MLRun accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fnrun
from fnrun.errors import InvalidArgumentError


def _run(handler: Any) -> Any:
    return fnrun.new_function("layout", kind="handler").run(handler=handler)


def test_document_layout_and_dataset_stats_in_status() -> None:
    def handler(context: Any) -> None:
        context.log_dataset("ds", df=pd.DataFrame({"a": [1, 2, 3]}), stats=True)

    run = _run(handler)
    doc = run.artifact("ds").meta
    assert sorted(doc) == ["kind", "metadata", "spec", "status", "uri"]
    meta = doc["metadata"]
    assert {"key", "project", "iter", "tree", "uid", "tag"} <= set(meta)
    assert meta["tree"] == run.uid() and len(meta["uid"]) == 40
    assert {"target_path", "format", "size", "hash", "producer"} <= set(doc["spec"])
    assert doc["status"]["state"] == "created"
    assert doc["status"]["stats"]["a"]["mean"] == 2.0 and "stats" not in doc["spec"]


def test_two_runs_give_two_artifact_uids() -> None:
    def handler(context: Any) -> None:
        context.log_artifact("same", body="x")

    first, second = _run(handler), _run(handler)
    uids = {r.artifact("same").meta["metadata"]["uid"] for r in (first, second)}
    assert len(uids) == 2


@pytest.mark.parametrize(
    "data",
    [
        [{"a": 1, "b": 2}, {"a": 3, "b": 4}],
        {"a": [1, 3], "b": [2, 4]},
        np.array([[1, 2], [3, 4]]),
        pd.DataFrame({"a": [1, 3], "b": [2, 4]}),
    ],
    ids=["rows", "columns", "numpy", "frame"],
)
def test_log_dataset_accepts_mlruns_shapes(data: Any) -> None:
    def handler(context: Any) -> None:
        context.log_dataset("ds", df=data)

    frame = _run(handler).artifact("ds").as_df()
    assert frame.shape == (2, 2) and frame.iloc[1].tolist() == [3, 4]


def test_log_dataset_refuses_what_is_not_a_table() -> None:
    def handler(context: Any) -> None:
        context.log_dataset("ds", df="not a table")

    with pytest.raises(fnrun.RunError, match="a dataset cannot be made of a str"):
        _run(handler)
    with pytest.raises(InvalidArgumentError, match="1 or 2 dimensions"):
        from fnrun.artifacts.tabular import as_frame

        as_frame(np.zeros((2, 2, 2)))


def test_get_model_returns_file_artifact_and_extra_data() -> None:
    def handler(context: Any) -> None:
        context.log_model(
            "model",
            body=b"weights",
            model_file="m.pkl",
            metrics={"acc": 0.9},
            extra_data={"labels.txt": "cat\\ndog\\n"},
        )

    run = _run(handler)
    path, artifact, extra = fnrun.get_model(run.outputs["model"])
    assert path.endswith("m.pkl") and Path(path).read_bytes() == b"weights"
    assert artifact.spec.metrics == {"acc": 0.9} and artifact.metadata.key == "model"
    assert artifact.kind == "model"
    assert extra["labels.txt"].get() == b"cat\\ndog\\n"
    folder_path, folder_artifact, _ = fnrun.get_model(path.rsplit("/", 1)[0])
    assert folder_path == path and folder_artifact is None
