"""The HTML card of a function: kind, version, image, handlers with their parameters, and
for serving functions the graph drawn inline (our own SVG)."""

from __future__ import annotations

from typing import Any

from fnrun.model.schema import NOTSET
from fnrun.notebook.html import card, esc, kv_table, section, table


def function_card(fn: Any) -> str:
    meta, spec = fn.metadata, fn.spec
    sub = " · ".join(
        esc(x)
        for x in (f"kind {fn.kind}", f"project {meta.project or '-'}", f"tag {meta.tag or '-'}")
    )
    facts = {
        "hash": meta.hash,
        "image": spec.image,
        "default handler": spec.default_handler,
        "command": spec.command,
        "description": spec.description,
    }
    parts = [kv_table({k: v for k, v in facts.items() if v}), _handlers(spec), _graph(fn)]
    return card(f"function {meta.name}", "", sub, "".join(parts))


def _handlers(spec: Any) -> str:
    rows = []
    for name, entry in spec.entry_points.items():
        for param in entry.parameters:
            if param.name == "context":
                continue
            default = "" if param.default is NOTSET else repr(param.default)
            rows.append([name, param.name, param.type, default, param.doc])
        if not entry.parameters:
            rows.append([name, "", "", "", entry.doc])
    header = ["handler", "parameter", "type", "default", "doc"]
    return section("handlers", table(header, rows)) if rows else ""


def _graph(fn: Any) -> str:
    graph = getattr(fn.spec, "graph", None)
    if graph is None:
        return ""
    from fnrun.graph.plot import to_svg

    return section("graph", f"<div class='graph'>{to_svg(graph)}</div>")


def graph_card(graph: Any) -> str:
    """A graph alone (``graph`` in a notebook cell)."""
    from fnrun.graph.plot import to_svg

    return card(f"{graph.kind_name} graph", "", "", to_svg(graph))
