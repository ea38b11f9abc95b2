"""Turn CSV data (a .csv, .csv.gz, or the CSV files of a .zip / .tar(.gz) archive) into one
parquet dataset.

Example::

    run = fnrun.import_function("hub://archive_to_parquet").run(
        inputs={"archive": "https://example.com/data.csv.gz"}, local=True
    )
    run.artifact("data").as_df()
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fnrun import DataItem  # data parameters: the run's inputs


def archive_to_parquet(
    context: Any,
    archive: DataItem,
    key: str = "data",
    source_column: str = "",
    stats: bool = False,
) -> None:
    """Read every CSV in ``archive`` (members are read in memory, never extracted to disk)
    and log them, concatenated, as one parquet dataset ``key``; results ``rows`` and
    ``files``. The CSV files must have the same columns.

    :param context: the run's context
    :param archive: the data (a DataItem): .csv, .csv.gz, .zip, .tar, .tar.gz or .tgz
    :param key: key of the dataset
    :param source_column: when set, a column with each row's member name
    :param stats: compute column statistics for the dataset
    """
    import pandas as pd

    frames = [(name, pd.read_csv(io.BytesIO(data))) for name, data in _csv_members(archive)]
    if not frames:
        raise ValueError(f"no CSV files in {archive.url}")
    columns = list(frames[0][1].columns)
    for name, frame in frames[1:]:
        if list(frame.columns) != columns:
            raise ValueError(f"{name} has columns {list(frame.columns)}, the first had {columns}")
    if source_column:
        frames = [(n, f.assign(**{source_column: n})) for n, f in frames]
    df = pd.concat([f for _, f in frames], ignore_index=True)
    context.log_dataset(key, df=df, format="parquet", stats=stats)
    context.log_results({"rows": len(df), "files": len(frames)})


def _csv_members(archive: Any) -> list[tuple[str, bytes]]:
    data = archive.get()
    name = archive.url.lower()
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [(i.filename, zf.read(i)) for i in zf.infolist()
                    if not i.is_dir() and _is_csv(i.filename)]  # fmt: skip
    if name.endswith((".tar", ".tar.gz", ".tgz")):
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            members = [m for m in tf.getmembers() if m.isfile() and _is_csv(m.name)]
            return [(m.name, tf.extractfile(m).read()) for m in members]  # type: ignore[union-attr]
    if name.endswith(".gz"):
        import gzip

        return [(name.rsplit("/", 1)[-1][:-3], gzip.decompress(data))]
    return [(name.rsplit("/", 1)[-1], data)]


def _is_csv(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.lower().endswith(".csv") and not base.startswith(("._", "."))
