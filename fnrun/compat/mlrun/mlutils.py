"""``mlrun.mlutils`` (and ``.plots``), MLRun's old helpers that hub code still imports."""

from __future__ import annotations

from typing import Any

__all__ = ["gcf_clear"]


def gcf_clear(plt: Any) -> None:
    """Clear and close matplotlib's current figure (so the next plot starts empty)."""
    plt.cla()
    plt.clf()
    plt.close()
