"""Optional dependencies: imported where used, failing with the extra that brings them."""

from __future__ import annotations

import importlib
from types import ModuleType

from fnrun.errors import InvalidArgumentError

# the extra that brings each fsspec protocol's package
FSSPEC_EXTRAS = {"s3": ("s3fs", "s3"), "s3a": ("s3fs", "s3")}


def require(
    module: str, extra: str, purpose: str, field: str = "", package: str = ""
) -> ModuleType:
    """``module`` imported, or an error naming ``pip install 'fnrun[<extra>]'``.

    >>> require("json", "none", "parsing").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise InvalidArgumentError(
            f"{purpose}: the {package or module.split('.')[0]} package is not installed",
            field=field,
            hint=f"pip install 'fnrun[{extra}]'",
        ) from exc
