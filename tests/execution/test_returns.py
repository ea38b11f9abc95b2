from __future__ import annotations

import pytest

from fnrun.errors import InvalidArgumentError
from fnrun.execution.context import RunContext
from fnrun.execution.returns import log_returns


@pytest.mark.parametrize("value", [0, 0.0, False, "", [], {}])
def test_falsy_return_values_are_logged(value: object) -> None:
    ctx = RunContext()
    log_returns(ctx, value)
    assert ctx.results == {"return": value}


def test_none_is_not_logged_without_keys() -> None:
    ctx = RunContext()
    log_returns(ctx, None)
    assert ctx.results == {}


def test_returns_keys() -> None:
    ctx = RunContext()
    log_returns(ctx, (1, "a"), ["n", "s"])
    log_returns(ctx, None, ["nothing"])
    assert ctx.results == {"n": 1, "s": "a", "nothing": None}
    with pytest.raises(InvalidArgumentError, match="names 2 values"):
        log_returns(ctx, 1, ["a", "b"])


class Model:
    def __init__(self) -> None:
        self.weights = [1, 2]


def test_returns_by_type_results_datasets_artifacts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pickle

    pd = pytest.importorskip("pandas", reason="pandas not installed")
    np = pytest.importorskip("numpy", reason="numpy not installed")
    from fnrun.datastore import get_dataitem

    ctx = RunContext(name="r", project="p", uid="u1", artifact_path=str(tmp_path))
    df = pd.DataFrame({"a": [1, 2]})
    log_returns(
        ctx,
        (np.float32(0.5), {"k": [1]}, df, b"raw", Model()),
        ["score", "info", "table", "blob", "model"],
    )
    assert ctx.results == {"score": 0.5, "info": {"k": [1]}}
    assert set(ctx.artifact_uris) == {"table", "blob", "model"}
    assert ctx.artifact_uris["table"].startswith("store://datasets/p/table")
    assert (tmp_path / "r" / "u1" / "0" / "table.parquet").is_file()
    assert (tmp_path / "r" / "u1" / "0" / "blob.bin").read_bytes() == b"raw"
    restored = pickle.loads((tmp_path / "r" / "u1" / "0" / "model.pkl").read_bytes())
    assert restored.weights == [1, 2]
    assert get_dataitem(str(tmp_path / "r" / "u1" / "0" / "table.parquet")).as_df().equals(df)
