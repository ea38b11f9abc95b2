from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fnrun.datastore import get_dataitem
from fnrun.datastore.dataitem import split_url
from fnrun.errors import InvalidArgumentError, NotFoundError


@pytest.mark.parametrize("prefix", ["", "file://"])
def test_file_item_verbs(tmp_path: Path, prefix: str) -> None:
    item = get_dataitem(f"{prefix}{tmp_path}/sub/data.csv")
    item.put("a,b\n1,2\n")
    item.put("3,4\n", append=True)
    assert item.get(encoding="utf-8") == "a,b\n1,2\n3,4\n"
    assert item.get(size=3, offset=2) == b"b\n1"
    assert item.local() == f"{tmp_path}/sub/data.csv" and item.suffix == ".csv"
    assert item.stat()["size"] == 12
    assert get_dataitem(f"{prefix}{tmp_path}/sub").listdir() == ["data.csv"]
    assert item.as_df()["b"].tolist() == [2, 4]
    with item.open("rb") as f:
        assert f.read(1) == b"a"
    item.download(str(tmp_path / "copy.csv"))
    other = get_dataitem(str(tmp_path / "up" / "x.csv"))
    other.upload(str(tmp_path / "copy.csv"))
    assert other.get() == item.get()


def test_memory_store() -> None:
    item = get_dataitem("memory://tests/a/one.json")
    item.put(b'{"x": 1}')
    get_dataitem("memory://tests/a/two.txt").put("t")
    assert get_dataitem("memory://tests/a").listdir() == ["one.json", "two.txt"]
    assert item.as_df(format="json", typ="series").tolist() == [1]
    local = item.local()
    assert Path(local).read_bytes() == b'{"x": 1}'
    with pytest.raises(NotFoundError):
        get_dataitem("memory://tests/missing").get()


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "hello.txt").write_text("hello over http")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_read_only(http_root: str) -> None:
    item = get_dataitem(f"{http_root}/hello.txt")
    assert item.get(encoding="utf-8") == "hello over http"
    assert Path(item.local()).read_text() == "hello over http"
    with pytest.raises(InvalidArgumentError, match="read-only"):
        item.put("x")
    with pytest.raises(NotFoundError, match="HTTP 404"):
        get_dataitem(f"{http_root}/nope.txt").get()


def test_missing_file_and_bad_url(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="file not found"):
        get_dataitem(str(tmp_path / "none.csv")).get()
    with pytest.raises(InvalidArgumentError):
        get_dataitem("")
    with pytest.raises(InvalidArgumentError, match="cannot read"):
        get_dataitem(str(tmp_path / "x.bin")).as_df()


def test_unknown_scheme_names_the_package() -> None:
    from fnrun.errors import FnrunError

    with pytest.raises(FnrunError, match="no store for nosuchscheme://"):
        get_dataitem("nosuchscheme://bucket/key").get()


def test_split_url() -> None:
    assert split_url("s3://b/k") == ("s3", "b/k")
    assert split_url("file:///a/b") == ("", "/a/b")
    assert split_url("rel/path") == ("", "rel/path")


def test_parquet_reads_back_its_index_columns_and_pandas_options(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {"a": [1, 2, 3], "b": ["x", "y", "z"]}, index=pd.Index([7, 8, 9], name="k")
    )
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    item = get_dataitem(str(path))
    pd.testing.assert_frame_equal(item.as_df(), frame)  # the named index comes back
    pd.testing.assert_frame_equal(item.as_df(columns=["b"]), frame[["b"]])
    remote = get_dataitem("memory://t.parquet")
    remote.put(path.read_bytes())
    pd.testing.assert_frame_equal(remote.as_df(), frame)  # from bytes, not a file
    arrow = item.as_df(dtype_backend="pyarrow")  # a pandas option: pandas' reader takes it
    assert str(arrow["a"].dtype) == "int64[pyarrow]"
