"""Find the code a run calls: a callable, a function in the embedded code, a file or a module.

Embedded code is written once to ``$FNRUN_HOME/code/<sha1>.py`` and imported from there (a
real module with a real file name for tracebacks); nothing is ``eval``'d or ``exec``'d here.
Code that imports ``mlrun`` gets fnrun's MLRun surface (:mod:`fnrun.execution.mlrun_alias`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from fnrun.errors import InvalidArgumentError, NotFoundError


def module_from_code(code: str, code_dir: Path, filename: str = "") -> ModuleType:
    """Import ``code`` as a module, cached by content hash for the life of the process."""
    digest = hashlib.sha1(code.encode("utf-8")).hexdigest()
    name = f"fnrun_code_{digest}"
    module = sys.modules.get(name)
    if module is not None and name in _LOADED:
        return module
    # one import per module: a module is in sys.modules while its code still runs, and a run
    # in another thread (the async engine, parallel iterations) must not see it half made
    with _IMPORT_LOCK:
        module = sys.modules.get(name)
        if module is not None and name in _LOADED:
            return module
        add_origin_dir(filename)
        module = module_from_file(code_file(code, code_dir, filename), name)
        _LOADED.add(name)
        return module


_IMPORT_LOCK = threading.RLock()
_LOADED: set[str] = set()


def add_origin_dir(filename: str) -> None:
    """Make the modules next to the function's original file importable (as ``python
    file.py`` would), whether its code runs from that file or from the version's copy."""
    if not filename:
        return
    folder = Path(filename).expanduser().resolve().parent
    if folder.is_dir() and str(folder) not in sys.path:
        sys.path.append(str(folder))


def original_file(code: str, filename: str) -> Path | None:
    """The user's file ``filename`` when it still holds exactly ``code`` (then ``__file__``,
    relative imports, breakpoints and tracebacks point at it), else None."""
    if not filename.endswith(".py"):
        return None
    try:
        path = Path(filename).expanduser().resolve()
        return path if path.is_file() and path.read_bytes() == code.encode("utf-8") else None
    except OSError:
        return None


def code_file(code: str, code_dir: Path, filename: str = "") -> Path:
    """The file that holds ``code``: the user's original file when it holds exactly this code,
    else ``code`` written once, atomically, to ``code_dir/<sha1>/<filename or main.py>`` (the
    original file name keeps tracebacks readable). Either way the run runs the code of the
    function's version, never an edited file."""
    original = original_file(code, filename)
    if original is not None:
        return original
    digest = hashlib.sha1(code.encode("utf-8")).hexdigest()
    path = code_dir / digest / (Path(filename).name if filename.endswith(".py") else "main.py")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(code)
        tmp.replace(path)
    return path


def module_from_file(path: Path, name: str = "") -> ModuleType:
    if not path.is_file():
        raise NotFoundError(f"code file not found: {path}", field="spec.command")
    name = name or f"fnrun_file_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidArgumentError(
            f"cannot import {path}", field="spec.command", hint="give a .py file"
        )
    module = importlib.util.module_from_spec(spec)
    from fnrun.execution.mlrun_alias import prepare

    prepare(module, path.read_bytes())  # ``import mlrun`` in this code: fnrun's surface
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def get_handler(module: ModuleType | None, handler: str, where: str) -> Callable[..., Any]:
    """``handler`` ("train", "mod.train" or "pkg.mod.Class.method") from ``module`` or an import."""
    if module is not None and "." not in handler:
        found = getattr(module, handler, None)
        if callable(found):
            return found  # type: ignore[no-any-return]
        raise _unknown_handler(handler, module, where)
    if "." not in handler:
        raise InvalidArgumentError(
            f"handler {handler!r} needs code to live in",
            field="handler",
            hint="embed code (code_to_function) or use a dotted path",
        )
    return import_dotted(handler)


def import_dotted(path: str) -> Callable[..., Any]:
    """Import ``pkg.mod.attr`` (the longest importable module prefix wins)."""
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        try:
            for attr in parts[cut:]:
                target = getattr(target, attr)
        except AttributeError:
            break
        if callable(target):
            return target  # type: ignore[no-any-return]
    raise NotFoundError(
        f"cannot import handler {path!r}",
        field="handler",
        hint="check the module path and that the module is importable",
    )


def _unknown_handler(handler: str, module: ModuleType, where: str) -> InvalidArgumentError:
    public = sorted(
        name
        for name, value in vars(module).items()
        if callable(value)
        and not name.startswith("_")
        and getattr(value, "__module__", None) == module.__name__
    )
    return InvalidArgumentError(
        f"handler {handler!r} not found in {where}",
        field="handler",
        hint=f"functions there: {', '.join(public) or 'none'}",
    )
