"""Generate a synthetic classification or regression dataset (scikit-learn's generators).

Example::

    run = fnrun.import_function("hub://make_dataset").run(
        params={"task": "classification", "n_samples": 500, "n_features": 4}, local=True
    )
    df = run.artifact("dataset").as_df()      # feature_0..feature_3 + label
"""

from __future__ import annotations

from typing import Any


def make_dataset(
    context: Any,
    task: str = "classification",
    n_samples: int = 1000,
    n_features: int = 5,
    n_classes: int = 2,
    noise: float = 0.0,
    label_column: str = "label",
    random_state: int = 42,
    key: str = "dataset",
    format: str = "parquet",
) -> None:
    """Generate a synthetic dataset and log it (with statistics) as a dataset artifact.

    :param context: the run's context
    :param task: "classification" or "regression"
    :param n_samples: number of rows
    :param n_features: number of feature columns (feature_0, feature_1, ...)
    :param n_classes: number of classes (classification only)
    :param noise: regression: standard deviation of the noise added to the target;
        classification: the fraction of labels flipped at random
    :param label_column: name of the target column
    :param random_state: seed, so the same parameters give the same data
    :param key: key of the dataset artifact
    :param format: "parquet" or "csv"
    """
    import pandas as pd
    from sklearn.datasets import make_classification, make_regression

    if task == "classification":
        informative = max(2, min(n_features, n_classes))
        x, y = make_classification(
            n_samples=n_samples,
            n_features=n_features,
            n_informative=min(informative, n_features),
            n_redundant=0,
            n_classes=n_classes,
            flip_y=noise,
            random_state=random_state,
        )
    elif task == "regression":
        x, y = make_regression(
            n_samples=n_samples, n_features=n_features, noise=noise, random_state=random_state
        )
    else:
        raise ValueError(f"task {task!r}: use 'classification' or 'regression'")
    df = pd.DataFrame(x, columns=[f"feature_{i}" for i in range(n_features)])
    df[label_column] = y
    context.log_dataset(key, df=df, format=format, stats=True)
    context.log_results({"rows": len(df), "features": n_features})
