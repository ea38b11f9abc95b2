"""Run a trained model over a dataset and log the predictions as a dataset.

Example::

    run = fnrun.import_function("hub://batch_predict").run(
        inputs={"dataset": new_data}, params={"model": train_run.outputs["model"]}, local=True
    )
    run.artifact("predictions").as_df()["prediction"]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fnrun import DataItem  # data parameters: the run's inputs


def batch_predict(
    context: Any,
    dataset: DataItem,
    model: str,
    label_column: str = "",
    prediction_column: str = "prediction",
    with_probabilities: bool = False,
    key: str = "predictions",
) -> None:
    """Predict every row of ``dataset`` with ``model`` (a logged model's ``store://`` URI, a
    model folder or a pickle file); log the rows with a ``prediction`` column (and one
    ``probability_<class>`` column per class with ``with_probabilities``) as ``predictions``.
    A label column in the data is left out of the features and kept in the output; results:
    ``rows`` and, when labels are there, ``accuracy`` (classifiers) or ``mae``.

    :param context: the run's context
    :param dataset: the rows to predict (a DataItem: csv or parquet)
    :param model: the model
    :param label_column: a column to leave out of the features (kept in the output)
    :param prediction_column: name of the output column
    :param with_probabilities: add class probabilities (classifiers with predict_proba)
    :param key: key of the output dataset
    """
    import pickle
    from pathlib import Path

    import numpy as np

    from fnrun.artifacts.model import get_model

    model_file, _spec, _extra = get_model(model, ".pkl")
    estimator = pickle.loads(Path(model_file).read_bytes())
    df = dataset.as_df()
    features = df.drop(columns=[label_column]) if label_column in df.columns else df
    out = df.copy()
    out[prediction_column] = estimator.predict(features)
    if with_probabilities and hasattr(estimator, "predict_proba"):
        for cls, column in zip(
            estimator.classes_, estimator.predict_proba(features).T, strict=True
        ):
            out[f"probability_{cls}"] = column
    context.log_dataset(key, df=out)
    results: dict[str, Any] = {"rows": len(out)}
    if label_column in df.columns:
        if hasattr(estimator, "classes_"):
            results["accuracy"] = float((out[prediction_column] == df[label_column]).mean())
        else:
            results["mae"] = float(np.abs(out[prediction_column] - df[label_column]).mean())
    context.log_results(results)
