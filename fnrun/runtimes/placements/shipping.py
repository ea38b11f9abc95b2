"""The function's code as a module file other processes can import.

In-process runs import the code as module ``fnrun_code_<sha1>`` (fnrun.execution.loader), so
objects made from its functions pickle by that module name. Engines that run those objects
elsewhere (Dask workers, Spark executors) get the same file under the same name once per
connection and code version.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fnrun.model.function_like import RuntimeLike

_lock = threading.Lock()


def ship_code(fn: RuntimeLike, home: str | Path, target: Any, send: Callable[[str], None]) -> None:
    """Call ``send(path)`` with the code's module file unless ``target`` already has it."""
    if not fn.code:
        return
    digest = hashlib.sha1(fn.code.encode("utf-8")).hexdigest()
    with _lock:  # parallel iterations ship at once: the file goes once
        sent: set[str] | None = getattr(target, "_fnrun_code_shipped", None)
        if sent is None:
            sent = target._fnrun_code_shipped = set()  # lives and dies with the connection
        if digest in sent:
            return
        path = Path(home) / "code" / digest / f"fnrun_code_{digest}.py"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(fn.code)
        send(str(path))
        sent.add(digest)
