"""A V2 model server for scikit-learn models (pickled or joblib).

Example::

    srv = fnrun.import_function("hub://sklearn_server")
    srv.add_model("iris", model_path=train_run.outputs["model"])   # class: SklearnModelServer
    server = srv.to_mock_server()
    server.test("/v2/models/iris/infer", body={"inputs": [[5.1, 3.5, 1.4, 0.2]]})
"""

from __future__ import annotations

from typing import Any

from fnrun.serving import V2ModelServer


class SklearnModelServer(V2ModelServer):
    """Serves a scikit-learn estimator: ``infer`` takes ``{"inputs": [[...], ...]}`` (rows of
    features, or a list of ``{feature: value}`` dicts) and answers the predictions; with
    ``"probabilities": true`` in the body it answers class probabilities instead."""

    def load(self) -> None:
        """Load the model file (``.pkl`` by pickle, ``.joblib`` by joblib)."""
        import pickle
        from pathlib import Path

        model_file, _extra = self.get_model(".pkl")
        path = Path(model_file)
        if path.suffix == ".joblib":
            import joblib

            self.model = joblib.load(path)
        else:
            self.model = pickle.loads(path.read_bytes())

    def predict(self, request: dict[str, Any]) -> list[Any]:
        """Predict the rows in ``request["inputs"]``."""
        import numpy as np

        rows = request["inputs"]
        if rows and isinstance(rows[0], dict):
            import pandas as pd

            features: Any = pd.DataFrame(rows)
        else:
            features = np.asarray(rows)
            names = getattr(self.model, "feature_names_in_", None)
            if names is not None and features.ndim == 2 and features.shape[1] == len(names):
                import pandas as pd

                features = pd.DataFrame(features, columns=list(names))
        if request.get("probabilities"):
            return [[float(p) for p in row] for row in self.model.predict_proba(features)]
        return [_plain(v) for v in self.model.predict(features)]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
