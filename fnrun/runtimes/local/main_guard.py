"""Whether this call comes from the top of a script with no ``if __name__ == "__main__":``
guard: worker processes started by *spawn* (Dask's LocalCluster, multiprocessing pools)
import the script again, run the same call again in every worker, and the workers never come
up — a hang. Found from the call stack and the script's syntax tree, before any process
starts, so the caller can fail at once naming the line and the fix.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from types import FrameType


def unguarded_line() -> int:
    """The line of the script's top-level statement this call runs under, when that
    statement is not inside a ``__main__`` guard; 0 when guarded, or when ``__main__`` is no
    script (a notebook, ``python -c``, the REPL, ``python -m pkg``: spawn imports nothing
    then)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path:
        return 0
    name = str(getattr(getattr(main, "__spec__", None), "name", "") or "")
    if name.endswith("__main__"):
        return 0  # `python -m pkg`: spawn does not import a package's __main__ again
    frame = _top_frame(main.__dict__)
    if frame is None:
        return 0
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return 0
    line = frame.f_lineno
    guarded = any(
        _is_main_guard(node) and node.lineno <= line <= (node.end_lineno or node.lineno)
        for node in tree.body
    )
    return 0 if guarded else line


def _top_frame(main_globals: dict[str, object]) -> FrameType | None:
    """The frame running the script's module-level code, if it is on the stack."""
    frame: FrameType | None = sys._getframe(1)
    found = None
    while frame is not None:
        if frame.f_globals is main_globals and frame.f_code.co_name == "<module>":
            found = frame
        frame = frame.f_back
    return found


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (either side, ``==`` only)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    texts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return bool(names and texts)
