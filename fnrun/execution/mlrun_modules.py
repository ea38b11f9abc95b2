"""Loading ``mlrun.<sub>`` from fnrun's surface: modules we have, "not supported by fnrun"
stand-ins for the parts fnrun does not do (feature store, model monitoring, framework
auto-logging...), and a clear ImportError for anything else."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any, NoReturn

from fnrun.errors import FnrunError

#: MLRun packages fnrun does not implement: importable (hub code imports them at the top),
#: every name in them fails when used, naming what is missing
UNSUPPORTED = {
    "mlrun.feature_store": "the feature store",
    "mlrun.model_monitoring": "model monitoring",
    "mlrun.frameworks": "MLRun's framework auto-logging (apply_mlrun)",
    "mlrun.data_types": "MLRun's data type inference",
    "mlrun.platforms.iguazio": "Iguazio platform access (v3io)",
    "mlrun.alerts": "alerts",
    "mlrun.launcher": "MLRun's launcher internals",
    "mlrun.api": "MLRun's API server internals",
    "mlrun.datastore.targets": "feature store targets",
    "mlrun.mlutils.models": "MLRun's old model evaluation helpers (eval_model_v2)",
    "mlrun.datastore.sources": "feature store sources",
    "mlrun.common": "MLRun's API schemas (model-monitoring modes and endpoints)",
}


#: MLRun's deeper module paths hub code imports from, and the surface module that has them
ALIASES = {
    "mlrun.artifacts.base": "artifacts",
    "mlrun.artifacts.dataset": "artifacts",
    "mlrun.artifacts.manager": "artifacts",
    "mlrun.artifacts.model": "artifacts",
    "mlrun.artifacts.plots": "artifacts",
    "mlrun.datastore.base": "datastore",
    "mlrun.serving.merger": "serving",
    "mlrun.serving.remote": "serving",
    "mlrun.serving.routers": "serving",
    "mlrun.serving.server": "serving",
    "mlrun.serving.states": "serving",
    "mlrun.serving.v2_serving": "serving",
    "mlrun.serving.utils": "serving",
    "mlrun.utils.helpers": "utils",
    "mlrun.mlutils.plots": "mlutils",
    "mlrun.runtimes.local": "runtimes",
    "mlrun.runtimes.nuclio": "runtimes",
    "mlrun.runtimes.nuclio.serving": "runtimes",
    "mlrun.runtimes.serving": "runtimes",
    "mlrun.projects.project": "projects",
}


class NotSupportedError(FnrunError, NotImplementedError):
    """A part of MLRun fnrun does not implement was used."""


def load(name: str, target: str) -> ModuleType:
    """The module for ``import <name>`` (``mlrun.<sub>``), fnrun's module ``target``."""
    missing = _unsupported_root(name)
    if missing is not None:
        return unsupported_module(name, missing)
    alias = ALIASES.get(name)
    if alias is not None:
        module = importlib.import_module(f"fnrun.compat.mlrun.{alias}")
        setattr(module, name.rsplit(".", 1)[1], module)  # ``import mlrun.serving.routers``
        return module
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("fnrun.compat.mlrun"):
            raise  # something the surface itself imports is missing: say that
        raise ModuleNotFoundError(
            f"No module named {name!r} in fnrun's MLRun import surface (fnrun.compat.mlrun); "
            "install mlrun and set FNRUN_MLRUN=mlrun to use the real package",
            name=name,
        ) from None


def _unsupported_root(name: str) -> str | None:
    for root, what in UNSUPPORTED.items():
        if name == root or name.startswith(root + "."):
            return what
    return None


class _Missing(type):
    """The type of the stand-ins: reading any attribute of one gives a deeper stand-in
    (``fstore.steps.OneHotEncoder``); calling one raises."""

    what: str
    full_name: str

    def __getattr__(cls, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return unsupported(cls.what, f"{cls.full_name}.{attr}")

    def __call__(cls, *_args: Any, **_kwargs: Any) -> NoReturn:
        raise NotSupportedError(
            f"{cls.full_name} is not supported by fnrun ({cls.what})",
            field=cls.full_name,
            hint="run this code with the real mlrun (FNRUN_MLRUN=mlrun) or leave the feature out",
        )

    def __getitem__(cls, _item: Any) -> type:
        return cls  # used in annotations: Union[FeatureSet, DataItem], List[FeatureSet]


def unsupported(what: str, name: str) -> type:
    """A stand-in for ``name``: a class (so annotations and ``isinstance`` work) that raises
    when it is called or instantiated."""
    module, _, short = name.rpartition(".")
    return _Missing(short, (), {"what": what, "full_name": name, "__module__": module})


def unsupported_module(name: str, what: str) -> ModuleType:
    """A module whose every public name is an :func:`unsupported` stand-in; cached under its
    shim name so ``import`` returns the same object each time."""
    shim = "fnrun.compat." + name
    cached = sys.modules.get(shim)
    if cached is not None:
        return cached
    module = ModuleType(shim, f"{name}: not supported by fnrun ({what})")
    module.__path__ = []  # a package: its submodules are stand-ins too

    def __getattr__(attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = unsupported(what, f"{name}.{attr}")
        setattr(module, attr, value)
        return value

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[shim] = module
    return module
