"""Updating logged datasets and models (MLRun's update_dataset_meta / update_model), the
DataFrame index kept when it carries data, and the run logger's structured fields."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import fnrun
from fnrun.artifacts import update_dataset_meta, update_model
from fnrun.errors import InvalidArgumentError

pd = pytest.importorskip("pandas")

CODE = textwrap.dedent(
    """
    import pandas as pd

    def make(context):
        df = pd.DataFrame({"t": [5, 6, 7], "v": [1.0, 2.0, 3.0]}).set_index("t")
        context.log_dataset("series", df=df)
        context.log_dataset("flat", df=df.reset_index(), format="csv")
        context.log_model("m", body=b"weights", model_file="m.bin", metrics={"acc": 0.5})
        context.logger.info("made", rows=len(df), name="series")
        context.logger.warn("twice %s", "over")
    """
)


@pytest.fixture
def made(tmp_path: Path) -> fnrun.RunObject:
    path = tmp_path / "make.py"
    path.write_text(CODE)
    fn = fnrun.code_to_function("make", filename=str(path), kind="job", handler="make")
    return fn.run(local=True)


def test_an_index_that_carries_data_is_kept(made: fnrun.RunObject) -> None:
    series = made.artifact("series").as_df()
    assert series.index.name == "t" and list(series.index) == [5, 6, 7]
    flat = made.artifact("flat").as_df()
    assert list(flat.columns) == ["t", "v"]  # a default index is not written as a column


def test_the_run_logger_takes_mlruns_fields(made: fnrun.RunObject) -> None:
    logs = made.logs()
    assert "made rows=3 name='series'" in logs
    assert "twice over" in logs and "DeprecationWarning" not in logs


def test_update_dataset_meta_changes_the_same_version(made: fnrun.RunObject) -> None:
    uri = made.outputs["series"]
    before = fnrun.get_run_db().read_artifact("series")
    doc = update_dataset_meta(
        uri,
        from_df=pd.DataFrame({"v": [1.0, 2.0], "w": [3, 4]}),
        stats=True,
        extra_data={"chart": made.outputs["flat"], "raw": "s3://bucket/raw.csv"},
        labels={"checked": "yes"},
    )
    after = fnrun.get_run_db().read_artifact("series")
    assert after["spec"] == doc["spec"] and after["status"] == doc["status"]
    assert after["metadata"]["tree"] == before["metadata"]["tree"]
    assert after["spec"]["header"] == ["v", "w"] and after["spec"]["length"] == 2
    assert after["spec"]["extra_data"] == {
        "chart": made.outputs["flat"],
        "raw": "s3://bucket/raw.csv",
    }
    assert after["metadata"]["labels"]["checked"] == "yes"
    assert "w" in after["status"]["stats"]
    assert made.artifact("series").as_df().shape == (3, 1)  # the data itself is unchanged
    with pytest.raises(InvalidArgumentError, match="not a dataset"):
        update_dataset_meta(made.outputs["m"], extra_data={})
    with pytest.raises(InvalidArgumentError, match="not a logged artifact"):
        update_dataset_meta("/some/file.csv")


def test_update_model_adds_files_and_still_verifies(made: fnrun.RunObject) -> None:
    uri = made.outputs["m"]
    update_model(
        uri,
        metrics={"auc": 0.9},
        parameters={"depth": 3},
        key_prefix="test_",
        extra_data={"notes.txt": "trained on rows 5..7"},
    )
    model_file, model, extra = fnrun.get_model(uri)  # reads through the recorded hashes
    assert Path(model_file).read_bytes() == b"weights"
    assert model.spec.metrics == {"acc": 0.5, "test_auc": 0.9}
    assert model.spec.parameters == {"test_depth": 3}
    assert extra["notes.txt"].get(encoding="utf-8") == "trained on rows 5..7"
    spec_copy = (Path(model_file).parent / "model_spec.yaml").read_text()
    assert "test_auc" in spec_copy
    # a logged artifact as extra data is kept by reference; a DataItem of the model works
    plot = made.artifact("flat")
    update_model(made.artifact("m"), extra_data={"test-set": plot})
    _file, _model, extra = fnrun.get_model(made.artifact("m"))
    assert extra["test-set"].as_df().shape == (3, 2) and "notes.txt" in extra
