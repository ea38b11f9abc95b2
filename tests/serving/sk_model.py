"""A scikit-learn model server and a training job, used by the serving tests."""

from __future__ import annotations

import pickle
from typing import Any

from fnrun.serving import V2ModelServer


def train(context: Any, c: float = 1.0) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(C=c, max_iter=500).fit(x, y)
    context.log_model(
        "iris",
        body=pickle.dumps(model),
        model_file="iris.pkl",
        metrics={"accuracy": float(model.score(x, y))},
        inputs=[{"name": f"f{i}", "value_type": "float"} for i in range(4)],
        framework="sklearn",
    )


class SKModel(V2ModelServer):
    def load(self) -> None:
        path, _ = self.get_model(".pkl")
        with open(path, "rb") as f:
            self.model = pickle.load(f)

    def predict(self, request: dict[str, Any]) -> Any:
        scale = self.get_param("scale", 1)
        return [int(v) * scale for v in self.model.predict(request["inputs"])]

    def op_classes(self, event: Any) -> Any:
        return {"classes": [int(c) for c in self.model.classes_]}


class Fixed(V2ModelServer):
    """Answers the same outputs for any request (to check how votes combine)."""

    def predict(self, request: dict[str, Any]) -> Any:
        return list(self.get_param("answers"))[: len(request["inputs"])]
