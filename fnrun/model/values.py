"""Result values: numpy scalars/arrays cast to plain Python, JSON-serialisability checks."""

from __future__ import annotations

import json
from typing import Any

from fnrun.errors import InvalidArgumentError

_SCALARS = (int, float, str, bool, type(None))


_PLAIN_TYPES = frozenset({int, float, str, bool, type(None)})


def to_plain(value: Any) -> Any:
    """Plain JSON-ready form: numpy scalars -> ``.item()``, arrays -> lists, tuples -> lists."""
    if type(value) is list:
        for item in value:
            if type(item) not in _PLAIN_TYPES:
                break
        else:
            return value  # the common case (a list of numbers or labels) is already plain
    module = type(value).__module__
    if (module == "numpy" or module.startswith("numpy.")) and hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def is_scalar(value: Any) -> bool:
    return isinstance(to_plain(value), _SCALARS)


def check_json(value: Any, field: str) -> Any:
    """``value`` in plain form, or an InvalidArgumentError naming ``field``."""
    plain = to_plain(value)
    try:
        json.dumps(plain)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"value of type {type(value).__name__} is not JSON-serialisable",
            field=field,
            hint="pass numbers, strings, booleans, lists or dicts of those",
        ) from exc
    return plain
