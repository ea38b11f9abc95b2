"""``import mlrun`` in function code gets :mod:`fnrun.compat.mlrun`, for that code only.

The function's module gets builtins of its own whose ``__import__`` maps ``mlrun`` and
``mlrun.<sub>`` to ``fnrun.compat.mlrun[.<sub>]`` and passes every other import to the real
one. An ``import`` statement anywhere in that module's code (top level or inside a handler,
run now or later) goes through it; no other module, no ``sys.modules`` entry and no import
hook of the process is touched, so a real ``mlrun`` elsewhere in the process keeps working.

``FNRUN_MLRUN`` chooses: ``fnrun`` (the default: runs are tracked by fnrun even where the
real mlrun is installed), ``mlrun`` (the real package; an ImportError when it is missing) or
``auto`` (the real one when it is installed, else fnrun's).
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import os
from types import ModuleType
from typing import Any

from fnrun.errors import InvalidArgumentError

TOP = "mlrun"
SHIM = "fnrun.compat.mlrun"
CHOICES = ("fnrun", "mlrun", "auto")


def wants_shim(source: str | bytes) -> bool:
    """True when ``source`` mentions mlrun and the shim, not the real package, is chosen."""
    mentions = (b"mlrun" in source) if isinstance(source, bytes) else ("mlrun" in source)
    if not mentions:
        return False
    choice = os.environ.get("FNRUN_MLRUN", "fnrun").strip().lower() or "fnrun"
    if choice not in CHOICES:
        raise InvalidArgumentError(
            f"FNRUN_MLRUN={choice!r}",
            field="FNRUN_MLRUN",
            hint="fnrun (fnrun's MLRun import surface), mlrun (the real package) or auto",
        )
    if choice == "auto":
        return importlib.util.find_spec(TOP) is None
    return choice == "fnrun"


def prepare(module: ModuleType, source: str | bytes) -> None:
    """Give ``module`` (before its code runs) the mlrun-mapping import, if its code needs it."""
    shim = mlrun_builtins(source)
    if shim is not None:
        module.__dict__["__builtins__"] = shim


def mlrun_builtins(source: str | bytes) -> dict[str, Any] | None:
    """Builtins whose ``__import__`` maps ``mlrun``, for code that needs them; else None."""
    return dict(vars(builtins), __import__=_import) if wants_shim(source) else None


def shim_name(name: str) -> str | None:
    """``fnrun.compat.mlrun[.sub]`` for ``mlrun[.sub]``; None for any other module name."""
    if name == TOP:
        return SHIM
    if name.startswith(TOP + "."):
        return SHIM + name[len(TOP) :]
    return None


def _import(
    name: str,
    globals: dict[str, Any] | None = None,
    locals: dict[str, Any] | None = None,
    fromlist: tuple[str, ...] | list[str] | None = (),
    level: int = 0,
) -> ModuleType:
    target = shim_name(name) if level == 0 else None
    if target is None:
        return builtins.__import__(name, globals, locals, fromlist or (), level)
    from fnrun.execution.mlrun_modules import load

    module = load(name, target)
    return module if fromlist else importlib.import_module(SHIM)
