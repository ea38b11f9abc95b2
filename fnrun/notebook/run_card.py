"""The HTML card of a run: state badge, params, results, artifacts with inline previews
(tables, charts, images, dataset stats with histograms, model metrics), the iterations table
with the best one marked, and the error with its traceback folded.

The card is rendered by ``templates/_run_card.html`` from the plain values
:func:`card_values` gathers here (everything a run wrote is escaped there). Artifact bodies
are read through a ``reader``: in a notebook the datastore (the user's own process), in the
service its download guard (:func:`fnrun.service.downloads.preview_bytes`).
"""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from fnrun.notebook.figures import figure_json
from fnrun.notebook.templating import (
    number,
    our_svg,
    package_script,
    package_script_path,
    render,
    stamp,
)


class RunLike(Protocol):
    """What a run card reads of a run (``fnrun.runtimes.launch.runobject.RunObject``)."""

    @property
    def metadata(self) -> Mapping[str, Any]: ...
    @property
    def spec(self) -> Mapping[str, Any]: ...
    @property
    def status(self) -> Mapping[str, Any]: ...
    @property
    def error(self) -> str: ...
    def state(self) -> str: ...
    def logs(self) -> str: ...
    def artifact(self, key: str) -> Any: ...


MAX_IMAGE = 2 * 1024 * 1024  # bigger pictures are linked, not inlined
MAX_TABLE = 64 * 1024  # the bytes of a CSV read for its preview
PREVIEW_ROWS = 10
_IMAGES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
           "webp": "image/webp", "svg": "image/svg+xml"}  # fmt: skip

Link = Callable[[str, str], str]  # (artifact key, target path) -> the href to its body
Reader = Callable[[str, dict[str, Any], int], bytes]  # (key, document, at most) -> bytes
Values = dict[str, Any]


def run_card(
    run: RunLike, link: Link | None = None, reader: Reader | None = None, ui_url: str = ""
) -> str:
    """The notebook's card: compact (one summary line, artifacts folded behind a click);
    ``link`` makes the artifacts' links (the web UI gives its download route, and then HTML
    artifacts are drawn in a sandboxed frame; with the target ``"chart"`` it gives a plotly
    chart's page); without one, a run DB that is the service (``ui_url``) gives its download
    links and a local one gives the paths as text (a browser-based Jupyter cannot open
    ``file://``); ``reader`` reads artifact bodies for previews (default: the datastore)."""
    return render("run_card.html", card=card_values(run, link, reader, ui_url, compact=True))


def card_values(
    run: RunLike,
    link: Link | None = None,
    reader: Reader | None = None,
    ui_url: str = "",
    compact: bool = False,
) -> Values:
    """What the card shows, as plain values for the template (``compact``: the notebook's)."""
    if link is None and ui_url:
        link = _service_links(run, ui_url)
    meta, spec, status = run.metadata, run.spec, run.status
    started = stamp(status.get("start_time"))
    rows = list(status.get("iterations") or [])
    best = int(status.get("best_iteration") or 0)
    error = str(run.error or "")
    traced = str(status.get("trace_id") or "")  # the OpenTelemetry trace the run is in
    values: Values = {
        "title": f"run {meta.get('name', '')}",
        "state": str(status.get("state", "")),
        "sub": f"uid {meta.get('uid', '')} · project {meta.get('project', '')} · started {started}"
        + (f" · trace {traced}" if traced else ""),
        "parameters": dict(spec.get("parameters") or {}),
        "results": dict(status.get("results") or {}),
        "labels": dict(meta.get("labels") or {}),
        "iterations": rows,
        "iterations_title": f"iterations (best: {best})" if best else "iterations",
        "best_rows": {i for i, row in enumerate(rows[1:]) if row and row[0] == best},
        "attempts": _attempts(status),
        "failed": _failed_iterations(status),
        "facts": _facts(run, link),
        "inputs": _inputs(dict(spec.get("inputs") or {}), link),
        "hyper": _hyper(spec),
        "status_text": str(status.get("status_text") or ""),
        "artifacts": _artifacts(run, link, reader or _datastore_reader(run)),
        "error": error,
        "trace": run.logs()[-6000:] if error and run.state() == "error" else "",
        "ui_url": ui_url,
        "compact": compact,
        "took": duration(status),
    }
    values["plotly_js"] = (
        package_script("plotly")
        if any(a["preview"].get("type") == "plotly" for a in values["artifacts"])
        else None
    )  # fmt: skip
    return values


ATTEMPT_COLUMNS = ("attempt", "state", "fault", "start_time", "end_time", "error")
_FINAL = ("completed", "error", "aborted")


def _facts(run: RunLike, link: Link | None) -> list[Values]:
    """What ran and when: handler, function (linked in the web UI), start, end, duration."""
    spec, status = run.spec, run.status
    function = str(spec.get("function") or "")
    ended = status.get("end_time") or (
        status.get("last_update") if status.get("state") in _FINAL else ""
    )
    rows = [
        ("handler", str(spec.get("handler") or ""), ""),
        ("function", function, link("function", function) if link and function else ""),
        ("started", stamp(status.get("start_time")) if status.get("start_time") else "", ""),
        ("ended", stamp(ended) if ended else "", ""),
        ("duration", duration(status), ""),
    ]
    return [{"label": k, "text": v, "href": h} for k, v, h in rows if v]


def _service_links(run: RunLike, ui_url: str) -> Link:
    """Links into the fnrun service a run's page is on (``ui_url``): artifact downloads, the
    function's and other runs' pages; never a chart frame or an inline body (those are the
    web UI's own)."""
    from urllib.parse import quote

    base = ui_url.split("/ui/", 1)[0]
    project, uid = str(run.metadata.get("project", "")), str(run.metadata.get("uid", ""))

    def link(key: str, target: str) -> str:
        if key == "run":  # the same page as this run's, of the run named
            return f"{ui_url.rsplit('/', 1)[0]}/{quote(target, safe='')}"
        if key == "function" or target in ("inline", "chart"):
            return ""
        return (f"{base}/api/v1/artifacts/{quote(key, safe='')}/download?"
                f"project={quote(project, safe='')}&uid={quote(uid, safe='')}")  # fmt: skip

    return link


def _inputs(inputs: dict[str, Any], link: Link | None) -> list[Values]:
    """The run's inputs, each linked: a ``store://`` URI to the run that made it (web UI), a
    storage URL to itself (never a ``javascript:`` or other scheme)."""
    out = []
    for name, url in inputs.items():
        text = str(url)
        producer = text.rpartition("@")[2] if text.startswith("store://") and "@" in text else ""
        if producer and link:
            ref = link("run", producer)
        elif text.startswith("store://") or (link is None and not _is_web(text)):
            ref = ""  # a path a browser-based Jupyter could not open: shown as text
        else:
            ref = _href(text)
        out.append({"name": str(name), "url": text, "href": ref})
    return out


def _hyper(spec: Mapping[str, Any]) -> dict[str, str]:
    """A parent run's grid (each parameter's values) and its strategy and selector."""
    grid = spec.get("hyperparams") or {}
    if not isinstance(grid, dict) or not grid:
        return {}
    out = {f"param.{k}": ", ".join(map(str, v)) if isinstance(v, list) else str(v)
           for k, v in grid.items()}  # fmt: skip
    options = spec.get("hyper_param_options") or {}
    for key in ("strategy", "selector", "max_iterations", "max_errors", "parallel_runs"):
        if isinstance(options, dict) and options.get(key) not in (None, ""):
            out[key] = str(options[key])
    return out


def duration(status: Mapping[str, Any]) -> str:
    """How long the run took (or has run, when it is not over), "" without its times."""
    from datetime import UTC, datetime

    def utc(text: Any) -> datetime:
        when = datetime.fromisoformat(str(text))
        return when if when.tzinfo else when.replace(tzinfo=UTC)  # fnrun writes UTC

    try:
        start = utc(status["start_time"])
        end = utc(status.get("end_time") or status.get("last_update"))
    except (KeyError, TypeError, ValueError):
        return ""
    seconds = max(0.0, (end - start).total_seconds())
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _failed_iterations(status: Mapping[str, Any]) -> list[Values]:
    """The failed iterations of a hyper-parameter run: number, error, traceback."""
    return [
        {"iter": e.get("iter", ""), "error": str(e.get("error", "")),
         "traceback": str(e.get("traceback", "") or "")}
        for e in status.get("iteration_errors") or []
        if isinstance(e, dict)
    ]  # fmt: skip


def _attempts(status: Mapping[str, Any]) -> list[list[Any]]:
    """A retried run's attempts (header first), or nothing for a run without retries."""
    entries = [e for e in status.get("attempts") or [] if isinstance(e, dict)]
    if not entries:
        return []
    rows = [[str(e.get(c, "") or "") for c in ATTEMPT_COLUMNS] for e in entries]
    for row in rows:  # the card's start line has the date; the attempts need the time
        row[3], row[4] = stamp(row[3]) if row[3] else "", stamp(row[4]) if row[4] else ""
    return [list(ATTEMPT_COLUMNS), *rows]


def _datastore_reader(run: RunLike) -> Reader:
    def read(key: str, _doc: dict[str, Any], limit: int) -> bytes:
        data = run.artifact(key).get(size=limit)
        return data if isinstance(data, bytes) else str(data).encode()

    return read


def _artifacts(run: RunLike, link: Link | None, reader: Reader) -> list[Values]:
    out = []
    for key, uri in dict(run.status.get("artifact_uris") or {}).items():
        try:
            doc = dict(run.artifact(key).meta or {})
            inline, chart = (link(key, "inline"), link(key, "chart")) if link else ("", "")
            preview = _preview(key, doc, reader, inline, chart)
        except Exception as exc:  # a preview never breaks the card
            doc, preview = {}, {"type": "error", "text": f"preview unavailable: {exc}"}
        target = str((doc.get("spec") or {}).get("target_path", ""))
        out.append({
            "key": key, "uri": str(uri), "kind": str(doc.get("kind", "artifact")),
            "target": target, "name": target.rstrip("/").rsplit("/", 1)[-1],
            "href": link(key, target) if link and target else "",
            "preview": preview,
        })  # fmt: skip
    return out


_LINKABLE = ("file", "http", "https", "s3", "gs", "az", "abfs")


def _is_web(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def _href(target: str) -> str:
    """A link for a target path; schemes other than storage ones (``javascript:``...) get
    none (an artifact record is data, never markup or script)."""
    scheme, sep, _ = target.partition("://")
    if not sep:
        named = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", target)  # javascript:, data:, ...
        return "" if named else f"file://{target}"
    return target if scheme.lower() in _LINKABLE else ""


def _preview(key: str, doc: dict[str, Any], reader: Reader, inline: str, chart: str = ""
             ) -> Values:  # fmt: skip
    kind, spec = doc.get("kind", ""), dict(doc.get("spec") or {})
    fmt = str(spec.get("format") or "").lower()
    if kind == "dataset":
        return _dataset(spec, dict(doc.get("status") or {}))
    if kind == "chart":
        from fnrun.notebook.charts import svg_lines

        header, rows = list(spec.get("header") or []), list(spec.get("rows") or [])
        return {"type": "chart", "svg": our_svg(svg_lines(header, rows))}
    if kind == "model":
        return {"type": "model", "model_file": spec.get("model_file", ""),
                "metrics": dict(spec.get("metrics") or {})}  # fmt: skip
    if kind == "plotly":
        return _plotly(key, doc, reader, chart)
    if inline and fmt in ("html", "htm"):
        # drawn by the browser in a frame with no scripts, forms or same-origin rights
        return {"type": "frame", "src": inline}
    if fmt in _IMAGES or kind == "plot":
        return _image(key, doc, spec, fmt, reader)
    if kind == "table" or fmt == "csv":
        return _table(reader(key, doc, MAX_TABLE))
    text = spec.get("body")
    return {"type": "text", "text": str(text)[:2000]} if text else {"type": "none"}


MAX_FIGURE = 4 * 1024 * 1024  # bytes of a plotly page read for its figure (it comes first)


def _plotly(key: str, doc: dict[str, Any], reader: Reader, chart: str) -> Values:
    """A plotly chart: in the web UI a frame that may run scripts but has no origin of ours
    (``chart``: its page); in a notebook the figure, drawn by the plotly.js of the installed
    plotly package, inlined once in the card — never a CDN."""
    if chart:
        return {"type": "plotly-frame", "src": chart}
    figure = figure_json(reader(key, doc, MAX_FIGURE))
    if figure is None:
        return {"type": "note", "text": "a plotly page without its figure data: download it"}
    if package_script_path("plotly") is None:
        return {"type": "note", "text": "install plotly to draw this chart here"}
    return {"type": "plotly", "figure": figure}


def _dataset(spec: dict[str, Any], status: dict[str, Any]) -> Values:
    names = ["count", "mean", "std", "min", "max"]
    stats = [
        {"cells": [col, *(number(s.get(n, "")) for n in names)], "hist": _counts(s.get("hist"))}
        for col, s in dict(status.get("stats") or {}).items()
        if isinstance(s, dict)
    ]
    return {
        "type": "dataset", "length": spec.get("length", "?"),
        "header": list(spec.get("header") or []),
        "rows": list(spec.get("preview") or [])[:PREVIEW_ROWS],
        "stats": stats, "stats_header": ["column", *names, "histogram"],
    }  # fmt: skip


def _counts(hist: Any) -> list[float]:
    """A histogram's counts (``[[counts], [edges]]``) as numbers, or none."""
    if not isinstance(hist, list) or not hist or not isinstance(hist[0], list):
        return []
    try:
        return [float(c) for c in hist[0]]
    except (TypeError, ValueError):
        return []


def _image(key: str, doc: dict[str, Any], spec: dict[str, Any], fmt: str, reader: Reader) -> Values:
    mime = _IMAGES.get(fmt or "png")
    if mime is None:
        return {"type": "note", "text": f"no preview for format {fmt!r}: open it from the link"}
    size = int(spec.get("size") or 0)
    data = b"" if size > MAX_IMAGE else reader(key, doc, MAX_IMAGE + 1)
    if size > MAX_IMAGE or len(data) > MAX_IMAGE:
        shown = size or len(data)
        return {"type": "note", "text": f"picture of {shown} bytes: open it from the link"}
    encoded = base64.b64encode(data).decode()
    # an <img> never runs script, SVG included
    src = f"data:{mime};base64,{encoded}"
    return {"type": "image", "alt": spec.get("target_path", ""), "src": src}


def _table(data: bytes) -> Values:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8", errors="replace"))))
    rows = rows[: PREVIEW_ROWS + 1]
    return {"type": "table", "header": rows[0], "rows": rows[1:]} if rows else {"type": "none"}
