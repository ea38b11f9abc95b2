"""Tabular artifacts: charts, tables and datasets (DataFrames with preview and stats)."""

from __future__ import annotations

import csv
import html
import io
from typing import Any, ClassVar

from fnrun.artifacts.base import Artifact
from fnrun.errors import InvalidArgumentError
from fnrun.extras import require
from fnrun.notebook.charts import svg_lines


class TableArtifact(Artifact):
    """A table from a DataFrame or ``header`` + rows; stored as CSV (or HTML)."""

    kind: ClassVar[str] = "table"

    def __init__(
        self,
        key: str = "",
        body: str | None = None,
        df: Any = None,
        header: list[str] | None = None,
        format: str = "csv",
        visible: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(key, body=body, format=format, **kwargs)
        self.visible = visible  # MLRun's flag: show the table itself in the UI
        self.df = df
        self.header = list(header or [])
        self.rows: list[list[Any]] = []

    def add_row(self, row: list[Any]) -> None:
        self.rows.append(list(row))

    def _header_rows(self) -> tuple[list[str], list[list[Any]]]:
        if self.df is not None:
            return [str(c) for c in self.df.columns], self.df.values.tolist()
        return self.header, self.rows

    def get_body(self) -> bytes | None:
        if self.body is not None:
            return super().get_body()
        header, rows = self._header_rows()
        if self.format == "html":
            return _html_table(header, rows).encode("utf-8")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue().encode("utf-8")

    def spec_extra(self) -> dict[str, Any]:
        header, _ = self._header_rows()
        return {"header": header, **({"visible": True} if self.visible else {})}


class ChartArtifact(TableArtifact):
    """A line chart of rows under a header (first column = x); stored as an HTML page."""

    kind: ClassVar[str] = "chart"

    def __init__(
        self,
        key: str = "",
        data: list[list[Any]] | None = None,
        header: list[str] | None = None,
        options: dict[str, Any] | None = None,
        title: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(key, header=header, format="html", **kwargs)
        self.rows = [list(r) for r in data or []]
        self.options = dict(options or {})
        self.title = title or key

    def get_body(self) -> bytes | None:
        page = (
            f"<html><head><title>{html.escape(self.title)}</title></head><body>"
            f"<h3>{html.escape(self.title)}</h3>{svg_lines(self.header, self.rows)}"
            f"{_html_table(self.header, self.rows)}</body></html>"
        )
        return page.encode("utf-8")

    def spec_extra(self) -> dict[str, Any]:
        return {"header": self.header, "rows": self.rows[:100]}


class DatasetArtifact(Artifact):
    """A DataFrame stored as parquet or csv, with schema, preview and optional stats."""

    kind: ClassVar[str] = "dataset"

    def __init__(
        self,
        key: str = "",
        df: Any = None,
        preview: int = 20,
        format: str = "",
        stats: bool = False,
        extra_data: dict[str, Any] | None = None,
        index: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(key, format=format or "parquet", **kwargs)
        self.extra_data = extra_data_refs(extra_data)
        self.index = index  # write the DataFrame's index (None: only one that carries data)
        if df is None and not self.src_path and not self.target_path:
            raise InvalidArgumentError(
                "a dataset needs df=, local_path= or target_path=", field="df"
            )
        self.df = as_frame(df) if df is not None else None
        self.preview_rows = preview
        self.with_stats = stats

    def get_body(self) -> bytes | None:
        if self.df is None:
            return None
        from fnrun.datastore.frames import df_to_bytes

        return df_to_bytes(self.df, self.format, self.index)

    def spec_extra(self) -> dict[str, Any]:
        if self.df is None:
            return {}
        from fnrun.artifacts.stats import preview, schema

        extra: dict[str, Any] = {
            "schema": schema(self.df),
            "header": [str(c) for c in self.df.columns],
            "length": len(self.df),
            "preview": preview(self.df, self.preview_rows),
        }
        if self.extra_data:
            extra["extra_data"] = self.extra_data
        return extra

    def status_extra(self) -> dict[str, Any]:
        if self.df is None or not self.with_stats:
            return {}
        from fnrun.artifacts.stats import dataset_stats

        return {"stats": dataset_stats(self.df)}


def extra_data_refs(extra_data: dict[str, Any] | None) -> dict[str, str]:
    """``extra_data`` as MLRun records it: each name to where its data is (a logged
    artifact's ``store://`` URI or target path, a DataItem's, or the URL/path given)."""
    refs: dict[str, str] = {}
    for name, value in (extra_data or {}).items():
        ref = (
            getattr(value, "artifact_url", "")  # a DataItem
            or getattr(value, "uri", "")  # a logged artifact
            or getattr(value, "target_path", "")
            or value
        )
        if not isinstance(ref, str) or not ref:
            raise InvalidArgumentError(
                f"extra_data {name!r} is a {type(value).__name__}",
                field="extra_data",
                hint="give logged artifacts (what log_artifact returns), URLs or paths",
            )
        refs[str(name)] = ref
    return refs


def as_frame(data: Any) -> Any:
    """A DataFrame from a DataFrame, a list of row dicts, a dict of columns or a numpy array
    (columns named "0", "1"... so parquet can store them)."""

    pd = require("pandas", "data", "logging a dataset", field="df")

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if type(data).__module__ == "numpy" and hasattr(data, "ndim"):
        if data.ndim not in (1, 2):
            raise InvalidArgumentError(
                f"a dataset array must have 1 or 2 dimensions, got {data.ndim}", field="df"
            )
        frame = pd.DataFrame(data)
        frame.columns = [str(c) for c in frame.columns]
        return frame
    if isinstance(data, list | dict):
        try:
            return pd.DataFrame(data)
        except (ValueError, TypeError) as exc:
            raise InvalidArgumentError(
                f"cannot make a table of this {type(data).__name__}: {exc}",
                field="df",
                hint="pass a DataFrame, a list of row dicts, a dict of equal-length columns "
                "or a numpy array",
            ) from exc
    raise InvalidArgumentError(
        f"a dataset cannot be made of a {type(data).__name__}",
        field="df",
        hint="pass a DataFrame, a list of row dicts, a dict of columns or a numpy array",
    )


def _html_table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table border='1'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
