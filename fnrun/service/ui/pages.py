"""The web UI's pages, rendered on the server from the run DB by the templates in
``templates/`` (no client framework; a little script sorts tables, picks runs to compare and
tails logs). Each function gathers plain values; the templates escape them.

Projects → a project (its functions, its latest runs) → runs (filtered and paged in the DB)
→ a run (the run card: params, results, iterations with the best marked, artifacts with
previews; its live log) · compare runs · a function (versions, code, the diff of two
versions; a serving graph's picture) · the hub's catalog.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fnrun.db.base import RunDB
from fnrun.db.monitor import UNFINISHED
from fnrun.errors import NotFoundError
from fnrun.marketplace.docs import doc_blocks, is_context
from fnrun.marketplace.resolve import read_catalog
from fnrun.marketplace.sources import hub_sources
from fnrun.model.schema import NOTSET
from fnrun.notebook.figures import figure_json
from fnrun.notebook.function_card import card_values
from fnrun.notebook.run_card import MAX_FIGURE, Reader, duration
from fnrun.notebook.templating import number, render, stamp
from fnrun.runtimes.functions.factory import function_from_dict
from fnrun.runtimes.functions.importer import import_function
from fnrun.runtimes.launch.runobject import RunObject
from fnrun.service.ui.layout import TEMPLATES, UI, href, page

PAGE_SIZE = 50
Doc = dict[str, Any]


# -- projects ----------------------------------------------------------------------------
def projects_page(db: RunDB) -> str:
    projects = []
    for doc in db.list_projects():
        name = str(doc["metadata"]["name"])
        latest = db.list_runs(project=name, last=1)
        last = None
        if latest:
            status = latest[0].get("status") or {}
            last = {"name": latest[0]["metadata"].get("name", ""),
                    "state": str(status.get("state", "")),
                    "when": stamp(status.get("start_time"), 16)}  # fmt: skip
        projects.append({
            "name": name, "url": href("projects", name), "runs_url": href("projects", name, "runs"),
            "description": str((doc.get("spec") or {}).get("description") or ""),
            "functions": len(db.list_functions(project=name)), "latest": last,
        })  # fmt: skip
    return page("projects.html", "projects", [("projects", "")], projects=projects)


def project_page(db: RunDB, project: str) -> str:
    functions = [
        {"name": f["metadata"]["name"], "kind": f.get("kind", ""),
         "tag": f["metadata"].get("tag", ""),
         "url": href("projects", project, "functions", f["metadata"]["name"]),
         "updated": stamp(f["metadata"].get("updated"))}
        for f in db.list_functions(project=project)
    ]  # fmt: skip
    docs = db.list_runs(project=project, last=10)
    keys = _result_keys(docs)
    return page("project.html", project, [("projects", href()), (project, "")],
                functions=functions, runs=_run_rows(project, docs, keys),
                header=[*_RUNS_HEADER, *keys, "labels"],
                runs_url=href("projects", project, "runs"))  # fmt: skip


# -- runs --------------------------------------------------------------------------------
_RUNS_HEADER = ["uid", "name", "state", "started", "duration", "iterations", "parameters"]
MAX_RESULT_COLUMNS = 8  # results shown as columns of their own (the most common keys)
_STATES = ["", "completed", "running", "error", "aborted", "pending", "created"]
_SERVER_SORT = {"name": "name", "state": "state", "started": "start_time"}


def runs_page(db: RunDB, project: str, query: dict[str, Any]) -> str:
    """Runs newest first, ``PAGE_SIZE`` a page, filtered by name, state and labels in the DB."""
    name, state = str(query.get("name") or ""), str(query.get("state") or "")
    labels = [str(v) for v in query.get("label") or [] if v]
    pageno = max(1, int(query.get("page") or 1))
    sort = str(query.get("sort") or "")
    from fnrun.service.queries import query_labels  # the API's own label=k=v rule

    wanted = query_labels(labels)
    runs = db.list_runs(name or None, project, wanted, state or None, None, False,
                        PAGE_SIZE + 1, (pageno - 1) * PAGE_SIZE, sort)  # fmt: skip
    keys = _result_keys(runs[:PAGE_SIZE])
    base = {"name": name, "state": state, "label": labels, "sort": sort}
    here = ("projects", project, "runs")
    crumbs = [("projects", href()), (project, href("projects", project)), ("runs", "")]
    return page(
        "runs.html", "runs", crumbs,
        runs=_run_rows(project, runs[:PAGE_SIZE], keys),
        header=[*_sort_header(project, base), *keys, "labels"],
        name=name, state=state, states=_STATES, label=labels[0] if labels else "", sort=sort,
        compare_url=href("projects", project, "compare"), page=pageno,
        newer=href(*here, **base, page=pageno - 1) if pageno > 1 else "",
        older=href(*here, **base, page=pageno + 1) if len(runs) > PAGE_SIZE else "",
    )  # fmt: skip


def _sort_header(project: str, base: dict[str, Any]) -> list[Any]:
    """The runs header whose name, state and started columns sort all the runs in the DB
    (again: the other way); the others sort the rows shown."""
    current = str(base.get("sort") or "")
    out: list[Any] = []
    for column in _RUNS_HEADER:
        key = _SERVER_SORT.get(column)
        if key is None:
            out.append(column)
            continue
        nxt = f"-{key}" if current == key else key
        mark = " ▲" if current == key else " ▼" if current == f"-{key}" else ""
        url = href("projects", project, "runs", **{**base, "sort": nxt})
        out.append({"text": column, "url": url, "mark": mark})
    return out


def _result_keys(runs: list[Doc]) -> list[str]:
    """The results shown as columns: the keys most runs of the page have, at most
    ``MAX_RESULT_COLUMNS`` (the table sorts by any of them)."""
    counts: dict[str, int] = {}
    for run in runs:
        for key in (run.get("status") or {}).get("results") or {}:
            counts[str(key)] = counts.get(str(key), 0) + 1
    ranked = sorted(counts, key=lambda k: (-counts[k], k))[:MAX_RESULT_COLUMNS]
    return sorted(ranked)


def _run_rows(project: str, runs: list[Doc], keys: list[str]) -> list[Doc]:
    rows = []
    for run in runs:
        meta, spec, status = run["metadata"], run.get("spec") or {}, run.get("status") or {}
        uid = str(meta.get("uid", ""))
        results = dict(status.get("results") or {})
        table = status.get("iterations") or []
        rows.append({
            "uid": uid, "url": href("projects", project, "runs", uid), "name": meta.get("name", ""),
            "state": str(status.get("state", "")), "started": stamp(status.get("start_time")),
            "duration": duration(status), "parameters": dict(spec.get("parameters") or {}),
            "iterations": str(len(table) - 1) if len(table) > 1 else "",
            "results": [number(results[k]) if k in results else "" for k in keys],
            "labels": dict(meta.get("labels") or {}),
        })  # fmt: skip
    return rows


def run_page(db: RunDB, project: str, uid: str, reader: Reader) -> str:
    """A run: its card (artifact bodies read by ``reader``, the download guard) and log."""
    from fnrun.notebook.run_card import card_values

    doc = db.read_run(uid, project)

    def artifact_link(key: str, target: str) -> str:
        if key == "function":  # the function's page (target: its db:// URI)
            name = target.removeprefix("db://").split("/", 1)[-1]
            return href("projects", project, "functions", re.split(r"[:@]", name)[0])
        if key == "run":  # an input's producer (target: its uid)
            return href("projects", project, "runs", target)
        if target == "chart":  # a plotly chart's own page (graph.ui: chart_page)
            return href("projects", project, "runs", uid, "charts", key)
        base = f"/api/v1/artifacts/{_q(key)}/download?project={_q(project)}&uid={_q(uid)}"
        return base + ("&inline=1" if target == "inline" else "")

    state = str((doc.get("status") or {}).get("state", ""))
    name = str(doc["metadata"].get("name", ""))
    crumbs = [("projects", href()), (project, href("projects", project)),
              ("runs", href("projects", project, "runs")), (uid[:8], "")]  # fmt: skip
    return page(
        "run.html", f"run {name}", crumbs, heading=False,  # the card has the title
        card=card_values(RunObject(doc, db), artifact_link, reader), state=state,
        log_url=f"/api/v1/logs/{_q(uid)}?project={_q(project)}", live=state in UNFINISHED,
    )  # fmt: skip


CHART_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'self'; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:; frame-ancestors 'self'"
)


def chart_page(db: RunDB, project: str, uid: str, key: str, reader: Reader) -> str:
    """A plotly chart of a run, drawn by the service's plotly.js. Served under
    ``CHART_CSP``: its scripts run in a sandbox with no origin (no cookies, no DOM or API of
    ours), and load nothing but our own scripts; the figure is data, never markup."""

    run = RunObject(db.read_run(uid, project), db)
    doc = dict(run.artifact(key).meta or {})
    if doc.get("kind") != "plotly":
        raise NotFoundError(f"run {uid[:8]} has no plotly chart {key!r}", field="key")
    figure = figure_json(reader(key, doc, MAX_FIGURE))
    return render("chart.html", TEMPLATES, ui=UI, figure=figure, key=key)


def _q(text: str) -> str:
    return quote(str(text), safe="")


# -- compare -----------------------------------------------------------------------------
def compare_page(db: RunDB, project: str, uids: list[str], result: str) -> str:
    """Runs side by side (as MLflow's compare): each column a run by name and start, the
    cells that differ from the first run marked, a chosen result's bars from a baseline that
    shows the differences, and parallel coordinates of the parameters to that result."""
    runs = [db.read_run(u, project) for u in dict.fromkeys(u for u in uids if u)]
    crumbs = [("projects", href()), (project, href("projects", project)),
              ("runs", href("projects", project, "runs")), ("compare", "")]  # fmt: skip
    if len(runs) < 2:
        return page("compare.html", "compare runs", crumbs, heads=[])
    runs = runs[:MAX_COMPARED]
    uids = [str(r["metadata"]["uid"]) for r in runs]
    labels = [_run_label(r) for r in runs]
    heads = [{"text": label, "uid": u, "url": href("projects", project, "runs", u),
              "title": f"run {u}"} for u, label in zip(uids, labels, strict=True)]  # fmt: skip
    params = [dict((r.get("spec") or {}).get("parameters") or {}) for r in runs]
    results = [dict((r.get("status") or {}).get("results") or {}) for r in runs]
    numeric = sorted({k for res in results for k, v in res.items() if _is_number(v)})
    chosen = result if result in numeric else (numeric[0] if numeric else "")
    chart = _bars(labels, [res.get(chosen) for res in results])
    parallel = _parallel(params, [res.get(chosen) for res in results], chosen)
    return page("compare.html", "compare runs", crumbs, heads=heads,
                parameters=_side_by_side(params), results=_side_by_side(results),
                numeric=numeric, chosen=chosen, chart=chart, parallel=parallel)  # fmt: skip


MAX_COMPARED = 50


def _run_label(run: Doc) -> str:
    """A column's name: the run's name and when it started (``train 12-07 14:02``)."""
    when = stamp((run.get("status") or {}).get("start_time"), 16)[5:] if (
        run.get("status") or {}).get("start_time") else ""  # fmt: skip
    return f"{run['metadata'].get('name', '')} {when}".strip()


def _side_by_side(values: list[Doc]) -> list[Doc]:
    """Rows of one key across runs; a cell that differs from the first run's is marked."""
    rows = []
    for key in dict.fromkeys(k for v in values for k in v):
        cells = [v.get(key, "") for v in values]
        first = repr(cells[0])
        marked = [{"text": _fmt(c), "num": _is_number(c), "differs": i > 0 and repr(c) != first}
                  for i, c in enumerate(cells)]  # fmt: skip
        rows.append({"key": key, "cells": marked, "differs": len({repr(c) for c in cells}) > 1})
    return rows


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bars(names: list[str], values: list[Any]) -> Doc:
    """The geometry of a bar chart of one result across runs (drawn by the template): bars
    start at a baseline a little under the smallest value, so differences show (a bar from
    zero makes 0.91 and 0.93 look the same); each value with its change from the first run."""
    numbers = [float(v) if _is_number(v) else None for v in values]
    known = [n for n in numbers if n is not None]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    spread = high - low
    base = low - spread * 0.15 if spread else (low - abs(low) * 0.5 if low else -1.0)
    top = (high - base) or 1.0
    width, bar, gap, left = 640, 30, 14, 170
    first = numbers[0]
    bars = []
    for i, (name, value) in enumerate(zip(names, numbers, strict=True)):
        y = 50 + i * (bar + gap)
        length = (width - left - 120) * ((value - base) / top) if value is not None else 0.0
        delta = "" if value is None or first is None or i == 0 else f" ({value - first:+.4g})"
        bars.append({"name": name, "y": y, "text_y": f"{y + bar * 0.65:.0f}", "x": left,
                     "length": f"{max(length, 0.0):.1f}", "value_x": f"{left + 6 + length:.1f}",
                     "value": ("" if value is None else _fmt(values[i])) + delta})  # fmt: skip
    return {"width": width, "height": 70 + len(numbers) * (bar + gap), "bar": bar, "bars": bars,
            "baseline": _fmt(round(base, 6)), "left": left}  # fmt: skip


def _parallel(params: list[Doc], outcome: list[Any], chosen: str) -> Doc | None:
    """Parallel coordinates (as MLflow's): an axis per parameter that varies, then the chosen
    result; a line per run, its shade the result's. Numbers are placed on their range, other
    values by their sorted order. None when fewer than two axes vary."""
    keys = [k for k in dict.fromkeys(k for p in params for k in p)
            if len({repr(p.get(k)) for p in params}) > 1]  # fmt: skip
    if not keys or not chosen:
        return None
    columns = [[p.get(k) for p in params] for k in keys] + [list(outcome)]
    names = [*keys, chosen]
    top, bottom, step, left = 40, 280, 150, 70
    axes, placed = [], []
    for i, (name, column) in enumerate(zip(names, columns, strict=True)):
        x = left + i * step
        ys, ticks = _axis(column, top, bottom)
        axes.append({"name": name, "x": x, "ticks": [{"y": y, "text": t} for y, t in ticks],
                     "label_y": bottom + 22})  # fmt: skip
        placed.append(ys)
    shades = _axis(list(outcome), 0.0, 1.0)[0]
    lines = []
    for r in range(len(params)):
        points = " ".join(f"{left + i * step},{placed[i][r]:.1f}" for i in range(len(names))
                          if placed[i][r] is not None)  # fmt: skip
        placed_shade = shades[r]
        shade = 0.5 if placed_shade is None else placed_shade  # 0: the best result, 1: the least
        lines.append({"points": points, "color": _shade(1.0 - shade)})
    return {"width": left * 2 + step * (len(names) - 1), "height": bottom + 40,
            "top": top, "bottom": bottom, "axes": axes, "lines": lines}  # fmt: skip


def _axis(column: list[Any], top: float, bottom: float) -> tuple[list[float | None], list[Any]]:
    """Where each value sits on an axis from ``bottom`` (low) to ``top`` (high), and the
    axis's tick labels."""
    if all(_is_number(v) or v is None for v in column) and any(_is_number(v) for v in column):
        known = [float(v) for v in column if _is_number(v)]
        low, high = min(known), max(known)
        span = (high - low) or 1.0
        ys = [None if not _is_number(v) else bottom - (float(v) - low) / span * (bottom - top)
              for v in column]  # fmt: skip
        return ys, [(bottom, _fmt(low)), (top, _fmt(high))] if high != low else [
            (bottom, _fmt(low))
        ]
    kinds = sorted({_fmt(v) for v in column})
    gap = (bottom - top) / max(len(kinds) - 1, 1)
    place = {k: bottom - i * gap for i, k in enumerate(kinds)}
    return [place[_fmt(v)] for v in column], [(place[k], k) for k in kinds[:12]]


def _shade(t: float) -> str:
    """From light (t=0) to the accent color (t=1)."""
    low, high = (140, 190, 225), (8, 69, 148)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(low, high, strict=True))


# -- functions ---------------------------------------------------------------------------
Metrics = Callable[[Doc], Doc]  # a serving function's document -> its metrics view
Tracked = Callable[[Doc, str], Doc | None]  # (document, step) -> its last tracked records


def function_page(
    db: RunDB, project: str, name: str, a: str, b: str, metrics: Metrics | None = None,
    tracked: Tracked | None = None, step: str = "",
) -> str:  # fmt: skip
    import yaml

    versions = [{"hash": v["hash"], "tags": ", ".join(v["tags"]), "stored": stamp(v["updated"])}
                for v in db.list_function_versions(name, project)]  # fmt: skip
    current = db.get_function(name, project)
    diff = None
    if a and b:
        left = yaml.safe_dump(db.get_function(name, project, hash_key=a), sort_keys=True)
        right = yaml.safe_dump(db.get_function(name, project, hash_key=b), sort_keys=True)
        diff = _diff(left, right, a[:12], b[:12])
    fn = _runtime(current)
    serving = None
    if current.get("kind") in _SERVING_KINDS:
        serving = _serving(current, fn, metrics)
        serving["tracking"] = tracked(current, step) if tracked is not None else None
    spec = copy.deepcopy(current.get("spec") or {})
    (spec.get("build") or {}).pop("functionSourceCode", None)  # shown as code
    crumbs = [("projects", href()), (project, href("projects", project)), (name, "")]
    return page("function.html", f"function {name}", crumbs, versions=versions, a=a, b=b,
                diff=diff, serving=serving, code=_code(fn), spec=yaml.safe_dump(spec))  # fmt: skip


_SERVING_KINDS = ("serving", "nuclio", "remote")


def _runtime(doc: Doc) -> Any:
    """The function object of a stored document (None when it no longer loads)."""

    try:
        return function_from_dict(doc)
    except Exception:  # a stored document of an older or foreign shape: show what we can
        return None


def _serving(doc: Doc, fn: Any, metrics: Metrics | None) -> Doc:
    """A deployed function: its graph, state, address and what its /metrics say now."""

    status = doc.get("status") or {}
    address = str(status.get("address") or "")
    view = metrics(doc) if metrics and address.startswith(("http://", "https://")) else None
    return {
        "state": str(status.get("state") or "not deployed"), "address": address,
        "link": address.startswith(("http://", "https://")),
        "metrics": None if view is None else view.get("rows", []),
        "metrics_error": "" if view is None else view.get("error", ""),
        "card": card_values(fn) if fn is not None else None,
    }  # fmt: skip


def _code(fn: Any) -> str:
    """The function's embedded code (the runtime's own decoding)."""
    try:
        return str(fn.code) if fn is not None else ""
    except ValueError:  # not base64 / not UTF-8
        return ""


def _diff(left: str, right: str, a: str, b: str) -> list[tuple[str, str]]:
    lines = difflib.unified_diff(left.splitlines(), right.splitlines(), a, b, lineterm="")
    return [
        ("add" if line.startswith("+") else "del" if line.startswith("-") else "", line)
        for line in lines
    ]


# -- the hub -----------------------------------------------------------------------------
def hub_page(query: str = "") -> str:
    """The hub's items (searched by ``query``: name, description, categories), each linking
    to its page."""
    from fnrun.marketplace.listing import list_items

    items, unreachable = list_items(query[:200])
    rows = [{"row": i, "url": href("hub", i.source, i.name)} for i in items]
    return page("hub.html", "hub", [("projects", href()), ("hub", "")],
                items=rows, unreachable=unreachable, query=query)  # fmt: skip


def hub_item_page(source: str, name: str, tag: str = "latest") -> str:
    """One hub item: what it is, its versions, the line that imports it, and each handler's
    docs (paragraphs and code, as text) and parameters with types and defaults."""

    found = [s for s in hub_sources() if s.name == source]
    if not found:
        raise NotFoundError(f"no hub source {source!r}", field="source")
    catalog = read_catalog(found[0])
    versions = catalog.get(name)
    if versions is None:
        raise NotFoundError(f"no hub item {name!r} in {source}", field="name")
    entry = versions.get(tag) or versions.get("latest") or versions[max(versions)]
    version = str(entry.get("version") or tag)
    uri = f"hub://{source}/{name}:{version}"
    fn = import_function(uri)
    handlers = []
    for handler, point in sorted((fn.spec.entry_points or {}).items()):
        params = [{"name": p.name, "type": str(p.type or ""),
                   "default": "" if p.default is NOTSET else repr(p.default), "doc": p.doc or ""}
                  for p in point.parameters if not is_context(p)]  # fmt: skip
        handlers.append({"name": handler, "blocks": doc_blocks(point.doc), "params": params})
    others = sorted(v for v in versions if v != "latest")
    about = doc_blocks(_module_doc(fn))
    crumbs = [("projects", href()), ("hub", href("hub")), (name, "")]
    return page("hub_item.html", f"hub: {name}", crumbs, name=name, source=source,
                version=version, kind=fn.kind, description=str(entry.get("description") or ""),
                categories=", ".join(map(str, entry.get("categories") or [])),
                versions=[{"text": v, "url": href("hub", source, name, tag=v),
                           "current": v == version} for v in others],
                line=f'fn = fnrun.import_function("{uri}")', handlers=handlers,
                about=about)  # fmt: skip


def _module_doc(fn: Any) -> str:
    """The docstring of a hub item's code (its overview and example), "" without one."""
    import ast

    try:
        code = str(fn.code or "")
        return (ast.get_docstring(ast.parse(code)) or "") if code else ""
    except (SyntaxError, ValueError):
        return ""
