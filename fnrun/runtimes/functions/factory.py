"""Build function objects: ``new_function``, ``code_to_function``, ``import_function``."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from fnrun.errors import InvalidArgumentError, NotFoundError, SchemaError
from fnrun.model.function import FunctionMetadata
from fnrun.model.function_like import hand_down
from fnrun.runtimes.functions.base import BaseRuntime
from fnrun.runtimes.functions.funcdoc import entry_points
from fnrun.runtimes.functions.registry import get_runtime_class
from fnrun.runtimes.functions.registry import kinds as registered_kinds
from fnrun.runtimes.functions.source import resolve_requirements

if TYPE_CHECKING:
    from fnrun.runtimes.functions.kinds import KubejobRuntime, ServingRuntime

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def runtime_class(kind: str | None) -> type[BaseRuntime]:
    """The function class of ``kind`` (the registry's), the built-in kinds loaded first."""
    _builtin_kinds()
    return get_runtime_class(kind)


def kinds() -> list[str]:
    """Every function kind, built-in and registered, sorted."""
    _builtin_kinds()
    return registered_kinds()


def _builtin_kinds() -> None:
    # deferred to the first function made: the kinds' spec classes cost ~20 ms at import
    import fnrun.runtimes.functions.kinds  # noqa: F401 - each kind registers itself


def normalize_name(name: str) -> str:
    """MLRun-style names: lower case, ``_`` and spaces become ``-``; must be DNS-1123 safe."""
    fixed = re.sub(r"[_\s.]+", "-", name.strip()).lower()
    if not _NAME.match(fixed) or len(fixed) > 63:
        raise InvalidArgumentError(
            f"invalid function name {name!r}",
            field="metadata.name",
            hint="use letters, digits and '-', start and end with a letter or digit, <= 63 chars",
        )
    return fixed


@overload
def new_function(
    name: str = "",
    project: str = "",
    tag: str = "",
    *,
    kind: Literal["serving"],
    command: str = "",
    image: str = "",
    args: list[str] | None = None,
    runtime: dict[str, Any] | BaseRuntime | None = None,
    mode: str | None = None,
    handler: str | None = None,
    source: str | None = None,
    requirements: str | list[str] | None = None,
    requirements_file: str = "",
) -> ServingRuntime: ...


@overload
def new_function(
    name: str = "",
    project: str = "",
    tag: str = "",
    kind: str = "",
    command: str = "",
    image: str = "",
    args: list[str] | None = None,
    runtime: dict[str, Any] | BaseRuntime | None = None,
    mode: str | None = None,
    handler: str | None = None,
    source: str | None = None,
    requirements: str | list[str] | None = None,
    requirements_file: str = "",
) -> BaseRuntime: ...


def new_function(
    name: str = "",
    project: str = "",
    tag: str = "",
    kind: str = "",
    command: str = "",
    image: str = "",
    args: list[str] | None = None,
    runtime: dict[str, Any] | BaseRuntime | None = None,
    mode: str | None = None,
    handler: str | None = None,
    source: str | None = None,
    requirements: str | list[str] | None = None,
    requirements_file: str = "",
) -> BaseRuntime:
    """A new function of ``kind`` (default ``local``), or one built from a ``runtime`` document.

    >>> fn = new_function("archive", kind="job", command="./myfunc.py", image="python:3.11")
    >>> fn.spec.command
    './myfunc.py'
    """
    if runtime is not None:
        doc = runtime.to_dict() if isinstance(runtime, BaseRuntime) else dict(runtime)
        kind = kind or doc.get("kind", "")
        fn = runtime_class(kind).from_dict(doc)
    else:
        fn = runtime_class(kind)()
    if name:
        fn.metadata.name = normalize_name(name)
    fn.metadata.project = project or fn.metadata.project
    fn.metadata.tag = tag or fn.metadata.tag
    _set_if(fn.spec, command=command, image=image, mode=mode, default_handler=handler)
    if args is not None:
        fn.spec.args = list(args)
    if source:
        fn.with_source_archive(source, handler=handler)
    reqs = resolve_requirements(requirements, requirements_file)
    if reqs:
        fn.build_config(requirements=reqs)
    return fn


@overload
def code_to_function(
    name: str = "",
    project: str = "",
    tag: str = "",
    filename: str = "",
    handler: str = "",
    *,
    kind: Literal["serving"],
    image: str = "",
    embed_code: bool = True,
    description: str = "",
    requirements: str | list[str] | None = None,
    requirements_file: str = "",
    categories: list[str] | None = None,
    labels: dict[str, str] | None = None,
    with_doc: bool = True,
) -> ServingRuntime: ...


@overload
def code_to_function(
    name: str = "",
    project: str = "",
    tag: str = "",
    filename: str = "",
    handler: str = "",
    *,
    kind: Literal["job"] = "job",
    image: str = "",
    embed_code: bool = True,
    description: str = "",
    requirements: str | list[str] | None = None,
    requirements_file: str = "",
    categories: list[str] | None = None,
    labels: dict[str, str] | None = None,
    with_doc: bool = True,
) -> KubejobRuntime: ...


@overload
def code_to_function(
    name: str = "",
    project: str = "",
    tag: str = "",
    filename: str = "",
    handler: str = "",
    kind: str = "job",
    image: str = "",
    embed_code: bool = True,
    description: str = "",
    requirements: str | list[str] | None = None,
    requirements_file: str = "",
    categories: list[str] | None = None,
    labels: dict[str, str] | None = None,
    with_doc: bool = True,
) -> BaseRuntime: ...


def code_to_function(
    name: str = "",
    project: str = "",
    tag: str = "",
    filename: str = "",
    handler: str = "",
    kind: str = "job",
    image: str = "",
    embed_code: bool = True,
    description: str = "",
    requirements: str | list[str] | None = None,
    requirements_file: str = "",
    categories: list[str] | None = None,
    labels: dict[str, str] | None = None,
    with_doc: bool = True,
) -> BaseRuntime:
    """A function from a ``.py`` file or a notebook, with the code embedded (base64) by default.

    >>> fn = code_to_function("prep", filename="examples/prep.py", kind="job", handler="prep")
    """
    path = Path(filename) if filename else None
    if path is None or not path.is_file():
        raise NotFoundError(
            f"code file not found: {filename!r}",
            field="filename",
            hint="give the path of a .py or .ipynb file",
        )
    code = _read_code(path, name)
    fn = runtime_class(kind)()
    fn.metadata = FunctionMetadata(
        name=normalize_name(name or path.stem),
        project=project,
        tag=tag,
        categories=list(categories or []),
        labels=dict(labels or {}),
    )
    fn.spec.description = description
    fn.spec.image = image
    if with_doc:
        fn.spec.entry_points = entry_points(code, str(path))
    if handler:
        _check_handler(handler, fn, path)
        fn.spec.default_handler = handler
    if embed_code:
        fn.spec.build.code = code
        fn.spec.build.origin_filename = str(path)
    else:
        fn.spec.command = str(path)
    if fn.is_deployable and hasattr(fn.spec, "function_handler"):
        fn.spec.function_handler = f"{path.stem}:{handler or 'handler'}"
    reqs = resolve_requirements(requirements, requirements_file)
    if reqs:
        fn.build_config(requirements=reqs)
    return fn


def _read_code(path: Path, name: str) -> str:
    if path.suffix == ".ipynb":
        from fnrun.runtimes.functions.notebook import notebook_to_code

        return notebook_to_code(path, name)
    return path.read_text()


def _check_handler(handler: str, fn: BaseRuntime, path: Path) -> None:
    """A plain handler name must be a function in the file (classes are for serving kinds)."""
    if not fn.is_batch or "." in handler or not fn.spec.entry_points:
        return
    if handler not in fn.spec.entry_points:
        known = ", ".join(sorted(fn.spec.entry_points)) or "none"
        raise InvalidArgumentError(
            f"handler {handler!r} is not a function in {path}",
            field="handler",
            hint=f"functions in the file: {known}",
        )


def _set_if(target: Any, **values: Any) -> None:
    for attr, value in values.items():
        if value:
            setattr(target, attr, value)


def function_from_dict(document: dict[str, Any], source: str = "") -> BaseRuntime:
    """The function of a parsed document, by its ``kind``; errors name ``source``."""
    if not isinstance(document, dict):
        raise SchemaError(f"{source or 'document'} is not a function document (a mapping)")
    kind = document.get("kind", "")
    if not isinstance(kind, str):
        raise SchemaError("expected str", field="kind")
    return runtime_class(kind).from_dict(document)


def deploy_function(function: BaseRuntime, mock: bool | None = None, **kwargs: Any) -> str:
    """Deploy a real-time function (MLRun's ``mlrun.deploy_function``): its address;
    ``mock=True`` keeps it in this process, so ``function.invoke(...)`` answers from the mock
    (unset: as ``FNRUN_MOCK_DEPLOY`` says); its classes are found in the caller's globals."""
    return call_deploy(function, sys._getframe(1).f_globals, mock, kwargs)


def call_deploy(
    function: Any, namespace: dict[str, Any], mock: bool | None, kwargs: dict[str, Any]
) -> str:
    """``function.deploy(**kwargs)`` for a function deployed as a service (a clear error for
    any other kind), a mock's classes found in ``namespace``."""
    deploy = getattr(function, "deploy", None)
    if not callable(deploy) or "mock" not in inspect.signature(deploy).parameters:
        raise InvalidArgumentError(
            f"a {function.kind!r} function is not deployed as a service",
            field="kind",
            hint="deploy serving or nuclio functions; run batch functions with .run()",
        )
    kwargs.setdefault("namespace", namespace)
    return str(deploy(mock=mock, **kwargs))


# hub items built from code (marketplace); a function from its document below the kinds (a
# Dask worker's run, a kind changed for parallel iterations)
hand_down(code_to_function=code_to_function, function_from_dict=function_from_dict)
