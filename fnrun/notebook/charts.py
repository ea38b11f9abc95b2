"""Charts drawn as SVG with no dependency: the line chart of chart artifacts and run cards."""

from __future__ import annotations

import html
from typing import Any


def svg_lines(header: list[str], rows: list[list[Any]], width: int = 480, height: int = 240) -> str:
    """A dependency-free SVG line chart: one polyline per numeric column after the first, with
    axes, the x and y ranges, and a legend of the column names."""
    points = [r for r in rows if r and all(isinstance(v, int | float) for v in r)]
    if len(points) < 2 or len(header) < 2:
        return ""
    left, bottom, top, right = 44, 28, 10, 10
    xs = [float(r[0]) for r in points]
    ys = [float(v) for r in points for v in r[1:]]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = (width - left - right) / ((x1 - x0) or 1)
    sy = (height - top - bottom) / ((y1 - y0) or 1)
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
    base = height - bottom
    parts = [
        f"<line x1='{left}' y1='{top}' x2='{left}' y2='{base}' stroke='#888'/>",
        f"<line x1='{left}' y1='{base}' x2='{width - right}' y2='{base}' stroke='#888'/>",
        _label(left - 4, base, f"{y0:g}", "end"),
        _label(left - 4, top + 8, f"{y1:g}", "end"),
        _label(left, base + 14, f"{x0:g}", "start"),
        _label(width - right, base + 14, f"{x1:g}", "end"),
        _label((left + width - right) // 2, base + 24, str(header[0]), "middle"),
    ]
    for col in range(1, len(header)):
        coords = " ".join(
            f"{left + (r[0] - x0) * sx:.1f},{base - (r[col] - y0) * sy:.1f}"
            for r in points
            if col < len(r)
        )
        color = colors[(col - 1) % len(colors)]
        name = html.escape(str(header[col]))
        parts.append(
            f"<polyline fill='none' stroke='{color}' stroke-width='2' points='{coords}'>"
            f"<title>{name}</title></polyline>"
            f"<text x='{left + 8}' y='{top + 12 * col}' fill='{color}' font-size='11'>{name}</text>"
        )
    svg = f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"
    return f"{svg}{''.join(parts)}</svg>"


def _label(x: float, y: float, text: str, anchor: str) -> str:
    return (
        f"<text x='{x}' y='{y}' font-size='10' fill='#555' text-anchor='{anchor}'>"
        f"{html.escape(text)}</text>"
    )
