"""``parse``: :func:`ast.parse` that is safe to call from several threads.

CPython 3.11 keeps the depth counter of its AST-object builder in interpreter-wide state, so two
threads building AST objects at once (our parses, or the interpreter's own: 3.11's traceback
formatting parses source lines for its ``^^^`` marks) can trip
``SystemError: AST constructor recursion depth mismatch`` on perfectly good code
(python/cpython#106905). Our parses take one lock, and a parse hit by that spurious error from
someone else's parse is tried again; any other error is the caller's.
"""

from __future__ import annotations

import ast
import threading
from typing import Literal, overload

_LOCK = threading.Lock()
_ATTEMPTS = 3


@overload
def parse(source: str, filename: str = ..., mode: Literal["exec"] = ...) -> ast.Module: ...
@overload
def parse(source: str, filename: str = ..., *, mode: Literal["eval"]) -> ast.Expression: ...


def parse(
    source: str, filename: str = "<unknown>", mode: Literal["exec", "eval"] = "exec"
) -> ast.Module | ast.Expression:
    """``ast.parse(source, filename, mode)``, serialised and retried on the 3.11 race."""
    for attempt in range(_ATTEMPTS):
        try:
            with _LOCK:
                tree = ast.parse(source, filename=filename, mode=mode)
            assert isinstance(tree, ast.Module | ast.Expression)
            return tree
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc) or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
