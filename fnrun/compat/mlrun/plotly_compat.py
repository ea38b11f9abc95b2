"""Plotly APIs that MLRun code (the hub's ``describe``) calls and plotly 6 removed.

``plotly.figure_factory.create_annotated_heatmap`` is gone from plotly 6; MLRun pins an older
plotly, fnrun does not. When MLRun code runs on fnrun's surface, a figure factory of ours by
that name is put back where the old one was, only if plotly lacks it (an older plotly keeps
its own). It is installed when ``plotly.figure_factory`` is imported (or at once, when it
already is), so importing ``mlrun`` does not import plotly.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

_TARGET = "plotly.figure_factory"


def create_annotated_heatmap(
    z: Sequence[Sequence[Any]],
    x: Sequence[Any] | None = None,
    y: Sequence[Any] | None = None,
    annotation_text: Sequence[Sequence[Any]] | None = None,
    colorscale: Any = "Plasma",
    font_colors: Sequence[str] | None = None,
    showscale: bool = False,
    reversescale: bool = False,
    **kwargs: Any,
) -> Any:
    """A heatmap with each cell's text written on it (plotly 5's figure factory of that
    name): a ``Heatmap`` trace and one annotation per cell, in a dark or light font by the
    cell's value."""
    import plotly.graph_objects as go

    rows = [list(row) for row in z]
    if annotation_text is not None and (
        len(annotation_text) != len(rows)
        or any(len(a) != len(r) for a, r in zip(annotation_text, rows, strict=False))
    ):
        raise ValueError("annotation_text must have the same dimensions as z")
    xs = list(x) if x is not None else list(range(len(rows[0]) if rows else 0))
    ys = list(y) if y is not None else list(range(len(rows)))
    values = [v for row in rows for v in row if isinstance(v, int | float)]
    middle = (min(values) + max(values)) / 2 if values else 0
    dark, light = [*(font_colors or ()), "#FFFFFF", "#000000"][:2]
    annotations = [
        {
            "text": str(annotation_text[i][j] if annotation_text is not None else value),
            "x": xs[j],
            "y": ys[i],
            "xref": "x1",
            "yref": "y1",
            "showarrow": False,
            "font": {"color": dark if isinstance(value, int | float) and value < middle else light},
        }
        for i, row in enumerate(rows)
        for j, value in enumerate(row)
    ]
    trace = go.Heatmap(
        z=rows,
        x=xs,
        y=ys,
        colorscale=colorscale,
        showscale=showscale,
        reversescale=reversescale,
        **kwargs,
    )
    layout = go.Layout(
        annotations=annotations,
        xaxis={"ticks": "", "side": "top", "gridcolor": "rgb(0, 0, 0)"},
        yaxis={"ticks": "", "ticksuffix": "  "},
    )
    return go.Figure(data=[trace], layout=layout)


def _restore(module: ModuleType) -> None:
    if not hasattr(module, "create_annotated_heatmap"):
        module.create_annotated_heatmap = create_annotated_heatmap  # type: ignore[attr-defined]


class _Finder(importlib.abc.MetaPathFinder):
    """Finds ``plotly.figure_factory`` as the other finders do, then restores the factory
    right after the module has run."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != _TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            _restore(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Put the removed factories back now (plotly imported) or when plotly is imported."""
    module = sys.modules.get(_TARGET)
    if module is not None:
        _restore(module)
        return
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
