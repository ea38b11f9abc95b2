"""Profile a dataset: summary statistics, missing values, histograms and correlations.

Example::

    run = fnrun.import_function("hub://profile_dataset").run(
        inputs={"table": data_run.outputs["iris"]}, params={"label_column": "label"}, local=True
    )
    run.outputs["missing_values"], run.artifact("summary").as_df()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fnrun import DataItem  # data parameters: the run's inputs


def profile_dataset(
    context: Any,
    table: DataItem,
    label_column: str = "",
    bins: int = 20,
    max_rows: int = 500_000,
    random_state: int = 1,
) -> None:
    """Log a dataset's profile: ``summary`` (describe, per column, with missing counts),
    ``correlation`` (numeric columns, a table) and, when plotly is installed,
    ``histograms`` and ``correlation-heatmap`` (HTML pages); results ``rows``, ``columns``,
    ``missing_values`` and, with a label column, ``classes``.

    :param context: the run's context
    :param table: the dataset (a DataItem: csv or parquet)
    :param label_column: the target column (histograms are drawn per class for it)
    :param bins: histogram bins
    :param max_rows: profile a random sample of this many rows of a bigger dataset
    :param random_state: seed of that sample
    """
    import pandas as pd

    from fnrun.artifacts import TableArtifact

    df = table.as_df()
    if len(df) > max_rows:
        df = df.sample(n=max_rows, random_state=random_state)
    if label_column and label_column not in df.columns:
        raise ValueError(f"label_column {label_column!r} is not a column: {list(df.columns)}")
    summary = df.describe(include="all").transpose()
    summary.insert(0, "column", [str(c) for c in summary.index])
    summary["missing"] = [int(df[c].isna().sum()) for c in df.columns]
    summary["dtype"] = [str(df[c].dtype) for c in df.columns]
    context.log_artifact(TableArtifact("summary", df=summary.reset_index(drop=True)))
    numeric = df.select_dtypes("number")
    corr = numeric.corr()
    corr.insert(0, "column", [str(c) for c in corr.index])
    context.log_artifact(TableArtifact("correlation", df=corr.reset_index(drop=True)))
    results: dict[str, Any] = {
        "rows": len(df),
        "columns": len(df.columns),
        "missing_values": int(df.isna().sum().sum()),
    }
    if label_column:
        results["classes"] = int(df[label_column].nunique())
    context.log_results(results)
    try:
        import plotly.graph_objects as go
    except ImportError:
        context.logger.warning("plotly is not installed: no histogram or heatmap pages")
        return
    _plots(context, df, numeric, label_column, bins, go, pd)


def _plots(context: Any, df: Any, numeric: Any, label: str, bins: int, go: Any, pd: Any) -> None:
    from fnrun.artifacts import PlotlyArtifact

    fig = go.Figure()
    groups = [(str(v), df[df[label] == v]) for v in sorted(df[label].unique())] if label else []
    for column in [c for c in numeric.columns if c != label]:
        for name, part in groups or [("all", df)]:
            fig.add_trace(go.Histogram(x=part[column], name=f"{column} ({name})", nbinsx=bins))
    fig.update_layout(barmode="overlay", title="Histograms")
    fig.update_traces(opacity=0.6)
    context.log_artifact(PlotlyArtifact("histograms", figure=fig))
    corr = numeric.corr()
    heat = go.Figure(go.Heatmap(z=corr.values, x=list(map(str, corr.columns)),
                                y=list(map(str, corr.columns)), zmin=-1, zmax=1))  # fmt: skip
    heat.update_layout(title="Correlation")
    context.log_artifact(PlotlyArtifact("correlation-heatmap", figure=heat))
