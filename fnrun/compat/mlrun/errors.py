"""``mlrun.errors``: MLRun's error names as fnrun's errors (catching either works)."""

from __future__ import annotations

from fnrun.errors import ConflictError, FnrunError, InvalidArgumentError, NotFoundError
from fnrun.graph.model_runner import ModelRunnerError

__all__ = [
    "MLRunBaseError",
    "MLRunConflictError",
    "MLRunInvalidArgumentError",
    "MLRunNotFoundError",
    "MLRunRuntimeError",
    "ModelRunnerError",
    "err_to_str",
]


MLRunBaseError = FnrunError
MLRunInvalidArgumentError = InvalidArgumentError
MLRunNotFoundError = NotFoundError
MLRunConflictError = ConflictError


class MLRunRuntimeError(FnrunError, RuntimeError):
    pass


def err_to_str(err: BaseException | None) -> str:
    """The error and its causes, as one line."""
    parts: list[str] = []
    while err is not None and len(parts) < 10:
        parts.append(str(err) or type(err).__name__)
        err = err.__cause__ or err.__context__
    return ", caused by: ".join(parts)
