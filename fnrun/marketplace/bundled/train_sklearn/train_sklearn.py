"""Train any scikit-learn estimator (named by its dotted class path) on a dataset.

Example::

    run = fnrun.import_function("hub://train_sklearn").run(
        inputs={"dataset": data_run.outputs["iris"]},
        params={"model_class": "sklearn.ensemble.RandomForestClassifier",
                "model_params": {"n_estimators": 50}},
        local=True,
    )
    run.outputs["accuracy"], run.outputs["model"]      # the metric, the model's store:// URI
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fnrun import DataItem  # data parameters: the run's inputs


def train_sklearn(
    context: Any,
    dataset: DataItem,
    model_class: str = "sklearn.ensemble.RandomForestClassifier",
    label_column: str = "label",
    model_params: dict[str, Any] | None = None,
    test_size: float = 0.2,
    random_state: int = 42,
    model_key: str = "model",
) -> None:
    """Fit ``model_class`` on the dataset; log the model (pickled, with its metrics and
    parameters), the held-out ``test_set`` dataset, metrics as results (accuracy and f1 for
    classifiers, r2, mae and rmse for regressors) and, for estimators that have them, a
    ``feature-importance`` table (and plotly chart when plotly is installed).

    :param context: the run's context
    :param dataset: the training data (a DataItem: csv or parquet) with a label column
    :param model_class: dotted path of a scikit-learn estimator class
    :param label_column: the target column
    :param model_params: keyword arguments of the estimator
    :param test_size: fraction of rows held out to measure the model
    :param random_state: seed of the split (and of the estimator when it takes one)
    :param model_key: key of the model artifact
    """
    import pickle

    from sklearn.base import is_classifier
    from sklearn.model_selection import train_test_split

    df = dataset.as_df()
    if label_column not in df.columns:
        raise ValueError(f"label_column {label_column!r} is not a column: {list(df.columns)}")
    features, target = df.drop(columns=[label_column]), df[label_column]
    stratify = None
    estimator = _estimator(model_class, dict(model_params or {}), random_state)
    if is_classifier(estimator) and target.value_counts().min() >= 2:
        stratify = target
    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=test_size, random_state=random_state, stratify=stratify
    )
    estimator.fit(x_train, y_train)
    metrics = _metrics(estimator, x_test, y_test)
    context.log_results(metrics)
    test_set = x_test.assign(**{label_column: y_test}).reset_index(drop=True)
    context.log_dataset("test_set", df=test_set)
    context.log_model(
        model_key,
        body=pickle.dumps(estimator),
        model_file=f"{model_key}.pkl",
        metrics=metrics,
        parameters={k: _plain(v) for k, v in estimator.get_params().items()},
        framework="sklearn",
        algorithm=type(estimator).__name__,
        inputs=[{"name": str(c), "value_type": str(t)} for c, t in features.dtypes.items()],
        outputs=[{"name": label_column, "value_type": str(target.dtype)}],
        labels={"label_column": label_column},
    )
    _importance(context, estimator, list(map(str, features.columns)))


def _estimator(path: str, params: dict[str, Any], random_state: int) -> Any:
    module, _, name = path.rpartition(".")
    cls = getattr(importlib.import_module(module), name, None) if module else None
    if not isinstance(cls, type) or not all(hasattr(cls, m) for m in ("fit", "predict")):
        raise ValueError(
            f"model_class {path!r}: give the dotted path of an estimator class with fit and "
            "predict (e.g. sklearn.linear_model.LogisticRegression)"
        )
    estimator = cls(**params)
    if "random_state" in estimator.get_params() and "random_state" not in params:
        estimator.set_params(random_state=random_state)
    return estimator


def _metrics(estimator: Any, x: Any, y: Any) -> dict[str, float]:
    from sklearn import metrics
    from sklearn.base import is_classifier

    predicted = estimator.predict(x)
    if is_classifier(estimator):
        return {
            "accuracy": float(metrics.accuracy_score(y, predicted)),
            "f1": float(metrics.f1_score(y, predicted, average="macro")),
        }
    return {
        "r2": float(metrics.r2_score(y, predicted)),
        "mae": float(metrics.mean_absolute_error(y, predicted)),
        "rmse": float(metrics.mean_squared_error(y, predicted) ** 0.5),
    }


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def _importance(context: Any, estimator: Any, columns: list[str]) -> None:
    import numpy as np

    from fnrun.artifacts import TableArtifact

    values = getattr(estimator, "feature_importances_", None)
    if values is None and getattr(estimator, "coef_", None) is not None:
        values = np.abs(np.atleast_2d(estimator.coef_)).mean(axis=0)
    if values is None:
        return
    import pandas as pd

    table = pd.DataFrame({"feature": columns, "importance": [float(v) for v in values]})
    table = table.sort_values("importance", ascending=False).reset_index(drop=True)
    context.log_artifact(TableArtifact("feature-importance", df=table))
    try:
        import plotly.graph_objects as go
    except ImportError:
        return
    from fnrun.artifacts import PlotlyArtifact

    fig = go.Figure(go.Bar(x=table["importance"], y=table["feature"], orientation="h"))
    fig.update_layout(title="Feature importance", yaxis={"autorange": "reversed"})
    context.log_artifact(PlotlyArtifact("feature-importance-chart", figure=fig))
