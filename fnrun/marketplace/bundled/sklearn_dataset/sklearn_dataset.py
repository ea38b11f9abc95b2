"""Load one of the datasets scikit-learn ships (no download) as a dataset artifact.

Example::

    run = fnrun.import_function("hub://sklearn_dataset").run(params={"name": "wine"}, local=True)
    df = run.artifact("wine").as_df()         # 13 features + label
"""

from __future__ import annotations

from typing import Any

DATASETS = ("iris", "wine", "diabetes", "digits", "breast_cancer", "linnerud")


def sklearn_dataset(
    context: Any,
    name: str = "iris",
    label_column: str = "label",
    key: str = "",
    format: str = "parquet",
) -> None:
    """Load a dataset shipped with scikit-learn and log it with statistics.

    :param context: the run's context
    :param name: iris, wine, diabetes, digits, breast_cancer or linnerud
    :param label_column: name of the target column (linnerud: prefix of its three targets)
    :param key: key of the dataset artifact (default: the dataset's name)
    :param format: "parquet" or "csv"
    """
    import pandas as pd
    import sklearn.datasets

    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: use one of {', '.join(DATASETS)}")
    bunch = getattr(sklearn.datasets, f"load_{name}")()
    columns = [str(c) for c in getattr(bunch, "feature_names", [])]
    df = pd.DataFrame(bunch.data, columns=columns or None)
    df.columns = [str(c) for c in df.columns]
    target = bunch.target
    if getattr(target, "ndim", 1) == 2:
        names = getattr(bunch, "target_names", range(target.shape[1]))
        for i, target_name in enumerate(names):
            df[f"{label_column}_{target_name}"] = target[:, i]
    else:
        df[label_column] = target
    context.log_dataset(key or name, df=df, format=format, stats=True)
    context.log_results({"rows": len(df), "columns": len(df.columns)})
