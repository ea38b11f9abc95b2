"""Notebook code: a ``.ipynb`` becomes Python through nuclio-jupyter (``fnrun[notebook]``).

Cells marked ``# nuclio: ignore`` are dropped, as nuclio-jupyter does for Nuclio functions.
"""

from __future__ import annotations

from pathlib import Path

from fnrun.extras import require


def notebook_to_code(path: Path, name: str = "") -> str:

    build_file = require(
        "nuclio", "notebook", "reading a notebook", field="filename", package="nuclio-jupyter"
    ).build_file
    _, _, code = build_file(str(path), name=name or path.stem)
    return str(code)
