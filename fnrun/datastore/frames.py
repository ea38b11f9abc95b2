"""DataFrames in and out of DataItems (pandas is imported only here, only when used)."""

from __future__ import annotations

import io
from typing import Any, Protocol

from fnrun.errors import InvalidArgumentError
from fnrun.extras import require


class DataItem(Protocol):
    """What reading a table needs of a DataItem (``fnrun.datastore.dataitem.DataItem``)."""

    @property
    def url(self) -> str: ...
    @property
    def suffix(self) -> str: ...
    @property
    def kind(self) -> str: ...
    def get(self, size: int | None = None, offset: int = 0, encoding: str | None = None) -> Any: ...
    def local(self) -> str: ...


_READERS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".csv.gz": "csv",
}


def read_df(
    item: DataItem, columns: list[str] | None = None, format: str = "", **kwargs: Any
) -> Any:

    pd = require("pandas", "data", "reading a table (as_df)", field="as_df")
    fmt = format or _READERS.get(item.suffix, "")
    if not fmt and item.kind == "file":
        from pathlib import Path

        if Path(item.local()).is_dir():
            fmt = "parquet"
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(item.get()), usecols=columns, **kwargs)
    if fmt == "parquet":
        source: Any = item.local() if item.kind == "file" else io.BytesIO(item.get())
        if kwargs:  # pandas' own options: its reader
            return pd.read_parquet(source, columns=columns, **kwargs)
        # pyarrow's reader as pandas calls it, without pandas' path to it: after that one a
        # process aborts at exit now and then ("terminate called without an active
        # exception", apache/arrow#34314: 5-9 exits in 40 here), which fails a finished run
        pq = require("pyarrow.parquet", "data", "reading parquet (as_df)", field="as_df")
        return pq.read_table(source, columns=columns, use_pandas_metadata=True).to_pandas()
    if fmt == "json":
        df = pd.read_json(io.BytesIO(item.get()), **kwargs)
        return df[columns] if columns else df
    raise InvalidArgumentError(
        f"cannot read {item.url} as a DataFrame",
        field="format",
        hint="use a .csv, .parquet or .json file, or pass format=",
    )


def df_to_bytes(df: Any, fmt: str, index: bool | None = None) -> bytes:
    """Serialise a DataFrame as ``csv`` or ``parquet``. ``index=None`` keeps what the index
    carries: parquet stores a non-default index and reads it back (pandas' own default); csv
    writes the index only when it is named."""
    if fmt == "csv":
        if index is None:
            index = any(name is not None for name in df.index.names)
        return str(df.to_csv(index=index)).encode("utf-8")
    if fmt == "parquet":
        from fnrun.extras import require

        require("pyarrow", "data", "writing parquet", field="format")
        buffer = io.BytesIO()
        df.to_parquet(buffer, index=index)
        return buffer.getvalue()
    raise InvalidArgumentError(
        f"unsupported dataset format {fmt!r}", field="format", hint="use 'csv' or 'parquet'"
    )
