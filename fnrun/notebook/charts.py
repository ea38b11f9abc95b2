"""Charts drawn as SVG with no dependency: the line chart of chart artifacts and run cards,
rendered by ``templates/line_chart.svg`` (escaped: column names are a run's text)."""

from __future__ import annotations

from typing import Any

from fnrun.notebook.templating import render

_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


def svg_lines(header: list[str], rows: list[list[Any]], width: int = 480, height: int = 240) -> str:
    """A line chart: one polyline per numeric column after the first, with axes, the x and y
    ranges, and a legend of the column names; "" when there is nothing to draw."""
    points = [r for r in rows if r and all(isinstance(v, int | float) for v in r)]
    if len(points) < 2 or len(header) < 2:
        return ""
    left, bottom, top, right = 44, 28, 10, 10
    xs = [float(r[0]) for r in points]
    ys = [float(v) for r in points for v in r[1:]]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = (width - left - right) / ((x1 - x0) or 1)
    sy = (height - top - bottom) / ((y1 - y0) or 1)
    base = height - bottom

    def label(x: float, y: float, text: str, anchor: str) -> dict[str, Any]:
        return {"x": x, "y": y, "text": text, "anchor": anchor}

    series = [
        {
            "color": _COLORS[(col - 1) % len(_COLORS)],
            "name": str(header[col]),
            "x": left + 8,
            "y": top + 12 * col,
            "points": " ".join(
                f"{left + (r[0] - x0) * sx:.1f},{base - (r[col] - y0) * sy:.1f}"
                for r in points
                if col < len(r)
            ),
        }
        for col in range(1, len(header))
    ]
    return render(
        "line_chart.svg",
        width=width,
        height=height,
        axes=[(left, top, left, base), (left, base, width - right, base)],
        labels=[
            label(left - 4, base, f"{y0:g}", "end"),
            label(left - 4, top + 8, f"{y1:g}", "end"),
            label(left, base + 14, f"{x0:g}", "start"),
            label(width - right, base + 14, f"{x1:g}", "end"),
            label((left + width - right) // 2, base + 24, str(header[0]), "middle"),
        ],
        series=series,
    )
