"""The HTML card of a function: kind, version, image, handlers with their parameters, and
for serving functions the graph drawn inline (our own SVG), rendered by
``templates/_function_card.html``."""

from __future__ import annotations

from typing import Any

from fnrun.notebook.templating import our_svg, render


def function_card(fn: Any) -> str:
    return render("function_card.html", card=card_values(fn))


def card_values(fn: Any) -> dict[str, Any]:
    """What the card shows, as plain values for the template."""
    meta, spec = fn.metadata, fn.spec
    facts = {
        "hash": meta.hash,
        "image": spec.image,
        "default handler": spec.default_handler,
        "command": spec.command,
        "description": spec.description,
    }
    graph = getattr(spec, "graph", None)
    return {
        "title": f"function {meta.name}",
        "sub": f"kind {fn.kind} · project {meta.project or '-'} · tag {meta.tag or '-'}",
        "facts": {k: v for k, v in facts.items() if v},
        "handlers": _handlers(spec),
        "graph": _svg(graph) if graph is not None else "",
    }


def _handlers(spec: Any) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for name, entry in spec.entry_points.items():
        for param in entry.parameters:
            if param.name == "context":
                continue
            default = "" if param.required else repr(param.default)
            rows.append([name, param.name, param.type, default, param.doc])
        if not entry.parameters:
            rows.append([name, "", "", "", entry.doc])
    return rows


def _svg(graph: Any) -> Any:
    return our_svg(graph.plot())  # the graph draws itself (fnrun.model.graph_plot)


def graph_card(graph: Any) -> str:
    """A graph alone (``graph`` in a notebook cell)."""
    return render("graph_card.html", title=f"{graph.kind_name} graph", svg=_svg(graph))
