"""Evaluate a trained model on a labelled dataset: metrics, confusion matrix, ROC curves.

Example::

    run = fnrun.import_function("hub://evaluate_model").run(
        inputs={"dataset": train_run.outputs["test_set"]},
        params={"model": train_run.outputs["model"]},
        local=True,
    )
    run.outputs["accuracy"], run.artifact("confusion-matrix").as_df()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fnrun import DataItem  # data parameters: the run's inputs


def evaluate_model(
    context: Any,
    dataset: DataItem,
    model: str,
    label_column: str = "label",
) -> None:
    """Score ``model`` (a logged model's ``store://`` URI, a model folder or a pickle file) on
    ``dataset``. Classifiers: results accuracy, f1 (macro), precision, recall and, when the
    model gives probabilities, roc_auc; a ``confusion-matrix`` table and a ``roc`` chart.
    Regressors: r2, mae, rmse and a ``residuals`` table.

    :param context: the run's context
    :param dataset: labelled data (a DataItem: csv or parquet)
    :param model: the model to evaluate
    :param label_column: the target column
    """
    import pickle
    from pathlib import Path

    from sklearn.base import is_classifier

    from fnrun.artifacts.model import get_model

    model_file, _spec, _extra = get_model(model, ".pkl")
    estimator = pickle.loads(Path(model_file).read_bytes())
    df = dataset.as_df()
    if label_column not in df.columns:
        raise ValueError(f"label_column {label_column!r} is not a column: {list(df.columns)}")
    x, y = df.drop(columns=[label_column]), df[label_column]
    if is_classifier(estimator):
        _classifier(context, estimator, x, y)
    else:
        _regressor(context, estimator, x, y)


def _classifier(context: Any, estimator: Any, x: Any, y: Any) -> None:
    import pandas as pd
    from sklearn import metrics

    from fnrun.artifacts import ChartArtifact, TableArtifact

    predicted = estimator.predict(x)
    results = {
        "accuracy": float(metrics.accuracy_score(y, predicted)),
        "f1": float(metrics.f1_score(y, predicted, average="macro")),
        "precision": float(metrics.precision_score(y, predicted, average="macro", zero_division=0)),
        "recall": float(metrics.recall_score(y, predicted, average="macro", zero_division=0)),
    }
    classes = list(getattr(estimator, "classes_", sorted(set(y))))
    matrix = metrics.confusion_matrix(y, predicted, labels=classes)
    table = pd.DataFrame(matrix, columns=[f"predicted {c}" for c in classes])
    table.insert(0, "actual", [str(c) for c in classes])
    context.log_artifact(TableArtifact("confusion-matrix", df=table))
    if hasattr(estimator, "predict_proba"):
        scores = estimator.predict_proba(x)
        if len(classes) == 2:
            results["roc_auc"] = float(metrics.roc_auc_score(y, scores[:, 1]))
            fpr, tpr, _ = metrics.roc_curve(y, scores[:, 1], pos_label=classes[1])
            rows = [[float(a), float(b)] for a, b in zip(fpr, tpr, strict=True)]
            header = ["false positive rate", "true positive rate"]
        else:
            results["roc_auc"] = float(
                metrics.roc_auc_score(y, scores, multi_class="ovr", labels=classes)
            )
            rows, header = _one_vs_rest(y, scores, classes)
        context.log_artifact(ChartArtifact("roc", data=rows, header=header, title="ROC"))
    context.log_results(results)


def _one_vs_rest(y: Any, scores: Any, classes: list[Any]) -> tuple[list[list[Any]], list[str]]:
    """ROC of each class against the rest on a common false-positive-rate grid."""
    import numpy as np
    from sklearn import metrics

    grid = np.linspace(0.0, 1.0, 51)
    curves = []
    for i, cls in enumerate(classes):
        fpr, tpr, _ = metrics.roc_curve(np.asarray(y) == cls, scores[:, i])
        curves.append(np.interp(grid, fpr, tpr))
    rows = [[float(g), *(float(c[j]) for c in curves)] for j, g in enumerate(grid)]
    return rows, ["false positive rate", *(f"class {c}" for c in classes)]


def _regressor(context: Any, estimator: Any, x: Any, y: Any) -> None:
    import pandas as pd
    from sklearn import metrics

    from fnrun.artifacts import TableArtifact

    predicted = estimator.predict(x)
    context.log_results(
        {
            "r2": float(metrics.r2_score(y, predicted)),
            "mae": float(metrics.mean_absolute_error(y, predicted)),
            "rmse": float(metrics.mean_squared_error(y, predicted) ** 0.5),
        }
    )
    table = pd.DataFrame({"actual": list(y), "predicted": list(map(float, predicted))})
    table["residual"] = table["actual"] - table["predicted"]
    context.log_artifact(TableArtifact("residuals", df=table))
