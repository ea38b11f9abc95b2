"""``mlrun.utils`` (and ``mlrun.utils.helpers``): the logger and helpers MLRun code calls."""

from __future__ import annotations

import datetime
import json
import logging
import sys
from typing import Any

from fnrun.execution.loader import import_dotted
from fnrun.execution.runlogger import RunLogger
from fnrun.model.serialize import to_yaml
from fnrun.notebook import in_notebook

__all__ = [
    "StorePrefix",
    "create_class",
    "create_function",
    "dict_to_json",
    "dict_to_yaml",
    "get_in",
    "is_ipython",
    "logger",
    "now_date",
    "update_in",
]


class _Stdout(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is when a record is logged (a run's captured
    output inside a run, the terminal outside)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _logger() -> RunLogger:
    log = RunLogger("mlrun")
    log.parent = logging.getLogger("fnrun")
    log.propagate = False
    handler = _Stdout()
    handler.setFormatter(logging.Formatter("> %(asctime)s [%(levelname)s] %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return log


logger = _logger()


class StorePrefix:
    """The kinds of ``store://<prefix>/...`` URIs, by MLRun's names (hub code compares
    ``parse_store_uri(url)[0]`` with them)."""

    Artifact = "artifacts"
    Dataset = "datasets"
    Model = "models"
    FeatureSet = "feature-sets"
    FeatureVector = "feature-vectors"

    @classmethod
    def is_artifact(cls, prefix: str) -> bool:
        return prefix in (cls.Artifact, cls.Dataset, cls.Model)

    @classmethod
    def is_prefix(cls, prefix: str) -> bool:
        return cls.is_artifact(prefix) or prefix in (cls.FeatureSet, cls.FeatureVector)

    @classmethod
    def kind_to_prefix(cls, kind: str) -> str:
        """The prefix of an artifact kind's URIs (``model`` → ``models``)."""
        return {"model": cls.Model, "dataset": cls.Dataset}.get(kind, cls.Artifact)


def dict_to_json(struct: Any) -> str:
    return json.dumps(struct, default=str)


def dict_to_yaml(struct: Any) -> str:
    return to_yaml(struct)


def now_date(tz: datetime.tzinfo = datetime.UTC) -> datetime.datetime:
    return datetime.datetime.now(tz=tz)


def is_ipython() -> bool:
    return in_notebook()


def _keys(keys: str | list[str]) -> list[str]:
    return keys.split(".") if isinstance(keys, str) else list(keys)


def get_in(obj: Any, keys: str | list[str], default: Any = None) -> Any:
    """``obj["a"]["b"]`` for ``keys="a.b"``, or ``default`` where a level is missing."""
    for key in _keys(keys):
        if not isinstance(obj, dict) or key not in obj:
            return default
        obj = obj[key]
    return obj


def update_in(obj: dict[str, Any], key: str | list[str], value: Any, append: bool = False) -> None:
    """Set ``obj["a"]["b"] = value`` for ``key="a.b"``, making levels as needed; with
    ``append`` the value is appended to the list there."""
    *path, last = _keys(key)
    for part in path:
        obj = obj.setdefault(part, {})
    if append:
        obj.setdefault(last, []).append(value)
    else:
        obj[last] = value


def create_class(pkg_class: str) -> Any:
    """What a dotted path names (``sklearn.ensemble.RandomForestClassifier``; MLRun code
    also passes functions, ``sklearn.feature_selection.f_classif``)."""

    return import_dotted(pkg_class)


def create_function(pkg_func: str) -> Any:
    """The function named by a dotted path (``numpy.mean``)."""

    return import_dotted(pkg_func)
