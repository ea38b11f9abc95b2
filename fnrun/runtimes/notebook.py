"""Notebook code: a ``.ipynb`` becomes Python through nuclio-jupyter (``fnrun[notebook]``).

Cells marked ``# nuclio: ignore`` are dropped, as nuclio-jupyter does for Nuclio functions.
"""

from __future__ import annotations

from pathlib import Path

from fnrun.errors import FnrunError


def notebook_to_code(path: Path, name: str = "") -> str:
    try:
        from nuclio import build_file
    except ImportError as exc:
        raise FnrunError(
            "reading a notebook needs nuclio-jupyter",
            field="filename",
            hint="pip install 'fnrun[notebook]'",
        ) from exc
    _, _, code = build_file(str(path), name=name or path.stem)
    return str(code)
