"""HTML cards for notebooks: runs (``run.show()``), functions and graphs.

May import: the shared leaves only (it draws plain values and duck-typed objects: the layers
below and above hand it what to show).
"""

from __future__ import annotations

import sys


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython already imported: never imported here)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"
