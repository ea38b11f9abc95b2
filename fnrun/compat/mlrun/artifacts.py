"""``mlrun.artifacts`` (and ``mlrun.artifacts.model``, ``.dataset``, ``.plots``...): fnrun's
artifact kinds, ``get_model``, ``update_model`` and ``update_dataset_meta``."""

import fnrun.artifacts as _artifacts
from fnrun.artifacts import *  # noqa: F403  (the same names, the same objects)
from fnrun.artifacts.model import get_model

__all__ = [*_artifacts.__all__, "get_model"]
