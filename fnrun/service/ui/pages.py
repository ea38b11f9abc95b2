"""The web UI's pages, rendered on the server from the run DB (no client framework; a little
script sorts tables, picks runs to compare and tails logs).

Projects → a project (its functions, its latest runs) → runs (filtered and paged in the DB)
→ a run (the run card: params, results, iterations with the best marked, artifacts with
previews; its live log) · compare runs · a function (versions, code, the diff of two
versions; a serving graph's picture) · the hub's catalog.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fnrun.db.base import RunDB
from fnrun.db.monitor import UNFINISHED
from fnrun.notebook.html import esc
from fnrun.service.ui.layout import compact, grid, href, link, page, state_badge

PAGE_SIZE = 50
Doc = dict[str, Any]


# -- projects ----------------------------------------------------------------------------
def projects_page(db: RunDB) -> str:
    rows = []
    for doc in db.list_projects():
        name = str(doc["metadata"]["name"])
        description = str((doc.get("spec") or {}).get("description") or "")
        latest = db.list_runs(project=name, last=1)
        last = ""
        if latest:
            status = latest[0].get("status") or {}
            when = str(status.get("start_time", ""))[:16].replace("T", " ")
            badge = state_badge(str(status.get("state", "")))
            last = f"{esc(latest[0]['metadata'].get('name', ''))} {badge} {esc(when)}"
        rows.append([link(name, href("projects", name)), esc(description),
                     esc(len(db.list_functions(project=name))), last,
                     link("runs", href("projects", name, "runs"))])  # fmt: skip
    header = ["project", "description", "functions", "latest run", ""]
    return page("projects", [("projects", "")], grid(header, rows))


def project_page(db: RunDB, project: str) -> str:
    functions = db.list_functions(project=project)
    rows = [
        [link(f["metadata"]["name"], href("projects", project, "functions", f["metadata"]["name"])),
         esc(f.get("kind", "")), esc(f["metadata"].get("tag", "")),
         esc(str(f["metadata"].get("updated", ""))[:19].replace("T", " "))]
        for f in functions
    ]  # fmt: skip
    runs = db.list_runs(project=project, last=10)
    body = (
        f"<h2>functions</h2>{grid(['function', 'kind', 'tag', 'updated'], rows)}"
        f"<h2>latest runs {link('all runs', href('projects', project, 'runs'), 'more')}</h2>"
        + _runs_table(project, runs, select=False)
    )
    return page(project, [("projects", href()), (project, "")], body)


# -- runs --------------------------------------------------------------------------------
def runs_page(db: RunDB, project: str, query: dict[str, Any]) -> str:
    """Runs newest first, ``PAGE_SIZE`` a page, filtered by name, state and labels in the DB."""
    name, state = str(query.get("name") or ""), str(query.get("state") or "")
    labels = [str(v) for v in query.get("label") or [] if v]
    pageno = max(1, int(query.get("page") or 1))
    sort = str(query.get("sort") or "")
    from fnrun.service.rest import query_labels  # the API's own label=k=v rule

    wanted = query_labels(labels)
    runs = db.list_runs(name or None, project, wanted, state or None, None, False,
                        PAGE_SIZE + 1, (pageno - 1) * PAGE_SIZE, sort)  # fmt: skip
    more = len(runs) > PAGE_SIZE
    filters = (
        f"<form class='filters' method='get'>"
        f"<input name='name' placeholder='name' value='{esc(name)}'>"
        f"<select name='state'>{_options(state)}</select>"
        f"<input name='label' placeholder='label=value' value='{esc(labels[0] if labels else '')}'>"
        f"<input type='hidden' name='sort' value='{esc(sort)}'><button>filter</button></form>"
    )
    nav = []
    base = {"name": name, "state": state, "label": labels, "sort": sort}
    if pageno > 1:
        nav.append(link("← newer", href("projects", project, "runs", **base, page=pageno - 1)))
    nav.append(f"<span>page {pageno}</span>")
    if more:
        nav.append(link("older →", href("projects", project, "runs", **base, page=pageno + 1)))
    body = (
        filters
        + f"<form method='get' action='{esc(href('projects', project, 'compare'))}'>"
        + _runs_table(
            project,
            runs[:PAGE_SIZE],
            select=True,
            order=lambda column: _sort_link(project, base, column),
        )
        + "<div class='bar'><button class='compare' disabled>compare selected</button>"
        + f"<span class='pages'>{' '.join(nav)}</span></div></form>"
    )
    return page("runs", [("projects", href()), (project, href("projects", project)),
                         ("runs", "")], body)  # fmt: skip


def _options(current: str) -> str:
    states = ["", "completed", "running", "error", "aborted", "pending", "created"]
    return "".join(
        f"<option value='{s}'{' selected' if s == current else ''}>{s or 'any state'}</option>"
        for s in states
    )


_SERVER_SORT = {"name": "name", "state": "state", "started": "start_time"}


def _sort_link(project: str, base: dict[str, Any], column: str) -> str:
    """A header that sorts all the runs in the DB by its column (again: the other way)."""
    key = _SERVER_SORT[column]
    current = str(base.get("sort") or "")
    nxt = f"-{key}" if current == key else key
    mark = " ▲" if current == key else " ▼" if current == f"-{key}" else ""
    url = href("projects", project, "runs", **{**base, "sort": nxt})
    return f"<a class='sort' href='{esc(url)}' title='sort all runs'>{esc(column)}{mark}</a>"


def _runs_table(
    project: str, runs: list[Doc], select: bool, order: Callable[[str], str] | None = None
) -> str:
    """The runs grid; ``order`` makes the name, state and started headers sort in the DB
    (the others sort the rows shown)."""
    header = ["uid", "name", "state", "started", "duration", "parameters", "results", "labels"]
    if order is not None:
        header = [order(h) if h in _SERVER_SORT else esc(h) for h in header]
    rows = []
    for run in runs:
        meta, spec, status = run["metadata"], run.get("spec") or {}, run.get("status") or {}
        uid = str(meta.get("uid", ""))
        pick = f"<input type='checkbox' name='uid' value='{esc(uid)}'> " if select else ""
        rows.append([
            pick + link(uid[:8], href("projects", project, "runs", uid), "mono"),
            esc(meta.get("name", "")), state_badge(str(status.get("state", ""))),
            esc(str(status.get("start_time", ""))[:19].replace("T", " ")), esc(_duration(status)),
            compact(dict(spec.get("parameters") or {})), compact(dict(status.get("results") or {})),
            compact(dict(meta.get("labels") or {}), 40),
        ])  # fmt: skip
    return grid(header, rows, "grid runs", html_header=order is not None)


def _duration(status: Doc) -> str:
    try:
        start = _utc(datetime.fromisoformat(str(status["start_time"])))
        end_text = status.get("end_time") or status.get("last_update")
        end = _utc(datetime.fromisoformat(str(end_text)))
    except (KeyError, TypeError, ValueError):
        return ""
    seconds = max(0.0, (end - start).total_seconds())
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _utc(when: datetime) -> datetime:
    """A stamp written without a zone is UTC (as fnrun writes them)."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def run_page(db: RunDB, project: str, uid: str) -> str:
    from fnrun.execution.runobject import RunObject
    from fnrun.notebook.run_card import run_card

    doc = db.read_run(uid, project)
    run = RunObject(doc, db)

    def artifact_link(key: str, target: str) -> str:
        base = f"/api/v1/artifacts/{_q(key)}/download?project={_q(project)}&uid={_q(uid)}"
        return base + ("&inline=1" if target == "inline" else "")

    state = str((doc.get("status") or {}).get("state", ""))
    log_url = f"/api/v1/logs/{_q(uid)}?project={_q(project)}"
    live = " data-live='1'" if state in UNFINISHED else ""
    body = (
        f"<div class='run' data-state='{esc(state)}'>{run_card(run, artifact_link)}</div>"
        f"<h2>log</h2><pre class='log' data-url='{esc(log_url)}'{live}></pre>"
    )
    name = str(doc["metadata"].get("name", ""))
    crumbs = [("projects", href()), (project, href("projects", project)),
              ("runs", href("projects", project, "runs")), (uid[:8], "")]  # fmt: skip
    return page(f"run {name}", crumbs, body, heading=False)  # the card has the title


def _q(text: str) -> str:
    return quote(str(text), safe="")


# -- compare -----------------------------------------------------------------------------
def compare_page(db: RunDB, project: str, uids: list[str], result: str) -> str:
    runs = [db.read_run(u, project) for u in dict.fromkeys(u for u in uids if u)]
    crumbs = [("projects", href()), (project, href("projects", project)),
              ("runs", href("projects", project, "runs")), ("compare", "")]  # fmt: skip
    if len(runs) < 2:
        return page("compare runs", crumbs, "<p>pick two runs or more in the runs table.</p>")
    uids = [str(r["metadata"]["uid"]) for r in runs]
    heads = [link(u[:8], href("projects", project, "runs", u), "mono") for u in uids]
    params = [dict((r.get("spec") or {}).get("parameters") or {}) for r in runs]
    results = [dict((r.get("status") or {}).get("results") or {}) for r in runs]
    numeric = sorted({k for res in results for k, v in res.items() if _is_number(v)})
    chosen = result if result in numeric else (numeric[0] if numeric else "")
    picker = "".join(f"<option{' selected' if k == chosen else ''}>{esc(k)}</option>"
                     for k in numeric)  # fmt: skip
    hidden = "".join(f"<input type='hidden' name='uid' value='{esc(r['metadata']['uid'])}'>"
                     for r in runs)  # fmt: skip
    chart = _bars([r["metadata"]["uid"][:8] for r in runs],
                  [res.get(chosen) for res in results], chosen) if chosen else ""  # fmt: skip
    body = (
        "<h2>parameters</h2>" + _side_by_side(heads, params)
        + "<h2>results</h2>" + _side_by_side(heads, results)
        + (f"<h2>chart</h2><form method='get' class='filters'>{hidden}<select name='result' "
           f"data-autosubmit>{picker}</select></form>{chart}" if numeric else "")
    )  # fmt: skip
    return page("compare runs", crumbs, body)


def _side_by_side(heads: list[str], values: list[Doc]) -> str:
    keys = list(dict.fromkeys(k for v in values for k in v))
    rows = []
    for key in keys:
        cells = [v.get(key, "") for v in values]
        differs = len({repr(c) for c in cells}) > 1
        css = " class='differs'" if differs else ""
        rows.append([f"<b{css}>{esc(key)}</b>", *(esc(_fmt(c)) for c in cells)])
    return grid(["", *heads], rows, "grid compare", html_header=True) if rows else "<p>none</p>"


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bars(names: list[str], values: list[Any], title: str) -> str:
    """A bar chart (our own SVG) of one result across runs."""
    numbers = [float(v) if _is_number(v) else 0.0 for v in values]
    top = max([abs(n) for n in numbers] + [1e-12])
    width, bar, gap = 560, 36, 18
    height = 60 + len(numbers) * (bar + gap)
    parts = []
    for i, (name, value) in enumerate(zip(names, numbers, strict=True)):
        y = 30 + i * (bar + gap)
        length = (width - 200) * abs(value) / top
        parts.append(
            f"<text x='0' y='{y + bar * 0.65:.0f}' class='label'>{esc(name)}</text>"
            f"<rect class='bar' x='90' y='{y}' width='{length:.1f}' height='{bar}'></rect>"
            f"<text x='{96 + length:.1f}' y='{y + bar * 0.65:.0f}' class='value'>"
            f"{esc(_fmt(values[i]))}</text>"
        )
    return (
        f"<svg class='chart' viewBox='0 0 {width} {height}' role='img' "
        f"aria-label='{esc(title)} by run'><text x='0' y='16' class='title'>{esc(title)}</text>"
        + "".join(parts)
        + "</svg>"
    )


# -- functions ---------------------------------------------------------------------------
def function_page(db: RunDB, project: str, name: str, a: str, b: str) -> str:
    import yaml

    versions = db.list_function_versions(name, project)
    current = db.get_function(name, project)
    rows = [
        [f"<span class='mono'>{esc(v['hash'][:12])}</span>", esc(", ".join(v["tags"])),
         esc(str(v["updated"])[:19].replace("T", " ")),
         _radio("a", v["hash"], a) + _radio("b", v["hash"], b)]
        for v in versions
    ]  # fmt: skip
    body = (
        f"<form method='get'>{grid(['version', 'tags', 'stored', 'diff a / b'], rows)}"
        "<div class='bar'><button>diff the two picked</button></div></form>"
    )
    if a and b:
        left = yaml.safe_dump(db.get_function(name, project, hash_key=a), sort_keys=True)
        right = yaml.safe_dump(db.get_function(name, project, hash_key=b), sort_keys=True)
        body += "<h2>diff</h2>" + _diff(left, right, a[:12], b[:12])
    fn = _runtime(current)
    if current.get("kind") in _SERVING_KINDS:
        body += _serving(current, fn)
    code = _code(fn)
    if code:
        body += f"<h2>code</h2><pre class='code'>{esc(code)}</pre>"
    spec = copy.deepcopy(current.get("spec") or {})
    (spec.get("build") or {}).pop("functionSourceCode", None)  # shown above as code
    body += f"<h2>spec</h2><pre class='code'>{esc(yaml.safe_dump(spec))}</pre>"
    crumbs = [("projects", href()), (project, href("projects", project)), (name, "")]
    return page(f"function {name}", crumbs, body)


_SERVING_KINDS = ("serving", "nuclio", "remote")


def _runtime(doc: Doc) -> Any:
    """The function object of a stored document (None when it no longer loads)."""
    from fnrun.runtimes.factory import function_from_dict

    try:
        return function_from_dict(doc)
    except Exception:  # a stored document of an older or foreign shape: show what we can
        return None


def _serving(doc: Doc, fn: Any) -> str:
    """A deployed function: its graph, state, address and what its /metrics say now."""
    from fnrun.notebook.function_card import function_card

    status = doc.get("status") or {}
    address = str(status.get("address") or "")
    shown = link(address, address) if address.startswith("http") else esc(address)
    facts = [["state", state_badge(str(status.get("state") or "not deployed"))],
             ["address", shown]]  # fmt: skip
    out = "<h2>serving</h2>" + grid(["", ""], facts, "grid facts")
    if address.startswith(("http://", "https://")):
        out += "<h2>requests</h2>" + _metrics_table(address)
    if fn is not None:
        out += function_card(fn)  # its graph, drawn
    return out


def _metrics_table(address: str) -> str:
    """Requests by status, mean latency and per-step time from the function's /metrics."""
    import httpx

    try:
        text = httpx.get(address.rstrip("/") + "/metrics", timeout=2.0).text
    except httpx.HTTPError as exc:
        return f"<p class='warn'>the function does not answer: {esc(exc)}</p>"
    samples = _prometheus(text)
    rows = [[esc(f"status {labels.get('status')}"), esc(f"{value:.0f}")]
            for name, labels, value in samples if name == "fnrun_requests_total"]  # fmt: skip
    total = {n: v for n, labels, v in samples if n.startswith("fnrun_request_seconds_")}
    if total.get("fnrun_request_seconds_count"):
        mean = total["fnrun_request_seconds_sum"] / total["fnrun_request_seconds_count"] * 1e3
        rows.append(["mean latency", esc(f"{mean:.2f} ms")])
    steps: dict[str, dict[str, float]] = {}
    for name, labels, value in samples:
        if name.startswith("fnrun_step_seconds_"):
            steps.setdefault(labels.get("step", ""), {})[name.rsplit("_", 1)[1]] = value
    for step, seen in sorted(steps.items()):
        if seen.get("count"):
            mean = seen.get("sum", 0.0) / seen["count"] * 1e3
            rows.append([esc(f"step {step}"), esc(f"{seen['count']:.0f} calls, {mean:.2f} ms")])
    return grid(["", ""], rows, "grid facts")


def _prometheus(text: str) -> list[tuple[str, dict[str, str], float]]:
    """The samples of a text exposition (prometheus_client's parser)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        families = list(text_string_to_metric_families(text))
    except ValueError:
        return []
    return [(s.name, dict(s.labels), float(s.value)) for f in families for s in f.samples]


def _radio(name: str, value: str, picked: str) -> str:
    checked = " checked" if value == picked else ""
    return f"<input type='radio' name='{name}' value='{esc(value)}'{checked}>"


def _code(fn: Any) -> str:
    """The function's embedded code (the runtime's own decoding)."""
    try:
        return str(fn.code) if fn is not None else ""
    except ValueError:  # not base64 / not UTF-8
        return ""


def _diff(left: str, right: str, a: str, b: str) -> str:
    lines = difflib.unified_diff(left.splitlines(), right.splitlines(), a, b, lineterm="")
    out = []
    for line in lines:
        css = "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        out.append(f"<span class='{css}'>{esc(line)}</span>" if css else esc(line))
    return "<pre class='diff'>" + ("\n".join(out) or "the same") + "</pre>"


# -- the hub -----------------------------------------------------------------------------
def hub_page() -> str:
    from fnrun.marketplace.listing import list_items

    items, unreachable = list_items()
    rows = [[esc(i.name), esc(i.version), esc(i.kind), esc(i.source), esc(i.categories),
             esc(i.description)] for i in items]  # fmt: skip
    note = "".join(f"<p class='warn'>not reached: {esc(u)}</p>" for u in unreachable)
    body = grid(["name", "version", "kind", "source", "categories", "description"], rows) + note
    return page("hub", [("projects", href()), ("hub", "")], body)
