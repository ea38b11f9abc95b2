"""Pictures of a graph: a self-contained SVG (no system graphviz needed), HTML around it, DOT
text, and PNG through graphviz's ``dot`` where it is installed.

Steps are drawn left to right by depth; routers show their routes, queues are marked, the
responder has a bold border, error edges are red and dashed, and each child function has its
own colour (with a legend).
"""

from __future__ import annotations

import html
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fnrun.errors import FnrunError, InvalidArgumentError

# A step of fnrun.model.graph, read by its ``kind`` (task, queue, router, flow): the picture
# draws the spec, and the spec's classes draw themselves with it (``graph.plot()``).
Step = Any

_COLORS = ["#e8f0fe", "#e6f4ea", "#fef7e0", "#fce8e6", "#f3e8fd", "#e0f7fa"]
_W, _H, _DX, _DY = 150, 44, 200, 70


@dataclass
class _Box:
    name: str
    label: str
    kind: str
    function: str
    responder: bool
    depth: int = 0
    row: int = 0
    edges: list[tuple[str, bool]] = field(default_factory=list)  # (target, is_error_edge)


def _boxes(graph: Step) -> dict[str, _Box]:
    if graph.kind == "router":
        root = _Box("router", f"router {graph.class_name or ''}".strip(), "router", "", True)
        boxes = {"router": root}
        for name, route in graph.routes.items():
            boxes[name] = _Box(name, _label(route), "route", "", False, depth=1)
            root.edges.append((name, False))
        return boxes
    boxes = {
        n: _Box(n, _label(s), _kind(s), s.function, s.responder) for n, s in graph.steps.items()
    }
    for name, step in graph.steps.items():
        for parent in step.after:
            if parent in boxes:
                boxes[parent].edges.append((name, False))
        handler = step.on_error or (graph.on_error if graph.on_error != name else "")
        if handler in boxes and step.on_error:
            boxes[name].edges.append((handler, True))
    _layout(graph, boxes)
    return boxes


def _kind(step: Step) -> str:
    if step.kind == "queue":
        return "queue"
    if step.kind == "router":
        return "router"
    if step.kind == "flow":
        return "flow"
    return "task"


def _label(step: Step) -> str:
    if step.kind == "queue":
        return f"{step.name} >> {step.path}" if step.path else f"{step.name} >>"
    if step.kind == "router":
        return f"{step.name} [{', '.join(step.routes)}]"
    if step.kind == "flow":
        return f"{step.name} {{{', '.join(step.steps)}}}"
    target = getattr(step, "class_name", "") or getattr(step, "handler", "")
    return f"{step.name}: {target.split('.')[-1]}" if target and target != step.name else step.name


def _layout(graph: Step, boxes: dict[str, _Box]) -> None:
    depth: dict[str, int] = {}

    def visit(name: str, seen: frozenset[str]) -> int:
        if name in depth:
            return depth[name]
        parents = [p for p in graph.steps[name].after if p in graph.steps and p not in seen]
        depth[name] = 1 + max((visit(p, seen | {name}) for p in parents), default=-1)
        return depth[name]

    rows: dict[int, int] = {}
    for name in graph.steps:
        d = visit(name, frozenset())
        boxes[name].depth, boxes[name].row = d, rows.get(d, 0)
        rows[d] = rows.get(d, 0) + 1


def to_svg(graph: Step) -> str:
    boxes = _boxes(graph)
    if graph.kind == "router":
        for i, box in enumerate(b for b in boxes.values() if b.kind == "route"):
            box.row = i
    functions = sorted({b.function for b in boxes.values() if b.function})
    color = {f: _COLORS[(i + 1) % len(_COLORS)] for i, f in enumerate(functions)}
    width = (max((b.depth for b in boxes.values()), default=0) + 1) * _DX + 40
    height = (max((b.row for b in boxes.values()), default=0) + 1) * _DY + 40 + 20 * len(functions)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        "font-family='sans-serif' font-size='12'>",
        "<defs><marker id='arrow' markerWidth='8' markerHeight='8' refX='8' refY='4' "
        "orient='auto'><path d='M0,0 L8,4 L0,8 z' fill='#555'/></marker></defs>",
    ]
    pos = {n: (20 + b.depth * _DX, 20 + b.row * _DY) for n, b in boxes.items()}
    for name, box in boxes.items():
        x, y = pos[name]
        for target, is_error in box.edges:
            tx, ty = pos[target]
            style = "stroke='#d93025' stroke-dasharray='5,4'" if is_error else "stroke='#555'"
            parts.append(
                f"<line x1='{x + _W}' y1='{y + _H / 2}' x2='{tx}' y2='{ty + _H / 2}' "
                f"{style} marker-end='url(#arrow)'/>"
            )
    for name, box in boxes.items():
        x, y = pos[name]
        fill = color.get(box.function, _COLORS[0])
        stroke = "3" if box.responder else "1"
        rx = "2" if box.kind == "queue" else "10"
        dash = " stroke-dasharray='3,2'" if box.kind == "queue" else ""
        parts.append(
            f"<g><title>{html.escape(box.kind)} {html.escape(name)}</title>"
            f"<rect x='{x}' y='{y}' width='{_W}' height='{_H}' rx='{rx}' fill='{fill}' "
            f"stroke='#333' stroke-width='{stroke}'{dash}/>"
            f"<text x='{x + 8}' y='{y + 18}'>{html.escape(box.label[:24])}</text>"
            f"<text x='{x + 8}' y='{y + 34}' fill='#666'>{html.escape(box.kind)}</text></g>"
        )
    for i, function in enumerate(functions):
        y = height - 20 * (len(functions) - i)
        parts.append(
            f"<rect x='20' y='{y - 10}' width='12' height='12' fill='{color[function]}' "
            f"stroke='#333'/><text x='38' y='{y}'>function {html.escape(function)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def dot_string(text: str) -> str:
    """``text`` as one DOT quoted string: a quote, backslash or line break in a step name or
    class cannot end the string or add attributes. (DOT's rule is these three characters; a
    .dot file is drawn without graphviz installed, so the quoting is ours, not the
    ``graphviz`` package's.)"""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


def to_dot(graph: Step) -> str:
    lines = ["digraph fnrun {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
    for name, box in _boxes(graph).items():
        shape = {"queue": "cylinder", "router": "diamond"}.get(box.kind, "box")
        bold = ", penwidth=3" if box.responder else ""
        node = dot_string(name)
        lines.append(f"  {node} [label={dot_string(box.label)}, shape={shape}{bold}];")
        for target, is_error in box.edges:
            extra = " [color=red, style=dashed]" if is_error else ""
            lines.append(f"  {node} -> {dot_string(target)}{extra};")
    lines.append("}")
    return "\n".join(lines)


def plot(graph: Step | None, filename: str = "", format: str = "") -> str:
    """Draw ``graph``; write ``filename`` (.svg, .html, .dot or .png) when given; return SVG."""
    if graph is None:
        raise InvalidArgumentError(
            "the function has no graph", field="spec.graph", hint="call fn.set_topology(...) first"
        )
    svg = to_svg(graph)
    if not filename:
        return svg
    fmt = format or Path(filename).suffix.lstrip(".") or "svg"
    path = Path(filename)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "svg":
        path.write_text(svg)
    elif fmt == "html":
        path.write_text(f"<!doctype html><html><body>{svg}</body></html>")
    elif fmt == "dot":
        path.write_text(to_dot(graph))
    elif fmt == "png":
        dot = shutil.which("dot")
        if dot is None:
            raise FnrunError(
                "a .png picture needs graphviz's dot",
                field="filename",
                hint="apt-get install graphviz, or plot to .svg or .html",
            )
        subprocess.run([dot, "-Tpng", "-o", str(path)], input=to_dot(graph), text=True, check=True)
    else:
        raise InvalidArgumentError(
            f"unsupported picture format {fmt!r}", field="format", hint="use svg, html, dot or png"
        )
    return svg
