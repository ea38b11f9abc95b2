"""What a run calls: a handler in the function's code, a ``__main__`` script, or a command.

- a handler: a callable, a name in the embedded code or command file, or ``module.func``
  importable from the source archive's working directory;
- no handler: the code (or ``spec.command`` file) runs as ``__main__`` with ``spec.args``;
- ``mode="pass"`` and ``mode="args"`` (MLRun's): ``spec.command`` and ``spec.args`` run as a
  process, with ``{param}`` placeholders replaced by run params (a placeholder naming no param
  is an error); a ``.py`` command runs through this Python interpreter
  (:mod:`fnrun.execution.script`), and its ``get_or_create_ctx`` joins the run
  (:mod:`fnrun.execution.attach`).
"""

from __future__ import annotations

import os
import re
import runpy
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from fnrun.errors import InvalidArgumentError
from fnrun.execution.loader import (
    add_origin_dir,
    code_file,
    get_handler,
    module_from_code,
    module_from_file,
)
from fnrun.execution.mlrun_alias import mlrun_builtins

if TYPE_CHECKING:
    from fnrun.model.function_like import FunctionLike

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def resolve(
    fn: FunctionLike | None, handler: str | Callable[..., Any] | None, code_dir: Path
) -> tuple[Callable[..., Any] | None, Path | None]:
    """(handler to call, or a script to run as ``__main__`` when no handler is named)."""
    if callable(handler):
        return handler, None
    name = handler or (fn.spec.default_handler if fn is not None else "")
    if name:
        module, where = _module_of(fn, code_dir)
        return get_handler(module, name, where), None
    script = _script_of(fn, code_dir)
    if script is None:
        raise InvalidArgumentError(
            "nothing to run: no handler and no code or command",
            field="handler",
            hint="pass handler= or give the function code",
        )
    return None, script


def _module_of(fn: FunctionLike | None, code_dir: Path) -> tuple[ModuleType | None, str]:
    if fn is not None and fn.code:
        origin = fn.spec.build.origin_filename
        where = f"the code of function {fn.metadata.name!r}"
        return module_from_code(fn.code, code_dir, origin), where
    if fn is not None and fn.spec.command.endswith(".py"):
        return module_from_file(Path(fn.spec.command)), fn.spec.command
    return None, "the run"


def _script_of(fn: FunctionLike | None, code_dir: Path) -> Path | None:
    if fn is not None and fn.code:
        add_origin_dir(fn.spec.build.origin_filename)
        return code_file(fn.code, code_dir, fn.spec.build.origin_filename)
    if fn is not None and fn.spec.command.endswith(".py"):
        return Path(fn.spec.command)
    return None


def run_script(script: Path, args: list[str]) -> None:
    """Run a file as ``__main__`` with ``sys.argv``; ``sys.exit(0)`` counts as success."""
    code = run_as_main(script, args)
    if code:
        raise RuntimeError(f"script {script.name} exited with status {code}")


def run_as_main(script: Path, args: list[str]) -> int:
    """Run a file as ``__main__`` with ``sys.argv`` (its ``import mlrun`` is fnrun's surface,
    as in a handler's code); its exit status."""
    saved = sys.argv
    sys.argv = [str(script), *args]
    source = script.read_bytes()
    init = {"__builtins__": shim} if (shim := mlrun_builtins(source)) is not None else None
    try:
        runpy.run_path(str(script), init_globals=init, run_name="__main__")
    except SystemExit as exc:
        return 0 if exc.code in (0, None) else exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    return 0


def command_line(fn: FunctionLike, params: dict[str, Any]) -> list[str]:
    """``spec.command`` + ``spec.args`` as argv with ``{param}`` substituted; a ``.py``
    program is run by this interpreter (it need not be executable)."""
    if not fn.spec.command:
        raise InvalidArgumentError(
            f"mode {fn.spec.mode!r} needs spec.command", field="spec.command"
        )
    argv = [_substitute(arg, params) for arg in [*shlex.split(fn.spec.command), *fn.spec.args]]
    if argv[0].endswith(".py"):  # as `python file.py`, with MLRun code's `import mlrun` mapped
        argv[:0] = [sys.executable, "-u", "-m", "fnrun.execution.script"]
    return argv


def _substitute(arg: str, params: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        key = match[1]
        if key not in params:
            raise InvalidArgumentError(
                f"{{{key}}} in the command has no param",
                field=f"params.{key}",
                hint=f"params: {', '.join(sorted(params)) or 'none'}",
            )
        return str(params[key])

    return _PLACEHOLDER.sub(value, arg)


def run_command(argv: list[str], cwd: str | None = None, env: dict[str, str] | None = None) -> None:
    """Run ``argv`` (``env`` added to this process's), streaming its output into this
    process's (captured) stdout."""
    environ = {**os.environ, **env} if env else None
    try:
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
            env=environ,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise InvalidArgumentError(f"command not found: {argv[0]}", field="spec.command") from exc
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
    code = proc.wait()
    if code != 0:
        raise RuntimeError(f"command {shlex.join(argv)} exited with status {code}")


@contextmanager
def source_workdir(fn: FunctionLike | None, cache_dir: Path) -> Iterator[None]:
    """Inside the block: the function's source archive is loaded, cwd is its workdir and it is
    importable; outside, cwd and ``sys.path`` are restored."""
    build = fn.spec.build if fn is not None else None
    if fn is None or build is None or not build.source or build.load_source_on_run is False:
        yield
        return
    from fnrun.execution.source import load_source

    root = load_source(build.source, cache_dir, fn.spec.clone_target_dir)
    workdir = (root / fn.spec.workdir).resolve() if fn.spec.workdir else root
    if root != workdir and root not in workdir.parents:
        raise InvalidArgumentError(
            f"workdir {fn.spec.workdir!r} is outside the source", field="spec.workdir"
        )
    saved_cwd, saved_path = os.getcwd(), list(sys.path)
    os.chdir(workdir)
    sys.path.insert(0, str(workdir))
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
