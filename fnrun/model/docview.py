"""A document (dict) read by attribute as well as by key, as MLRun's objects are:
``artifact.spec.model_file``, ``run.status.results``. Nested dicts read the same way; a
missing field reads as the view's default for it (None unless the view names one).

>>> doc = DocView({"spec": {"model_file": "m.pkl", "metrics": {"acc": 0.9}}})
>>> doc.spec.model_file, doc.spec.metrics["acc"], doc.status
('m.pkl', 0.9, None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class DocView(dict[str, Any]):
    _defaults: dict[str, Callable[[], Any]] = {}

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        if key in self:
            value = self[key]
            return DocView(value) if type(value) is dict else value
        default = self._defaults.get(key)
        return default() if default is not None else None
