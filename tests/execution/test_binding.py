from __future__ import annotations

import pytest

from fnrun.errors import InvalidArgumentError
from fnrun.execution.binding import bind


def test_context_by_name_params_by_name_rest_reported() -> None:
    def h(context, a, b=2):  # type: ignore[no-untyped-def]
        return a

    kwargs, unused = bind(h, "CTX", {"a": 1, "z": 9})
    assert kwargs == {"context": "CTX", "a": 1} and unused == ["z"]


def test_var_kwargs_get_the_rest() -> None:
    def h(a, **kw):  # type: ignore[no-untyped-def]
        return kw

    assert bind(h, None, {"a": 1, "z": 9}) == ({"a": 1, "z": 9}, [])


def test_missing_required_param_is_clear() -> None:
    def h(context, needed):  # type: ignore[no-untyped-def]
        return needed

    with pytest.raises(InvalidArgumentError, match="needs parameter 'needed'") as err:
        bind(h, None, {})
    assert err.value.field == "params.needed"


def test_inputs_unpacked_by_annotation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pd = pytest.importorskip("pandas", reason="pandas not installed")
    np = pytest.importorskip("numpy", reason="numpy not installed")
    from fnrun.datastore import get_dataitem
    from fnrun.datastore.dataitem import DataItem

    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "c.json").write_text('{"k": [1, 2]}')
    (tmp_path / "n.txt").write_text("hello")
    np.save(tmp_path / "arr.npy", np.arange(3))
    items = {
        name: get_dataitem(str(tmp_path / f))
        for name, f in [
            ("df", "t.csv"),
            ("arr", "arr.npy"),
            ("cfg", "c.json"),
            ("text", "n.txt"),
            ("path", "n.txt"),
            ("item", "n.txt"),
        ]
    }

    def h(
        df: pd.DataFrame,
        arr: np.ndarray,
        cfg: dict,
        text: str,
        path="default.txt",  # type: ignore[no-untyped-def]
        item=None,
    ):
        return df, arr, cfg, text, path, item

    kwargs, _ = bind(h, None, {}, items)
    df, arr, cfg, text, path, item = h(**kwargs)
    assert df["b"].tolist() == [2, 4] and arr.tolist() == [0, 1, 2]
    assert cfg == {"k": [1, 2]} and text == "hello"
    assert path == str(tmp_path / "n.txt")  # str default, no annotation: a local path
    assert isinstance(item, DataItem)


def test_string_annotations_are_read_not_evaluated() -> None:
    from fnrun.execution.binding import annotation_name

    assert annotation_name("pd.DataFrame") == "DataFrame"
    assert annotation_name("typing.Dict[str, int]") == "Dict"
    assert annotation_name("__import__('os').system('x')") == "system('x')"  # just text
